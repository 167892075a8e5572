import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { OriginSchema } from "./convert/source.ts";
import { kindKey } from "./convert/types.ts";
import { strictSchema } from "./strict.ts";

/** kubeconform's `-schema-location` template for a catalog directory. */
export function schemaLocation(dir: string): string {
  return `${dir}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`;
}

/** The file kubeconform reads for a kind: the location template filled in (core: `v1/service_v1.json`). */
export function schemaFile(dir: string, gvk: { group: string; version: string; kind: string }): string {
  return path.join(dir, gvk.group || gvk.version, `${gvk.kind.toLowerCase()}_${gvk.version}.json`);
}

export const indexFileName = "catalog.json";

/** What a catalog directory holds; written last, so its presence means the directory is complete. */
export interface CatalogIndex {
  key: string;
  createdAt: string;
  /** Where the schemas came from (lock URLs, or `cluster:<server>`). */
  sources: string[];
  /** `<apiVersion>/<Kind>` → file path relative to the catalog directory. */
  kinds: Record<string, string>;
}

export interface WriteResult {
  kinds: Map<string, string>;
  /** Kinds offered by more than one source; the first (lock order) wins. */
  duplicates: string[];
}

/**
 * Writes strict schemas into `tmpDir`, then renames it to `dir` so readers never see a half
 * catalog. When another process finished `dir` first, its catalog is kept and ours discarded.
 */
export async function writeCatalogDir(
  dir: string,
  schemas: OriginSchema[],
  index: Omit<CatalogIndex, "kinds" | "createdAt">,
  options: { replace?: boolean } = {},
): Promise<WriteResult> {
  const tmpDir = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await rm(tmpDir, { recursive: true, force: true });
  const kinds = new Map<string, string>();
  const duplicates: string[] = [];
  const written = new Set<string>();
  try {
    for (const s of schemas) {
      const key = kindKey(s);
      if (kinds.has(key)) {
        duplicates.push(key);
        continue;
      }
      const file = schemaFile(tmpDir, s);
      const rel = path.relative(tmpDir, file);
      // Lower-cased kinds could collide (e.g. `Foo` and `FOO` in one group version).
      if (written.has(rel)) {
        duplicates.push(key);
        continue;
      }
      written.add(rel);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(strictSchema(s.schema, s)));
      kinds.set(key, rel);
    }
    const full: CatalogIndex = {
      ...index,
      createdAt: new Date().toISOString(),
      kinds: Object.fromEntries(kinds),
    };
    await writeFile(path.join(tmpDir, indexFileName), `${JSON.stringify(full, null, 2)}\n`);
    await moveIntoPlace(tmpDir, dir, options.replace ?? false);
  } catch (error) {
    await rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
  return { kinds: new Map([...kinds].map(([k, rel]) => [k, path.join(dir, rel)])), duplicates };
}

async function moveIntoPlace(tmpDir: string, dir: string, replace: boolean): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  if (replace) {
    const old = `${dir}.old-${process.pid}-${Date.now()}`;
    await rename(dir, old).catch(() => undefined);
    await rename(tmpDir, dir);
    await rm(old, { recursive: true, force: true });
    return;
  }
  try {
    await rename(tmpDir, dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    // A concurrent sync of the same key won: its catalog is identical.
    await rm(tmpDir, { recursive: true, force: true });
  }
}

/** Reads a complete catalog directory's index, or undefined when absent or incomplete. */
export async function readCatalogIndex(dir: string): Promise<CatalogIndex | undefined> {
  try {
    const index = JSON.parse(await readFile(path.join(dir, indexFileName), "utf8")) as CatalogIndex;
    return typeof index.key === "string" && index.kinds ? index : undefined;
  } catch {
    return undefined;
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * Removes what a crashed sync left in `root` (`<key>.tmp-<pid>-…`, `<key>.old-<pid>-…` of dead
 * processes). Complete catalogs are never touched.
 */
export async function removeAbandoned(root: string): Promise<string[]> {
  const entries = await readdir(root).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of entries) {
    const pid = /\.(?:tmp|old)-(\d+)-\d+$/.exec(name)?.[1];
    if (!pid || isAlive(Number(pid))) continue;
    await rm(path.join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
