import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { createScratchRepo } from "../support/scratch-repo.ts";

// The hook definition at the repository root, run by the real pre-commit (`try-repo`) in a
// consumer repository. pre-commit comes from the bootstrap (`npm run bootstrap -- pre-commit`, part
// of `all`, which `npm run check` installs); without it, skip and say so.
const preCommit = [path.join(toolsRepoRoot, ".tools", "bin", "pre-commit"), "pre-commit"].find(
  (bin) => spawnSync(bin, ["--version"]).status === 0,
);
const skipped = preCommit ? "" : " (skipped: pre-commit is not installed: npm run bootstrap -- pre-commit)";
const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

describe.runIf(preCommit)(`.pre-commit-hooks.yaml${skipped}`, () => {
  it("haos-tasks-validate reports the staged file's error and passes on a clean one", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "haos-pre-commit-"));
    scratch.push(dir);
    const repo = createScratchRepo({
      dir: path.join(dir, "consumer"),
      from: path.resolve(import.meta.dirname, "../fixtures/validate/home-ops"),
    });
    const consumer = repo.dir;
    repo.commit("init");
    // haos-tasks on PATH, as the hook expects (language: system).
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(
      path.join(bin, "haos-tasks"),
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(toolsRepoRoot, "tools/haos-tasks/bin/haos-tasks.js")}" "$@"\n`,
    );
    chmodSync(path.join(bin, "haos-tasks"), 0o755);
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      PRE_COMMIT_HOME: path.join(dir, "cache"),
    };
    const file = "kubernetes/apps/default/echo/app/helmrelease.yaml";
    const hook = () =>
      spawnSync(preCommit ?? "", ["try-repo", toolsRepoRoot, "haos-tasks-validate", "--files", file], {
        cwd: consumer,
        env,
        encoding: "utf8",
      });
    const clean = hook();
    expect(clean.stdout).toMatch(/haos-tasks validate\.+Passed/);
    const text = readFileSync(path.join(consumer, file), "utf8").replace(
      "${MAX_HISTORY:=3}",
      "${MAX_HISTORY:=three}",
    );
    writeFileSync(path.join(consumer, file), text);
    repo.git("add", file);
    const failed = hook();
    expect(failed.stdout).toMatch(/haos-tasks validate\.+Failed/);
    expect(failed.stdout).toContain(
      `${file}\n  10:3    error   HelmRelease echo: /spec/maxHistory: got string, want integer`,
    );
    expect(failed.status).toBe(1);
  }, 120_000);
});
