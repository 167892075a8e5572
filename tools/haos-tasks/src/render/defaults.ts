import os from "node:os";
import path from "node:path";
import { type FetchOptions, fetchSource, type SchemaLock } from "../schemas/sources.ts";
import { startRenderer } from "./helper.ts";
import {
  type PinnedChart,
  type PinnedChartDir,
  pinnedChartDigest,
  pinnedCharts,
  stagePinnedChart,
} from "./pinned-charts.ts";
import type { HelmRenderer } from "./stage.ts";

type ClosableRenderer = HelmRenderer & { close(): Promise<void> };

/**
 * The flux-render helpers of one run: one process per core (flux-render renders one request at a
 * time; its README says to start several for parallelism), behind one HelmRenderer. Measured in
 * bench/render.bench.ts: 1,000 app-template HelmReleases through one helper leave the second core idle.
 * The helpers share the chart cache directory (flux-render writes it by temporary file + rename).
 */
export async function startDefaultRenderer(options: {
  /** The helpers' environment (flux-render is found through it unless `binary` names it). */
  env: NodeJS.ProcessEnv;
  binary?: string;
  workers?: number;
}): Promise<ClosableRenderer> {
  const workers = options.workers ?? Math.max(1, Math.min(os.availableParallelism(), 8));
  const start = () =>
    startRenderer({ env: options.env, ...(options.binary ? { binary: options.binary } : {}) });
  const started = await Promise.allSettled(Array.from({ length: workers }, start));
  const ok = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await Promise.all(ok.map((r) => r.close()));
    throw failed.reason;
  }
  return rendererPool(ok);
}

/**
 * Several renderers behind one: requests wait in one queue and go, in order, to the helper with
 * the fewest outstanding (at most `depth` each, so a helper always has the next request in its
 * pipe while it renders, and a slow render — a chart fetch — does not hold requests another helper
 * could take). Each request's answer is its own helper's.
 */
export function rendererPool(renderers: readonly ClosableRenderer[], depth = 2): ClosableRenderer {
  if (renderers.length === 0) throw new Error("rendererPool: no renderers");
  if (renderers.length === 1) return renderers[0] as ClosableRenderer;
  const outstanding = renderers.map(() => 0);
  const queue: ((worker: number) => void)[] = [];
  const dispatch = () => {
    while (queue.length > 0) {
      let best = -1;
      for (let i = 0; i < renderers.length; i++)
        if (
          (outstanding[i] as number) < depth &&
          (best < 0 || (outstanding[i] as number) < (outstanding[best] as number))
        )
          best = i;
      if (best < 0) return;
      queue.shift()?.(best);
    }
  };
  return {
    helm(request) {
      return new Promise((resolve, reject) => {
        queue.push((worker) => {
          outstanding[worker] = (outstanding[worker] as number) + 1;
          (renderers[worker] as ClosableRenderer)
            .helm(request)
            .then(resolve, reject)
            .finally(() => {
              outstanding[worker] = (outstanding[worker] as number) - 1;
              dispatch();
            });
        });
        dispatch();
      });
    },
    async close() {
      await Promise.all(renderers.map((r) => r.close()));
    },
  };
}

/**
 * Chart directories staged from the files the schema lock pins (read from the mirror or cache,
 * sha256-checked): CozyStack's app charts with cozy-lib, and every other chart the lock pins
 * whole (ARC's, bjw-s app-template with its common library). Undefined for a chart it does not pin.
 */
export function pinnedChartDirs(
  lock: SchemaLock,
  fetch: FetchOptions,
  /** Where the staged charts go (validate: `<chart cache>/pinned`). */
  cacheDir: string,
): (name: string, version: string) => Promise<PinnedChartDir | undefined> {
  let charts: PinnedChart[] | undefined;
  const staged = new Map<string, Promise<PinnedChartDir>>();
  return async (name, version) => {
    charts ??= pinnedCharts(lock);
    const chart = charts.find((c) => c.name === name && c.version === version);
    if (!chart) return undefined;
    const key = `${name}@${version}`;
    let dir = staged.get(key);
    if (!dir) {
      dir = stagePinnedChart(chart, fetch, cacheDir).then((p) => ({
        path: p,
        digest: pinnedChartDigest(chart),
      }));
      staged.set(key, dir);
    }
    return await dir;
  };
}

/**
 * The chart cache a run uses unless told: `$HAOS_TASKS_CHART_CACHE`, else
 * `$HAOS_TASKS_CACHE_DIR/charts`, else the user cache directory's (`$XDG_CACHE_HOME` or `~/.cache`)
 * `haos-tasks/charts` — one cache for every checkout, kept between CI runs by caching that
 * directory. It holds the chart archives and flux-render's render cache (`renders/`).
 */
export function defaultChartCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.HAOS_TASKS_CHART_CACHE) return path.resolve(env.HAOS_TASKS_CHART_CACHE);
  if (env.HAOS_TASKS_CACHE_DIR) return path.join(env.HAOS_TASKS_CACHE_DIR, "charts");
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "haos-tasks", "charts");
}

/**
 * The JSON schema files the lock pins, as the renderer's `schemaFiles` (URL → a local copy,
 * sha256-checked): a chart's values.schema.json that `$ref`s schemas by URL — app-template 4.x
 * refers to its common library's, whose `schemas/` the packaged chart leaves out (.helmignore) —
 * is validated offline against the pinned files, never skipped.
 */
export async function lockedSchemaFiles(
  lock: SchemaLock,
  fetch: FetchOptions,
): Promise<Record<string, string>> {
  const cacheDir = fetch.cacheDir;
  const files: Record<string, string> = {};
  await Promise.all(
    lock.sources
      .filter((s) => s.kind === "reference" && s.url.endsWith(".json"))
      .map(async (s) => {
        await fetchSource(s, { ...fetch, cacheDir });
        files[s.url] = path.join(cacheDir, s.sha256);
      }),
  );
  return files;
}
