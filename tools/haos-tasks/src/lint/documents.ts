import type { Finding } from "../findings.ts";
import { hasParseErrors, positionAt, type SourceFile } from "../manifests/yaml-source.ts";
import { finding } from "./rules.ts";

export type DocumentStartPolicy = "allow" | "require" | "forbid";

// The tab rule reports tabs with a better message than the parser's.
const coveredElsewhere = new Set(["TAB_AS_INDENT"]);

/**
 * Where to point at a parse error: the parser's position, except for an unclosed quote, which it
 * reports where the stream ends; the place to fix is the opening quote (the last unescaped one).
 */
function errorOffset(source: SourceFile, code: string, message: string, offset: number): number {
  const quote = code === "MISSING_CHAR" ? /Missing closing (["'])quote/.exec(message)?.[1] : undefined;
  if (!quote) return offset;
  const text = source.text.slice(0, offset);
  for (let i = text.length - 1; i >= 0; i--) {
    if (text[i] !== quote) continue;
    if (quote === '"' && text[i - 1] === "\\") continue;
    if (quote === "'" && (text[i - 1] === "'" || text[i + 1] === "'")) {
      i--;
      continue;
    }
    return i;
  }
  return offset;
}

/** Parse errors and duplicate keys, with the parser's own position (see errorOffset). */
export function lintSyntax(source: SourceFile): Finding[] {
  const findings: Finding[] = [];
  // The fast path reads only files the parser has no error for.
  if (source.simple) return findings;
  for (const doc of source.documents) {
    for (const error of doc.ast.errors) {
      if (coveredElsewhere.has(error.code)) continue;
      const pos = positionAt(source, errorOffset(source, error.code, error.message, error.pos[0]));
      const at = { file: source.file, line: pos.line, column: pos.column };
      const message = error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? error.code;
      if (error.code === "DUPLICATE_KEY") {
        findings.push(
          finding(
            "yaml/duplicate-key",
            at,
            "duplicate key: kustomize rejects the file, so Flux's build of it fails and applies nothing (kubectl apply alone would keep the last value)",
            "remove or merge the repeated key",
          ),
        );
      } else {
        findings.push(
          finding("yaml/syntax", at, `invalid YAML: ${message}`, "fix the YAML syntax at this place"),
        );
      }
    }
  }
  return findings;
}

/** Document markers (`---` policy, `...`) and empty documents. */
export function lintDocuments(source: SourceFile, documentStart: DocumentStartPolicy): Finding[] {
  const findings: Finding[] = [];
  const { file } = source;
  const hasContent = source.documents.some((d) => !d.empty);
  if (!hasContent) {
    findings.push(
      finding(
        "yaml/empty-document",
        { file, line: 1, column: 1 },
        "the file holds no YAML document",
        "delete the file or add its content",
      ),
    );
    return findings;
  }
  const first = source.documents[0];
  if (first && documentStart !== "allow") {
    const hasMarker = source.simple
      ? source.simple.docStart[0] === true
      : first.ast.directives.docStart === true;
    if (documentStart === "require" && !hasMarker) {
      findings.push(
        finding(
          "yaml/document-start",
          { file, line: 1, column: 1 },
          "missing document start `---`",
          "add `---` as the first line",
        ),
      );
    }
    if (documentStart === "forbid" && hasMarker) {
      const line = source.lines.findIndex((l) => l.startsWith("---")) + 1;
      findings.push(
        finding(
          "yaml/document-start",
          { file, line: Math.max(1, line), column: 1 },
          "document start `---` is not wanted here",
          "remove the leading `---`",
        ),
      );
    }
  }
  source.lines.forEach((text, i) => {
    if (text.startsWith("...") && /^\.\.\.\s*(#.*)?$/.test(text)) {
      findings.push(
        finding(
          "yaml/document-end",
          { file, line: i + 1, column: 1 },
          "document end marker `...`",
          "remove the `...` line; use `---` between documents",
        ),
      );
    }
  });
  for (const doc of source.documents) {
    if (!doc.empty || hasParseErrors(doc)) continue;
    findings.push(
      finding(
        "yaml/empty-document",
        { file, line: doc.start.line, column: 1 },
        "empty document between `---` markers",
        "remove the extra `---`",
      ),
    );
  }
  return findings;
}
