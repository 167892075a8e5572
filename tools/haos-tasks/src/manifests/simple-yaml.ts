/**
 * A fast path for the plain block YAML most manifests are written in (issue 15).
 *
 * The `yaml` library is the reference: it parses with positions and reports every error the style
 * rules show. It is also about three quarters of validate's own CPU on a 500-app repository (6,001
 * files, ~2 s of 4.5 s). Most of those files use a small part of YAML: block mappings and
 * sequences, one-line scalars, one-line flow sequences and mappings, literal and folded block
 * scalars, comments and `---` between documents. This scanner reads exactly that part, line by
 * line, about ten times faster, and gives up on anything else (returns undefined) so the file goes
 * through the `yaml` library as before.
 *
 * When it answers, it answers what the `yaml` library would: the same plain data (YAML 1.2 core
 * schema, the library's own resolution rules below), the same document start offsets and line
 * starts, and the facts the style rules read (no parse errors, the lines inside block scalars,
 * where the YAML 1.1 booleans are). `simple-yaml.test.ts` holds it to that over every YAML file in
 * the repository, the benchmark's repository and mutations of them. What it does not cover it
 * never guesses: tabs, CR line ends, control characters, anchors on anything but a one-line scalar
 * (and aliases of anything else), tags, keep-chomping or
 * indented block scalars, multi-line plain or quoted scalars, escapes, multi-line or nested flow
 * collections, quoted or other non-word keys, duplicate keys, empty documents, directives and `...`
 * all go to the library.
 */

/** A document the scanner read. Offsets are UTF-16 indexes into the text, as the library's are. */
export interface SimpleDocument {
  value: unknown;
  /** Offset where the document's content starts (its first key or `-`). */
  start: number;
  /** Whether the document has an explicit `---` before its content. */
  docStart: boolean;
}

export interface SimpleParse {
  documents: SimpleDocument[];
  /** Offsets where lines start, as the `yaml` library's LineCounter records them. */
  lineStarts: number[];
  /** The file's lines (split at `\n`: the scanner reads no CR). */
  lines: string[];
  /** Plain scalars in value position that YAML 1.1 reads as booleans (see lint/truthy.ts). */
  yaml11Booleans: { raw: string; offset: number }[];
  /** 1-based lines inside a block scalar after its header: their indentation is content. */
  continuation: number[];
}

/** Outside this part of YAML: the caller parses the file with the `yaml` library. */
class NotSimple extends Error {}
const notSimple = new NotSimple();
/** What `scalar` returns for a block scalar's header: the value is read from the lines after it. */
const blockHeader = Symbol("block scalar");

// Tabs, CR, control characters (C0, DEL, C1), the byte order mark, and NEL and the Unicode line
// and paragraph separators (line breaks to some YAML readers). Other non-ASCII text is read as is.
const outsideText = /[^\n\x20-\x7e\u00a0-\u2027\u202a-\ufefe\uff00-\uffff\ud800-\udfff]/;
// A line that is `key:` or `key: …` with a word for a key (quoted and other keys go to the library).
// `(name):` is Kyverno's anchor syntax, a plain key to YAML; `${APP}:` a Flux variable as a key
// (app-template's `controllers: ${APP}:`), a plain key too (braces are flow indicators only
// inside flow collections).
const keyLine = /^(?:[A-Za-z_(]|\$\{)[A-Za-z0-9_./()${}-]*:( |$)/;
// A key inside a one-line flow mapping.
const flowKey = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
// Keys the core schema does not read as strings: null/true/false in any of their spellings.
const coreNonString = /^(?:~|[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const yaml11Boolean = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
// Characters a plain scalar may not start with in block context (or that start something else).
// `&name value` and an alias's `name`: anchor names without flow indicators or spaces.
const anchorScalar = /^&([^\s[\]{},]+) +(\S.*)$/;
const anchorName = /^[^\s[\]{},]+$/;
const plainFirstExcluded = new Set([..."&*!|>%@`?:,[]{}#'\"-"]);
const flowPlainItem = /^[A-Za-z0-9_./+-]+$/;

// The `yaml` library's core schema (yaml/dist/schema/core), tried in its order.
const coreNull = /^(?:~|[Nn]ull|NULL)?$/;
const coreBool = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const coreIntOct = /^0o[0-7]+$/;
const coreInt = /^[-+]?[0-9]+$/;
const coreIntHex = /^0x[0-9a-fA-F]+$/;
const coreFloatNaN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const coreFloatExp = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const coreFloat = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** A plain scalar as the core schema resolves it (what `toJS` returns for it). */
export function resolvePlain(raw: string): unknown {
  if (coreNull.test(raw)) return null;
  if (coreBool.test(raw)) return raw[0] === "t" || raw[0] === "T";
  if (coreIntOct.test(raw)) return parseInt(raw.substring(2), 8);
  if (coreInt.test(raw)) return parseInt(raw, 10);
  if (coreIntHex.test(raw)) return parseInt(raw.substring(2), 16);
  if (coreFloatNaN.test(raw))
    return raw.slice(-3).toLowerCase() === "nan"
      ? Number.NaN
      : raw[0] === "-"
        ? Number.NEGATIVE_INFINITY
        : Number.POSITIVE_INFINITY;
  if (coreFloatExp.test(raw) || coreFloat.test(raw)) return parseFloat(raw);
  return raw;
}

interface MapFrame {
  kind: "map";
  /** Column of its keys. */
  indent: number;
  value: Record<string, unknown>;
  /** A key whose value is on the following lines (null if none follow). */
  pending: string | undefined;
}
interface SeqFrame {
  kind: "seq";
  /** Column of its dashes. */
  indent: number;
  value: unknown[];
}
type Frame = MapFrame | SeqFrame;

/** The end of a value's text before a trailing comment (` #…`), trimmed. */
function withoutComment(text: string): string {
  const hash = text.indexOf(" #");
  return (hash === -1 ? text : text.slice(0, hash)).trimEnd();
}

/**
 * The file's documents when it is written in the part of YAML this scanner reads; undefined
 * otherwise (the caller then parses it with the `yaml` library).
 */
export function parseSimpleYaml(text: string): SimpleParse | undefined {
  if (text.length === 0 || outsideText.test(text)) return undefined;
  try {
    return scan(text);
  } catch (error) {
    if (error === notSimple) return undefined;
    throw error;
  }
}

function scan(text: string): SimpleParse {
  const documents: SimpleDocument[] = [];
  const lineStarts: number[] = [0];
  const yaml11Booleans: SimpleParse["yaml11Booleans"] = [];
  const continuation: number[] = [];
  let stack: Frame[] = [];
  let current: SimpleDocument | undefined;
  let sawMarker = false;

  // The document's scalar anchors (`port: &port 8080`, app-template's idiom) for its aliases.
  let anchors = new Map<string, unknown>();
  const closeDocument = () => {
    if (current) documents.push(current);
    else if (sawMarker) throw notSimple; // `---` with nothing after it: an empty document.
    current = undefined;
    stack = [];
    anchors = new Map();
  };

  /** The value of a one-line scalar or flow sequence starting at `offset`. */
  const scalar = (raw: string, offset: number): unknown => {
    const first = raw[0] as string;
    if (first === '"' || first === "'") {
      const close = raw.indexOf(first, 1);
      if (close === -1) throw notSimple;
      const content = raw.slice(1, close);
      if (first === '"' && content.includes("\\")) throw notSimple;
      const rest = raw.slice(close + 1);
      if (rest !== "" && !/^ +#/.test(rest)) throw notSimple;
      return content;
    }
    if (first === "[") return flowSequence(raw, offset);
    if (first === "|" || first === ">") {
      // `|`, `|-`, `>`, `>-` alone on the line; its lines follow (see blockScalar).
      if (raw !== first && raw !== `${first}-`) throw notSimple;
      return blockHeader;
    }
    if (first === "{") return withoutComment(raw) === "{}" ? {} : flowMapping(raw, offset);
    if (first === "&") {
      // An anchor on a one-line scalar (not on a collection, not on a YAML 1.1 boolean).
      const m = anchorScalar.exec(raw);
      if (!m?.[1] || !m[2]) throw notSimple;
      const booleans = yaml11Booleans.length;
      const value = scalar(m[2], offset + raw.length - m[2].length);
      if (
        value === blockHeader ||
        (typeof value === "object" && value !== null) ||
        yaml11Booleans.length > booleans
      )
        throw notSimple;
      anchors.set(m[1], value);
      return value;
    }
    if (first === "*") {
      // An alias of a scalar anchored earlier in the document: its value (the library's too).
      const name = withoutComment(raw).slice(1);
      if (!anchorName.test(name) || !anchors.has(name)) throw notSimple;
      return anchors.get(name);
    }
    if (plainFirstExcluded.has(first)) throw notSimple;
    const plain = withoutComment(raw);
    if (plain.includes(": ") || plain.endsWith(":")) throw notSimple;
    if (yaml11Boolean.test(plain)) yaml11Booleans.push({ raw: plain, offset });
    return resolvePlain(plain);
  };

  const flowSequence = (raw: string, offset: number): unknown[] => {
    const close = raw.indexOf("]");
    const rest = raw.slice(close + 1);
    if (close === -1 || (rest !== "" && !/^ +#/.test(rest))) throw notSimple;
    const inner = raw.slice(1, close);
    if (inner.trim() === "") return [];
    const items: unknown[] = [];
    let at = 1;
    for (const part of inner.split(",")) {
      const item = part.trim();
      const itemOffset = offset + at + (part.length - part.trimStart().length);
      at += part.length + 1;
      if (item === "") throw notSimple; // `[a, ]`, `[, a]`
      items.push(flowItem(item, itemOffset));
    }
    return items;
  };

  /** A one-line flow mapping of word keys and flow items: `{ name: a, ip: 10.0.0.1 }`. */
  const flowMapping = (raw: string, offset: number): Record<string, unknown> => {
    const close = raw.indexOf("}");
    const rest = raw.slice(close + 1);
    if (close === -1 || (rest !== "" && !/^ +#/.test(rest))) throw notSimple;
    const value: Record<string, unknown> = {};
    let at = 1;
    for (const part of raw.slice(1, close).split(",")) {
      const item = part.trim();
      const itemOffset = offset + at + (part.length - part.trimStart().length);
      at += part.length + 1;
      // `{ a: b, }`, `{ a }`, `{ a:b }` (one plain scalar in flow context), quoted keys …
      const colon = item.indexOf(": ");
      const key = item.slice(0, colon);
      if (colon === -1 || !flowKey.test(key)) throw notSimple;
      if (coreNonString.test(key) || key === "__proto__" || Object.hasOwn(value, key)) throw notSimple;
      const text = item.slice(colon + 1).trimStart();
      value[key] = flowItem(text, itemOffset + item.length - text.length);
    }
    return value;
  };

  /** One item of a one-line flow collection: a quoted scalar without escapes or a plain word. */
  const flowItem = (item: string, itemOffset: number): unknown => {
    const quote = item[0];
    if (quote === '"' || quote === "'") {
      if (item.length < 2 || item[item.length - 1] !== quote) throw notSimple;
      const content = item.slice(1, -1);
      if (content.includes(quote) || (quote === '"' && content.includes("\\"))) throw notSimple;
      return content;
    }
    if (!flowPlainItem.test(item) || item[0] === "-") throw notSimple;
    if (yaml11Boolean.test(item)) yaml11Booleans.push({ raw: item, offset: itemOffset });
    return resolvePlain(item);
  };

  /** A block scalar whose header ended the previous line: read from the next lines. */
  let block: { header: string; parentIndent: number; set: (value: string) => void } | undefined;

  /** Sets a key of a mapping: its value on this line, or pending until the following lines. */
  const setKey = (frame: MapFrame, key: string, rest: string, valueOffset: number) => {
    if (coreNonString.test(key) || key === "__proto__") throw notSimple;
    if (Object.hasOwn(frame.value, key)) throw notSimple; // the library reports duplicate keys
    frame.value[key] = null;
    frame.pending = undefined;
    const value = withoutComment(rest);
    if (value === "") frame.pending = key;
    else {
      const read = scalar(rest.trimStart(), valueOffset + (rest.length - rest.trimStart().length));
      if (read === blockHeader) {
        block = {
          header: rest.trimStart(),
          parentIndent: frame.indent,
          set: (text) => {
            frame.value[key] = text;
          },
        };
      } else frame.value[key] = read;
    }
  };

  /** A `keyLine` starting at `offset`, in a mapping that starts on this line or continues. */
  const readKeyLine = (content: string, offset: number, frame: MapFrame) => {
    const colon = content.indexOf(":");
    // The library reports an implicit key longer than YAML's 1024 characters (KEY_OVER_1024_CHARS).
    if (colon > 1000) throw notSimple;
    setKey(frame, content.slice(0, colon), content.slice(colon + 1), offset + colon + 1);
  };

  /** A new mapping or sequence as the value of the innermost pending key. */
  const child = <T extends Frame>(frame: T): T => {
    const parent = stack[stack.length - 1];
    if (parent === undefined) {
      if (current === undefined) throw notSimple;
      current.value = frame.value;
    } else if (parent.kind === "map" && parent.pending !== undefined) {
      parent.value[parent.pending] = frame.value;
      parent.pending = undefined;
    } else throw notSimple;
    stack.push(frame);
    return frame;
  };

  const lines = text.split("\n");
  for (let i = 0, at = 0; i < lines.length - 1; i++) {
    at += (lines[i] as string).length + 1;
    lineStarts.push(at);
  }
  for (let index = 0; index < lines.length; index++) {
    if (block) index = blockScalar(lines, index, block, continuation);
    block = undefined;
    if (index >= lines.length) break;
    const line = lines[index] as string;
    const lineOffset = lineStarts[index] as number;
    const trimmed = line.trimStart();
    if (trimmed === "" || trimmed[0] === "#") continue;
    if (line.startsWith("---")) {
      if (line !== "---") throw notSimple; // content or a comment after the marker
      closeDocument();
      sawMarker = true;
      continue;
    }
    if (line.startsWith("...") || line[0] === "%") throw notSimple;
    const column = line.length - trimmed.length;
    if (current === undefined) {
      if (column !== 0) throw notSimple;
      current = { value: null, start: lineOffset, docStart: sawMarker };
      sawMarker = false;
    }
    // The frames this line closes.
    while (stack.length > 0 && (stack[stack.length - 1] as Frame).indent > column) stack.pop();
    let top = stack[stack.length - 1];
    if (trimmed === "-" || trimmed.startsWith("- ")) {
      if (trimmed === "-") throw notSimple;
      let seq: SeqFrame;
      if (top?.kind === "seq" && top.indent === column) seq = top;
      else if (
        top === undefined ||
        (top.kind === "map" && top.pending !== undefined && top.indent <= column)
      ) {
        if (top === undefined && current.value !== null) throw notSimple;
        seq = child({ kind: "seq", indent: column, value: [] });
      } else throw notSimple;
      // The item's content: after the dash and its spaces.
      const afterDash = trimmed.slice(1);
      const spaces = afterDash.length - afterDash.trimStart().length;
      const itemContent = afterDash.trimStart();
      const itemColumn = column + 1 + spaces;
      const itemOffset = lineOffset + itemColumn;
      if (itemContent === "" || itemContent === "-" || itemContent.startsWith("- ")) throw notSimple;
      if (keyLine.test(itemContent)) {
        const map: MapFrame = { kind: "map", indent: itemColumn, value: {}, pending: undefined };
        seq.value.push(map.value);
        stack.push(map);
        readKeyLine(itemContent, itemOffset, map);
      } else {
        if (itemContent[0] === "#") throw notSimple;
        const read = scalar(itemContent, itemOffset);
        if (read === blockHeader) {
          const at = seq.value.length;
          seq.value.push("");
          block = {
            header: itemContent,
            parentIndent: seq.indent,
            set: (text) => {
              seq.value[at] = text;
            },
          };
        } else seq.value.push(read);
      }
      continue;
    }
    if (!keyLine.test(trimmed)) throw notSimple; // a plain scalar going on, a quoted key, …
    // A key where a sequence at the same column was: the sequence was the previous key's value.
    if (top?.kind === "seq" && top.indent === column) {
      stack.pop();
      top = stack[stack.length - 1];
    }
    let map: MapFrame;
    if (top?.kind === "map" && top.indent === column) {
      top.pending = undefined; // a previous key without a value stays null
      map = top;
    } else if (
      top === undefined ||
      (top.kind === "map" && top.pending !== undefined && top.indent < column)
    ) {
      if (top === undefined && current.value !== null) throw notSimple;
      map = child({ kind: "map", indent: column, value: {}, pending: undefined });
    } else throw notSimple;
    readKeyLine(trimmed, lineOffset + column, map);
  }
  if (block) blockScalar(lines, lines.length, block, continuation);
  closeDocument();
  if (documents.length === 0) throw notSimple;
  return { documents, lineStarts, lines, yaml11Booleans, continuation };
}

/**
 * A literal (`|`, `|-`) or folded (`>`, `>-`) block scalar from line `first` on, as the `yaml`
 * library's resolveBlockScalar reads it; returns the index of the first line after it. Its content
 * starts on the next line and is indented deeper than its parent; no empty line may lead it or
 * hold spaces, and a folded one has no more-indented lines: those cases go to the library.
 */
function blockScalar(
  lines: readonly string[],
  first: number,
  block: { header: string; parentIndent: number; set: (value: string) => void },
  continuation: number[],
): number {
  const head = lines[first];
  if (head === undefined || head === "") throw notSimple; // empty, or a leading empty line
  const indent = head.length - head.trimStart().length;
  if (indent <= block.parentIndent) throw notSimple; // an empty block scalar
  const folded = block.header[0] === ">";
  const content: string[] = [];
  let end = first;
  for (; end < lines.length; end++) {
    const line = lines[end] as string;
    if (line === "") {
      content.push("");
      continue;
    }
    const lead = line.length - line.trimStart().length;
    if (lead === line.length) throw notSimple; // spaces only: their meaning depends on the indentation
    if (lead < indent) break;
    if (folded && lead > indent) throw notSimple; // more-indented lines keep their line breaks
    content.push(line.slice(indent));
  }
  // Trailing empty lines are chomped (clip and strip keep none of them).
  let last = content.length;
  while (last > 0 && content[last - 1] === "") last--;
  for (let l = first; l < first + last; l++) continuation.push(l + 1);
  let value = "";
  if (!folded) value = content.slice(0, last).join("\n");
  else {
    let sep = "";
    for (const line of content.slice(0, last)) {
      if (line === "") {
        if (sep === "\n") value += "\n";
        else sep = "\n";
      } else {
        value += sep + line;
        sep = " ";
      }
    }
  }
  block.set(block.header.endsWith("-") ? value : `${value}\n`);
  return end;
}
