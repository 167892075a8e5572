import { createHash } from "node:crypto";
import path from "node:path";
import type { PhaseEvent } from "../phases.ts";
import type { Platform } from "../platform/platform.ts";
import { cozystackLine } from "../platform/platform.ts";
import { readCatalogIndex, removeAbandoned, schemaLocation, writeCatalogDir } from "./catalog-dir.ts";
import { convertSource, type OriginSchema } from "./convert/source.ts";
import { selectSources } from "./selection.ts";
import { defaultLockPath, fetchSource, readSchemaLock, resolveMirror, userCacheDir } from "./sources.ts";

/**
 * Bump when a converter or the strict pass changes what they write: every cached catalog then
 * becomes stale and the next validate re-syncs by itself.
 */
export const converterVersion = "1";

/**
 * The catalog root and the source cache: `<dir>/schemas` and `<dir>/sources` of the user cache
 * directory (HAOS_TASKS_CACHE_DIR, else $XDG_CACHE_HOME/haos-tasks, else ~/.cache/haos-tasks).
 */
export function cacheDirs(env: NodeJS.ProcessEnv): {
  catalogRoot: string;
  sourceCacheDir: string;
} {
  const dir = userCacheDir(env);
  return { catalogRoot: path.join(dir, "schemas"), sourceCacheDir: path.join(dir, "sources") };
}

export interface SchemaCatalog {
  dir: string;
  /** The value for `kubeconform -schema-location`. */
  location: string;
  /** `<apiVersion>/<Kind>` (e.g. `apps.cozystack.io/v1alpha1/VMInstance`, `v1/Service`) → schema file. */
  kinds: Map<string, string>;
  key: string;
  /** True when this call (re)built the catalog. */
  synced: boolean;
}

export interface EnsureCatalogOptions {
  platform: Platform;
  /** Mirror directory (else `HAOS_TASKS_SCHEMA_MIRROR`, else download). */
  mirror?: string;
  /** Directory holding one catalog per key (default: see cacheDirs). */
  cacheRoot?: string;
  lockPath?: string;
  /** Where verified source bytes are cached by sha256. */
  sourceCacheDir?: string;
  /** Rebuild even when a complete catalog for the key exists. */
  force?: boolean;
  onProgress?: (event: PhaseEvent) => void;
  /** For HAOS_TASKS_SCHEMA_MIRROR and HAOS_TASKS_CACHE_DIR: the edge's environment. */
  env: NodeJS.ProcessEnv;
}

/** Statistics of the last build, for `schemas sync`'s summary. */
export interface SyncStats {
  sourcesVerified: number;
  schemasWritten: number;
  duplicates: string[];
  notes: string[];
}

export interface EnsuredCatalog extends SchemaCatalog {
  stats?: SyncStats;
}

/**
 * The schema catalog for a platform, built when missing or stale: the lock entries the platform
 * selects are fetched (or read from the mirror), sha256-verified, converted and written atomically
 * in kubeconform's layout. The key covers the lock entries, the converter version and the
 * CozyStack line, so a changed lock, converter or declared line gives a new catalog.
 */
export async function ensureSchemaCatalog(options: EnsureCatalogOptions): Promise<EnsuredCatalog> {
  const started = Date.now();
  const emit = (
    phase: string,
    status: PhaseEvent["status"],
    detail: string,
    data?: Record<string, unknown>,
  ) =>
    options.onProgress?.({ phase, status, detail, elapsed: Date.now() - started, ...(data ? { data } : {}) });

  const lock = await readSchemaLock(options.lockPath ?? defaultLockPath);
  const { sources, notes } = selectSources(lock, options.platform);
  const line = cozystackLine(String(options.platform.versions.cozystack));
  const key = createHash("sha256")
    .update(
      JSON.stringify({
        converterVersion,
        line,
        sources: sources.map((s) => [s.url, s.sha256, s.kind]),
      }),
    )
    .digest("hex")
    .slice(0, 16);
  const defaults = cacheDirs(options.env);
  const dir = path.join(options.cacheRoot ?? defaults.catalogRoot, key);
  const catalog = (kinds: Map<string, string>, synced: boolean): SchemaCatalog => ({
    dir,
    location: schemaLocation(dir),
    kinds,
    key,
    synced,
  });

  if (!options.force) {
    const index = await readCatalogIndex(dir);
    if (index?.key === key) {
      emit("schemas", "skipped", `schema catalog ${key} is up to date`);
      return catalog(new Map(Object.entries(index.kinds).map(([k, rel]) => [k, path.join(dir, rel)])), false);
    }
  }

  for (const abandoned of await removeAbandoned(path.dirname(dir))) {
    emit("write", "progress", `removed ${abandoned} left by an interrupted sync`);
  }
  for (const note of notes) emit("sources", "progress", note);
  const mirror = resolveMirror(options.mirror, options.env);
  emit("sources", "running", `verifying ${sources.length} sources${mirror ? ` from mirror ${mirror}` : ""}`);
  const converted: OriginSchema[] = [];
  for (const [i, source] of sources.entries()) {
    const bytes = await fetchSource(source, {
      ...(mirror ? { mirror } : {}),
      cacheDir: options.sourceCacheDir ?? defaults.sourceCacheDir,
    });
    const schemas = convertSource(source, bytes);
    converted.push(...schemas);
    emit("sources", "progress", `${source.url} (${schemas.length} kinds)`, {
      done: i + 1,
      total: sources.length,
    });
  }
  emit("sources", "succeeded", `${sources.length} sources verified (sha256)`);

  emit("write", "running", `writing ${converted.length} schemas to ${dir}`);
  const written = await writeCatalogDir(
    dir,
    converted,
    { key, sources: sources.map((s) => s.url) },
    { replace: options.force ?? false },
  );
  emit("write", "succeeded", `${written.kinds.size} schemas written to ${dir}`);
  return {
    ...catalog(written.kinds, true),
    stats: {
      sourcesVerified: sources.length,
      schemasWritten: written.kinds.size,
      duplicates: written.duplicates,
      notes,
    },
  };
}
