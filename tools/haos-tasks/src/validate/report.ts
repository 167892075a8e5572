import { countFindings, type Finding, type FindingCounts, sortFindings } from "../findings.ts";
import { findingLines, painter, summaryOf } from "../report/text.ts";

/** Findings counted per rule (rules in first-seen order of the sorted findings). */
export function countByRule(findings: readonly Finding[]): Map<string, FindingCounts> {
  const byRule = new Map<string, FindingCounts>();
  for (const f of [...findings].sort((a, b) => a.rule.localeCompare(b.rule))) {
    const counts = byRule.get(f.rule) ?? { error: 0, warning: 0, info: 0 };
    counts[f.severity] += 1;
    byRule.set(f.rule, counts);
  }
  return byRule;
}

/**
 * validate's text report: findings grouped by file, the fix printed once per rule (at the rule's
 * first finding), then a per-rule count table and the summary line. The counts are the findings
 * listed above, the same numbers `--format json` gives.
 */
export function renderValidateText(
  findings: readonly Finding[],
  options: { colour: boolean; checked?: string },
): string {
  const paint = painter(options.colour);
  const sorted = sortFindings(findings);
  const lines = findingLines(sorted, paint, { hintOncePerRule: true });
  if (lines.length > 0) lines.push("");
  const byRule = countByRule(sorted);
  if (byRule.size > 0) {
    const width = Math.max(4, ...[...byRule.keys()].map((r) => r.length)) + 2;
    lines.push(`${"rule".padEnd(width)}${"error".padStart(7)}${"warning".padStart(9)}${"info".padStart(6)}`);
    for (const [rule, c] of byRule) {
      lines.push(
        `${rule.padEnd(width)}${String(c.error).padStart(7)}${String(c.warning).padStart(9)}${String(c.info).padStart(6)}`,
      );
    }
    lines.push("");
  }
  lines.push(summaryOf(sorted, paint, options.checked));
  return `${lines.join("\n")}\n`;
}

/** validate's JSON report: stats, counts (total and per rule), findings; or the error that stopped it. */
export function renderValidateJson(
  findings: readonly Finding[],
  extra: {
    root?: string;
    stats?: object;
    clusters?: readonly { name: string; root: string }[];
    error?: { message: string; hint?: string };
  },
): string {
  const sorted = sortFindings(findings);
  const rules = Object.fromEntries(countByRule(sorted));
  return `${JSON.stringify({ ...extra, summary: countFindings(sorted), rules, findings: sorted }, null, 2)}\n`;
}

/**
 * Whether a run fails (exit 1, the Action's step fails): an error finding, or — with `strict`
 * (the CLI's --strict, the Action's `strict` input: one option, one meaning) — a warning.
 */
export function failsRun(counts: FindingCounts, options: { strict?: boolean }): boolean {
  return counts.error > 0 || (options.strict === true && counts.warning > 0);
}
