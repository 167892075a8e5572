import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
});
