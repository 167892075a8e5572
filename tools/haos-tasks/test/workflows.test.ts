import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type * as WorkflowParser from "@actions/workflow-parser";
import type { parseAction as ParseAction } from "@actions/workflow-parser/actions/action-parser";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { actionCommands } from "../src/action/main.ts";
import { toolPath, toolsRepoRoot } from "../src/tools/paths.ts";

const execFileAsync = promisify(execFile);
const workflowsDir = path.join(toolsRepoRoot, ".github", "workflows");
const actionFile = path.join(toolsRepoRoot, "tools", "haos-tasks", "action.yml");
const workflowFiles = readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f));
const read = (file: string) => readFileSync(path.join(workflowsDir, file), "utf8");

type Json = Record<string, unknown>;
type Parser = typeof WorkflowParser & { parseAction: typeof ParseAction };

/**
 * GitHub's parser imports its JSON schema without an import attribute, which Node's ESM loader
 * refuses; bundle it once with esbuild (which inlines the JSON) and load that.
 */
async function loadWorkflowParser(): Promise<Parser> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-tasks-workflow-parser-"));
  try {
    const outfile = path.join(dir, "parser.mjs");
    await build({
      stdin: {
        contents:
          'export * from "@actions/workflow-parser";\nexport { parseAction } from "@actions/workflow-parser/actions/action-parser";\n',
        resolveDir: import.meta.dirname,
      },
      bundle: true,
      format: "esm",
      platform: "node",
      outfile,
      logLevel: "silent",
    });
    return (await import(outfile)) as Parser;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let parser: Parser;
beforeAll(async () => {
  parser = await loadWorkflowParser();
});
const jobsOf = (file: string) => (parse(read(file)) as { jobs: Record<string, Json> }).jobs;

/**
 * Every `uses:` that is not pinned to a full commit SHA with a version comment, as `line: text`.
 * Local actions and workflows (`./…`) are exempt: they are this commit's own code.
 */
export function unpinnedUses(text: string): string[] {
  const bad: string[] = [];
  text.split("\n").forEach((line, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
    if (!m?.[1] || m[1].startsWith("./")) return;
    const pinned = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(m[1]) && /#\s*v\d+(\.\d+){0,2}\b/.test(m[2] ?? "");
    if (!pinned) bad.push(`${i + 1}: ${line.trim()}`);
  });
  return bad;
}

async function run(command: string, args: string[], cwd = toolsRepoRoot) {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { cwd, encoding: "utf8" });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("workflows", () => {
  it("finds the three workflows", () => {
    expect(workflowFiles.sort()).toEqual(["ci.yml", "deploy-verify.yml", "release.yml"]);
  });

  it.each(workflowFiles)("%s parses and converts with GitHub's own workflow parser", async (file) => {
    const parsed = parser.parseWorkflow(
      { name: file, content: read(file) },
      new parser.NoOperationTraceWriter(),
    );
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    expect(parsed.value).toBeDefined();
    if (!parsed.value) return;
    const template = await parser.convertWorkflowTemplate(parsed.context, parsed.value);
    expect(template.errors ?? []).toEqual([]);
    expect(template.jobs.length).toBeGreaterThan(0);
  });

  it("the parser rejects a broken workflow (so the test above can fail)", () => {
    const parsed = parser.parseWorkflow(
      { name: "bad.yml", content: "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n" },
      new parser.NoOperationTraceWriter(),
    );
    expect(parsed.context.errors.getErrors().length).toBeGreaterThan(0);
  });

  it.each(workflowFiles)(
    "%s pins every third-party action to a full commit SHA with a version comment",
    (file) => {
      expect(unpinnedUses(read(file))).toEqual([]);
    },
  );

  it("the pin check catches tags, branches, short SHAs and a missing version comment", () => {
    const text = [
      "      - uses: actions/checkout@v6",
      "      - uses: actions/checkout@main",
      "      - uses: actions/checkout@1af3b93",
      "      - uses: actions/checkout@1af3b93b6815bc44a9784bd300feb67ff0d1eeb3",
      "      - uses: actions/checkout@1af3b93b6815bc44a9784bd300feb67ff0d1eeb3 # v6.0.0",
      "    uses: ./.github/workflows/deploy-verify.yml",
    ].join("\n");
    expect(unpinnedUses(text).map((l) => Number(l.split(":")[0]))).toEqual([1, 2, 3, 4]);
  });

  it.each(workflowFiles)("%s grants nothing at the top and declares permissions on every job", (file) => {
    const doc = parse(read(file)) as Json;
    expect(doc.permissions).toEqual({});
    for (const [name, job] of Object.entries(jobsOf(file))) {
      expect(job.permissions, `${file} job ${name}`).toBeTypeOf("object");
    }
    expect(read(file)).not.toContain("pull_request_target:");
  });

  it("only the release job can write contents and only the comment job can write pull requests", () => {
    const writers: string[] = [];
    for (const file of workflowFiles) {
      for (const [name, job] of Object.entries(jobsOf(file))) {
        for (const [scope, level] of Object.entries((job.permissions ?? {}) as Record<string, string>)) {
          if (level === "write") writers.push(`${file}:${name}:${scope}`);
        }
      }
    }
    expect(writers.sort()).toEqual([
      "ci.yml:check:security-events",
      "ci.yml:comment:pull-requests",
      "release.yml:release:contents",
    ]);
  });

  it("checks out without persisted credentials everywhere, with full history where history matters", () => {
    for (const file of workflowFiles) {
      for (const [name, job] of Object.entries(jobsOf(file))) {
        for (const step of (job.steps ?? []) as Json[]) {
          if (typeof step.uses !== "string" || !step.uses.startsWith("actions/checkout@")) continue;
          expect((step.with as Json)["persist-credentials"], `${file}:${name}`).toBe(false);
        }
      }
    }
    const fetchDepth = (file: string, job: string) => {
      const steps = (jobsOf(file)[job]?.steps ?? []) as Json[];
      const checkout = steps.find((s) => String(s.uses).startsWith("actions/checkout@"));
      return ((checkout?.with ?? {}) as Json)["fetch-depth"];
    };
    expect(fetchDepth("ci.yml", "check")).toBe(0);
    expect(fetchDepth("ci.yml", "diff")).toBe(0);
    expect(fetchDepth("release.yml", "release")).toBe(0);
  });

  it("ci.yml: Node from .nvmrc, npm ci, moon ci, SARIF upload, check-dist, and the sticky comment by marker", () => {
    const ci = read("ci.yml");
    expect(ci).toContain("node-version-file: .nvmrc");
    expect(ci).toContain("run: npm ci");
    expect(ci).toContain("run: npx moon ci");
    expect(ci).toContain("github/codeql-action/upload-sarif@");
    expect(ci).toContain("npm run build:check -w haos-tasks");
    const jobs = jobsOf("ci.yml");
    // The writing job runs no PR code: it checks out only the base commit's Action (never the
    // head), reads that Action's action.yml and nothing else, and posts the read-only diff job's
    // Markdown with `command: comment` when the base's Action has the command.
    const steps = (jobs.comment?.steps ?? []) as Json[];
    const withOf = (step: Json | undefined) => (step?.with ?? {}) as Json;
    expect(steps).toHaveLength(3);
    const [checkout, base, post] = steps;
    expect(String(checkout?.uses)).toMatch(/^actions\/checkout@/);
    expect(withOf(checkout).ref).toBe("${{ github.event.pull_request.base.sha }}");
    expect(withOf(checkout)["persist-credentials"]).toBe(false);
    const trusted = String(withOf(checkout).path);
    // The one run step: no expression in its script (no injection), no token, only the base's file.
    expect(base?.id).toBe("base");
    expect(base?.env).toEqual({ ACTION_YML: `${trusted}/tools/haos-tasks/action.yml` });
    expect(String(base?.run)).not.toContain("${{");
    expect(post?.uses).toBe(`./${trusted}/tools/haos-tasks`);
    expect(post?.if).toBe("${{ steps.base.outputs.comment == 'true' }}");
    expect(withOf(post)).toEqual({ command: "comment", body: "${{ needs.diff.outputs.markdown }}" });
    expect(String(jobs.comment?.if)).toContain(
      "github.event.pull_request.head.repo.full_name == github.repository",
    );
    // The full diff (nothing cut) is the diff job's artifact.
    const upload = ((jobs.diff?.steps ?? []) as Json[]).find((s) =>
      String(s.uses).startsWith("actions/upload-artifact@"),
    );
    expect(String(withOf(upload).path)).toContain("steps.diff.outputs.diff-file");
  });

  describe("ci.yml: the comment job skips with a notice when the base commit's Action has no command comment", () => {
    const step = () => ((jobsOf("ci.yml").comment?.steps ?? []) as Json[]).find((s) => s.id === "base") ?? {};
    /** The step's script as the runner runs `shell: bash`, with `ACTION_YML` the given file. */
    async function check(actionYml: string) {
      const dir = mkdtempSync(path.join(os.tmpdir(), "haos-tasks-comment-check-"));
      const output = path.join(dir, "output");
      writeFileSync(output, "");
      try {
        expect(step().shell).toBe("bash");
        const { stdout } = await execFileAsync(
          "bash",
          ["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", String(step().run)],
          { cwd: dir, env: { PATH: process.env.PATH ?? "", ACTION_YML: actionYml, GITHUB_OUTPUT: output } },
        );
        return { stdout: stdout.trim(), output: readFileSync(output, "utf8") };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const withCommands = (list: string) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "haos-tasks-action-yml-"));
      const file = path.join(dir, "action.yml");
      const text = readFileSync(actionFile, "utf8");
      const described = text.replace(/^( {4}description: "What to run: ).*\."$/m, `$1${list}."`);
      expect(described).toContain(`    description: "What to run: ${list}."`);
      writeFileSync(file, described);
      return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
    };

    it("action.yml's `command` description lists exactly the Action's commands (what the check reads)", () => {
      const doc = parse(readFileSync(actionFile, "utf8")) as { inputs: Record<string, Json> };
      expect(doc.inputs.command?.description).toBe(`What to run: ${actionCommands.join(" | ")}.`);
    });

    it("this commit's Action: comment=true, no notice", async () => {
      expect(await check(actionFile)).toEqual({ stdout: "", output: "comment=true\n" });
    });

    it.each([
      ["the commands before `comment` came (430d123^)", "validate | diff | version-bump | release | verify"],
      ["a command that only starts with comment", "validate | diff | comments | version-bump"],
    ])("%s: comment=false and a notice naming the commands", async (_name, list) => {
      const yml = withCommands(list);
      try {
        const { stdout, output } = await check(yml.file);
        expect(output).toBe("comment=false\n");
        expect(stdout).toBe(
          `::notice title=sticky diff comment skipped::the base commit's Action has no command comment (its action.yml lists: ${list}); the rendered diff is in the diff job's summary and artifact. Pull requests whose base has the command get the comment.`,
        );
      } finally {
        yml.remove();
      }
    });

    it("a base without the Action at all: comment=false and a notice, not a failed job", async () => {
      const { stdout, output } = await check(path.join(os.tmpdir(), "haos-tasks-no-such-dir", "action.yml"));
      expect(output).toBe("comment=false\n");
      expect(stdout).toMatch(
        /^::notice title=sticky diff comment skipped::.*\(its action.yml lists: no commands\)/,
      );
    });
  });

  it("release.yml: per-component concurrency, skips its own release commit, documents the App token", () => {
    const job = jobsOf("release.yml").release as Json;
    expect((job.concurrency as Json).group).toBe("release-${{ matrix.component }}");
    expect(String(job.if)).toContain("startsWith(github.event.head_commit.message, 'chore(release)')");
    expect(read("release.yml")).toContain("RELEASE_APP_PRIVATE_KEY");
    const release = (job.steps as Json[]).find((s) => s.id === "release");
    expect(((release?.with ?? {}) as Json).command).toBe("release");
  });

  it("deploy-verify.yml: configurable self-hosted labels, manual inputs, never a pull request", () => {
    const doc = parse(read("deploy-verify.yml")) as Json;
    const on = doc.on as Json;
    expect(Object.keys(on).sort()).toEqual(["push", "workflow_call", "workflow_dispatch"]);
    expect(Object.keys((on.workflow_dispatch as Json).inputs as Json).sort()).toEqual([
      "revision",
      "runner-labels",
      "timeout",
    ]);
    const job = jobsOf("deploy-verify.yml").verify as Json;
    expect(job["runs-on"]).toBe(
      "${{ fromJSON(inputs.runner-labels || vars.VERIFY_RUNNER_LABELS || '[\"enigma-verify\"]') }}",
    );
    expect(String(job.if)).toContain("github.event_name != 'pull_request'");
    const verify = (job.steps as Json[]).find((s) => s.id === "verify");
    expect(((verify?.with ?? {}) as Json).command).toBe("verify");
  });

  it("deploy-verify.yml: the Action runs from the workflow's own commit; the revision is only read", () => {
    const steps = (jobsOf("deploy-verify.yml").verify as Json).steps as Json[];
    const withOf = (step: Json | undefined) => (step?.with ?? {}) as Json;
    const checkouts = steps.filter((s) => String(s.uses).startsWith("actions/checkout@"));
    const action = checkouts.find((s) => withOf(s).ref === "${{ github.workflow_sha }}");
    const target = checkouts.find((s) => String(withOf(s).ref).includes("inputs.revision"));
    const actionPath = String(withOf(action).path ?? "");
    const targetPath = String(withOf(target).path ?? "");
    expect(actionPath).toMatch(/^\.[\w-]+$/);
    expect(targetPath).toMatch(/^\.[\w-]+$/);
    expect(targetPath).not.toBe(actionPath);
    expect(checkouts).toHaveLength(2);
    // Every local action comes from the workflow's commit, never from the dispatched revision.
    const local = steps.filter((s) => String(s.uses ?? "").startsWith("./"));
    expect(local.map((s) => s.uses)).toEqual([`./${actionPath}/tools/haos-tasks`]);
    const verify = steps.find((s) => s.id === "verify");
    expect(withOf(verify)["working-directory"]).toBe(targetPath);
    expect(withOf(verify).revision).toBe("${{ steps.revision.outputs.sha }}");
    expect(steps.find((s) => s.id === "revision")?.["working-directory"]).toBe(targetPath);
  });

  describe("deploy-verify.yml: the timeout check", () => {
    const job = () => jobsOf("deploy-verify.yml").verify as Json;
    const check = () => ((job().steps as Json[])[0] ?? {}) as Json;
    async function checkTimeout(timeout: string) {
      const env = check().env as Json;
      try {
        await execFileAsync("bash", ["-e", "-c", String(check().run)], {
          env: { PATH: process.env.PATH ?? "", TIMEOUT: timeout, MAX_MINUTES: String(env.MAX_MINUTES) },
        });
        return "ok";
      } catch (error) {
        return String((error as { stdout?: string }).stdout).trim();
      }
    }

    it("runs first, on the same value the verify step gets, below the job's own timeout", () => {
      const env = check().env as Json;
      const verify = (job().steps as Json[]).find((s) => s.id === "verify");
      expect(check().name).toBe("Check the timeout");
      expect(check().shell).toBe("bash");
      expect(env.TIMEOUT).toBe(((verify?.with ?? {}) as Json).timeout);
      expect(Number(env.MAX_MINUTES)).toBeGreaterThan(0);
      expect(Number(job()["timeout-minutes"])).toBeGreaterThanOrEqual(Number(env.MAX_MINUTES) + 5);
    });

    it.each([
      ["30m", "ok"],
      ["40m", "ok"],
      ["90s", "ok"],
      ["20m30s", "ok"],
      ["0.5h", "ok"],
      [" 30m ", "ok"],
      ["41m", "at most 40m"],
      ["1h", "at most 40m"],
      ["2401s", "at most 40m"],
      ["1h30m", "at most 40m"],
      ["soon", "must be a duration"],
      ["30", "must be a duration"],
      ["0s", "must be a duration"],
      ["30m 5s", "must be a duration"],
    ])("timeout '%s' → %s", async (timeout, expected) => {
      const result = await checkTimeout(timeout);
      if (expected === "ok") expect(result).toBe("ok");
      else expect(result).toMatch(new RegExp(`^::error title=deploy-verify::input 'timeout' .*${expected}`));
    });
  });

  it("action.yml parses with GitHub's action parser as a node24 action", () => {
    const parsed = parser.parseAction(
      { name: "action.yml", content: readFileSync(actionFile, "utf8") },
      new parser.NoOperationTraceWriter(),
    );
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    const doc = parse(readFileSync(actionFile, "utf8")) as { runs: Json };
    expect(doc.runs).toEqual({ using: "node24", main: "dist/index.js" });
  });

  it("actionlint reports nothing (and does report a broken workflow)", async () => {
    const actionlint = toolPath("actionlint", process.env);
    const clean = await run(actionlint, ["-color=false"]);
    expect(clean.out).toBe("");
    expect(clean.code).toBe(0);
    const dir = mkdtempSync(path.join(os.tmpdir(), "haos-tasks-actionlint-"));
    try {
      const bad = path.join(dir, "bad.yml");
      writeFileSync(
        bad,
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.event.issue.title }}\n        shell: bashh\n",
      );
      const broken = await run(actionlint, ["-color=false", bad]);
      expect(broken.code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([["regular"], ["pedantic"]])(
    "zizmor (offline, %s persona) reports nothing on the workflows and action.yml",
    async (persona) => {
      const zizmor = toolPath("zizmor", process.env);
      const result = await run(zizmor, [
        "--offline",
        "--no-progress",
        `--persona=${persona}`,
        "--format=plain",
        ".github/workflows",
        "tools/haos-tasks/action.yml",
      ]);
      expect(result.out).toContain("No findings to report");
      expect(result.code).toBe(0);
    },
  );
});
