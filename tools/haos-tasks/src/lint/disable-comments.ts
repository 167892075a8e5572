import type { Finding } from "../findings.ts";
import { finding, ruleInfo } from "./rules.ts";

/** Which rules are switched off where, from `# haos-tasks-disable…` comments in one file. */
export interface Suppressions {
  /** Rules off for the whole file; `*` means all. */
  file: Set<string>;
  /** 1-based line → rules off on that line. */
  lines: Map<number, Set<string>>;
  /** Findings about the comments themselves (unknown rule ids). */
  findings: Finding[];
}

const directive = /#\s*haos-tasks-(disable-next-line|disable-line|disable)\b(.*)$/;

function addAll(target: Set<string>, rules: string[]): void {
  if (rules.length === 0) target.add("*");
  for (const r of rules) target.add(r);
}

/** Reads the disable comments of a file. */
export function readSuppressions(lines: readonly string[], file: string): Suppressions {
  const result: Suppressions = { file: new Set(), lines: new Map(), findings: [] };
  lines.forEach((text, i) => {
    const match = directive.exec(text);
    if (!match) return;
    const kind = match[1];
    const rules = (match[2] ?? "")
      .split(/[\s,]+/)
      .map((r) => r.trim())
      .filter((r) => r !== "" && !r.startsWith("--"));
    for (const r of rules) {
      if (!ruleInfo(r)) {
        result.findings.push(
          finding(
            "lint/disable-comment",
            { file, line: i + 1, column: (match.index ?? 0) + 1 },
            `unknown rule '${r}' in a disable comment`,
            "use a rule id from `haos-tasks validate --help`",
          ),
        );
      }
    }
    if (kind === "disable") {
      addAll(result.file, rules);
      return;
    }
    const line = kind === "disable-line" ? i + 1 : i + 2;
    const set = result.lines.get(line) ?? new Set<string>();
    addAll(set, rules);
    result.lines.set(line, set);
  });
  return result;
}

/** Whether a finding is switched off by the comments of its file. */
export function isSuppressed(f: Finding, suppressions: Suppressions): boolean {
  if (suppressions.file.has("*") || suppressions.file.has(f.rule)) return true;
  const onLine = f.line === undefined ? undefined : suppressions.lines.get(f.line);
  return Boolean(onLine && (onLine.has("*") || onLine.has(f.rule)));
}
