import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The CLI from the bundle: scripts/build-dist.ts bundles src/cli/main.ts into dist/cli.js beside
 * the Action and records what it was built from in dist/cli-sources.json. bin/haos-tasks.js runs
 * the bundle only while those inputs are unchanged (a cold start then loads one file instead of
 * about 200 TypeScript modules); after any edit of the sources it runs them directly.
 */
export interface CliSources {
  /** Inputs relative to the package directory: the sources, and the lock file for the rest. */
  files: string[];
  /** sourcesDigest of the files. */
  digest: string;
}

export const cliBundleFile = "cli.js";
export const cliSourcesFile = "cli-sources.json";

/** sha256 over each file's path and bytes, in order. */
export function sourcesDigest(packageDir: string, files: readonly string[]): string {
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(packageDir, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/**
 * dist/cli.js when it is the build of the sources as they are now, else undefined.
 *
 * Hashing the ~130 inputs is about 10 ms of every cold start, so a match is remembered in
 * `.cache/cli-bundle.json` (git-ignored) with each input's size, inode and change time (ctime: any
 * write or touch moves it, and it cannot be set back). While all of them are as remembered, the
 * digest is not computed again. A file changed less than two seconds before the check is not
 * remembered (as git treats a racily clean index entry), so an edit in the same clock tick as the
 * check still shows.
 */
export function freshCliBundle(packageDir: string, now: number = Date.now()): string | undefined {
  const dist = path.join(packageDir, "dist");
  const bundle = path.join(dist, cliBundleFile);
  const manifest = path.join(dist, cliSourcesFile);
  if (!existsSync(bundle) || !existsSync(manifest)) return undefined;
  try {
    const { files, digest } = JSON.parse(readFileSync(manifest, "utf8")) as CliSources;
    const stats = files.map((file) => statSync(path.join(packageDir, file)));
    const signature = stats.map((s, i) => `${files[i]}\0${s.size}\0${s.ino}\0${s.ctimeMs}`).join("\n");
    const memo = path.join(packageDir, ".cache", "cli-bundle.json");
    const remembered = readMemo(memo);
    if (remembered?.digest === digest && remembered.signature === signature) return bundle;
    if (sourcesDigest(packageDir, files) !== digest) return undefined;
    if (stats.every((s) => now - s.ctimeMs > 2000)) writeMemo(memo, { digest, signature });
    return bundle;
  } catch {
    // A listed input is gone (the sources changed) or the manifest is not ours: run the sources.
    return undefined;
  }
}

interface Memo {
  digest: string;
  signature: string;
}

function readMemo(file: string): Memo | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Memo;
  } catch {
    return undefined;
  }
}

/** Best effort, and whole or not at all (a rename): a read-only checkout just hashes every time. */
function writeMemo(file: string, memo: Memo): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(memo));
    renameSync(tmp, file);
  } catch {
    // nothing lost: the next start hashes again
  }
}
