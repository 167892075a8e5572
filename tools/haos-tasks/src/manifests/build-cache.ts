import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { keepCacheEntry, readCacheEntry } from "../atomic-file.ts";
import type { Kustomization } from "./kustomization.ts";
import type { BuildResult, BuildUnit, BuiltResource } from "./kustomize-build.ts";
import { field } from "./resources.ts";
import { kustomizationFileNames, type Workspace } from "./workspace.ts";

/**
 * The build cache: the objects of each successful kustomize build unit kept on disk between runs
 * (and CI jobs), content-addressed:
 *
 *   <dir>/<key>.json    {"key": "<key>", "resources": [ BuiltResource… ]}
 *
 * <key> is the SHA-256 of everything the build reads: the kustomize-build helper (its path, size,
 * modification time and kustomize version), the unit (its directory, Flux's components,
 * targetNamespace, patches, images and generated file list), and the content of every file its
 * kustomizations name — resources, components, patches, generator files, replacements, CRDs —
 * through every kustomization it includes, with every kustomization file variant of each folder
 * (an added `kustomization.yml` beside a `kustomization.yaml` changes the key: kustomize then
 * fails). A name whose file is absent counts as absent, so the file appearing changes the key.
 *
 * A unit is not cached when its closure has what the key cannot see: a remote resource, or a
 * field whose files may name further files (transformers, generators, validators, configurations,
 * openapi, helmCharts). Only successful builds are kept (a failure is built again, with its message
 * as kustomize gives it now). Entries are written whole (atomic-file.ts); an entry that does not
 * read back, or names another key, is a miss (and is rewritten).
 *
 * Measured (bench/render.bench.ts, 1,000 Flux Kustomizations): the builds are the largest part of
 * a warm validate; a cache hit is one small file read.
 */
export interface BuildCache {
  /** The directory the entries live in. */
  dir: string;
  /** What identifies the kustomize that builds (kustomize-build helper: path, size, mtime, API). */
  identity: string;
}

const cacheVersion = "haos-tasks-build-cache/1";

/** Kustomization fields whose files may name further files the key would not see. */
const opaqueFields = ["transformers", "generators", "validators", "configurations", "openapi", "helmCharts"];

/**
 * The cache key of a unit, or undefined when it must not be cached. `files` gives a
 * repository file's content (the workspace's parsed text, else the disk).
 */
export function buildUnitKey(
  unit: BuildUnit,
  byDir: ReadonlyMap<string, Kustomization>,
  workspace: Pick<Workspace, "root" | "files">,
  identity: string,
): string | undefined {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ v: cacheVersion, identity, unit }));
  const files = new Set<string>();
  const dirs = new Set<string>();
  let cacheable = true;
  const file = (rel: string, yamlOnly = false) => {
    if (files.has(rel)) return;
    files.add(rel);
    const parsed = workspace.files.get(rel);
    let content: string | Buffer | undefined = parsed?.text;
    // A kustomization file variant is YAML: the workspace holds it when it exists.
    if (content === undefined && !yamlOnly) {
      try {
        content = readFileSync(path.join(workspace.root, rel));
      } catch {
        content = undefined;
      }
    }
    hash.update(`\0${rel}\0`);
    if (content === undefined) hash.update("\0absent");
    else hash.update(createHash("sha256").update(content).digest("hex"));
  };
  const dir = (rel: string) => {
    if (dirs.has(rel)) return;
    dirs.add(rel);
    for (const name of kustomizationFileNames) file(rel === "." ? name : `${rel}/${name}`, true);
    const k = byDir.get(rel);
    if (!k) return;
    const doc = k.source.documents[0]?.value;
    if (opaqueFields.some((f) => field(doc, f) !== undefined)) cacheable = false;
    for (const entry of k.entries) {
      if (!entry.path) {
        cacheable = false;
        continue;
      }
      if (entry.mayBeDirectory && byDir.has(entry.path)) dir(entry.path);
      else file(entry.path);
    }
  };
  dir(unit.dir);
  for (const component of unit.components ?? []) dir(component);
  for (const entry of unit.generated ?? []) {
    if (byDir.has(entry)) dir(entry);
    else file(entry);
  }
  return cacheable ? hash.digest("hex") : undefined;
}

const entryPath = (cache: BuildCache, key: string) => path.join(cache.dir, `${key}.json`);

/** The kept objects of a key, or undefined (absent, partial, corrupt, another key's). */
async function readBuildCache(cache: BuildCache, key: string): Promise<BuiltResource[] | undefined> {
  const entry = await readCacheEntry(entryPath(cache, key));
  return entry?.key === key && Array.isArray(entry.resources)
    ? (entry.resources as BuiltResource[])
    : undefined;
}

/**
 * `build` with the cache in front: the units found in the cache are not built, the others are,
 * and each that built without a failure is kept. The result lists each unit's objects in the
 * order of `dirs`, as `build` would.
 */
export async function cachedBuild(
  dirs: readonly string[],
  keyOf: (dir: string) => string | undefined,
  cache: BuildCache,
  build: (dirs: readonly string[]) => Promise<BuildResult>,
  stats?: { hits: number; misses: number },
): Promise<BuildResult> {
  const keys = new Map(dirs.map((d) => [d, keyOf(d)]));
  const hits = new Map<string, BuiltResource[]>();
  await Promise.all(
    dirs.map(async (d) => {
      const key = keys.get(d);
      const kept = key ? await readBuildCache(cache, key) : undefined;
      if (kept) hits.set(d, kept);
    }),
  );
  const misses = dirs.filter((d) => !hits.has(d));
  if (stats) {
    stats.hits += hits.size;
    stats.misses += misses.length;
  }
  const built = misses.length > 0 ? await build(misses) : { resources: [], failures: [] };
  const byBuild = new Map<string, BuiltResource[]>();
  const others: BuiltResource[] = [];
  for (const r of built.resources) {
    const list = keys.has(r.build) ? byBuild.get(r.build) : undefined;
    if (list) list.push(r);
    else if (keys.has(r.build)) byBuild.set(r.build, [r]);
    else others.push(r);
  }
  const failed = new Set([...built.failures, ...(built.superseded ?? [])].map((f) => f.dir));
  await Promise.all(
    misses.map(async (d) => {
      const key = keys.get(d);
      if (key && !failed.has(d))
        await keepCacheEntry(entryPath(cache, key), { key, resources: byBuild.get(d) ?? [] });
    }),
  );
  return {
    resources: [...dirs.flatMap((d) => hits.get(d) ?? byBuild.get(d) ?? []), ...others],
    failures: built.failures,
    ...(built.superseded ? { superseded: built.superseded } : {}),
  };
}

/**
 * A batch function (flux-render's envsubst: item → result, deterministic for one build of the
 * helper) with a per-item content-addressed cache in front, in `cache.dir` like the build cache:
 * only the items not kept are sent (in one batch, in order), and their results are kept.
 */
export function cachedBatch<I, R>(
  inner: (items: readonly I[]) => Promise<R[]>,
  cache: BuildCache,
): (items: readonly I[]) => Promise<R[]> {
  const keyOf = (item: I) =>
    createHash("sha256")
      .update(JSON.stringify({ v: cacheVersion, identity: cache.identity, item }))
      .digest("hex");
  return async (items) => {
    const keys = items.map(keyOf);
    const kept = await Promise.all(
      keys.map(async (key) => {
        const entry = await readCacheEntry(entryPath(cache, key));
        return entry?.key === key && "result" in entry ? { result: entry.result as R } : undefined;
      }),
    );
    const missing = items.flatMap((item, i) => (kept[i] ? [] : [item]));
    const fresh = missing.length > 0 ? await inner(missing) : [];
    let next = 0;
    const results = items.map((_, i) => {
      const hit = kept[i];
      return hit ? hit.result : (fresh[next++] as R);
    });
    await Promise.all(
      items.map(async (_, i) => {
        const key = keys[i] as string;
        if (!kept[i]) await keepCacheEntry(entryPath(cache, key), { key, result: results[i] });
      }),
    );
    return results;
  };
}
