import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type ParsedNode,
  parseAllDocuments,
  visit,
  YAMLParseError,
} from "yaml";
import { inputLimits } from "./limits.ts";
import { parseSimpleYaml, type SimpleParse } from "./simple-yaml.ts";

/** A 1-based place in a file. */
export interface Position {
  line: number;
  column: number;
}

/** One YAML document of a file, with its parsed value and the AST that keeps positions. */
export interface SourceDocument {
  /** 0-based index of the document in its file. */
  index: number;
  ast: Document.Parsed;
  /** The document as plain data (YAML 1.2 core schema, like Kubernetes reads it). */
  value: unknown;
  /** Where the document's content starts (or its `---` marker when it has no content). */
  start: Position;
  /** True when the document holds nothing but comments/markers. */
  empty: boolean;
}

/** A YAML file parsed with source positions kept for every node. */
export interface SourceFile {
  /** Repo-relative path with forward slashes. */
  file: string;
  text: string;
  lines: string[];
  documents: SourceDocument[];
  lineCounter: LineCounter;
  /**
   * Set when the fast path (simple-yaml.ts) read the file: it has no parse errors, its only
   * multi-line nodes are block scalars, and these are the facts the style rules read instead of
   * the AST. The documents' `ast` is then parsed by the `yaml` library on first use, as after
   * releaseAst.
   */
  simple?: Pick<SimpleParse, "yaml11Booleans" | "continuation"> & { docStart: boolean[] };
}

export interface ParseOptions {
  /** Try the fast path first (default). false: the `yaml` library only. */
  fast?: boolean;
}

/** Parses multi-document YAML keeping line/column of every node; never throws on bad YAML. */
export function parseSourceFile(text: string, file: string, options: ParseOptions = {}): SourceFile {
  if (options.fast !== false) {
    const simple = parseSimpleYaml(text);
    if (simple) return simpleSourceFile(text, file, simple);
  }
  const lineCounter = new LineCounter();
  let parsed: Document.Parsed[];
  try {
    const all = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false, merge: true });
    parsed = Array.isArray(all) ? all : [];
  } catch {
    parsed = [];
  }
  const documents = parsed.map((ast, index): SourceDocument => {
    const offset = ast.contents?.range[0] ?? ast.range[0];
    const pos = lineCounter.linePos(offset);
    let value: unknown;
    try {
      value = ast.errors.length > 0 ? undefined : ast.toJS({ maxAliasCount: inputLimits.aliases });
    } catch (error) {
      // An alias without its anchor (or an alias bomb) parses, then fails here: make it a parse
      // error at the alias, so the file is reported instead of silently holding no objects.
      ast.errors.push(conversionError(ast, error));
      value = undefined;
    }
    const empty = ast.contents === null || (isScalar(ast.contents) && ast.contents.value === null);
    return { index, ast, value, start: { line: pos.line, column: pos.col }, empty };
  });
  return { file, text, lines: text.split(/\r?\n/), documents, lineCounter };
}

/** A SourceFile from the fast path: its documents' ASTs are parsed on first use (see releaseAst). */
function simpleSourceFile(text: string, file: string, simple: SimpleParse): SourceFile {
  const lineCounter = new LineCounter();
  lineCounter.lineStarts = simple.lineStarts;
  const source: SourceFile = {
    file,
    text,
    lines: simple.lines,
    documents: [],
    lineCounter,
    simple: {
      yaml11Booleans: simple.yaml11Booleans,
      continuation: simple.continuation,
      docStart: simple.documents.map((d) => d.docStart),
    },
  };
  source.documents = simple.documents.map((d, index) => {
    const pos = lineCounter.linePos(d.start);
    const doc = { index, value: d.value, start: { line: pos.line, column: pos.col }, empty: false };
    return released(doc as SourceDocument, source, false);
  });
  return source;
}

/**
 * A file whose parse waits until something reads its documents, lines or line counter (then it
 * is parsed once, exactly as parseSourceFile does). validate reads a whole repository but needs
 * only the kustomization files and Flux Kustomizations to start the build: the other files are
 * parsed while the build runs, and files outside the requested scope may never need a parse.
 */
class LazySourceFile implements SourceFile {
  readonly file: string;
  readonly text: string;
  #parsed: SourceFile | undefined;

  constructor(text: string, file: string) {
    this.text = text;
    this.file = file;
  }

  #parse(): SourceFile {
    this.#parsed ??= parseSourceFile(this.text, this.file);
    return this.#parsed;
  }

  get documents(): SourceDocument[] {
    return this.#parse().documents;
  }

  get lines(): string[] {
    return this.#parse().lines;
  }

  get lineCounter(): LineCounter {
    return this.#parse().lineCounter;
  }

  get simple(): SourceFile["simple"] {
    return this.#parse().simple;
  }
}

/** A SourceFile parsed on first use (see LazySourceFile); reads the same as parseSourceFile's. */
export function lazySourceFile(text: string, file: string): SourceFile {
  return new LazySourceFile(text, file);
}

// A released document keeps whether it had parse errors and the file to parse again, as symbol
// properties: no closure or WeakMap entry per document (55,000 of them would weigh on the GC).
const releasedErrors = Symbol("haos-tasks.releasedErrors");
const releasedFrom = Symbol("haos-tasks.releasedFrom");
interface ReleasedDocument extends SourceDocument {
  [releasedErrors]?: boolean;
  [releasedFrom]?: SourceFile;
}

/** Whether the parser reported errors in the document (also after its AST was released). */
export function hasParseErrors(doc: SourceDocument): boolean {
  return (doc as ReleasedDocument)[releasedErrors] ?? doc.ast.errors.length > 0;
}

let reparses = 0;
/** Files parsed again for their AST so far in this process (a clean validate run parses none). */
export function reparseCount(): number {
  return reparses;
}

/** A document whose `ast` is parsed again from `source` on first use (see releaseAst). */
function released(doc: SourceDocument, source: SourceFile, hadErrors: boolean): SourceDocument {
  const d = doc as ReleasedDocument;
  d[releasedErrors] = hadErrors;
  d[releasedFrom] = source;
  Object.defineProperty(d, "ast", { get: reparsedAst, enumerable: true, configurable: true });
  return d;
}

/** The getter of a released document's `ast`: parses its file again, once, for every document. */
function reparsedAst(this: ReleasedDocument): Document.Parsed {
  reparses++;
  const source = this[releasedFrom] as SourceFile;
  const again = parseSourceFile(source.text, source.file, { fast: false });
  for (const doc of source.documents as ReleasedDocument[]) {
    const ast = again.documents[doc.index]?.ast as Document.Parsed;
    Object.defineProperty(doc, "ast", { value: ast, writable: true, enumerable: true, configurable: true });
    delete doc[releasedErrors];
    delete doc[releasedFrom];
  }
  return this.ast;
}

/**
 * Drops the ASTs of a parsed file, keeping its documents' values, start positions, lines and line
 * counter: the AST is about three quarters of a parsed file's memory (55,000 objects: ~400 MB)
 * and after the style rules only a finding's position needs it. Reading `ast` again parses the
 * text once more, which gives the same AST, so every position stays what it was.
 */
export function releaseAst(source: SourceFile): void {
  for (const doc of source.documents as ReleasedDocument[]) {
    if (!doc[releasedFrom]) released(doc, source, doc.ast.errors.length > 0);
  }
}

/** The error a document's conversion to plain data threw, as a parse error at its first unresolved alias. */
export function conversionError(ast: Document.Parsed, error: unknown): YAMLParseError {
  let at: [number, number] = [ast.range[0], ast.range[1]];
  visit(ast, {
    Alias(_, node) {
      if (node.range && !node.resolve(ast)) {
        at = [node.range[0], node.range[1]];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  const message = error instanceof Error ? error.message : String(error);
  return new YAMLParseError(at, /alias count/i.test(message) ? "RESOURCE_EXHAUSTION" : "BAD_ALIAS", message);
}

/** Position of a character offset. */
export function positionAt(source: SourceFile, offset: number): Position {
  const pos = source.lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** Decodes an RFC 6901 JSON pointer (`/spec/a~1b/0`) into segments. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "" || pointer === "/") return [];
  const body = pointer.startsWith("/") ? pointer.slice(1) : pointer;
  return body.split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

interface NodeAt {
  node: Node;
  /** The key node of the pair holding `node`, when `node` is a mapping value. */
  key?: Node;
  /** How many segments of the pointer were found. */
  depth: number;
}

/** Walks the AST along the pointer as far as it exists. */
function walk(root: Node, segments: string[]): NodeAt {
  let current: NodeAt = { node: root, depth: 0 };
  for (const segment of segments) {
    const node = current.node;
    let next: NodeAt | undefined;
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key as Node | null;
        const keyValue = isScalar(key) ? String(key.value) : undefined;
        if (keyValue === segment) {
          const value = (pair.value as Node | null) ?? key;
          if (value && key) next = { node: value, key, depth: current.depth + 1 };
          break;
        }
      }
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (/^\d+$/.test(segment) && item) next = { node: item, depth: current.depth + 1 };
    }
    if (!next) break;
    current = next;
  }
  return current;
}

/**
 * The source position a JSON pointer names inside a document: the key of a mapping entry (where a
 * reader looks for `field:`), the item of a list; the nearest existing ancestor when the path does
 * not exist in the source (a field a kustomize patch added, or a missing required property).
 */
export function pointerPosition(source: SourceFile, doc: SourceDocument, pointer: string): Position {
  const root = doc.ast.contents as ParsedNode | null;
  if (!root) return doc.start;
  const found = walk(root, parsePointer(pointer));
  const target = found.key ?? found.node;
  const offset = target.range?.[0];
  return offset === undefined ? doc.start : positionAt(source, offset);
}

/** Whether the whole pointer exists in the document's source. */
export function pointerExists(doc: SourceDocument, pointer: string): boolean {
  const root = doc.ast.contents as ParsedNode | null;
  if (!root) return false;
  const segments = parsePointer(pointer);
  return walk(root, segments).depth === segments.length;
}

/** JSON-pointer escaping of one path segment. */
export function pointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Builds a pointer from segments. */
export function toPointer(segments: ReadonlyArray<string | number>): string {
  return segments.map((s) => `/${pointerSegment(s)}`).join("");
}
