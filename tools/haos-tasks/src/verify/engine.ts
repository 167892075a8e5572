import type { KindKey, ObjectRef } from "../kube/resources.ts";
import type { ClusterSnapshot } from "../kube/store.ts";
import type { PhaseEvent } from "../phases.ts";
import type { AppProbe, PhaseDefinition, PhaseInput, PhaseName, Verdict } from "./phases/types.ts";

/** What the engine reads the cluster through (the ClusterView at the edge, a stub in unit tests). */
export interface RolloutView {
  snapshot(): ClusterSnapshot;
  /** Resolves at the next change of anything watched, or after timeoutMs. */
  changed(timeoutMs: number): Promise<void>;
  /** Set when the view cannot go on (403, unreachable): the engine stops at once. */
  readonly fatal: Error | undefined;
  setActive(kinds: ReadonlySet<KindKey>): void;
}

export interface ScheduledPhase extends PhaseDefinition {
  timeoutMs: number;
}

export interface EngineOptions {
  phases: readonly ScheduledPhase[];
  /** Overall deadline for all phases, in ms from the start. */
  deadlineMs: number;
  view: RolloutView;
  input: Omit<PhaseInput, "snapshot" | "baseline" | "probe">;
  emit: (event: PhaseEvent) => void;
  /** Side work before each evaluation: ancestry look-ups, reconcile requests. */
  beforeEvaluate?: (phase: PhaseName, snapshot: ClusterSnapshot) => Promise<void>;
  /** The app phase's HTTP probe and how often to repeat it. */
  probe?: { intervalMs: number; run: (timeoutMs: number) => Promise<AppProbe> };
  /** Longest sleep between evaluations when nothing changes (hooks and timers need a tick). */
  tickMs?: number;
  now?: () => number;
}

export type PhaseOutcome = "pending" | "succeeded" | "failed" | "timeout" | "skipped";

export interface PhaseRecord {
  phase: PhaseName;
  status: PhaseOutcome;
  /** ISO time the phase started. */
  startedAt?: string;
  durationMs?: number;
  detail: string;
  hint?: string;
}

export interface RolloutResult {
  outcome: "succeeded" | "failed" | "timeout" | "aborted";
  phases: PhaseRecord[];
  failedPhase?: PhaseName;
  detail: string;
  hint?: string;
  /** Objects a failure names, for diagnostics. */
  objects: ObjectRef[];
  /** A descendant commit that was applied instead of the target. */
  supersededBy?: string;
  /** The view's fatal error when outcome is "aborted". */
  error?: Error;
  durationMs: number;
}

/**
 * Runs the phases in order, each under its own timeout and the overall deadline. Wakes on every
 * cluster change, so a verdict is reached as soon as the status that decides it is written.
 * Phases that passed stay under watch: a later failure of one of them fails the run at once.
 */
export async function runRollout(options: EngineOptions): Promise<RolloutResult> {
  const now = options.now ?? Date.now;
  const start = now();
  const deadline = start + options.deadlineMs;
  const tick = options.tickMs ?? 2_000;
  const records: PhaseRecord[] = options.phases.map((p) => ({
    phase: p.name,
    status: "pending",
    detail: "",
  }));
  const passed: Array<{ phase: ScheduledPhase; baseline: ClusterSnapshot; provisional: boolean }> = [];
  let supersededBy: string | undefined;
  const emit = (
    phase: PhaseName,
    status: PhaseEvent["status"],
    detail: string,
    data?: Record<string, unknown>,
  ): void => options.emit({ phase, status, detail, elapsed: now() - start, ...(data ? { data } : {}) });
  const finish = (
    result: Omit<RolloutResult, "phases" | "durationMs" | "objects"> & { objects?: ObjectRef[] },
  ): RolloutResult => ({
    objects: [],
    ...result,
    ...(supersededBy ? { supersededBy } : {}),
    phases: records,
    durationMs: now() - start,
  });

  /** Re-checks passed phases; returns the first that now fails. */
  const regression = (
    snapshot: ClusterSnapshot,
  ): { phase: ScheduledPhase; verdict: Verdict & { state: "failed" } } | undefined => {
    for (const p of passed) {
      if (!p.provisional && (p.phase.name === "source" || p.phase.name === "kustomization")) continue;
      const verdict = p.phase.evaluate({ ...options.input, snapshot, baseline: p.baseline });
      if (verdict.state === "failed") return { phase: p.phase, verdict };
    }
    return undefined;
  };

  const runPhase = async (
    phase: ScheduledPhase,
    index: number,
    settle: boolean,
  ): Promise<RolloutResult | undefined> => {
    const record = records[index] ?? { phase: phase.name, status: "pending", detail: "" };
    const phaseStart = now();
    if (!settle) record.startedAt = new Date(phaseStart).toISOString();
    const phaseDeadline = settle ? deadline : Math.min(deadline, phaseStart + phase.timeoutMs);
    options.view.setActive(new Set(phase.reads));
    const baseline = options.view.snapshot();
    emit(phase.name, "running", settle ? "waiting for Flux to finish its health checks" : "started");
    let lastDetail = "";
    let probe: AppProbe | undefined;
    let nextProbeAt = 0;
    for (;;) {
      if (options.view.fatal)
        return finish({
          outcome: "aborted",
          failedPhase: phase.name,
          detail: options.view.fatal.message,
          error: options.view.fatal,
        });
      const before = options.view.snapshot();
      await options.beforeEvaluate?.(phase.name, before);
      if (phase.name === "app" && options.probe && now() >= nextProbeAt) {
        // A probe never outlives the phase: a silent server must not delay the timeout verdict.
        probe = await options.probe.run(Math.max(250, Math.min(5_000, phaseDeadline - now())));
        nextProbeAt = now() + options.probe.intervalMs;
      }
      if (options.view.fatal) continue;
      const snapshot = options.view.snapshot();
      const verdict = phase.evaluate({ ...options.input, snapshot, baseline, ...(probe ? { probe } : {}) });
      const broken = regression(snapshot);
      const failure = verdict.state === "failed" ? { phase, verdict } : broken;
      const elapsed = now() - phaseStart;
      if (failure) {
        const failedRecord = records.find((r) => r.phase === failure.phase.name) ?? record;
        failedRecord.status = "failed";
        failedRecord.detail = failure.verdict.detail;
        if (failure.verdict.hint) failedRecord.hint = failure.verdict.hint;
        if (failedRecord !== record) record.detail = `stopped: ${failure.phase.name} failed`;
        record.durationMs = (record.durationMs ?? 0) + elapsed;
        emit(failure.phase.name, "failed", failure.verdict.detail, failure.verdict.data);
        return finish({
          outcome: "failed",
          failedPhase: failure.phase.name,
          detail: failure.verdict.detail,
          ...(failure.verdict.hint ? { hint: failure.verdict.hint } : {}),
          objects: failure.verdict.objects ?? [],
        });
      }
      if (verdict.state === "done" && !(settle && verdict.provisional)) {
        record.status = "succeeded";
        record.detail = verdict.detail;
        record.durationMs = (record.durationMs ?? 0) + elapsed;
        if (verdict.supersededBy) supersededBy = verdict.supersededBy;
        const existing = passed.findIndex((p) => p.phase.name === phase.name);
        if (existing >= 0) passed.splice(existing, 1);
        passed.push({ phase, baseline, provisional: verdict.provisional === true });
        emit(phase.name, "succeeded", verdict.detail, verdict.data);
        return undefined;
      }
      if (verdict.state === "skipped") {
        record.status = "skipped";
        record.detail = verdict.detail;
        record.durationMs = elapsed;
        emit(phase.name, "skipped", verdict.detail);
        return undefined;
      }
      if (verdict.detail !== lastDetail) {
        lastDetail = verdict.detail;
        record.detail = verdict.detail;
        emit(phase.name, "progress", verdict.detail, verdict.data);
      }
      const remaining = phaseDeadline - now();
      if (remaining <= 0) {
        record.status = "timeout";
        record.durationMs = (record.durationMs ?? 0) + elapsed;
        const which =
          phaseDeadline === deadline
            ? "the overall deadline"
            : `its ${formatDuration(phase.timeoutMs)} timeout`;
        const detail = `${phase.name} did not finish within ${which}: ${lastDetail}`;
        emit(phase.name, "timeout", detail);
        return finish({ outcome: "timeout", failedPhase: phase.name, detail });
      }
      const untilProbe = phase.name === "app" && options.probe ? Math.max(0, nextProbeAt - now()) : tick;
      await options.view.changed(Math.min(remaining, tick, untilProbe));
    }
  };

  for (const [index, phase] of options.phases.entries()) {
    const result = await runPhase(phase, index, false);
    if (result) return result;
  }
  for (const p of [...passed]) {
    if (!p.provisional) continue;
    const result = await runPhase(p.phase, options.phases.indexOf(p.phase), true);
    if (result) return result;
  }
  const last = supersededBy ? `verified (superseded by ${supersededBy.slice(0, 7)})` : "verified";
  return finish({ outcome: "succeeded", detail: last });
}

/** 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || (!h && !m) ? `${s}s` : ""}`;
}

/** "30m", "90s", "1h30m", "500ms" → milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.trim().matchAll(re)) {
    const unit = m[2];
    total += Number(m[1]) * (unit === "h" ? 3_600_000 : unit === "m" ? 60_000 : unit === "s" ? 1_000 : 1);
    consumed += m[0].length;
  }
  return consumed > 0 && consumed === text.trim().length ? Math.round(total) : undefined;
}
