import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Writes a file whole: into a temporary file beside it (unique per call, so concurrent writers in
 * one process never share one), renamed into place, its folder made first. A reader sees the old
 * file or the new one, never part of either; a failed write leaves no temporary file behind.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** A cache entry kept on disk: written as writeFileAtomic does; one that cannot be written is only a later miss. */
export async function keepCacheEntry(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value)).catch(() => {});
}

/** A cache entry's JSON, or undefined when it is absent, partial or not JSON (a miss). */
export async function readCacheEntry(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value = JSON.parse(await readFile(file, "utf8")) as unknown;
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
