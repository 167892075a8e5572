import path from "node:path";
import { isDeepStrictEqual } from "node:util";

/** Pure helpers on rendered objects: noise removal and the field paths that differ. */
type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Whether a label/annotation key matches one of the noise globs. */
export function isNoise(key: string, globs: readonly string[]): boolean {
  return globs.some((glob) => glob === key || path.posix.matchesGlob(key, glob));
}

/**
 * A copy of `object` without the noise labels and annotations, wherever a `metadata` mapping
 * holds them (the object's, a pod template's, a volumeClaimTemplate's). Selectors are kept: a
 * selector is never noise.
 */
export function stripNoise<T>(object: T, globs: readonly string[]): T {
  if (globs.length === 0) return object;
  const walk = (value: unknown, key: string | undefined): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v, undefined));
    if (!isRecord(value)) return value;
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) {
      if (key === "metadata" && (k === "labels" || k === "annotations") && isRecord(v)) {
        const kept = Object.fromEntries(Object.entries(v).filter(([name]) => !isNoise(name, globs)));
        if (Object.keys(kept).length > 0 || Object.keys(v).length === 0) out[k] = kept;
        continue;
      }
      out[k] = walk(v, k);
    }
    return out;
  };
  return walk(object, undefined) as T;
}

const plainKey = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function join(prefix: string, key: string): string {
  if (plainKey.test(key)) return prefix ? `${prefix}.${key}` : key;
  return `${prefix}[${JSON.stringify(key)}]`;
}

/** Items of a list that are keyed by a unique `name` (containers, env, ports, volumes …). */
function namedItems(list: readonly unknown[]): Map<string, unknown> | undefined {
  const byName = new Map<string, unknown>();
  for (const item of list) {
    const name = isRecord(item) ? item.name : undefined;
    if (typeof name !== "string" || byName.has(name)) return undefined;
    byName.set(name, item);
  }
  return byName;
}

/**
 * The field paths where `head` differs from `base`, as a reviewer reads them:
 * `spec.template.spec.containers[name=app].image`, `metadata.labels["app.kubernetes.io/name"]`,
 * `data.config`. Lists of named items pair by name, other lists by index; a subtree present on one
 * side only is one path.
 */
export function changedPaths(base: unknown, head: unknown, prefix = ""): string[] {
  if (isDeepStrictEqual(base, head)) return [];
  if (isRecord(base) && isRecord(head)) {
    return [...new Set([...Object.keys(base), ...Object.keys(head)])].flatMap((key) =>
      changedPaths(base[key], head[key], join(prefix, key)),
    );
  }
  if (Array.isArray(base) && Array.isArray(head)) {
    const a = namedItems(base);
    const b = namedItems(head);
    if (a && b && base.length > 0 && head.length > 0) {
      return [...new Set([...a.keys(), ...b.keys()])].flatMap((name) =>
        changedPaths(a.get(name), b.get(name), `${prefix}[name=${name}]`),
      );
    }
    if (base.length !== head.length) return [prefix];
    return base.flatMap((item, i) => changedPaths(item, head[i], `${prefix}[${i}]`));
  }
  return [prefix || "."];
}

/**
 * A change a Renovate-style version bump makes: an image, a chart version or an OCI artifact tag.
 * A diff whose every change is one of these (and nothing added, removed or dangerous) is routine.
 */
export function isVersionMove(fieldPath: string): boolean {
  return (
    /(^|\.|\])image$/.test(fieldPath) ||
    /(^|\.)image\.(tag|digest|repository)$/.test(fieldPath) ||
    /^spec\.ref\.(tag|semver|digest)$/.test(fieldPath) ||
    /^spec\.chart\.spec\.version$/.test(fieldPath) ||
    /^spec\.version$/.test(fieldPath) ||
    /^spec\.images\[[^\]]+\]\.(newTag|digest|newName)$/.test(fieldPath) ||
    /^images\[[^\]]+\]\.(newTag|digest)$/.test(fieldPath)
  );
}
