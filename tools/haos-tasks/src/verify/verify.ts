import { readFileSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import { runGit } from "../git/runner.ts";
import { KubeClient } from "../kube/client.ts";
import { ClusterView, type ClusterViewOptions, type WatchTarget } from "../kube/cluster-view.ts";
import { KubeForbiddenError, KubeStartTimeoutError, KubeUnreachableError } from "../kube/errors.ts";
import { resourceKinds } from "../kube/resources.ts";
import { lookup } from "../kube/store.ts";
import type { PhaseEvent } from "../phases.ts";
import { loadPlatform } from "../platform/platform.ts";
import { AncestryResolver } from "./ancestry.ts";
import { probeApp } from "./app-probe.ts";
import { collectDiagnostics } from "./collect-diagnostics.ts";
import type { Diagnostics } from "./diagnostics.ts";
import { type PhaseRecord, runRollout } from "./engine.ts";
import { buildPhases } from "./phases/index.ts";
import type { PhaseName } from "./phases/types.ts";
import { commitOf, relationOf } from "./revision.ts";
import { checkAppFolder, resolveTargets, type VerifyTargets } from "./targets.ts";
import { type ReconcileRequest, reconcilePatch, shouldRequestReconcile } from "./trigger.ts";

export interface VerifyOptions {
  /** The Flux app folder, relative to repoRoot. */
  appDir: string;
  /** The git checkout: manifests are read and ancestry decided here. */
  repoRoot: string;
  /** Full commit SHA to verify. */
  target: string;
  /** A function is called only once the app folder and platform.yaml were read (their errors come first). */
  kubeConfig: KubeConfig | (() => KubeConfig);
  timeoutMs: number;
  /** Epoch ms the deadline counts from (the command's start); default: when runVerify is called. */
  startedAt?: number;
  phaseTimeouts?: Partial<Record<PhaseName, number>>;
  /** Ask Flux to reconcile (merge-patch reconcile.fluxcd.io/requestedAt) until the target shows up. */
  reconcile?: boolean;
  /** Overrides http://<expectedWholeIp>:8123/ (tests, port-forwards). */
  appUrl?: string;
  appProbeIntervalMs?: number;
  importRestartLimit?: number;
  view?: ClusterViewOptions;
  emit: (event: PhaseEvent) => void;
}

export type VerifyOutcome = "succeeded" | "failed" | "timeout" | "forbidden" | "unreachable";

/** Everything a reporter needs: per-phase status, start, duration, revision, diagnostics, cost. */
export interface VerifyReport {
  outcome: VerifyOutcome;
  target: string;
  supersededBy?: string;
  app: string;
  startedAt: string;
  durationMs: number;
  phases: PhaseRecord[];
  failedPhase?: PhaseName;
  detail: string;
  hint?: string;
  diagnostics?: Diagnostics;
  stats: { requests: number; watchStreams: number; requestsPerMinute: number; maxRssBytes: number };
}

/** The kinds and namespaces to keep current for these targets. */
export function watchTargets(targets: VerifyTargets): WatchTarget[] {
  const list: WatchTarget[] = [
    { kind: "gitRepository", namespace: targets.gitRepository.namespace },
    { kind: "kustomization", namespace: targets.kustomization.namespace },
  ];
  for (const ns of new Set([...targets.disks, ...targets.instances].map((t) => t.app.namespace))) {
    for (const kind of [
      "helmRelease",
      "vmDisk",
      "vmInstance",
      "dataVolume",
      "persistentVolumeClaim",
      "virtualMachine",
      "virtualMachineInstance",
      "service",
    ] as const) {
      list.push({ kind, namespace: ns });
    }
  }
  return list;
}

async function commitTime(repoRoot: string, sha: string): Promise<number | undefined> {
  const result = await runGit(repoRoot, ["show", "-s", "--format=%ct", sha]).catch(() => undefined);
  const seconds = Number(result?.stdout.trim());
  return result?.code !== 0 || !Number.isFinite(seconds) || seconds === 0 ? undefined : seconds * 1000;
}

/**
 * How long past the overall deadline the last requests (diagnostics after a timeout) may run:
 * the process must end within a second of --timeout whatever the API server does.
 */
const deadlineGraceMs = 800;

/**
 * Follows the rollout of one commit to a ready VM and a Home Assistant page answering. Throws
 * (with a hint) only for misconfiguration; every cluster outcome is a VerifyReport.
 */
/**
 * This process's peak RSS: Linux's VmHWM, the high-water mark of its own address space. Not
 * getrusage's maxrss: Linux carries that across execve, so a verify started by a big parent (a
 * runner, a benchmark) would report the parent's peak as its own.
 */
export function peakRssBytes(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm?.[1]) return Number(hwm[1]) * 1024;
  } catch {
    // not Linux: the rusage figure
  }
  return process.resourceUsage().maxRSS * 1024;
}

export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  const started = options.startedAt ?? Date.now();
  // A wrong --app must say so, not "platform.yaml not found" or "no Kubernetes credentials".
  checkAppFolder(options.appDir, options.repoRoot);
  const platform = await loadPlatform(options.appDir, options.repoRoot);
  const targets = await resolveTargets(options.appDir, options.repoRoot, platform);
  // No request may wait longer than the API may be unreachable: a server that accepts and stays
  // silent is unreachable after --unreachable-after, not after the 15 s answer timeout twice.
  const unreachableAfterMs = options.view?.unreachableAfterMs;
  const client = new KubeClient(
    typeof options.kubeConfig === "function" ? options.kubeConfig() : options.kubeConfig,
    unreachableAfterMs === undefined
      ? {}
      : {
          requestTimeoutMs: Math.min(15_000, unreachableAfterMs),
          connectTimeoutMs: Math.min(10_000, unreachableAfterMs),
        },
  );
  // Connect, TLS and answer timeouts of every request (watches too) are cut to the deadline.
  client.setDeadline(started + options.timeoutMs + deadlineGraceMs);
  try {
    return await follow(options, started, targets, client);
  } finally {
    client.close();
  }
}

async function follow(
  options: VerifyOptions,
  started: number,
  targets: VerifyTargets,
  client: KubeClient,
): Promise<VerifyReport> {
  // Reconnects and re-lists are reported under the phase that is running when they happen.
  let currentPhase = "source";
  const emit = (event: PhaseEvent): void => {
    currentPhase = event.phase;
    options.emit(event);
  };
  const view = new ClusterView(client, watchTargets(targets), {
    ...options.view,
    onNotice: (detail) =>
      emit({ phase: currentPhase, status: "progress", detail, elapsed: Date.now() - started }),
  });
  const appUrl = options.appUrl ?? `http://${targets.expectedWholeIp}:8123/`;
  const base = { target: options.target, app: options.appDir, startedAt: new Date(started).toISOString() };
  const stats = (): VerifyReport["stats"] => {
    const minutes = Math.max((Date.now() - started) / 60_000, 1 / 60);
    return {
      requests: client.stats.requests,
      watchStreams: client.stats.watchStreams,
      requestsPerMinute: Math.round((client.stats.requests / minutes) * 10) / 10,
      maxRssBytes: peakRssBytes(),
    };
  };
  const aborted = (error: unknown, phase?: PhaseName): VerifyReport => {
    const outcome: VerifyOutcome = error instanceof KubeForbiddenError ? "forbidden" : "unreachable";
    const e = error as KubeForbiddenError | KubeUnreachableError;
    return {
      ...base,
      outcome,
      durationMs: Date.now() - started,
      phases: [],
      ...(phase ? { failedPhase: phase } : {}),
      detail: e.message,
      hint: e.hint,
      stats: stats(),
    };
  };
  try {
    // The overall deadline covers the first list too: an API answering 503 must not hold it off.
    await view.start(started + options.timeoutMs);
  } catch (error) {
    if (error instanceof KubeForbiddenError || error instanceof KubeUnreachableError) return aborted(error);
    if (error instanceof KubeStartTimeoutError)
      return {
        ...base,
        outcome: "timeout",
        durationMs: Date.now() - started,
        phases: [],
        detail: error.message,
        hint: error.hint,
        stats: stats(),
      };
    throw error;
  }
  const ancestry = new AncestryResolver(options.repoRoot, options.target);
  const requests = new Map<string, ReconcileRequest>();
  const requestReconcile = async (
    kind: "gitRepository" | "kustomization",
    ns: string,
    name: string,
  ): Promise<void> => {
    const key = `${kind}/${ns}/${name}`;
    const object = lookup(view.snapshot(), kind, ns, name);
    const status = object?.status as
      | { artifact?: { revision?: string }; lastAttemptedRevision?: string }
      | undefined;
    const reached = relationOf(
      options.target,
      status?.artifact?.revision ?? status?.lastAttemptedRevision,
      ancestry.relation,
    );
    if (reached === "same" || reached === "descendant") return;
    if (!shouldRequestReconcile(object, requests.get(key), Date.now())) return;
    const value = new Date().toISOString();
    requests.set(key, { value, at: Date.now() });
    try {
      await client.mergePatch(resourceKinds[kind], ns, name, reconcilePatch(value));
      emit({
        phase: kind === "gitRepository" ? "source" : "kustomization",
        status: "progress",
        detail: `requested reconcile of ${key} (${value})`,
        elapsed: Date.now() - started,
      });
    } catch (error) {
      if (error instanceof KubeForbiddenError) {
        view.fatal ??= error;
        view.store.wake();
      }
    }
  };
  try {
    const result = await runRollout({
      phases: buildPhases(appUrl, options.phaseTimeouts),
      deadlineMs: Math.max(0, started + options.timeoutMs - Date.now()),
      view: {
        snapshot: () => view.snapshot(),
        changed: (ms) => view.store.changed(ms),
        get fatal() {
          return view.fatal;
        },
        setActive: (kinds) => view.setActive(kinds),
      },
      input: {
        targets,
        target: options.target,
        relation: ancestry.relation,
        importRestartLimit: options.importRestartLimit ?? 3,
      },
      emit,
      probe: {
        intervalMs: options.appProbeIntervalMs ?? 2_000,
        run: (timeoutMs) => probeApp(appUrl, timeoutMs),
      },
      async beforeEvaluate(phase, snapshot) {
        if (phase !== "source" && phase !== "kustomization") return;
        const git = lookup(
          snapshot,
          "gitRepository",
          targets.gitRepository.namespace,
          targets.gitRepository.name,
        );
        const ks = lookup(
          snapshot,
          "kustomization",
          targets.kustomization.namespace,
          targets.kustomization.name,
        );
        const revisions = [
          (git?.status as { artifact?: { revision?: string } } | undefined)?.artifact?.revision,
          (ks?.status as { lastAttemptedRevision?: string } | undefined)?.lastAttemptedRevision,
          (ks?.status as { lastAppliedRevision?: string } | undefined)?.lastAppliedRevision,
        ];
        await ancestry.resolve(revisions.map(commitOf).filter((c): c is string => Boolean(c)));
        if (!options.reconcile) return;
        if (phase === "source")
          await requestReconcile(
            "gitRepository",
            targets.gitRepository.namespace,
            targets.gitRepository.name,
          );
        else
          await requestReconcile(
            "kustomization",
            targets.kustomization.namespace,
            targets.kustomization.name,
          );
      },
    });
    if (result.outcome === "aborted")
      return { ...aborted(result.error, result.failedPhase), phases: result.phases };
    const report: VerifyReport = {
      ...base,
      outcome: result.outcome,
      ...(result.supersededBy ? { supersededBy: result.supersededBy } : {}),
      durationMs: Date.now() - started,
      phases: result.phases,
      ...(result.failedPhase ? { failedPhase: result.failedPhase } : {}),
      detail: result.detail,
      ...(result.hint ? { hint: result.hint } : {}),
      stats: stats(),
    };
    if (result.outcome !== "succeeded") {
      view.stop();
      const since = (await commitTime(options.repoRoot, options.target)) ?? started;
      report.diagnostics = await collectDiagnostics(
        client,
        view.snapshot(),
        targets,
        result.objects,
        options.target,
        Math.min(since, started),
      );
    }
    return report;
  } finally {
    view.stop();
  }
}
