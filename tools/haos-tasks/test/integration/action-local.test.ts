import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { freePort } from "../support/processes.ts";
import { type AppFixture, tokenKubeconfig, writeAppFixture } from "../support/verify-harness.ts";

// `npm run action:local -- <env file>` (GitHub's @github/local-action on the Action's sources):
// its @actions/core stubs must apply in this npm-workspaces layout, or outputs, the summary and
// the annotations would leak past it instead of being captured.
describe("npm run action:local", () => {
  let fixture: AppFixture;
  let dir: string;
  beforeAll(() => {
    fixture = writeAppFixture("local-action");
    dir = mkdtempSync(path.join(os.tmpdir(), "haos-local-action-"));
  });
  afterAll(() => {
    rmSync(fixture.repoRoot, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the verify command and captures its outputs, job summary and one annotation", {
    timeout: 240_000,
  }, async () => {
    const port = await freePort();
    const summary = path.join(dir, "summary.md");
    writeFileSync(summary, "");
    const env = path.join(dir, "verify.env");
    writeFileSync(
      env,
      [
        "INPUT_COMMAND=verify",
        "INPUT_APP=apps/haos-enigma",
        "INPUT_REVISION=HEAD",
        "INPUT_TIMEOUT=2s",
        `INPUT_KUBECONFIG=${tokenKubeconfig(`http://127.0.0.1:${port}`, "t")}`,
        `GITHUB_WORKSPACE=${fixture.repoRoot}`,
        `GITHUB_STEP_SUMMARY=${summary}`,
        "",
      ].join("\n"),
    );
    const run = await execa("npm", ["run", "--silent", "action:local", "--", env], {
      cwd: toolsRepoRoot,
      env: { NO_COLOR: "1", FORCE_COLOR: "0" },
      reject: false,
      all: true,
    });
    const out = run.all ?? "";
    // local-action's own report of what the action set: the stubs were applied.
    const outputs = out.split(/Action Outputs/)[1] ?? "";
    expect(outputs, out).toMatch(/'verify-outcome'\s*│\s*'unreachable'/);
    expect(outputs).toMatch(/'failed-phase'/);
    expect(outputs).toMatch(/'verify-report'/);
    expect(out.match(/^::error title=verify unreachable::/gm), out).toHaveLength(1);
    expect(out).toMatch(/ECONNREFUSED/);
    expect(readFileSync(summary, "utf8")).toMatch(/haos-tasks verify/);
  });

  it("ships an example env file that names the inputs as the runner sets them", () => {
    const example = readFileSync(
      path.join(toolsRepoRoot, "tools", "haos-tasks", "local-action.env.example"),
      "utf8",
    );
    expect(example).toMatch(/^INPUT_COMMAND=/m);
    const pkg = JSON.parse(readFileSync(path.join(toolsRepoRoot, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts["action:local"]).toBe("local-action run tools/haos-tasks src/action/main.ts");
  });
});
