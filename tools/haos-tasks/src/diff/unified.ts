/** One line of an edit script: kept in both, removed from `a`, or added from `b`. */
export interface EditLine {
  op: " " | "-" | "+";
  text: string;
}

/**
 * The shortest edit script from `a` to `b` (Myers' O(ND) algorithm), as lines in output order.
 * Removals come before additions within a change, as in `diff -u`.
 */
export function editScript(a: readonly string[], b: readonly string[]): EditLine[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0));
      let x = down ? (v[offset + k + 1] ?? 0) : (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace backwards from (n, m) to (0, 0), collecting the path.
  const out: EditLine[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d] ?? v;
    const k = x - y;
    const down = k === -d || (k !== d && (vd[offset + k - 1] ?? 0) < (vd[offset + k + 1] ?? 0));
    const prevK = down ? k + 1 : k - 1;
    const prevX = vd[offset + prevK] ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push({ op: " ", text: a[x - 1] ?? "" });
      x--;
      y--;
    }
    if (d > 0) {
      if (down) out.push({ op: "+", text: b[y - 1] ?? "" });
      else out.push({ op: "-", text: a[x - 1] ?? "" });
    }
    x = prevX;
    y = prevY;
  }
  return normalizeChangeOrder(out.reverse());
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
  const a = splitLines(before);
  const b = splitLines(after);
  const script = editScript(a, b);
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
  }
  // diff -u numbers an empty side as the line before it.
  const aStart = aCount === 0 ? aLine - 1 : aLine;
  const bStart = bCount === 0 ? bLine - 1 : bLine;
  return `@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@\n${body.join("")}`;
}

function range(start: number, count: number): string {
  return count === 1 ? String(start) : `${start},${count}`;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}
