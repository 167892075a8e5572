/**
 * `npm run bench:release`: `release plan` on a generated 20,000-commit history (built with
 * `git fast-import`), side by side with git-cliff --bumped-version and conventional-recommended-bump
 * on the same repository. Target: plan < 1.5 s.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Bumper } from "conventional-recommended-bump";
import { loadConfig } from "../src/config/load.ts";
import { planRelease } from "../src/release/planner.ts";
import { findComponent, readPlanInput } from "../src/release/snapshot.ts";
import { toolsRepoRoot } from "../src/tools/paths.ts";
import { fixtureConfig } from "../test/github-double/release-fixture.ts";
import { timed } from "./support.ts";

const run = promisify(execFile);
const commits = Number(process.env.RELEASE_BENCH_COMMITS ?? 20_000);
const targetMs = 1500;
const bin = (name: string) => path.join(toolsRepoRoot, "node_modules", ".bin", name);

const messages = [
  "feat(vm): more memory",
  "fix: a bug\n\nRefs: #12",
  "chore: tidy",
  "docs: explain",
  "fix(cli)!: new flags\n\nBREAKING CHANGE: old flags are gone",
  "refactor: split module",
  "Update README",
  "perf: faster",
];

/** Writes a fast-import stream: one commit with the release files, then `count` commits. */
function fastImportStream(count: number): string {
  const parts: string[] = [];
  const file = (p: string, content: string) =>
    `M 100644 inline ${p}\ndata ${Buffer.byteLength(content)}\n${content}\n`;
  const commit = (i: number, message: string, body: string) =>
    `commit refs/heads/main\nmark :${i + 1}\ncommitter Bench <bench@example.invalid> ${1_700_000_000 + i * 60} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n${body}\n`;
  parts.push(
    commit(
      0,
      "chore: initial import",
      [
        file(".haos-tasks.yaml", fixtureConfig),
        file("version.txt", "1.0.0\n"),
        file("CHANGELOG.md", "# Changelog\n"),
        file("apps/haos-enigma/version.txt", "1.0.0\n"),
        file("apps/haos-enigma/CHANGELOG.md", "# Changelog\n"),
      ].join(""),
    ),
    "reset refs/tags/v1.0.0\nfrom :1\n\n",
    "reset refs/tags/haos-enigma-v1.0.0\nfrom :1\n\n",
  );
  for (let i = 1; i <= count; i++) {
    const target = i % 3 === 0 ? `apps/haos-enigma/f${i % 200}.yaml` : `tools/src/f${i % 500}.ts`;
    parts.push(
      commit(
        i,
        `${messages[i % messages.length]} ${i}`.replace(/^(\S+:[^\n]*)\n(.*) (\d+)$/s, "$1 $3\n$2"),
        file(target, `${i}\n`),
      ),
    );
  }
  return parts.join("");
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "haos-release-bench-"));
  try {
    await run("git", ["init", "-q", "-b", "main", dir]);
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn("git", ["fast-import", "--quiet"], {
        cwd: dir,
        stdio: ["pipe", "inherit", "inherit"],
      });
      child.on("exit", (code) =>
        code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}`)),
      );
      child.stdin.end(fastImportStream(commits));
    });
    await run("git", ["reset", "-q", "--hard", "main"], { cwd: dir });
    const generated = performance.now() - started;

    const releaseConfig = (await loadConfig(dir)).release;
    const inProcess = await timed(async () => {
      const input = await readPlanInput(dir, releaseConfig, findComponent(releaseConfig, "repository"), {
        env: {},
      });
      return planRelease(input);
    });
    const cli = await timed(async () => {
      const { stdout } = await run(
        bin("haos-tasks"),
        ["release", "plan", "--component", "haos-enigma", "--format", "json"],
        { cwd: dir, maxBuffer: 512 * 1024 * 1024 },
      );
      return JSON.parse(stdout) as { plans: { release?: { version: string } }[] };
    });
    const cliff = await timed(async () =>
      (
        await run(bin("git-cliff"), ["--bumped-version"], {
          cwd: dir,
          env: { ...process.env, NO_COLOR: "1" },
        })
      ).stdout.trim(),
    );
    const crb = await timed(
      async () =>
        (await new Bumper(dir).loadPreset("conventionalcommits").bump()) as { releaseType?: string },
      1,
    );

    const plan = inProcess.value;
    const rows = [
      [
        "haos-tasks release plan (in process, repository)",
        inProcess.ms,
        plan.release?.version ?? "none",
        `${plan.considered.length} considered, ${plan.excluded.length} excluded`,
      ],
      [
        "haos-tasks release plan (CLI process, haos-enigma)",
        cli.ms,
        cli.value.plans[0]?.release?.version ?? "none",
        "includes Node start-up",
      ],
      ["git-cliff --bumped-version (whole repo)", cliff.ms, cliff.value, "no path scoping"],
      [
        "conventional-recommended-bump (conventionalcommits)",
        crb.ms,
        crb.value.releaseType ?? "none",
        "bump level only, 1 run",
      ],
    ] as const;
    console.log(
      `release plan benchmark: ${commits} commits (generated with git fast-import in ${(generated / 1000).toFixed(2)} s), median of 3 runs`,
    );
    for (const [name, ms, result, note] of rows) {
      console.log(
        `  ${name.padEnd(54)} ${(ms / 1000).toFixed(3).padStart(7)} s  → ${String(result).padEnd(8)} (${note})`,
      );
    }
    const ok = inProcess.ms < targetMs && cli.ms < targetMs;
    console.log(`target: plan < ${targetMs / 1000} s — ${ok ? "met" : "MISSED"}`);
    const changelog = await readFile(path.join(dir, "CHANGELOG.md"), "utf8");
    if (changelog !== "# Changelog\n") throw new Error("the benchmark must not change the repository");
    process.exitCode = ok ? 0 : 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
