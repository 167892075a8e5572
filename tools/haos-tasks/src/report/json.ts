import { type Finding, sortFindings } from "../findings.ts";

/** Findings as JSON: the findings, sorted, and the counts. */
export function renderJson(findings: readonly Finding[], extra: Record<string, unknown> = {}): string {
  const sorted = sortFindings(findings);
  const summary = { error: 0, warning: 0, info: 0 };
  for (const f of sorted) summary[f.severity] += 1;
  return `${JSON.stringify({ ...extra, summary, findings: sorted }, null, 2)}\n`;
}
