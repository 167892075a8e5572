import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../../src/tools/paths.ts";

// check-dist must not leave its temporary build behind when dist/ differs (it exited inside try).
describe("scripts/build-dist.ts --check", () => {
  it("fails on a stale dist/ and removes its temp folder", { timeout: 180_000 }, async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "haos-check-dist-"));
    const dist = mkdtempSync(path.join(os.tmpdir(), "haos-empty-dist-"));
    try {
      const run = await execa(process.execPath, ["scripts/build-dist.ts", "--check"], {
        cwd: path.join(toolsRepoRoot, "tools", "haos-tasks"),
        env: { TMPDIR: tmp, HAOS_TASKS_DIST_DIR: dist },
        reject: false,
        all: true,
      });
      expect(run.exitCode, run.all).toBe(1);
      expect(run.all).toMatch(/missing from dist\/: index\.js/);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
