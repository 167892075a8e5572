import type { KubeClient, WatchEvent } from "./client.ts";
import {
  isConnectionError,
  KubeApiFailingError,
  KubeForbiddenError,
  KubeNotKubernetesError,
  KubeStatusError,
  KubeUnreachableError,
} from "./errors.ts";
import { type KindKey, resourceKinds } from "./resources.ts";
import type { ObjectStore } from "./store.ts";

/** How long after an outage a 403 still counts as "the server is starting up". */
const forbiddenGraceMs = 20_000;

export interface InformerOptions {
  /** Watch (list, then watch from the list's resourceVersion) or poll (list on an interval). */
  mode: "watch" | "poll";
  /** poll mode: how often to list while active. */
  pollMs: number;
  /** watch mode: how often to re-list while active, in case a watch event was lost. */
  safetyPollMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** How long the API may stay unreachable, or keep answering 5xx/429, before the run ends with "unreachable". */
  unreachableAfterMs: number;
  /** Called once with an error more waiting cannot fix (403, unreachable for too long). */
  onFatal: (error: Error) => void;
  /** Reports reconnects and re-lists (the live progress shows them). */
  onNotice?: (message: string) => void;
}

/**
 * Keeps the store current for one kind in one namespace: list, then watch from the list's
 * resourceVersion; re-list on 410 Gone; reconnect with exponential backoff when the stream drops;
 * a slow safety re-list while the kind matters. Aggregated APIs are polled instead.
 */
export class Informer {
  readonly kind: KindKey;
  readonly namespace: string;
  active = false;
  /** True once the first list succeeded. */
  started = false;
  /** The last error of the first list, while it is being retried (names the failing API). */
  startError: Error | undefined;
  private readonly client: KubeClient;
  private readonly store: ObjectStore;
  private readonly options: InformerOptions;
  private resourceVersion = "";
  private stopWatch: (() => void) | undefined;
  private stopped = false;
  private failures = 0;
  private disconnectedSince: number | undefined;
  private needRelist = false;
  private timer: NodeJS.Timeout | undefined;
  private lastList = 0;
  private wakeSleep: (() => void) | undefined;
  private watchOpenedAt = 0;

  constructor(
    client: KubeClient,
    store: ObjectStore,
    kind: KindKey,
    namespace: string,
    options: InformerOptions,
  ) {
    this.client = client;
    this.store = store;
    this.kind = kind;
    this.namespace = namespace;
    this.options = options;
  }

  /**
   * The first list; throws a classified error (403, unreachable or failing after retries).
   * Resolves without listing when stopped meanwhile (the caller's deadline passed).
   */
  async start(): Promise<void> {
    for (;;) {
      try {
        await this.relist();
        break;
      } catch (error) {
        if (this.stopped || isAborted(error)) return;
        // At start a 404 means the kind is not served at all: a misconfiguration, not a wait.
        if (error instanceof KubeStatusError && error.status === 404) throw error;
        // Unreachable since the failed list was sent, not since it gave up (a silent server holds
        // each request for its whole timeout).
        if (error instanceof KubeUnreachableError || isConnectionError(error))
          this.disconnectedSince ??= this.lastList;
        const fatal = this.fatalError(error);
        if (fatal) throw fatal;
        this.startError = error instanceof Error ? error : new Error(String(error));
        const delay = this.nextBackoff();
        // Silence here would look like a hang: the retries are progress. An unreachable server is
        // one fact, whichever kind found it: said without the kind, so the view says it once.
        this.options.onNotice?.(
          this.startError instanceof KubeUnreachableError && !(this.startError instanceof KubeApiFailingError)
            ? `${this.startError.message}; retrying`
            : `${resourceKinds[this.kind].kind} in ${this.namespace}: ${this.startError.message}; retrying in ${delay} ms`,
        );
        await this.sleep(delay);
        if (this.stopped) return;
      }
    }
    this.started = true;
    this.startError = undefined;
    this.failures = 0;
    if (this.options.mode === "watch") void this.openWatch();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wakeSleep?.();
    this.stopWatch?.();
  }

  private async relist(): Promise<void> {
    this.lastList = Date.now();
    const list = await this.client.list(resourceKinds[this.kind], this.namespace);
    this.store.replace(this.kind, this.namespace, list.items);
    this.resourceVersion = list.resourceVersion;
    this.needRelist = false;
    this.connected();
  }

  /** Timer for the safety re-list (watch mode) or the poll (poll mode), only while active. */
  private schedule(): void {
    if (this.stopped) return;
    const every = this.options.mode === "poll" ? this.options.pollMs : this.options.safetyPollMs;
    this.timer = setTimeout(() => {
      const due = this.active && Date.now() - this.lastList >= every - 50;
      const listing = due
        ? this.relist().then(
            () => this.restartWatch(),
            (error: unknown) => this.onError(error),
          )
        : Promise.resolve();
      void listing.finally(() => this.schedule());
    }, every);
    this.timer.unref();
  }

  /**
   * After a safety re-list the store holds the list's state: the open watch would replay events
   * from before it, so it is restarted from the list's resourceVersion.
   */
  private restartWatch(): void {
    if (this.options.mode !== "watch" || this.stopped || !this.stopWatch) return;
    const stop = this.stopWatch;
    this.stopWatch = undefined;
    stop();
    void this.openWatch();
  }

  private async openWatch(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.needRelist) await this.relist();
      this.watchOpenedAt = Date.now();
      this.stopWatch = this.client.watch(
        resourceKinds[this.kind],
        this.namespace,
        this.resourceVersion,
        {},
        (event) => this.onEvent(event),
        (error) => this.onWatchEnd(error),
      );
    } catch (error) {
      this.onWatchEnd(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private onEvent(event: WatchEvent): void {
    const rv = event.object.metadata?.resourceVersion;
    switch (event.type) {
      case "ADDED":
      case "MODIFIED":
        this.store.put(this.kind, {
          ...event.object,
          metadata: { ...event.object.metadata, namespace: this.namespace },
        });
        break;
      case "DELETED":
        this.store.remove(this.kind, this.namespace, event.object.metadata.name);
        break;
      case "BOOKMARK":
        break;
      case "ERROR":
        // 410 Gone: the resourceVersion is older than the server keeps; only a re-list helps.
        this.needRelist = true;
        if (event.object.code === 410)
          this.options.onNotice?.(`${resourceKinds[this.kind].kind} watch expired (410 Gone): re-listing`);
        return;
    }
    if (rv) this.resourceVersion = rv;
    this.connected();
  }

  private onWatchEnd(error: Error | undefined): void {
    this.stopWatch = undefined;
    if (this.stopped || isAborted(error)) return;
    if (error === undefined) {
      // A clean end (server timeout, or a 410 just reported): the server answered, so the
      // backoff starts over even when the stream carried no event; reconnect at once.
      this.failures = 0;
      void this.openWatch();
      return;
    }
    // A stream that stayed up for a while before it dropped was a working connection.
    if (Date.now() - this.watchOpenedAt >= this.options.backoffMaxMs * 2) this.failures = 0;
    this.onError(error);
    if (this.stopped) return;
    const delay = this.nextBackoff();
    this.options.onNotice?.(
      `${resourceKinds[this.kind].kind} watch dropped (${error.message}); reconnecting in ${delay} ms`,
    );
    setTimeout(() => void this.openWatch(), delay).unref();
  }

  /** Ends the run for errors more waiting cannot fix; notes the start of an outage otherwise. */
  private onError(error: unknown): void {
    if (isAborted(error)) return;
    if (error instanceof KubeStatusError && error.status === 410) {
      this.needRelist = true;
      return;
    }
    const fatal = this.fatalError(error);
    if (fatal) {
      this.stop();
      this.options.onFatal(fatal);
    }
  }

  /** The error that ends the run, or undefined when a retry may help. */
  private fatalError(error: unknown): Error | undefined {
    // Something else answers at the address (HTML, foreign JSON, an endless body): waiting cannot help.
    if (error instanceof KubeNotKubernetesError) return error;
    if (error instanceof KubeForbiddenError) {
      // A restarting API server answers 403 until its RBAC caches are synced: right after an
      // outage a 403 is retried for a while; otherwise it means a missing rule, at once.
      const recovering =
        this.disconnectedSince !== undefined && Date.now() - this.disconnectedSince < forbiddenGraceMs;
      return recovering ? undefined : error;
    }
    if (error instanceof KubeUnreachableError || isConnectionError(error)) {
      this.disconnectedSince ??= Date.now();
      if (Date.now() - this.disconnectedSince < this.options.unreachableAfterMs) return undefined;
      return error instanceof KubeUnreachableError
        ? error
        : new KubeUnreachableError(this.client.server, String(error));
    }
    // 5xx during an API server restart, 429 while the watch cache (re)initializes after a CRD
    // install or a restart: retried, but only as long as an outage would be — an aggregated API
    // whose backend is gone answers 503 forever.
    if (error instanceof KubeStatusError && (error.status >= 500 || error.status === 429)) {
      this.disconnectedSince ??= Date.now();
      const failingFor = Date.now() - this.disconnectedSince;
      if (failingFor < this.options.unreachableAfterMs) return undefined;
      return new KubeApiFailingError(this.client.server, error, failingFor);
    }
    // 404 while a CRD is being served again, 410 of an expired resourceVersion: retry.
    if (error instanceof KubeStatusError && (error.status === 404 || error.status === 410)) return undefined;
    return error instanceof Error ? error : new Error(String(error));
  }

  private connected(): void {
    this.failures = 0;
    this.disconnectedSince = undefined;
  }

  private nextBackoff(): number {
    const delay = Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** this.failures);
    this.failures += 1;
    // Jitter keeps a dozen informers from reconnecting in lock step after a restart.
    return Math.round(delay * (0.75 + Math.random() * 0.5));
  }

  /** A backoff that stop() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = done;
    });
  }
}

/** The client aborted the request (its deadline passed, the run is ending): nothing to retry. */
function isAborted(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === "EABORTED";
}
