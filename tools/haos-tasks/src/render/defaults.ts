import os from "node:os";
import path from "node:path";
import type { FetchOptions, SchemaLock } from "../schemas/sources.ts";
import type { HelmRenderer } from "./stage.ts";

/** The flux-render helper (tools/bootstrap/go/flux-render), started for one run; not wired yet. */
export const startDefaultRenderer: (() => Promise<HelmRenderer & { close(): Promise<void> }>) | undefined =
  undefined;

/** Chart directories staged from the files the schema lock pins (read from the mirror or cache). */
export function pinnedChartDirs(
  _lock: SchemaLock,
  _fetch: FetchOptions,
): (name: string, version: string) => Promise<string | undefined> {
  return async () => undefined;
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
