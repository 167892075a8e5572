import { cacheDirs } from "../../src/schemas/catalog.ts";
import { isRecord, type JsonSchema } from "../../src/schemas/convert/types.ts";
import {
  type FetchOptions,
  fetchSource,
  findSource,
  readSchemaLock,
  resolveMirror,
} from "../../src/schemas/sources.ts";

/**
 * Test support: the bytes of a pinned upstream document, read through the mirror
 * (HAOS_TASKS_SCHEMA_MIRROR, set by vitest) and sha256-verified like `schemas sync` does.
 */
export async function upstreamText(urlSuffix: string): Promise<string> {
  const lock = await readSchemaLock();
  const mirror = resolveMirror(undefined, process.env);
  const bytes = await fetchSource(findSource(lock, urlSuffix), sourceFetch(mirror));
  return bytes.toString("utf8");
}

export async function upstreamJson(urlSuffix: string): Promise<unknown> {
  return JSON.parse(await upstreamText(urlSuffix));
}

/** Follows `properties` (and `items` for `[]`) down a dotted path of a schema. */
export function at(schema: JsonSchema, dotted: string): JsonSchema | undefined {
  let node: unknown = schema;
  for (const part of dotted.split(".")) {
    if (!isRecord(node)) return undefined;
    node = part === "[]" ? node.items : isRecord(node.properties) ? node.properties[part] : undefined;
  }
  return isRecord(node) ? node : undefined;
}

/** How tests fetch locked sources: from the mirror when there is one, cached where the CLI caches them. */
export function sourceFetch(mirror: string | undefined): FetchOptions {
  return { ...(mirror ? { mirror } : {}), cacheDir: cacheDirs(process.env).sourceCacheDir };
}
