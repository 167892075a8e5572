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
