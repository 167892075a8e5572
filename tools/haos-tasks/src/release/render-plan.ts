/** The text form of a release plan: what `release plan` prints for a person. */
import type { ReleasePlan } from "./planner.ts";

const short = (sha: string) => sha.slice(0, 7);

/** Renders a plan as readable text. */
export function renderPlanText(plan: ReleasePlan): string {
  const out: string[] = [`== ${plan.component}: ${plan.status}`, plan.summary, ""];
  out.push(`head:      ${short(plan.head)}${plan.branch ? ` on ${plan.branch}` : " (detached)"}`);
  out.push(`previous:  ${plan.previous ? `${plan.previous.tag} (${short(plan.previous.sha)})` : "none"}`);
  out.push(`baseline:  ${plan.baseline.version ?? "none"} (${plan.baseline.source})`);
  if (plan.policy) {
    const shown = Object.entries(plan.policy).map(([key, { value, from }]) => {
      const text = Array.isArray(value)
        ? key === "types"
          ? `${value.length} types`
          : `[${value.join(", ")}]`
        : String(value);
      return `${key}=${text} (${from})`;
    });
    out.push(`policy:    ${shown.join(", ")}`);
  }
  if (plan.bump) out.push(`bump:      ${plan.bump.level ?? "-"} — ${plan.bump.reason}`);
  if (plan.workspace)
    out.push(
      `workspace: ${plan.workspace.dependencies.map((d) => `${d.package} ${d.version} (${d.component})`).join(", ")} — node-workspace: ranges and ### Dependencies`,
    );
  if (plan.release) {
    const r = plan.release;
    const tags = [r.tag, ...r.movingTags.map((t) => `${t} (moving)`)].join(", ");
    out.push(
      `next:      ${r.version} — tag ${tags}; release "${r.releaseName}"${r.prerelease ? " (prerelease)" : ""}, make_latest ${String(r.makeLatest)}`,
    );
  }
  out.push("", `commits considered (${plan.considered.length}):`);
  for (const c of plan.considered) {
    out.push(`  ${short(c.sha)} ${c.effect.padEnd(5)} ${c.header}  [${c.why}]`);
    for (const w of c.warnings) out.push(`          note: ${w}`);
  }
  out.push(`commits excluded (${plan.excluded.length}):`);
  for (const c of plan.excluded) out.push(`  ${short(c.sha)} ${c.header}  [${c.reason}]`);
  if (plan.files.length > 0) {
    out.push("", "file changes:");
    for (const f of plan.files) out.push(`  ${f.action} ${f.path}: ${f.summary}`);
  }
  if (plan.commit)
    out.push(
      "",
      `commit:    ${plan.commit.sha ? `${short(plan.commit.sha)} (exists) ` : ""}${plan.commit.message}`,
    );
  if (plan.steps.length > 0) out.push(`steps:     ${plan.steps.join(" → ")}`);
  if (plan.release?.notes && plan.status !== "up-to-date") {
    out.push(
      "",
      "release notes:",
      ...plan.release.notes
        .trimEnd()
        .split("\n")
        .map((l) => `  | ${l}`),
    );
  }
  if (plan.findings.length > 0) {
    out.push("", "findings:");
    for (const f of plan.findings) {
      out.push(
        `  ${f.severity}: ${f.file ? `${f.file}${f.line ? `:${f.line}` : ""}: ` : ""}${f.message} [${f.rule}]`,
      );
      if (f.hint) out.push(`    fix: ${f.hint}`);
    }
  }
  return `${out.join("\n")}\n`;
}
