import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cliSourcesFile, freshCliBundle, sourcesDigest } from "./bundle.ts";

describe("freshCliBundle", () => {
  it("returns dist/cli.js only while every recorded input is unchanged", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "haos-cli-bundle-"));
    try {
      mkdirSync(path.join(dir, "src"));
      mkdirSync(path.join(dir, "dist"));
      writeFileSync(path.join(dir, "src", "a.ts"), "export const a = 1;\n");
      writeFileSync(path.join(dir, "dist", "cli.js"), "export const main = () => 0;\n");
      const files = ["src/a.ts"];
      expect(freshCliBundle(dir)).toBeUndefined(); // no manifest yet
      writeFileSync(
        path.join(dir, "dist", cliSourcesFile),
        JSON.stringify({ files, digest: sourcesDigest(dir, files) }),
      );
      expect(freshCliBundle(dir)).toBe(path.join(dir, "dist", "cli.js"));
      writeFileSync(path.join(dir, "src", "a.ts"), "export const a = 2;\n");
      expect(freshCliBundle(dir)).toBeUndefined(); // edited source
      rmSync(path.join(dir, "src", "a.ts"));
      expect(freshCliBundle(dir)).toBeUndefined(); // removed source
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("remembers a match by size, inode and ctime, and still sees an edit of the same size", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "haos-cli-bundle-"));
    const later = Date.now() + 10_000; // every input is then older than the racy window
    const memo = path.join(dir, ".cache", "cli-bundle.json");
    try {
      mkdirSync(path.join(dir, "src"));
      mkdirSync(path.join(dir, "dist"));
      writeFileSync(path.join(dir, "src", "a.ts"), "export const a = 1;\n");
      writeFileSync(path.join(dir, "dist", "cli.js"), "export const main = () => 0;\n");
      const files = ["src/a.ts"];
      writeFileSync(
        path.join(dir, "dist", cliSourcesFile),
        JSON.stringify({ files, digest: sourcesDigest(dir, files) }),
      );
      // Just written: racily clean, so not remembered.
      expect(freshCliBundle(dir)).toBe(path.join(dir, "dist", "cli.js"));
      expect(existsSync(memo)).toBe(false);
      expect(freshCliBundle(dir, later)).toBe(path.join(dir, "dist", "cli.js"));
      expect(JSON.parse(readFileSync(memo, "utf8")).signature).toContain("src/a.ts");
      expect(freshCliBundle(dir, later)).toBe(path.join(dir, "dist", "cli.js"));
      writeFileSync(path.join(dir, "src", "a.ts"), "export const a = 2;\n"); // same size
      expect(freshCliBundle(dir, later)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
