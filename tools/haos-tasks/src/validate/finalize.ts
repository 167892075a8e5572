import { type Finding, type Severity, sortFindings } from "../findings.ts";
import { isSuppressed, readSuppressions, type Suppressions } from "../lint/disable-comments.ts";
import type { Workspace } from "../manifests/workspace.ts";
import type { ValidateConfig } from "./config.ts";

// A platform rule that names the fix beats the generic schema error on the same line.
const specific = /^(cozystack|kubevirt|deprecated)\//;

const rank: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/**
 * The last step of every run: disable comments, severity overrides from the config, one finding
 * per place (the most specific), a stable order.
 */
export function finalizeFindings(
  findings: readonly Finding[],
  workspace: Workspace,
  config: ValidateConfig,
): Finding[] {
  const suppressions = new Map<string, Suppressions>();
  const extra: Finding[] = [];
  for (const [file, source] of workspace.files) {
    // Every directive names `haos-tasks-disable`: a file without it has none (no per-line scan).
    if (!source.text.includes("haos-tasks-disable")) continue;
    const s = readSuppressions(source.lines, file);
    suppressions.set(file, s);
    extra.push(...s.findings);
  }
  const effective: Finding[] = [];
  for (const f of [...findings, ...extra]) {
    const s = f.file ? suppressions.get(f.file) : undefined;
    if (s && isSuppressed(f, s)) continue;
    const level = config.rules[f.rule];
    if (level === "off") continue;
    effective.push(level ? { ...f, severity: level } : f);
  }
  // Only a specific finding that is still reported, and at least as severe, stands in for the
  // schema one: an error must never disappear behind a warning or a rule turned off.
  const specificLines = new Map<string, number>();
  for (const f of effective.filter((x) => specific.test(x.rule))) {
    const key = `${f.file}:${f.line}`;
    specificLines.set(key, Math.max(specificLines.get(key) ?? -1, rank[f.severity]));
  }
  const seen = new Set<string>();
  const kept: Finding[] = [];
  for (const f of effective) {
    if (f.rule.startsWith("schema/") && (specificLines.get(`${f.file}:${f.line}`) ?? -1) >= rank[f.severity])
      continue;
    const key = `${f.rule}\u0000${f.file}\u0000${f.line}\u0000${f.column}\u0000${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(f);
  }
  return sortFindings(kept);
}
