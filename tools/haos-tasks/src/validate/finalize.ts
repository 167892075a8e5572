import { type Finding, sortFindings } from "../findings.ts";
import { isSuppressed, readSuppressions, type Suppressions } from "../lint/disable-comments.ts";
import type { Workspace } from "../manifests/workspace.ts";
import type { ValidateConfig } from "./config.ts";

// A platform rule that names the fix beats the generic schema error on the same line.
const specific = /^(cozystack|kubevirt|deprecated)\//;

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
    const s = readSuppressions(source.lines, file);
    suppressions.set(file, s);
    extra.push(...s.findings);
  }
  const specificLines = new Set(
    findings.filter((f) => specific.test(f.rule)).map((f) => `${f.file}:${f.line}`),
  );
  const seen = new Set<string>();
  const kept: Finding[] = [];
  for (const f of [...findings, ...extra]) {
    if (f.rule.startsWith("schema/") && specificLines.has(`${f.file}:${f.line}`)) continue;
    const s = f.file ? suppressions.get(f.file) : undefined;
    if (s && isSuppressed(f, s)) continue;
    const level = config.rules[f.rule];
    if (level === "off") continue;
    const final = level ? { ...f, severity: level } : f;
    const key = `${final.rule}\u0000${final.file}\u0000${final.line}\u0000${final.column}\u0000${final.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(final);
  }
  return sortFindings(kept);
}
