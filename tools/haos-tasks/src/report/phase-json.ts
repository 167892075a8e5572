import type { VerifyReport } from "../verify/verify.ts";

/** The machine-readable report: per-phase status, start, duration and the revision (stable keys). */
export function renderVerifyJson(report: VerifyReport): string {
  return `${JSON.stringify(
    {
      outcome: report.outcome,
      revision: {
        target: report.target,
        ...(report.supersededBy ? { supersededBy: report.supersededBy } : {}),
      },
      app: report.app,
      startedAt: report.startedAt,
      durationMs: report.durationMs,
      failedPhase: report.failedPhase ?? null,
      detail: report.detail,
      hint: report.hint ?? null,
      phases: report.phases.map((p) => ({
        phase: p.phase,
        status: p.status,
        startedAt: p.startedAt ?? null,
        durationMs: p.durationMs ?? null,
        detail: p.detail,
        ...(p.hint ? { hint: p.hint } : {}),
      })),
      diagnostics: report.diagnostics ?? null,
      stats: report.stats,
    },
    null,
    2,
  )}\n`;
}
