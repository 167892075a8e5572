import type { Finding } from "../findings.ts";
import type { SourceFile } from "../manifests/yaml-source.ts";
import { type DocumentStartPolicy, lintDocuments, lintSyntax } from "./documents.ts";
import { lintTruthy } from "./truthy.ts";
import { lintIndentation, lintWhitespace } from "./whitespace.ts";

/** Options of the style rules (from the `validate:` section of .haos-tasks.yaml). */
export interface StyleOptions {
  /** Spaces per nesting level. */
  indentation: number;
  documentStart: DocumentStartPolicy;
}

export const defaultStyleOptions: StyleOptions = { indentation: 2, documentStart: "allow" };

/** Every style rule over one parsed file; no line-length rule (homelab default). */
export function lintStyle(source: SourceFile, options: StyleOptions = defaultStyleOptions): Finding[] {
  return [
    ...lintSyntax(source),
    ...lintWhitespace(source),
    ...lintIndentation(source, options.indentation),
    ...lintDocuments(source, options.documentStart),
    ...lintTruthy(source),
  ];
}
