import type { KubeObject } from "./client.ts";
import type { KindKey } from "./resources.ts";

/** `kind/namespace/name`, the key of the store and of ClusterSnapshot.objects. */
export function objectKey(kind: KindKey, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** What the phases read: every object the verifier knows, by objectKey. Plain data. */
export interface ClusterSnapshot {
  objects: ReadonlyMap<string, KubeObject>;
}

/** The object of a snapshot, or undefined. */
export function lookup(
  snapshot: ClusterSnapshot,
  kind: KindKey,
  namespace: string,
  name: string,
): KubeObject | undefined {
  return snapshot.objects.get(objectKey(kind, namespace, name));
}

/**
 * Whether `next` may replace `known`. resourceVersions are opaque to clients, but etcd-backed ones
 * are decimal integers that only grow for one object: an older one (a list that started before a
 * watch event arrived) must never roll an object back. Anything else: a different value is newer.
 */
function isNewer(next: string | undefined, known: string | undefined): boolean {
  if (next === known) return false;
  if (next && known && /^\d+$/.test(next) && /^\d+$/.test(known)) {
    return next.length !== known.length ? next.length > known.length : next > known;
  }
  return true;
}

/**
 * The verifier's cache of cluster objects, fed by watches and polls. `version` rises on every real
 * change so the rollout engine wakes up exactly when something it reads has changed.
 */
export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private waiters: Array<() => void> = [];
  version = 0;

  put(kind: KindKey, object: KubeObject): void {
    const key = objectKey(kind, object.metadata.namespace ?? "", object.metadata.name);
    const known = this.objects.get(key);
    if (known && !isNewer(object.metadata.resourceVersion, known.metadata.resourceVersion)) return;
    this.objects.set(key, object);
    this.bump();
  }

  remove(kind: KindKey, namespace: string, name: string): void {
    if (this.objects.delete(objectKey(kind, namespace, name))) this.bump();
  }

  /** Replaces every object of a kind in a namespace with a fresh list (re-list after 410, polls). */
  replace(kind: KindKey, namespace: string, items: KubeObject[]): void {
    const prefix = `${kind}/${namespace}/`;
    const fresh = new Set(items.map((o) => objectKey(kind, namespace, o.metadata.name)));
    for (const key of [...this.objects.keys()]) {
      if (key.startsWith(prefix) && !fresh.has(key)) {
        this.objects.delete(key);
        this.bump();
      }
    }
    for (const item of items) this.put(kind, { ...item, metadata: { ...item.metadata, namespace } });
  }

  snapshot(): ClusterSnapshot {
    return { objects: new Map(this.objects) };
  }

  /** Resolves at the next change, or after timeoutMs, whichever comes first. */
  async changed(timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  /** Wakes every waiter without a change (a fatal error, a stop). */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private bump(): void {
    this.version += 1;
    this.wake();
  }
}
