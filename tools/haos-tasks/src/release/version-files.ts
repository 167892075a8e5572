/**
 * Files that carry a component's version, read and rewritten as release-please's updaters do —
 * but editing only the version's own bytes: every other byte of the file stays as it was. A file
 * that cannot be read (malformed JSON or YAML, no version field, no marker) is an error naming
 * file:line before anything is written. Pure: text in, text out.
 *
 * - `text`: the whole file is the version (version.txt);
 * - `json`: package.json's top-level `version`; its package-lock.json entries are separate files
 *   (lockEdits): the lock's own `version` and `packages[""]` when it is the package's lock, or
 *   `packages["<dir>"]` in an npm workspaces' root lock;
 * - `chart`: Chart.yaml's `version`, and `appVersion` when asked (release-please's helm type);
 * - `generic`: release-please's extra-files markers — each line holding `x-release-please-version`
 *   and every line between `x-release-please-start-version` and `x-release-please-end`.
 */
// jsonc-parser's main (UMD) for Node running the sources; the dist bundle takes its ES module build
// instead (scripts/build-dist.ts aliases it: the UMD main requires ./impl/* at run time, which the
// bundle cannot follow), as Node cannot load the ES build (its imports name no file extension).
import { findNodeAtLocation, type Node as JsonNode, type ParseError, parseTree } from "jsonc-parser";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { HintedError } from "../errors.ts";
import type { VersionFileSpec } from "./config.ts";

/** A file that cannot be read or written as its type says, at a 1-based line. */
export class VersionFileError extends HintedError {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, message: string, hint: string) {
    super(`${file}:${line}: ${message}`, hint);
    this.file = file;
    this.line = line;
  }
}

/** A SemVer version inside text, as release-please's Generic updater matches it. */
const versionInText = /\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?/;

interface Span {
  /** Character offsets of the version's text. */
  start: number;
  end: number;
}

const lineAt = (text: string, offset: number) => text.slice(0, offset).split("\n").length;

function jsonTree(file: string, content: string): JsonNode {
  const errors: ParseError[] = [];
  const tree = parseTree(content, errors, { allowTrailingComma: false, disallowComments: true });
  const first = errors[0];
  if (first || !tree || tree.type !== "object") {
    const at = first ? lineAt(content, first.offset) : 1;
    throw new VersionFileError(
      file,
      at,
      "not a JSON object",
      "fix the JSON (e.g. `node -e \"JSON.parse(require('fs').readFileSync(process.argv[1]))\" <file>`)",
    );
  }
  return tree;
}

/** The span of a JSON string value's content (inside the quotes). */
function jsonStringSpan(file: string, content: string, node: JsonNode | undefined, what: string): Span {
  if (node?.type !== "string") {
    throw new VersionFileError(
      file,
      node ? lineAt(content, node.offset) : 1,
      `has no string ${what}`,
      `add "${what.split(".").pop()}": "<current version>"`,
    );
  }
  return { start: node.offset + 1, end: node.offset + node.length - 1 };
}

function chartSpans(file: string, content: string, appVersion: boolean): Span[] {
  const lines = new LineCounter();
  const doc = parseDocument(content, { lineCounter: lines });
  const error = doc.errors[0];
  if (error) {
    throw new VersionFileError(
      file,
      lines.linePos(error.pos[0]).line,
      `not valid YAML: ${error.message.split("\n")[0]}`,
      "fix the YAML syntax",
    );
  }
  if (!isMap(doc.contents)) throw new VersionFileError(file, 1, "is not a mapping", "write a Chart.yaml");
  const spans: Span[] = [];
  for (const key of appVersion ? ["version", "appVersion"] : ["version"]) {
    const node = doc.contents.get(key, true);
    if (!isScalar(node) || !node.range) {
      throw new VersionFileError(file, 1, `has no ${key}`, `add \`${key}: <current version>\``);
    }
    // The scalar's own text, without quotes: a quoted "1.2.3" keeps its quotes.
    const raw = content.slice(node.range[0], node.range[1]);
    const quoted = /^["']/.test(raw) ? 1 : 0;
    spans.push({ start: node.range[0] + quoted, end: node.range[1] - quoted });
  }
  return spans;
}

function genericSpans(file: string, content: string): Span[] {
  const spans: Span[] = [];
  let block = false;
  let blockLine = 0;
  let offset = 0;
  const lines = content.split("\n");
  for (const [i, line] of lines.entries()) {
    const marked = block || line.includes("x-release-please-version");
    if (line.includes("x-release-please-start-version")) {
      block = true;
      blockLine = i + 1;
    } else if (line.includes("x-release-please-end")) {
      block = false;
    } else if (marked) {
      const m = new RegExp(versionInText.source, "g");
      for (const found of line.matchAll(m)) {
        const start = offset + (found.index ?? 0);
        spans.push({ start, end: start + found[0].length });
      }
    }
    offset += line.length + 1;
  }
  if (block)
    throw new VersionFileError(
      file,
      blockLine,
      "x-release-please-start-version without x-release-please-end",
      "close the block with a line holding x-release-please-end",
    );
  if (spans.length === 0)
    throw new VersionFileError(
      file,
      1,
      "has no version marked with x-release-please-version (or a start-version … end block)",
      "add `x-release-please-version` in a comment on the line that holds the version",
    );
  return spans;
}

/** Where the version is in a file of this type (every place it is written). */
export function versionSpans(spec: VersionFileSpec, content: string): Span[] {
  switch (spec.type) {
    case "text": {
      const start = content.length - content.trimStart().length;
      const end = content.trimEnd().length;
      return [{ start, end: Math.max(start, end) }];
    }
    case "json": {
      const tree = jsonTree(spec.path, content);
      return [jsonStringSpan(spec.path, content, findNodeAtLocation(tree, ["version"]), "version")];
    }
    case "chart":
      return chartSpans(spec.path, content, spec.appVersion === true);
    case "generic":
      return genericSpans(spec.path, content);
  }
}

/** The version a file holds (its first place), as written; throws VersionFileError. */
export function readVersion(spec: VersionFileSpec, content: string): string {
  const [first] = versionSpans(spec, content);
  return first ? content.slice(first.start, first.end) : "";
}

/** Writes `version` into every place of the file, every other byte unchanged; throws VersionFileError. */
export function writeVersion(spec: VersionFileSpec, content: string | undefined, version: string): string {
  if (content === undefined) {
    if (spec.type === "text") return `${version}\n`;
    throw new VersionFileError(
      spec.path,
      1,
      "does not exist",
      `create ${spec.path} with the current version`,
    );
  }
  return replaceSpans(content, versionSpans(spec, content), version);
}

function replaceSpans(content: string, spans: readonly Span[], value: string): string {
  let out = "";
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    out += content.slice(at, span.start) + value;
    at = span.end;
  }
  return out + content.slice(at);
}

/**
 * The package-lock.json edits for a package.json at `dir` ("" for the repository root): the
 * lock beside it (its `version` and `packages[""].version`, when its name is the package's), and
 * the repository root's lock of an npm workspace (`packages["<dir>"].version`). Returns the spans
 * of the given lock's content to rewrite; none when the lock has no entry for the package.
 */
export function lockSpans(
  lockPath: string,
  content: string,
  packageName: string | undefined,
  packageDir: string,
  lockDir: string,
): Span[] {
  const tree = jsonTree(lockPath, content);
  const spans: Span[] = [];
  const version = (node: JsonNode | undefined) =>
    node?.type === "string" ? [{ start: node.offset + 1, end: node.offset + node.length - 1 }] : [];
  if (packageDir === lockDir) {
    const name = findNodeAtLocation(tree, ["name"]);
    if (name?.type === "string" && name.value === packageName) {
      spans.push(...version(findNodeAtLocation(tree, ["version"])));
      spans.push(...version(findNodeAtLocation(tree, ["packages", "", "version"])));
    }
  } else {
    const relative = lockDir === "" ? packageDir : packageDir.slice(lockDir.length + 1);
    spans.push(...version(findNodeAtLocation(tree, ["packages", relative, "version"])));
  }
  return spans;
}

/** A lock file's content with the package's entries set to `version` (unchanged when it has none). */
export function writeLockVersion(
  lockPath: string,
  content: string,
  packageName: string | undefined,
  packageDir: string,
  lockDir: string,
  version: string,
): string {
  return replaceSpans(content, lockSpans(lockPath, content, packageName, packageDir, lockDir), version);
}

/** package.json's `name`, for matching its lock; undefined when it has none. */
export function packageNameOf(file: string, content: string): string | undefined {
  const node = findNodeAtLocation(jsonTree(file, content), ["name"]);
  return node?.type === "string" ? String(node.value) : undefined;
}
