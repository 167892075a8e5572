import type { VerifyReport } from "../verify/verify.ts";
import type { Annotation } from "./github.ts";

const icons: Record<string, string> = {
  succeeded: "✅",
  failed: "❌",
  timeout: "⏱️",
  skipped: "➖",
  pending: "⬜",
};

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? "" : `${(ms / 1000).toFixed(1)} s`;
}

/** The job-summary Markdown: verdict, phase table, and the diagnostics summary on failure. */
export function renderVerifySummary(report: VerifyReport): string {
  const ok = report.outcome === "succeeded";
  const lines = [
    `## ${ok ? "✅" : "❌"} haos-tasks verify: ${report.outcome}`,
    "",
    `Commit \`${report.target.slice(0, 12)}\`${report.supersededBy ? ` — superseded by \`${report.supersededBy.slice(0, 12)}\` (a descendant, applied instead)` : ""} · app \`${report.app}\` · ${seconds(report.durationMs)}`,
    "",
  ];
  if (!ok)
    lines.push(
      `**${report.failedPhase ?? "verify"}**: ${cell(report.detail)}`,
      "",
      ...(report.hint ? [`Fix: ${cell(report.hint)}`, ""] : []),
    );
  if (report.phases.length > 0) {
    lines.push("| phase | status | started | duration | detail |", "|---|---|---|---|---|");
    for (const p of report.phases) {
      lines.push(
        `| ${p.phase} | ${icons[p.status] ?? ""} ${p.status} | ${p.startedAt ?? ""} | ${seconds(p.durationMs)} | ${cell(p.detail)} |`,
      );
    }
    lines.push("");
  }
  const d = report.diagnostics;
  if (d) {
    const bad = d.conditions.filter((c) => c.status !== "True");
    if (bad.length > 0) {
      lines.push(
        "<details><summary>Conditions not True</summary>",
        "",
        "| object | condition | reason | message |",
        "|---|---|---|---|",
      );
      for (const c of bad)
        lines.push(`| ${cell(c.object)} | ${c.type}=${c.status} | ${cell(c.reason)} | ${cell(c.message)} |`);
      lines.push("", "</details>", "");
    }
    if (d.events.length > 0 || d.fluxEvents.length > 0) {
      lines.push(
        "<details><summary>Events since the push</summary>",
        "",
        "| object | type | reason | count | message |",
        "|---|---|---|---|---|",
      );
      for (const e of [...d.fluxEvents, ...d.events])
        lines.push(`| ${cell(e.object)} | ${e.type} | ${cell(e.reason)} | ${e.count} | ${cell(e.message)} |`);
      lines.push("", "</details>", "");
    }
    if (d.pods.length > 0) {
      lines.push("| pod | phase | ready | restarts | reason |", "|---|---|---|---|---|");
      for (const p of d.pods)
        lines.push(`| ${p.name} | ${p.phase} | ${p.ready} | ${p.restarts} | ${p.reason ?? ""} |`);
      lines.push("");
    }
    for (const note of d.notes) lines.push(`> ${cell(note)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Annotations: one error for a failure or timeout, a notice when superseded. */
export function verifyAnnotations(report: VerifyReport): Annotation[] {
  if (report.outcome === "succeeded") {
    return report.supersededBy
      ? [
          {
            level: "notice",
            title: "verify: superseded",
            message: `${report.target.slice(0, 7)} was superseded by ${report.supersededBy.slice(0, 7)}, which Flux applied`,
          },
        ]
      : [];
  }
  const title = `verify ${report.outcome}${report.failedPhase ? `: ${report.failedPhase}` : ""}`;
  const message = `${report.detail}${report.hint ? `\nfix: ${report.hint}` : ""}`;
  return [{ level: "error", title, message }];
}
