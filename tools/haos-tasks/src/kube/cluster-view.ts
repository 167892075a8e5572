import type { KubeClient } from "./client.ts";
import { KubeStartTimeoutError } from "./errors.ts";
import { Informer, type InformerOptions } from "./informer.ts";
import { type KindKey, polledGroups, resourceKinds } from "./resources.ts";
import { type ClusterSnapshot, ObjectStore } from "./store.ts";

/** One kind in one namespace that the verifier keeps current. */
export interface WatchTarget {
  kind: KindKey;
  namespace: string;
}

export interface ClusterViewOptions {
  pollMs?: number;
  safetyPollMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  unreachableAfterMs?: number;
  onNotice?: (message: string) => void;
}

/**
 * The verifier's live picture of the cluster: an informer per (kind, namespace) writing into one
 * store. Kinds of aggregated APIs (apps.cozystack.io) are polled, everything else watched.
 */
export class ClusterView {
  readonly store = new ObjectStore();
  readonly client: KubeClient;
  /** The first error more waiting cannot fix; the engine stops on it. */
  fatal: Error | undefined;
  private readonly informers: Informer[] = [];

  constructor(client: KubeClient, targets: readonly WatchTarget[], options: ClusterViewOptions = {}) {
    this.client = client;
    const seen = new Set<string>();
    for (const target of targets) {
      const key = `${target.kind}/${target.namespace}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const informerOptions: InformerOptions = {
        mode: polledGroups.has(resourceKinds[target.kind].group) ? "poll" : "watch",
        pollMs: options.pollMs ?? 30_000,
        safetyPollMs: options.safetyPollMs ?? 60_000,
        backoffInitialMs: options.backoffInitialMs ?? 250,
        backoffMaxMs: options.backoffMaxMs ?? 8_000,
        unreachableAfterMs: options.unreachableAfterMs ?? 60_000,
        onFatal: (error) => {
          this.fatal ??= error;
          this.store.wake();
        },
        ...(options.onNotice ? { onNotice: options.onNotice } : {}),
      };
      this.informers.push(new Informer(client, this.store, target.kind, target.namespace, informerOptions));
    }
  }

  /**
   * Lists everything once and opens the watches; throws the classified error of the first failure,
   * or KubeStartTimeoutError (naming what still fails) when `deadline` (epoch ms) passes first.
   */
  async start(deadline?: number): Promise<void> {
    const begun = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      if (deadline !== undefined) timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - begun));
    });
    // The first failure ends the start at once: the other informers need not finish their retries.
    const all = Promise.all(this.informers.map((i) => i.start()));
    try {
      const result = await Promise.race([all, timedOut]);
      if (result === "timeout") {
        const failing = this.informers
          .filter((i) => !i.started && i.startError)
          .map((i) => i.startError?.message ?? "");
        throw new KubeStartTimeoutError(Date.now() - begun, failing);
      }
    } catch (error) {
      this.stop();
      // Informers still retrying resolve once stopped; a late rejection is of no interest.
      all.catch(() => {});
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Only the kinds the current phase reads are polled and safety-listed: that keeps requests low. */
  setActive(kinds: ReadonlySet<KindKey>): void {
    for (const informer of this.informers) informer.active = kinds.has(informer.kind);
  }

  snapshot(): ClusterSnapshot {
    return this.store.snapshot();
  }

  stop(): void {
    for (const informer of this.informers) informer.stop();
    this.store.wake();
  }
}
