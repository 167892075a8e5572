import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { runCli } from "../support/cli.ts";
import { createScratchRepo } from "../support/scratch-repo.ts";

const fixtures = path.resolve(import.meta.dirname, "../fixtures/validate");
const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

async function repoFrom(fixture: string): Promise<string> {
  const { dir } = createScratchRepo({ prefix: "haos-validate-cli-", from: path.join(fixtures, fixture) });
  scratch.push(dir);
  return dir;
}

const run = (argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) => runCli(argv, { cwd, env });

describe("haos-tasks validate", () => {
  it("passes on the real app apps/haos-enigma, run from the workspace root like moon does", async () => {
    const { code, stdout, stderr } = await run(["validate", "apps/haos-enigma"], toolsRepoRoot);
    expect(stdout, stderr).toMatch(/^✓ no findings/);
    expect(code).toBe(0);
    expect(stderr).toContain("validate: schemas: kubeconform over");
  });

  it("exits 1 on errors and prints them grouped by file with line:col, rule and fix", async () => {
    const repo = await repoFrom("cozystack/run-strategy/bad");
    const { code, stdout } = await run(["validate"], repo);
    expect(code).toBe(1);
    expect(stdout).toContain(
      "apps/demo/vminstance.yaml\n  7:3     error   'running' is the CozyStack 0.x spelling",
    );
    expect(stdout).toContain("fix: replace 'running: true' with 'runStrategy: Always'");
    expect(stdout).toMatch(/✖ 1 error, 0 warnings in 1 file/);
  });

  it("--format json and sarif carry the same findings", async () => {
    const repo = await repoFrom("schema/additional-property/bad");
    const json = await run(["validate", "--format", "json", "."], repo);
    const parsed = JSON.parse(json.stdout) as { findings: { rule: string; file: string; line: number }[] };
    expect(parsed.findings).toContainEqual(
      expect.objectContaining({
        rule: "schema/additional-property",
        file: "apps/demo/deploy.yaml",
        line: 20,
      }),
    );
    const sarif = JSON.parse((await run(["validate", "--format", "sarif", "."], repo)).stdout);
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.region.startLine).toBe(20);
    expect(json.code).toBe(1);
  });

  it("--format github prints annotations and appends the job summary", async () => {
    const repo = await repoFrom("yaml/truthy/bad");
    const summary = path.join(repo, "summary.md");
    const { code, stdout } = await run(["validate", "--format", "github"], repo, {
      ...process.env,
      GITHUB_STEP_SUMMARY: summary,
    });
    // yaml/truthy is a warning: kustomize applies the string the value spells.
    expect(code).toBe(0);
    expect(stdout).toContain("::warning file=apps/demo/cm.yaml,line=7,col=12,title=yaml/truthy::");
    expect(readFileSync(summary, "utf8")).toContain("| warning | apps/demo/cm.yaml | 7 | `yaml/truthy` |");
  });

  it("warnings fail only with --strict", async () => {
    const repo = await repoFrom("yaml/trailing-space/bad");
    expect((await run(["validate"], repo)).code).toBe(0);
    expect((await run(["validate", "--strict"], repo)).code).toBe(1);
  });

  it("--only lint skips build and schemas", async () => {
    const repo = await repoFrom("schema/invalid/bad");
    const lint = await run(["validate", "--only", "lint"], repo);
    expect(lint.code).toBe(0);
    expect(lint.stderr).not.toContain("kubeconform");
    expect((await run(["validate"], repo)).code).toBe(1);
  });

  it("works on a Flux repo without platform.yaml, and on a single file", async () => {
    const repo = await repoFrom("references/depends-on/good");
    expect((await run(["validate"], repo)).code).toBe(0);
    expect((await run(["validate", "clusters/home/demo.yaml"], repo)).code).toBe(0);
  });

  it("exits 2 on bad usage or an unreadable path", async () => {
    const repo = await repoFrom("yaml/truthy/good");
    const missing = await run(["validate", "nope/"], repo);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file or directory");
    expect((await run(["validate", "--format", "xml"], repo)).code).toBe(2);
    expect((await run(["validate", "--only", "build"], repo)).code).toBe(2);
  });
});
