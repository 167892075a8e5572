import { countFindings, type Finding, type FindingCounts } from "../findings.ts";

const colours = {
  red: "\x1b[31m",
  yellow: "\x1b[33m",
  blue: "\x1b[34m",
  dim: "\x1b[2m",
  bold: "\x1b[1m",
  reset: "\x1b[0m",
};
export type Colour = keyof typeof colours;

/** A painter that wraps text in an ANSI colour, or returns it unchanged when `colour` is false. */
export function painter(colour: boolean): (c: Colour, text: string) => string {
  return (c, text) => (colour ? `${colours[c]}${text}${colours.reset}` : text);
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `2 errors, 1 warning` (info only when present). */
export function summaryLine(counts: FindingCounts): string {
  const parts = [plural(counts.error, "error"), plural(counts.warning, "warning")];
  if (counts.info > 0) parts.push(`${counts.info} info`);
  return parts.join(", ");
}

/**
 * Sorted findings grouped by file, `line:col  severity  message  rule`, each with its fix below
 * (`hintOncePerRule`: only under a rule's first finding).
 */
export function findingLines(
  sorted: readonly Finding[],
  paint: ReturnType<typeof painter>,
  options: { hintOncePerRule?: boolean } = {},
): string[] {
  const lines: string[] = [];
  const hinted = new Set<string>();
  let currentFile: string | undefined | null = null;
  for (const f of sorted) {
    if (f.file !== currentFile) {
      if (currentFile !== null) lines.push("");
      currentFile = f.file;
      lines.push(paint("bold", f.file ?? "(no file)"));
    }
    const place = `${f.line ?? 0}:${f.column ?? 0}`.padEnd(8);
    const level = f.severity.padEnd(8);
    const tint: Colour = f.severity === "error" ? "red" : f.severity === "warning" ? "yellow" : "blue";
    lines.push(`  ${paint("dim", place)}${paint(tint, level)}${f.message}  ${paint("dim", f.rule)}`);
    if (f.hint && !(options.hintOncePerRule && hinted.has(f.rule))) {
      hinted.add(f.rule);
      lines.push(`  ${" ".repeat(16)}${paint("dim", `fix: ${f.hint}`)}`);
    }
  }
  return lines;
}

/** The closing line: `✓ no findings`, or `✖ 2 errors, 1 warning in 3 files`, coloured by severity. */
export function summaryOf(
  sorted: readonly Finding[],
  paint: ReturnType<typeof painter>,
  checked?: string,
): string {
  const counts = countFindings(sorted);
  const files = new Set(sorted.map((f) => f.file ?? "")).size;
  const summary =
    sorted.length === 0
      ? `✓ no findings${checked ? ` (${checked})` : ""}`
      : `${counts.error > 0 ? "✖" : "!"} ${summaryLine(counts)} in ${plural(files, "file")}${checked ? ` (${checked})` : ""}`;
  return paint(counts.error > 0 ? "red" : counts.warning > 0 ? "yellow" : "bold", summary);
}
