import { isCollection, isScalar, type Node, visit } from "yaml";
import type { Finding } from "../findings.ts";
import { hasParseErrors, type SourceFile } from "../manifests/yaml-source.ts";
import { finding } from "./rules.ts";

/** Tabs in indentation and trailing whitespace, line by line. */
export function lintWhitespace(source: SourceFile): Finding[] {
  const findings: Finding[] = [];
  const { file } = source;
  // Inside a multi-line scalar (a Makefile in a ConfigMap) a tab past the block's indentation is
  // content; the parser flags the tabs that really indent (TAB_AS_INDENT), so trust it there.
  // Both need the AST: they are read only once a line is indented with a tab.
  let tabContext: { scalarLines: Set<number>; parserTabs: Set<number> } | undefined;
  const tabs = () => {
    tabContext ??= {
      scalarLines: continuationLines(source, { collections: false }),
      parserTabs: new Set(
        source.documents.flatMap((d) =>
          d.ast.errors
            .filter((e) => e.code === "TAB_AS_INDENT")
            .map((e) => source.lineCounter.linePos(e.pos[0]).line),
        ),
      ),
    };
    return tabContext;
  };
  source.lines.forEach((text, i) => {
    // Most lines hold no tab and end in a visible character: two cheap checks before any regex.
    const tab = text.includes("\t") ? (/^[ \t]*/.exec(text)?.[0] ?? "").indexOf("\t") : -1;
    if (tab >= 0 && (!tabs().scalarLines.has(i + 1) || tabs().parserTabs.has(i + 1))) {
      findings.push(
        finding(
          "yaml/tab",
          { file, line: i + 1, column: tab + 1 },
          "tab in indentation: YAML allows only spaces",
          "indent with spaces",
        ),
      );
    }
    const last = text.charCodeAt(text.length - 1);
    const trailing = last === 32 || last === 9 ? /[ \t]+$/.exec(text) : null;
    if (trailing && trailing.index > 0) {
      findings.push(
        finding(
          "yaml/trailing-space",
          { file, line: i + 1, column: trailing.index + 1 },
          "trailing whitespace",
          "delete the spaces at the end of the line",
        ),
      );
    } else if (trailing && text.trim() === "" && text.length > 0) {
      findings.push(
        finding(
          "yaml/trailing-space",
          { file, line: i + 1, column: 1 },
          "whitespace-only line",
          "make the line empty",
        ),
      );
    }
  });
  return findings;
}

/** Lines that continue a multi-line scalar, and those that continue a flow collection. */
interface Continuations {
  scalars: Set<number>;
  /** Scalars and flow collections. */
  all: Set<number>;
}

// lintWhitespace and lintIndentation both need them, one after the other: one walk of the AST per
// file. Only the last file's are kept (a cache of every file would hold them all in memory).
let lastContinuations: { source: SourceFile; found: Continuations } | undefined;

/** Lines that continue a multi-line scalar or (unless told not to) flow collection: their indentation is content. */
function continuationLines(
  source: SourceFile,
  options: { collections: boolean } = { collections: true },
): Set<number> {
  if (lastContinuations?.source !== source) {
    lastContinuations = { source, found: walkContinuations(source) };
  }
  const { found } = lastContinuations;
  return options.collections ? found.all : found.scalars;
}

function walkContinuations(source: SourceFile): Continuations {
  const scalars = new Set<number>();
  const all = new Set<number>();
  // The fast path's only multi-line nodes are block scalars; it lists their lines.
  if (source.simple) {
    for (const line of source.simple.continuation) {
      scalars.add(line);
      all.add(line);
    }
    return { scalars, all };
  }
  const mark = (node: Node, lines: Set<number>[]) => {
    const range = node.range;
    if (!range) return;
    // Most nodes sit on one line: no line lookups for them.
    const newline = source.text.indexOf("\n", range[0]);
    if (newline === -1 || newline >= range[1] - 1) return;
    const first = source.lineCounter.linePos(range[0]).line;
    const last = source.lineCounter.linePos(Math.max(range[0], range[1] - 1)).line;
    for (let l = first + 1; l <= last; l++) for (const set of lines) set.add(l);
  };
  for (const doc of source.documents) {
    visit(doc.ast, {
      Scalar(_key, node) {
        if (isScalar(node)) mark(node, [scalars, all]);
      },
      Map(_key, node) {
        if (node.flow) mark(node, [all]);
      },
      Seq(_key, node) {
        if (node.flow) mark(node, [all]);
      },
    });
  }
  return { scalars, all };
}

/**
 * A block nested under a key must be indented by exactly `step` spaces more than its parent
 * (or start at the parent's content column, for mappings inside `- ` list items).
 */
export function lintIndentation(source: SourceFile, step: number): Finding[] {
  const findings: Finding[] = [];
  if (source.documents.some(hasParseErrors)) return findings;
  // The fast path reads only documents whose content is a block mapping or sequence.
  if (!source.simple && !source.documents.some((d) => isCollection(d.ast.contents))) return findings;
  const skip = continuationLines(source);
  let previous: { indent: number; content: number } | undefined;
  source.lines.forEach((text, i) => {
    const line = i + 1;
    const trimmed = text.trimStart();
    if (trimmed === "" || trimmed.startsWith("#") || skip.has(line)) return;
    const first = text[0];
    if ((first === "-" || first === ".") && /^(---|\.\.\.)(\s|$)/.test(text)) {
      previous = undefined;
      return;
    }
    const indent = text.length - trimmed.length;
    const dashes = trimmed[0] === "-" ? (/^(-( +|$))+/.exec(trimmed)?.[0].length ?? 0) : 0;
    const current = { indent, content: indent + dashes };
    if (previous && indent > previous.indent) {
      const { indent: parent, content } = previous;
      if (indent !== parent + step && indent !== content && indent !== content + step) {
        const expected = previous.content === previous.indent ? previous.indent + step : previous.content;
        findings.push(
          finding(
            "yaml/indentation",
            { file: source.file, line, column: indent + 1 },
            `indented ${indent} spaces; expected ${expected} (${step} more than the parent)`,
            `indent nested blocks by ${step} spaces`,
          ),
        );
      }
    }
    previous = current;
  });
  return findings;
}
