/**
 * The one result vocabulary of every check: lint, build, schema and platform rules all yield
 * Findings; reporters render them and nothing else.
 */
export type Severity = "error" | "warning" | "info";

export interface Finding {
  severity: Severity;
  /** Stable rule id, e.g. `yaml/duplicate-key`, `schema/additional-property`, `cozystack/run-strategy`. */
  rule: string;
  message: string;
  /** Repo-relative path with forward slashes, when the finding has a place. */
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
  /** How to fix it, in one sentence. */
  hint?: string;
}

export interface FindingCounts {
  error: number;
  warning: number;
  info: number;
}

/** Counts findings by severity. */
export function countFindings(findings: readonly Finding[]): FindingCounts {
  const counts: FindingCounts = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity] += 1;
  return counts;
}

/** Orders findings by file, line, column, then rule, so every reporter prints the same order. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      (a.file ?? "").localeCompare(b.file ?? "") ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      a.rule.localeCompare(b.rule),
  );
}
