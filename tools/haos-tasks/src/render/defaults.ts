import os from "node:os";
import path from "node:path";
import {
  defaultSourceCacheDir,
  type FetchOptions,
  fetchSource,
  type SchemaLock,
} from "../schemas/sources.ts";
import { startRenderer } from "./helper.ts";
import { type PinnedChart, pinnedCharts, stagePinnedChart } from "./pinned-charts.ts";
import type { HelmRenderer } from "./stage.ts";

/** The flux-render helper (tools/bootstrap/go/flux-render), started for one run. */
export async function startDefaultRenderer(): Promise<HelmRenderer & { close(): Promise<void> }> {
  return await startRenderer();
}

/**
 * Chart directories staged from the files the schema lock pins (read from the mirror or cache,
 * sha256-checked): CozyStack's app charts with cozy-lib, and every other chart the lock pins
 * whole (ARC's, bjw-s app-template with its common library). Undefined for a chart it does not pin.
 */
export function pinnedChartDirs(
  lock: SchemaLock,
  fetch: FetchOptions,
  cacheDir: string = path.join(defaultChartCacheDir(), "pinned"),
): (name: string, version: string) => Promise<string | undefined> {
  let charts: PinnedChart[] | undefined;
  const staged = new Map<string, Promise<string>>();
  return async (name, version) => {
    charts ??= pinnedCharts(lock);
    const chart = charts.find((c) => c.name === name && c.version === version);
    if (!chart) return undefined;
    const key = `${name}@${version}`;
    let dir = staged.get(key);
    if (!dir) {
      dir = stagePinnedChart(chart, fetch, cacheDir);
      staged.set(key, dir);
    }
    return await dir;
  };
}

/**
 * The chart cache a run uses unless told: `$HAOS_TASKS_CACHE_DIR/charts`, else the user cache
 * directory's (`$XDG_CACHE_HOME` or `~/.cache`) `haos-tasks/charts` — one cache for every
 * checkout, kept between CI runs by caching that directory.
 */
export function defaultChartCacheDir(env: NodeJS.ProcessEnv = process.env): string {
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
  const cacheDir = fetch.cacheDir ?? defaultSourceCacheDir;
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
