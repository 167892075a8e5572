import type { KubeClient } from "./client.ts";
import { KubeApiFailingError, KubeStartTimeoutError, KubeUnreachableError } from "./errors.ts";
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
  private readonly onNotice: ((message: string) => void) | undefined;
  /** The notices said so far while starting: ten informers meeting one refused port say it once. */
  private readonly said = new Set<string>();

  constructor(client: KubeClient, targets: readonly WatchTarget[], options: ClusterViewOptions = {}) {
    this.client = client;
    this.onNotice = options.onNotice;
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
        onNotice: (message) => this.notice(message),
      };
      this.informers.push(new Informer(client, this.store, target.kind, target.namespace, informerOptions));
    }
  }

  /**
   * Lists everything once and opens the watches; throws the classified error of the first failure,
   * or, when `deadline` (epoch ms) passes first: KubeUnreachableError when the server never
   * answered (refused, no connection, accepted and silent), else KubeStartTimeoutError naming
   * what still fails. Says within the first second what it is waiting for, then every 5 s.
   */
  async start(deadline?: number): Promise<void> {
    const begun = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      if (deadline !== undefined) timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - begun));
    });
    this.onNotice?.(`listing ${this.informers.length} kinds from ${this.client.server}`);
    const ticker = setInterval(() => {
      const waiting = this.informers.filter((i) => !i.started).length;
      if (waiting === 0) return;
      const silence = this.client.pendingSilence();
      const why =
        silence === "answer"
          ? "the connection is open, no answer yet"
          : silence === "tls"
            ? "connected, the TLS handshake has not completed"
            : silence === "connect"
              ? "still connecting"
              : "retrying";
      this.onNotice?.(
        `waiting for ${this.client.server} (${Math.round((Date.now() - begun) / 1000)}s): ${waiting} of ${this.informers.length} lists outstanding, ${why}`,
      );
    }, 5_000);
    ticker.unref();
    // The first failure ends the start at once: the other informers need not finish their retries.
    const all = Promise.all(this.informers.map((i) => i.start()));
    try {
      const result = await Promise.race([all, timedOut]);
      // An informer whose list was cut off by the client's deadline has not started either.
      if (result === "timeout" || this.informers.some((i) => !i.started))
        throw this.startTimeout(Date.now() - begun);
    } catch (error) {
      this.stop();
      // Informers still retrying resolve once stopped; a late rejection is of no interest.
      all.catch(() => {});
      throw error;
    } finally {
      clearTimeout(timer);
      clearInterval(ticker);
      this.said.clear();
    }
  }

  /** Classifies a start that ran out of time, once, whatever each informer saw. */
  private startTimeout(waitedMs: number): Error {
    const waiting = this.informers.filter((i) => !i.started);
    const errors = waiting.map((i) => i.startError);
    const silence = this.client.pendingSilence();
    const unanswered = errors.every(
      (e) => e === undefined || (e instanceof KubeUnreachableError && !(e instanceof KubeApiFailingError)),
    );
    // What was seen (a refusal, a connection accepted and left unanswered) is evidence; requests
    // still connecting are only that once they had a fair chance (the deadline may pass while
    // the app's manifests are still being read on a loaded machine).
    const evidence =
      errors.some((e) => e !== undefined) || silence === "answer" || silence === "tls" || waitedMs >= 1_000;
    if (waiting.length > 0 && unanswered && evidence) {
      // Nothing but refusals, connect timeouts or silence: the server is unreachable, whatever
      // --unreachable-after says (that one is for outages during the rollout).
      // What a request saw (refused, no answer in 15 s) says more than a retry still waiting.
      const seen = errors.find((e) => e !== undefined)?.message;
      const cause =
        seen?.replace(/^the API server \S+ is unreachable: /, "") ??
        (silence === "answer"
          ? "it accepted the connection but sent no answer before the deadline"
          : silence === "tls"
            ? "it accepted the connection but the TLS handshake did not complete before the deadline"
            : "no connection before the deadline");
      return new KubeUnreachableError(this.client.server, cause);
    }
    const failing = [...new Set(waiting.filter((i) => i.startError).map((i) => i.startError?.message ?? ""))];
    return new KubeStartTimeoutError(waitedMs, failing);
  }

  /** Passes a notice on, once per text while starting. */
  private notice(message: string): void {
    if (this.said.has(message)) return;
    if (this.informers.some((i) => !i.started)) this.said.add(message);
    this.onNotice?.(message);
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
