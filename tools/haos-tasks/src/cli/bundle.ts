import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
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

/** dist/cli.js when it is the build of the sources as they are now, else undefined. */
export function freshCliBundle(packageDir: string): string | undefined {
  const dist = path.join(packageDir, "dist");
  const bundle = path.join(dist, cliBundleFile);
  const manifest = path.join(dist, cliSourcesFile);
  if (!existsSync(bundle) || !existsSync(manifest)) return undefined;
  try {
    const { files, digest } = JSON.parse(readFileSync(manifest, "utf8")) as CliSources;
    return sourcesDigest(packageDir, files) === digest ? bundle : undefined;
  } catch {
    // A listed input is gone (the sources changed) or the manifest is not ours: run the sources.
    return undefined;
  }
}
