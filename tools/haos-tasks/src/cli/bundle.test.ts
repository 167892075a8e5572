import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliSourcesFile, freshCliBundle, sourcesDigest } from "./bundle.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A package with one source (src/a.ts) and a bundle; `record` writes the manifest of its inputs. */
function fixture(): { dir: string; bundle: string; record: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-cli-bundle-"));
  dirs.push(dir);
  mkdirSync(path.join(dir, "src"));
  mkdirSync(path.join(dir, "dist"));
  writeFileSync(path.join(dir, "src", "a.ts"), "export const a = 1;\n");
  writeFileSync(path.join(dir, "dist", "cli.js"), "export const main = () => 0;\n");
  const files = ["src/a.ts"];
  const record = () =>
    writeFileSync(
      path.join(dir, "dist", cliSourcesFile),
      JSON.stringify({ files, digest: sourcesDigest(dir, files) }),
    );
  return { dir, bundle: path.join(dir, "dist", "cli.js"), record };
}

describe("freshCliBundle", () => {
  it("returns dist/cli.js only while every recorded input is unchanged", () => {
    const { dir, bundle, record } = fixture();
    expect(freshCliBundle(dir)).toBeUndefined(); // no manifest yet
    record();
    expect(freshCliBundle(dir)).toBe(bundle);
    writeFileSync(path.join(dir, "src", "a.ts"), "export const a = 2;\n");
    expect(freshCliBundle(dir)).toBeUndefined(); // edited source
    rmSync(path.join(dir, "src", "a.ts"));
    expect(freshCliBundle(dir)).toBeUndefined(); // removed source
  });

  it("remembers a match by size, inode and ctime, and still sees an edit of the same size", () => {
    const { dir, bundle, record } = fixture();
    const later = Date.now() + 10_000; // every input is then older than the racy window
    const memo = path.join(dir, ".cache", "cli-bundle.json");
    record();
    // Just written: racily clean, so not remembered.
    expect(freshCliBundle(dir)).toBe(bundle);
    expect(existsSync(memo)).toBe(false);
    expect(freshCliBundle(dir, later)).toBe(bundle);
    expect(JSON.parse(readFileSync(memo, "utf8")).signature).toContain("src/a.ts");
    expect(freshCliBundle(dir, later)).toBe(bundle);
    writeFileSync(path.join(dir, "src", "a.ts"), "export const a = 2;\n"); // same size
    expect(freshCliBundle(dir, later)).toBeUndefined();
  });
});
