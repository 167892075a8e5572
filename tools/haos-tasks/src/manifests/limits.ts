/**
 * What validate reads before anything reaches kustomize, kubeconform or the cluster: a file over
 * these limits is a finding at its place and is neither built nor checked (the kustomize helper
 * refuses to read it: kustomize-build's `refuse`). Without them an alias bomb lint had already
 * flagged grew the helper without bound, and a 10,000-deep document ended the helper and every
 * build of the run.
 */
export const inputLimits = {
  /** Bytes of one file. */
  fileBytes: 32 * 1024 * 1024,
  /**
   * Nesting levels of one document. Real manifests nest a few dozen (a CRD's schema under a
   * hundred); Go's JSON (kustomize, kubeconform, the API server) stops at 10,000 and the `yaml`
   * library's conversion overflows Node's stack before that.
   */
  depth: 1000,
  /** Alias resolutions of one document (the `yaml` library's maxAliasCount, as lint parses). */
  aliases: 1000,
  /**
   * Bytes of one object as written: the API server refuses a ConfigMap or Secret over 1 MiB and
   * etcd any request over 1.5 MiB (the object is then built and checked, and reported).
   */
  objectBytes: 1024 * 1024,
} as const;

/** Why a file is refused, and where. */
export interface LimitProblem {
  line: number;
  message: string;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The 1-based line of a character offset. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/** Whether `text` holds at least `n` of `char` (stops counting at n). */
function atLeast(text: string, chars: string, n: number): boolean {
  let count = 0;
  for (const char of chars) {
    for (let i = text.indexOf(char); i !== -1; i = text.indexOf(char, i + 1)) if (++count >= n) return true;
  }
  return false;
}

/**
 * The deepest nesting of the text and the line it is on, as the YAML is laid out: open flow
 * collections (`[`, `{` outside quotes and comments) plus the block levels (the stack of
 * increasing indentations, and `- ` entries that start on one line). An estimate that cannot
 * miss a deep document (each level needs a bracket, an indentation step or a `- `), read in one
 * pass without recursion, so no document is too deep for it.
 */
function nesting(text: string): { depth: number; line: number } {
  let best = { depth: 0, line: 1 };
  const indents: number[] = [];
  let flow = 0;
  let line = 1;
  let i = 0;
  while (i < text.length) {
    // Start of a line: indentation and compact sequence entries.
    let col = 0;
    while (text[i] === " ") {
      i++;
      col++;
    }
    let dashes = 0;
    while (text[i] === "-" && (text[i + 1] === " " || text[i + 1] === "\n")) {
      dashes++;
      i += 2;
      while (text[i] === " ") i++;
    }
    const content = text[i] !== "\n" && text[i] !== "#" && i < text.length;
    if (content && flow === 0) {
      while (indents.length > 0 && (indents.at(-1) as number) > col) indents.pop();
      if (indents.length === 0 || (indents.at(-1) as number) < col) indents.push(col);
    }
    let quote: string | undefined;
    for (; i < text.length && text[i] !== "\n"; i++) {
      const c = text[i];
      if (quote) {
        if (c === quote) quote = undefined;
        else if (c === "\\" && quote === '"') i++;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === "#" && (i === 0 || text[i - 1] === " ")) {
        while (i < text.length && text[i] !== "\n") i++;
        break;
      } else if (c === "[" || c === "{") {
        flow++;
        const depth = indents.length + dashes + flow;
        if (depth > best.depth) best = { depth, line };
      } else if (c === "]" || c === "}") flow = Math.max(0, flow - 1);
    }
    const depth = indents.length + dashes + flow;
    if (content && depth > best.depth) best = { depth, line };
    i++;
    line++;
  }
  return best;
}

// An anchor and an alias as YAML writes them (not `a&b` in a URL, not a cron line's `*/5`).
const anchor = /(?:^|[\s[{,])&[^\s[\]{},]/;
const alias = /(?:^|[\s[{,])\*[^\s[\]{},/]/;

/** Whether the text may use aliases at all (then its parse is checked: aliasBombLine). */
export function mayHoldAliases(text: string): boolean {
  return text.includes("&") && text.includes("*") && anchor.test(text) && alias.test(text);
}

/**
 * The line of the first document whose aliases expand past `inputLimits.aliases`, from the parse
 * every file gets anyway (yaml-source.ts converts with that maxAliasCount and records the
 * exhaustion as a parse error), so checking costs no second parse.
 */
export function aliasBombLine(source: {
  // Structural (a SourceFile of yaml-source.ts fits): yaml-source.ts imports this module.
  readonly documents: readonly { ast: { errors: readonly { code: string }[] }; start: { line: number } }[];
}): number | undefined {
  for (const doc of source.documents) {
    if (doc.ast.errors.some((e) => e.code === "RESOURCE_EXHAUSTION")) return doc.start.line;
  }
  return undefined;
}

const deepIndent = new RegExp(`^[ -]{${inputLimits.depth},}`, "m");

/**
 * The size or depth limit a file's text breaks (it is then neither built nor checked), or
 * undefined. Cheap for ordinary files: the depth is measured only when a plain count says it may
 * be near the limit.
 */
export function fileLimitProblem(text: string): LimitProblem | undefined {
  if (text.length > inputLimits.fileBytes)
    return {
      line: 1,
      message: `file of ${mib(text.length)} is over the ${mib(inputLimits.fileBytes)} validate reads: not built or checked`,
    };
  // A level needs an opening bracket, or one more column of indentation (or `- `) than the level above.
  if (text.length > inputLimits.depth && (atLeast(text, "[{", inputLimits.depth) || deepIndent.test(text))) {
    const { depth, line } = nesting(text);
    if (depth > inputLimits.depth)
      return {
        line,
        message: `nests ${depth} levels deep, over the ${inputLimits.depth} validate reads: not built or checked`,
      };
  }
  return undefined;
}

/** The message of an alias bomb's finding. */
export const aliasBombMessage = `aliases expand over ${inputLimits.aliases} times (a YAML "billion laughs"): not built or checked`;

/**
 * Objects over what Kubernetes stores (`inputLimits.objectBytes`), by the document's bytes as
 * written: only a file that large can hold one, so ordinary files cost a length check. Documents
 * are split at column-0 `---`/`...` markers (inside a document such a line can only sit in a
 * multi-line quoted scalar), so a 20 MB file is not parsed once more for this.
 */
export function oversizedDocuments(text: string): LimitProblem[] {
  if (text.length <= inputLimits.objectBytes / 4 && Buffer.byteLength(text) <= inputLimits.objectBytes)
    return [];
  const out: LimitProblem[] = [];
  const marker = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)/gm;
  let start = 0;
  const check = (end: number) => {
    const bytes = Buffer.byteLength(text.slice(start, end));
    if (bytes > inputLimits.objectBytes) {
      // The line of the document's first content (past its marker line and leading blank lines).
      const first = text.slice(start, end).search(/^[^-#.\s]/m);
      out.push({
        line: lineAt(text, start + Math.max(0, first)),
        message: `object of ${mib(bytes)}: the API server stores at most 1 MiB in a ConfigMap or Secret and etcd takes at most 1.5 MiB per object, so applying it fails`,
      });
    }
  };
  for (let m = marker.exec(text); m; m = marker.exec(text)) {
    check(m.index);
    start = m.index;
  }
  check(text.length);
  return out;
}
