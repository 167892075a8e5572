import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { writeFileAtomic } from "../atomic-file.ts";
import { HintedError } from "../errors.ts";
import { hasParseErrors, parseSourceFile } from "../manifests/yaml-source.ts";
import { toolsRepoRoot } from "../tools/paths.ts";

/** How `schemas sync` converts a source; `reference` sources are read by rules and tests only. */
export type SourceKind = "crd" | "openapi-v2" | "cozystack-values-schema" | "reference";

export interface LockedSource {
  url: string;
  sha256: string;
  bytes: number;
  kind: SourceKind;
  license: string;
}

export interface SchemaLock {
  version: 1;
  sources: LockedSource[];
}

export const defaultLockPath = path.join(toolsRepoRoot, "tools", "haos-tasks", "schemas.lock.json");

/**
 * The user's cache directory for haos-tasks: `HAOS_TASKS_CACHE_DIR` when set, else
 * `$XDG_CACHE_HOME/haos-tasks`, else `~/.cache/haos-tasks` — never the tool's own checkout (a
 * read-only install, or a checkout shared by several users, must not be written to).
 */
export function userCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.HAOS_TASKS_CACHE_DIR) return path.resolve(env.HAOS_TASKS_CACHE_DIR);
  const base =
    env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)
      ? env.XDG_CACHE_HOME
      : path.join(os.homedir(), ".cache");
  return path.join(base, "haos-tasks");
}

/**
 * Where fetched sources are kept, by sha256, when FetchOptions name no cacheDir (validate always
 * names one, from its env; other callers of fetchSource still fall back to this).
 */

export class SourceError extends HintedError {}

/** Reads and shape-checks the lock file. */
export async function readSchemaLock(lockPath: string = defaultLockPath): Promise<SchemaLock> {
  const lock = JSON.parse(await readFile(lockPath, "utf8")) as SchemaLock;
  if (lock.version !== 1 || !Array.isArray(lock.sources)) {
    throw new SourceError(`${lockPath}: not a version 1 schema lock`, "restore it from git");
  }
  return lock;
}

/** The file a mirror holds for a URL: `<mirror>/<URL path without the host>`. */
export function mirrorPathFor(mirror: string, url: string): string {
  return path.join(mirror, ...new URL(url).pathname.split("/").filter(Boolean));
}

/** This checkout's configuration file; its `schemas.mirror` names a default mirror directory. */
export const toolsConfigPath = path.join(toolsRepoRoot, ".haos-tasks.yaml");

/**
 * `schemas.mirror` of the checkout's .haos-tasks.yaml, resolved against the repository root, when
 * that directory exists. A machine without internet keeps a mirror beside the clone and says so
 * once here; anywhere else the directory is absent and sources download as usual.
 */
export function configuredMirror(configPath: string = toolsConfigPath): string | undefined {
  let root: unknown;
  try {
    // Every command reads this at start: parseSourceFile's fast path spares it the yaml library's
    // cold start, which is most of a one-app validate's setup otherwise.
    const { documents } = parseSourceFile(readFileSync(configPath, "utf8"), configPath);
    const doc = documents.length === 1 ? documents[0] : undefined;
    if (!doc || hasParseErrors(doc)) return undefined;
    root = doc.value;
  } catch {
    return undefined; // no config, or one the commands that own it will report
  }
  const mirror = (root as { schemas?: { mirror?: unknown } } | null)?.schemas?.mirror;
  if (typeof mirror !== "string" || mirror === "") return undefined;
  const dir = path.resolve(path.dirname(configPath), mirror);
  return existsSync(dir) ? dir : undefined;
}

/**
 * The mirror directory to read sources from: the explicit option, then `HAOS_TASKS_SCHEMA_MIRROR`,
 * then `schemas.mirror` of .haos-tasks.yaml when that directory exists. Relative paths of the first
 * two resolve against the repository root.
 */
export function resolveMirror(explicit: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const dir = explicit ?? env.HAOS_TASKS_SCHEMA_MIRROR;
  return dir ? path.resolve(toolsRepoRoot, dir) : configuredMirror();
}

export interface FetchOptions {
  mirror?: string;
  /** Where verified bytes are cached by sha256 (the edge names it: `cacheDirs(env).sourceCacheDir`). */
  cacheDir: string;
  fetch?: typeof globalThis.fetch;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/**
 * The bytes of a locked source, proven by sha256: from the local cache, else the mirror, else the
 * network. A mismatch is an error naming both digests; nothing unverified is ever cached.
 */
export async function fetchSource(source: LockedSource, options: FetchOptions): Promise<Buffer> {
  const cacheDir = options.cacheDir;
  const cached = path.join(cacheDir, source.sha256);
  if (existsSync(cached)) {
    const bytes = await readFile(cached);
    if (sha256(bytes) === source.sha256) return bytes;
  }
  let bytes: Buffer;
  let from: string;
  if (options.mirror) {
    from = mirrorPathFor(options.mirror, source.url);
    try {
      bytes = await readFile(from);
    } catch {
      throw new SourceError(
        `${source.url}: not in the mirror (expected ${from})`,
        "point --mirror / HAOS_TASKS_SCHEMA_MIRROR at a directory laid out as <mirror>/<URL path>, or unset it to download",
      );
    }
  } else {
    from = source.url;
    const response = await (options.fetch ?? globalThis.fetch)(source.url).catch((error: unknown) => {
      throw new SourceError(
        `${source.url}: download failed (${error instanceof Error ? error.message : String(error)})`,
        "check the network, or use a mirror: --mirror <dir> or HAOS_TASKS_SCHEMA_MIRROR",
      );
    });
    if (!response.ok) {
      throw new SourceError(
        `${source.url}: HTTP ${response.status}`,
        "use a mirror: --mirror <dir> or HAOS_TASKS_SCHEMA_MIRROR",
      );
    }
    bytes = Buffer.from(await response.arrayBuffer());
  }
  const actual = sha256(bytes);
  if (actual !== source.sha256) {
    throw new SourceError(
      `${from}: sha256 ${actual} does not match the lock (${source.sha256})`,
      "the upstream file changed or the mirror holds another version; re-pin it in schemas.lock.json only after reviewing the change",
    );
  }
  await writeFileAtomic(cached, bytes);
  return bytes;
}

/** Finds the locked source whose URL ends with `suffix` (e.g. `kube-ovn-crd.yaml`). */
export function findSource(lock: SchemaLock, suffix: string): LockedSource {
  const matches = lock.sources.filter((s) => s.url.endsWith(suffix));
  if (matches.length !== 1 || !matches[0]) {
    throw new SourceError(
      `schemas.lock.json: ${matches.length} sources end with '${suffix}'`,
      "use a longer suffix",
    );
  }
  return matches[0];
}
