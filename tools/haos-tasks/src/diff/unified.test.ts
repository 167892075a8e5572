import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { editScript, unifiedDiff } from "./unified.ts";

function lcsLength(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let prev = 0;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j] ?? 0;
      row[j] = x === b[j - 1] ? prev + 1 : Math.max(row[j] ?? 0, row[j - 1] ?? 0);
      prev = saved;
    }
  }
  return row[b.length] ?? 0;
}

/** Applies a unified diff's hunks to `before`; the inverse a correct diff must satisfy. */
function applyUnified(before: string, patch: string): string {
  const a = before === "" ? [] : before.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let cursor = 0;
  const lines = patch.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(lines[i] ?? "");
    if (!header) continue;
    const count = header[2] === undefined ? 1 : Number(header[2]);
    const start = count === 0 ? Number(header[1]) : Number(header[1]) - 1;
    out.push(...a.slice(cursor, start));
    cursor = start;
    for (i++; i < lines.length && !(lines[i] ?? "").startsWith("@@"); i++) {
      const line = lines[i] ?? "";
      if (line.startsWith("+")) out.push(line.slice(1));
      else if (line.startsWith("-")) cursor++;
      else if (line.startsWith(" ")) {
        out.push(line.slice(1));
        cursor++;
      }
    }
    i--;
  }
  out.push(...a.slice(cursor));
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}

describe("unifiedDiff", () => {
  it.each([
    ["equal texts give no diff", "a\nb\n", "a\nb\n", ""],
    ["one changed line", "a\nb\nc\n", "a\nx\nc\n", "@@ -1,3 +1,3 @@\n a\n-b\n+x\n c\n"],
    ["addition to an empty text", "", "a\n", "@@ -0,0 +1 @@\n+a\n"],
    ["removal of everything", "a\nb\n", "", "@@ -1,2 +0,0 @@\n-a\n-b\n"],
    [
      "far-apart changes become two hunks",
      "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
      "x\n2\n3\n4\n5\n6\n7\n8\n9\ny\n",
      "@@ -1,4 +1,4 @@\n-1\n+x\n 2\n 3\n 4\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+y\n",
    ],
    [
      "only the final newline differs (lost)",
      "a\nb\n",
      "a\nb",
      "@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n",
    ],
    [
      "only the final newline differs (gained)",
      "a",
      "a\n",
      "@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n",
    ],
  ])("%s", (_name, before, after, expected) => {
    expect(unifiedDiff(before, after)).toBe(expected);
  });

  it("is minimal and reproduces the target for any pair of texts", () => {
    const line = fc.constantFrom("a", "b", "c", "d", "spec:", "  x: 1");
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), fc.array(line, { maxLength: 30 }), (a, b) => {
        const script = editScript(a, b);
        expect(script.filter((l) => l.op !== "-").map((l) => l.text)).toEqual(b);
        expect(script.filter((l) => l.op !== "+").map((l) => l.text)).toEqual(a);
        expect(script.filter((l) => l.op !== " ").length).toBe(a.length + b.length - 2 * lcsLength(a, b));
        const before = a.length ? `${a.join("\n")}\n` : "";
        const after = b.length ? `${b.join("\n")}\n` : "";
        expect(applyUnified(before, unifiedDiff(before, after, 1))).toBe(after);
      }),
      { numRuns: 300 },
    );
  });
});

describe("unifiedDiff on large texts", () => {
  // Its own process, so the figure is this diff's peak RSS and not the test runner's. The earlier
  // hand-written Myers kept its whole V array per step: 3,000 changed lines took 355 MB.
  it("10,000 fully changed lines: bounded memory and time", () => {
    const script = `
      import { unifiedDiff } from ${JSON.stringify(new URL("./unified.ts", import.meta.url).pathname)};
      const before = Array.from({ length: 10000 }, (_, i) => "  old-" + i + ": value").join("\\n") + "\\n";
      const after = Array.from({ length: 10000 }, (_, i) => "  new-" + i + ": value").join("\\n") + "\\n";
      const baseline = process.resourceUsage().maxRSS;
      const begun = performance.now();
      const patch = unifiedDiff(before, after);
      const ms = performance.now() - begun;
      console.log(JSON.stringify({ ms, baselineKiB: baseline, peakKiB: process.resourceUsage().maxRSS, lines: patch.split("\\n").length }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    const figures = JSON.parse(out) as { ms: number; baselineKiB: number; peakKiB: number; lines: number };
    process.stdout.write(
      `unifiedDiff, 10,000 changed lines: ${figures.ms.toFixed(0)} ms, peak RSS ${(figures.peakKiB / 1024).toFixed(0)} MiB (process baseline ${(figures.baselineKiB / 1024).toFixed(0)} MiB)\n`,
    );
    expect(figures.lines).toBe(20_002); // one @@ header, 20,000 lines, the final newline
    expect((figures.peakKiB - figures.baselineKiB) / 1024).toBeLessThan(100);
    expect(figures.ms).toBeLessThan(5_000);
  });
});
