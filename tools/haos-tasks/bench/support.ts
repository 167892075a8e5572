import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The q-quantile of samples (nearest rank): percentile(s, 0.5) is the median, 0.95 the p95. */
export function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

/** Runs `fn` `runs` times in a row: the median wall time, every sample, and the last value. */
export async function timed<T>(
  fn: () => Promise<T>,
  runs = 3,
): Promise<{ ms: number; samples: number[]; value: T }> {
  const samples: number[] = [];
  let value: T | undefined;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    value = await fn();
    samples.push(performance.now() - start);
  }
  return { ms: percentile(samples, 0.5), samples, value: value as T };
}

/** The median of samples (nearest rank). */
export const median = (samples: readonly number[]): number => percentile(samples, 0.5);

/** Bytes as whole MiB, for the benchmarks' rows. */
export const mib = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** Every process id in /proc (empty where there is no /proc). */
function procPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
}

/** A process's parent pid from /proc/<pid>/stat (undefined once it has exited). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** The direct children of a process. */
export function childPids(parent: number): number[] {
  return procPids().filter((pid) => parentOf(pid) === parent);
}

/** Resident memory of a process and all its descendants, in bytes, from /proc. */
export function treeRss(root: number): number {
  const children = new Map<number, number[]>();
  for (const pid of procPids()) {
    const ppid = parentOf(pid);
    if (ppid === undefined) continue; // exited between readdir and read
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    try {
      total += Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * 4096;
    } catch {
      // Exited.
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/**
 * Samples the summed resident memory of the process trees rooted at `pids()` every `everyMs`
 * until stopped; `stop()` takes a last sample and returns the peak, in bytes.
 */
export function peakTreeRss(pids: () => readonly number[], everyMs: number): { stop: () => number } {
  let peak = 0;
  const sample = () => {
    const now = pids().reduce((sum, pid) => sum + treeRss(pid), 0);
    if (now > peak) peak = now;
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      sample();
      clearInterval(timer);
      return peak;
    },
  };
}

// ---- the generated home-ops-shaped repositories (render.bench.ts, validate.bench.ts) ----

/** Writes `text` at `rel` below `dir`, making the folders on the way. */
export type RepoWriter = (rel: string, text: string) => void;

export function repoWriter(dir: string): RepoWriter {
  return (rel, text) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  };
}

/** The cluster-settings ConfigMap every generated app substitutes from (postBuild.substituteFrom). */
export const clusterSettings =
  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n  namespace: flux-system\ndata:\n  TIMEZONE: Europe/Paris\n  STORAGE_CLASS: ceph-block\n";

/**
 * Writes a generated app's Flux Kustomization, `kubernetes/apps/<ns>/<app>/ks.yaml`, as home-ops
 * repositories write it: its `app/` folder into `ns` with the shared `components/common`, and
 * postBuild substitution (APP, and cluster-settings). Returns the app's folder.
 */
export function writeFluxApp(write: RepoWriter, app: string, ns: string): string {
  const base = `kubernetes/apps/${ns}/${app}`;
  write(
    `${base}/ks.yaml`,
    `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ${app}
  namespace: flux-system
spec:
  targetNamespace: ${ns}
  interval: 1h
  path: ./${base}/app
  components:
    - ../../../../components/common
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substitute:
      APP: ${app}
    substituteFrom:
      - kind: ConfigMap
        name: cluster-settings
`,
  );
  return base;
}
