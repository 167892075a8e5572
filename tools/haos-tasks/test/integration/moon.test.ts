import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { createScratchRepo } from "../support/scratch-repo.ts";

const bin = path.join(toolsRepoRoot, "node_modules", ".bin");
// Every request moon might make goes to a closed local port: a task that needed the network
// (toolchain WASM plugins, proto downloads) would fail here.
const offlineEnv = {
  PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
  HTTP_PROXY: "http://127.0.0.1:9",
  HTTPS_PROXY: "http://127.0.0.1:9",
  ALL_PROXY: "http://127.0.0.1:9",
  http_proxy: "http://127.0.0.1:9",
  https_proxy: "http://127.0.0.1:9",
  NO_PROXY: "",
  NO_COLOR: "1",
};

async function moon(args: string[]) {
  return await execa(path.join(bin, "moon"), args, {
    cwd: toolsRepoRoot,
    env: offlineEnv,
    reject: false,
    all: true,
  });
}

interface RunReport {
  actions: { label: string; status: string }[];
}

function taskStatus(target: string): string | undefined {
  const report = JSON.parse(
    readFileSync(path.join(toolsRepoRoot, ".moon/cache/runReport.json"), "utf8"),
  ) as RunReport;
  return report.actions.find((a) => a.label === `RunTask(${target})`)?.status;
}

describe("moon workspace", () => {
  it("configures no toolchain plugins: every project runs system tasks", async () => {
    expect(existsSync(path.join(toolsRepoRoot, ".moon/toolchains.yml"))).toBe(false);
    expect(existsSync(path.join(toolsRepoRoot, ".moon/toolchain.yml"))).toBe(false);
    const result = await moon(["query", "projects"]);
    expect(result.exitCode, result.all).toBe(0);
    const { projects } = JSON.parse(result.stdout) as { projects: { id: string; toolchains: string[] }[] };
    expect(projects.map((p) => p.id).sort()).toEqual(["haos-enigma", "haos-tasks", "verify-runner"]);
    for (const p of projects) expect(p.toolchains, p.id).toEqual(["system"]);
  });

  it("gives Flux apps and TypeScript projects their tasks by tag inheritance", async () => {
    const result = await moon(["query", "projects"]);
    const { projects } = JSON.parse(result.stdout) as {
      projects: { id: string; tasks: Record<string, unknown> }[];
    };
    const tasks = Object.fromEntries(projects.map((p) => [p.id, Object.keys(p.tasks).sort()]));
    expect(tasks["haos-enigma"]).toEqual(["lint", "release", "validate", "verify", "version"]);
    expect(tasks["haos-tasks"]).toEqual(["build", "lint", "test", "tools", "typecheck"]);
    // The second Flux app inherits the same tasks; it excludes verify (it has no VM to follow).
    expect(tasks["verify-runner"]).toEqual(["lint", "release", "validate", "version"]);
  });

  it.each(["release", "verify", "version"])(
    "haos-enigma:%s changes git, files or a cluster: never cached, never run by moon ci",
    async (task) => {
      const result = await moon(["task", `haos-enigma:${task}`, "--json"]);
      expect(result.exitCode, result.all).toBe(0);
      const { options } = JSON.parse(result.stdout) as { options: { cache: boolean; runInCI: boolean } };
      expect(options.cache).toBe(false);
      expect(options.runInCI).toBe(false);
    },
  );

  // haos-tasks refuses to start on Node < 24 (bin/haos-tasks.js), so a passing run also proves the
  // task found Node 24 through npm's PATH.
  it("runs haos-enigma:validate offline, and a second run with unchanged inputs is a cache hit", async () => {
    const first = await moon(["run", "haos-enigma:validate"]);
    expect(first.exitCode, first.all).toBe(0);
    expect(["passed", "cached"]).toContain(taskStatus("haos-enigma:validate"));
    const second = await moon(["run", "haos-enigma:validate"]);
    expect(second.exitCode, second.all).toBe(0);
    expect(taskStatus("haos-enigma:validate")).toBe("cached");
  });
});

/**
 * A clone that ran only quick start 1 (`npm ci && npm run bootstrap -- validate`): the checkout's
 * files (committed or not), node_modules shared read-only, and .tools/bin holding the given tools
 * of this machine (kubeconform alone after quick start 1).
 */
function quickStartClone(tools: readonly string[]): string {
  const clone = createScratchRepo("haos-quickstart-");
  const dir = clone.dir;
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
    cwd: toolsRepoRoot,
    encoding: "utf8",
  })
    .split("\0")
    // Regular files only: a deleted file, or a worktree's .tools symlink, is not part of a clone.
    .filter(
      (f) => f && existsSync(path.join(toolsRepoRoot, f)) && lstatSync(path.join(toolsRepoRoot, f)).isFile(),
    );
  for (const file of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    copyFileSync(path.join(toolsRepoRoot, file), path.join(dir, file));
  }
  clone.commit("clone");
  symlinkSync(path.join(toolsRepoRoot, "node_modules"), path.join(dir, "node_modules"));
  mkdirSync(path.join(dir, ".tools", "bin"), { recursive: true });
  mkdirSync(path.join(dir, ".tools", "stamps"), { recursive: true });
  for (const tool of tools) {
    symlinkSync(path.join(toolsRepoRoot, ".tools", "bin", tool), path.join(dir, ".tools", "bin", tool));
    copyFileSync(
      path.join(toolsRepoRoot, ".tools", "stamps", tool),
      path.join(dir, ".tools", "stamps", tool),
    );
  }
  return dir;
}

function moonIn(dir: string, args: string[], env: Record<string, string>) {
  return execa(path.join(dir, "node_modules", ".bin", "moon"), args, {
    cwd: dir,
    env: { ...offlineEnv, HOME: process.env.HOME ?? os.homedir(), ...env },
    extendEnv: false,
    reject: false,
    all: true,
    stdin: "ignore",
    timeout: 150_000,
  });
}

describe("moon run :test right after quick start 1", () => {
  it("the test task depends on the task that brings its tools", async () => {
    const result = await moon(["task", "haos-tasks:test", "--json"]);
    expect(result.exitCode, result.all).toBe(0);
    const task = JSON.parse(result.stdout) as { deps: { target: string }[] };
    expect(task.deps.map((d) => d.target)).toContain("haos-tasks:tools");
  });

  it("without Go (so the tools cannot be built), the first line of the task output says so, with the fix", {
    timeout: 180_000,
  }, async () => {
    const dir = quickStartClone(["kubeconform"]);
    try {
      // PATH without Go: node_modules/.bin (Node 24, moon) and the system's own directories.
      const result = await moonIn(dir, ["run", "haos-tasks:test"], {
        PATH: `${path.join(dir, "node_modules", ".bin")}:/usr/bin:/bin`,
      });
      expect(result.exitCode).not.toBe(0);
      const output = result.all
        .split("\n")
        .filter((l) => l.startsWith("haos-tasks:"))
        .map((l) => l.replace(/^haos-tasks:\w+ \| /, ""));
      expect(output[0] ?? "", result.all).toMatch(/^\[bootstrap\] error: Go is not installed/);
      expect(result.all).toContain("fix: install Go");
      // Not vitest's "No test files found" ten lines above the real cause.
      expect(result.all).not.toMatch(/No test files found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const needed = [
    "kubeconform",
    "etcd",
    "kube-apiserver",
    "registry",
    "helm",
    "source-controller",
    "kustomize-controller",
    "helm-controller",
  ];
  const have = new Set(
    existsSync(path.join(toolsRepoRoot, ".tools", "bin"))
      ? readdirSync(path.join(toolsRepoRoot, ".tools", "bin"))
      : [],
  );
  const missing = needed.filter((t) => !have.has(t));
  if (missing.length > 0)
    process.stdout.write(
      `skipped "moon run haos-tasks:test brings its tools": this machine's .tools/bin lacks ${missing.join(", ")} (npm run bootstrap -- test builds them)\n`,
    );
  it.skipIf(missing.length > 0)(
    "with the tools current, moon run haos-tasks:test runs the suite (here: one file) after the tools task",
    async () => {
      const dir = quickStartClone(needed);
      try {
        const result = await moonIn(
          dir,
          ["run", "haos-tasks:test", "--", "src/cli/commands/verify.test.ts"],
          {
            PATH: offlineEnv.PATH,
          },
        );
        expect(result.exitCode, result.all).toBe(0);
        expect(result.all).toMatch(/haos-tasks:tools/);
        expect(result.all).toMatch(/Tests +\d+ passed/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    180_000,
  );
});
