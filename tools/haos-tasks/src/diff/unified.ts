import { diffArrays } from "diff";

/** One line of an edit script: kept in both, removed from `a`, or added from `b`. */
export interface EditLine {
  op: " " | "-" | "+";
  text: string;
  /** The last line of its text, without a final newline (`\\ No newline at end of file`). */
  noNewline?: boolean;
}

/**
 * Above this many edits between the common prefix and suffix, the middle is shown as removed and
 * re-added instead of searched for a shortest script: the search is O(N·D) time (jsdiff keeps
 * O(D) paths), so a rendered manifest rewritten wholesale must not take seconds and gigabytes.
 */
const maxEditLength = 1_000;

/**
 * The shortest edit script from `a` to `b` (jsdiff's Myers implementation, `diff` on npm), as lines
 * in output order; removals before additions within a change, as in `diff -u`. Lines compare with
 * their terminators (`b\n` ≠ `b`), so a text that only gains or loses its final newline differs.
 */
function editTokens(a: readonly string[], b: readonly string[]): { op: EditLine["op"]; token: string }[] {
  // The common prefix and suffix cost nothing and keep a fallback below as small as it can be.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const middleA = a.slice(start, endA);
  const middleB = b.slice(start, endB);
  const changes = diffArrays(middleA, middleB, { maxEditLength }) ?? [
    { value: middleA, removed: true, added: false, count: middleA.length },
    { value: middleB, removed: false, added: true, count: middleB.length },
  ];
  const out: { op: EditLine["op"]; token: string }[] = a.slice(0, start).map((token) => ({ op: " ", token }));
  for (const change of changes) {
    const op = change.added ? "+" : change.removed ? "-" : " ";
    for (const token of change.value) out.push({ op, token });
  }
  for (const token of a.slice(endA)) out.push({ op: " ", token });
  return out;
}

/** Lines of a text with their terminators: `a\nb` is ["a\n", "b"]. */
function tokensOf(text: string): string[] {
  if (text === "") return [];
  const parts = text.split("\n");
  const last = parts.pop() ?? "";
  const lines = parts.map((line) => `${line}\n`);
  if (last !== "") lines.push(last);
  return lines;
}

function toEditLines(script: { op: EditLine["op"]; token: string }[]): EditLine[] {
  return normalizeChangeOrder(
    script.map(({ op, token }) =>
      token.endsWith("\n") ? { op, text: token.slice(0, -1) } : { op, text: token, noNewline: true },
    ),
  );
}

/** The shortest edit script between two line arrays (every line newline-terminated). */
export function editScript(a: readonly string[], b: readonly string[]): EditLine[] {
  return toEditLines(
    editTokens(
      a.map((l) => `${l}\n`),
      b.map((l) => `${l}\n`),
    ),
  );
}

/** Within each run of changed lines, prints removals before additions (what reviewers expect). */
function normalizeChangeOrder(lines: EditLine[]): EditLine[] {
  const result: EditLine[] = [];
  let removed: EditLine[] = [];
  let added: EditLine[] = [];
  const flush = () => {
    result.push(...removed, ...added);
    removed = [];
    added = [];
  };
  for (const line of lines) {
    if (line.op === "-") removed.push(line);
    else if (line.op === "+") added.push(line);
    else {
      flush();
      result.push(line);
    }
  }
  flush();
  return result;
}

/**
 * A unified diff (`@@ -l,s +l,s @@` hunks with `context` lines around each change) between two
 * texts; empty when they are equal. Header lines (`---`/`+++`) are the caller's.
 */
export function unifiedDiff(before: string, after: string, context = 3): string {
  if (before === after) return "";
  const script = toEditLines(editTokens(tokensOf(before), tokensOf(after)));
  const hunks: string[] = [];
  let i = 0;
  while (i < script.length) {
    // Find the next change, then extend the hunk while changes are closer than 2*context apart.
    while (i < script.length && script[i]?.op === " ") i++;
    if (i >= script.length) break;
    const start = Math.max(0, i - context);
    let end = i;
    let lastChange = i;
    while (end < script.length) {
      if (script[end]?.op !== " ") lastChange = end;
      else if (end - lastChange > 2 * context) break;
      end++;
    }
    const stop = Math.min(script.length, lastChange + context + 1);
    hunks.push(formatHunk(script, start, stop));
    i = stop;
  }
  return hunks.join("");
}

function formatHunk(script: readonly EditLine[], start: number, stop: number): string {
  let aLine = 1;
  let bLine = 1;
  for (let j = 0; j < start; j++) {
    const op = script[j]?.op;
    if (op !== "+") aLine++;
    if (op !== "-") bLine++;
  }
  let aCount = 0;
  let bCount = 0;
  const body: string[] = [];
  for (let j = start; j < stop; j++) {
    const line = script[j];
    if (!line) continue;
    if (line.op !== "+") aCount++;
    if (line.op !== "-") bCount++;
    body.push(`${line.op}${line.text}\n`);
    if (line.noNewline) body.push("\\ No newline at end of file\n");
  }
  // diff -u numbers an empty side as the line before it.
  const aStart = aCount === 0 ? aLine - 1 : aLine;
  const bStart = bCount === 0 ? bLine - 1 : bLine;
  return `@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@\n${body.join("")}`;
}

function range(start: number, count: number): string {
  return count === 1 ? String(start) : `${start},${count}`;
}
