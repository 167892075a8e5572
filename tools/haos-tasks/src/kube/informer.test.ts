import { describe, expect, it } from "vitest";
import type { KubeClient, KubeObject, ObjectList, WatchEvent } from "./client.ts";
import { KubeForbiddenError, KubeUnreachableError } from "./errors.ts";
import { Informer, type InformerOptions } from "./informer.ts";
import { ObjectStore } from "./store.ts";

interface WatchCall {
  resourceVersion: string;
  emit: (event: WatchEvent) => void;
  end: (error?: Error) => void;
  aborted: boolean;
}

/** A KubeClient double that lists what the test says and hands it each watch to drive. */
class FakeClient {
  readonly server = "https://fake:6443";
  lists: Array<() => ObjectList | Error> = [];
  listCalls = 0;
  watches: WatchCall[] = [];
  private waiting: Array<(w: WatchCall) => void> = [];

  async list(): Promise<ObjectList> {
    this.listCalls += 1;
    const next = this.lists.shift() ?? (() => ({ items: [], resourceVersion: "1" }));
    const result = next();
    if (result instanceof Error) throw result;
    return result;
  }

  watch(
    _kind: unknown,
    _ns: unknown,
    resourceVersion: string,
    _params: unknown,
    onEvent: (e: WatchEvent) => void,
    onDone: (e: Error | undefined) => void,
  ): () => void {
    const call: WatchCall = {
      resourceVersion,
      emit: onEvent,
      end: (error) => onDone(error),
      aborted: false,
    };
    this.watches.push(call);
    for (const w of this.waiting.splice(0)) w(call);
    return () => {
      call.aborted = true;
    };
  }

  /** Resolves with the n-th watch (1-based) once it is opened. */
  nthWatch(n: number): Promise<WatchCall> {
    return new Promise((resolve) => {
      const check = (): void => {
        const w = this.watches[n - 1];
        if (w) resolve(w);
        else this.waiting.push(check);
      };
      check();
    });
  }
}

const object = (name: string, rv: string, phase = "x"): KubeObject => ({
  metadata: { name, namespace: "flux-system", resourceVersion: rv },
  status: { phase },
});

function setup(options: Partial<InformerOptions> = {}) {
  const client = new FakeClient();
  const store = new ObjectStore();
  const notices: string[] = [];
  const fatal: Error[] = [];
  const informer = new Informer(client as unknown as KubeClient, store, "gitRepository", "flux-system", {
    mode: "watch",
    pollMs: 60_000,
    safetyPollMs: 60_000,
    backoffInitialMs: 10,
    backoffMaxMs: 80,
    unreachableAfterMs: 60_000,
    onFatal: (e) => fatal.push(e),
    onNotice: (m) => notices.push(m),
    ...options,
  });
  return { client, store, notices, fatal, informer };
}

const rule = {
  verb: "watch" as const,
  resource: "gitrepositories.source.toolkit.fluxcd.io",
  namespace: "flux-system",
};
const refused = () => new KubeUnreachableError("https://fake:6443", "connect ECONNREFUSED 10.0.0.1:6443");
const delays = (notices: readonly string[]) =>
  notices
    .map((n) => /reconnecting in (\d+) ms/.exec(n)?.[1])
    .filter(Boolean)
    .map(Number);

describe("Informer (fake client)", () => {
  it("410 Gone: re-lists and watches again from the new list's resourceVersion", async () => {
    const { client, store, informer } = setup();
    client.lists = [
      () => ({ items: [object("a", "10")], resourceVersion: "10" }),
      () => ({ items: [object("a", "50")], resourceVersion: "55" }),
    ];
    await informer.start();
    const first = await client.nthWatch(1);
    expect(first.resourceVersion).toBe("10");
    first.emit({
      type: "ERROR",
      object: { metadata: { name: "" }, code: 410, message: "too old resource version" },
    });
    first.end();
    const second = await client.nthWatch(2);
    expect(client.listCalls).toBe(2);
    expect(second.resourceVersion).toBe("55");
    expect(store.snapshot().objects.get("gitRepository/flux-system/a")?.metadata.resourceVersion).toBe("50");
    informer.stop();
  });

  it("a 403 with no outage before it ends the run at once", async () => {
    const { client, fatal, informer } = setup();
    await informer.start();
    (await client.nthWatch(1)).end(
      new KubeForbiddenError(rule, 403, 'User "system:serviceaccount:x:y" cannot watch'),
    );
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toBeInstanceOf(KubeForbiddenError);
  });

  it("a 403 right after an outage is the API server's RBAC cache warming up: retried within the grace period", async () => {
    const { client, fatal, informer } = setup();
    await informer.start();
    (await client.nthWatch(1)).end(refused());
    (await client.nthWatch(2)).end(new KubeForbiddenError(rule, 403, ""));
    const third = await client.nthWatch(3);
    expect(fatal).toEqual([]);
    third.emit({ type: "ADDED", object: object("a", "3") });
    // Connected again: a 403 now means a missing rule.
    third.end(new KubeForbiddenError(rule, 403, ""));
    expect(fatal).toHaveLength(1);
    informer.stop();
  });

  it("backoff grows while the stream keeps dropping, and starts over after a clean end without any event", async () => {
    const { client, notices, informer } = setup();
    await informer.start();
    for (let n = 1; n <= 4; n++) (await client.nthWatch(n)).end(refused());
    const grown = delays(notices);
    expect(grown).toHaveLength(4);
    // 10, 20, 40, 80 ms ± 25 % jitter: each at least the previous step's lower bound.
    expect(grown[3]).toBeGreaterThanOrEqual(60);
    expect(grown[0]).toBeLessThanOrEqual(13);
    // The server answered and closed the stream (its timeoutSeconds): no event, still a success.
    (await client.nthWatch(5)).end();
    (await client.nthWatch(6)).end(refused());
    await client.nthWatch(7);
    const after = delays(notices);
    expect(after[4]).toBeLessThanOrEqual(13);
    informer.stop();
  });

  it("a safety re-list restarts the watch from the list's resourceVersion; an older list never rolls an object back", async () => {
    const { client, store, informer } = setup({ safetyPollMs: 30 });
    informer.active = true;
    client.lists = [
      () => ({ items: [object("a", "100", "old")], resourceVersion: "100" }),
      // The safety list was served before the watch event below arrived.
      () => ({ items: [object("a", "100", "old")], resourceVersion: "100" }),
    ];
    await informer.start();
    const first = await client.nthWatch(1);
    first.emit({ type: "MODIFIED", object: object("a", "120", "new") });
    const second = await client.nthWatch(2);
    expect(first.aborted).toBe(true);
    expect(second.resourceVersion).toBe("100");
    const a = store.snapshot().objects.get("gitRepository/flux-system/a");
    expect(a?.metadata.resourceVersion).toBe("120");
    expect((a?.status as { phase?: string } | undefined)?.phase).toBe("new");
    informer.stop();
  });
});
