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
  /** Style rules on SOPS-encrypted files too (validate.lintEncrypted); off by default. */
  lintEncrypted?: boolean;
}

export const defaultStyleOptions: StyleOptions = { indentation: 2, documentStart: "allow" };

/**
 * Whether SOPS wrote the file: named `*.sops.yaml`/`*.sops.yml`, or a document whose root holds
 * the `sops:` mapping SOPS adds (with its `mac` or `lastmodified`). Nobody formats SOPS output
 * by hand, and re-indenting it breaks nothing but the MAC's peace of mind: style rules skip it.
 */
export function isSopsEncrypted(source: SourceFile): boolean {
  if (/\.sops\.ya?ml$/.test(source.file)) return true;
  // A file without the word has no such mapping: no parse for the common case.
  if (!source.text.includes("sops:")) return false;
  return source.documents.some((d) => {
    const sops = (d.value as Record<string, unknown> | null | undefined)?.sops;
    return (
      !!d.value &&
      typeof d.value === "object" &&
      !!sops &&
      typeof sops === "object" &&
      !Array.isArray(sops) &&
      ("mac" in sops || "lastmodified" in sops)
    );
  });
}

/** Every style rule over one parsed file; no line-length rule (homelab default). */
export function lintStyle(source: SourceFile, options: StyleOptions = defaultStyleOptions): Finding[] {
  // A SOPS file keeps the rules about what it means (syntax, duplicate keys), not its layout.
  if (!options.lintEncrypted && isSopsEncrypted(source)) return lintSyntax(source);
  return [
    ...lintSyntax(source),
    ...lintWhitespace(source),
    ...lintIndentation(source, options.indentation),
    ...lintDocuments(source, options.documentStart),
    ...lintTruthy(source),
  ];
}
