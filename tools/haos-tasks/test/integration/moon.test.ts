import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../../src/tools/paths.ts";

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
    expect(tasks["haos-tasks"]).toEqual(["build", "lint", "test", "typecheck"]);
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
