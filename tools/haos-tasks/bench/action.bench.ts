// Action cold start and bundle size.
//
//   npm run bench:action   (or: npx node tools/haos-tasks/bench/action.bench.ts)
//
// Cold start = a fresh `node dist/index.js` as the runner starts it (INPUT_* env, GITHUB_OUTPUT
// file) until its first output is in GITHUB_OUTPUT, measured on the lightest real path: `diff`
// with base = head (git resolves both refs, nothing to build, outputs written). Side by side in the
// same run: bare `node -e ''` (the floor) and the CLI from its TypeScript sources (the same diff).
// Target: p95 < 300 ms.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { percentile } from "./support.ts";

const packageDir = path.resolve(import.meta.dirname, "..");
const entry = path.join(packageDir, "dist", "index.js");
const cli = path.join(packageDir, "bin", "haos-tasks.js");
const runs = Number(process.env.BENCH_RUNS ?? 20);

const repo = mkdtempSync(path.join(os.tmpdir(), "haos-tasks-bench-action-"));
const git = (...args: string[]) =>
  execFileSync("git", ["-C", repo, ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "b",
      GIT_AUTHOR_EMAIL: "b@b",
      GIT_COMMITTER_NAME: "b",
      GIT_COMMITTER_EMAIL: "b@b",
    },
  });
git("init", "-q", "-b", "main");
writeFileSync(path.join(repo, "README.md"), "bench\n");
git("add", "-A");
git("commit", "-qm", "init");

/**
 * Spawns a process; resolves, once it has exited, with the ms until `ready()` first held (polled
 * each 2 ms, and on exit). Waiting for the exit keeps a finishing process from writing into the
 * next run's output file.
 */
function timed(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: () => boolean,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
    const child = spawn(command, args, { cwd: repo, env, stdio: "ignore" });
    let readyAt: number | undefined;
    const poll = setInterval(() => {
      if (readyAt === undefined && ready()) readyAt = elapsed();
    }, 2);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearInterval(poll);
      const at = readyAt ?? elapsed();
      if (code !== 0) reject(new Error(`${command} ${args.join(" ")} exited ${code}`));
      else resolve(at);
    });
  });
}

function stats(samples: number[]): { p50: number; p95: number; min: number } {
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95), min: Math.min(...samples) };
}

async function measure(
  name: string,
  once: () => Promise<number>,
): Promise<[string, ReturnType<typeof stats>]> {
  await once(); // warm the page cache, as a runner that just checked the action out has it
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await once());
  if (process.env.BENCH_DEBUG) console.log(name, samples.map((s) => s.toFixed(0)).join(" "));
  return [name, stats(samples)];
}

const outputFile = path.join(repo, ".github-output");
const actionEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  GITHUB_ACTIONS: "true",
  GITHUB_WORKSPACE: repo,
  GITHUB_OUTPUT: outputFile,
  GITHUB_STEP_SUMMARY: path.join(repo, ".github-summary"),
  INPUT_COMMAND: "diff",
  "INPUT_BASE-REF": "HEAD",
  "INPUT_HEAD-REF": "HEAD",
};

const rows = [
  await measure("node -e '' (floor)", () => timed(process.execPath, ["-e", ""], {}, () => false)),
  await measure("Action: dist/index.js diff → first output", () => {
    writeFileSync(outputFile, "");
    writeFileSync(path.join(repo, ".github-summary"), "");
    return timed(process.execPath, [entry], actionEnv, () => statSync(outputFile).size > 0);
  }),
  await measure("CLI from sources: haos-tasks diff", () =>
    timed(
      process.execPath,
      [cli, "diff", "--base", "HEAD"],
      { PATH: process.env.PATH, HOME: process.env.HOME },
      () => false,
    ),
  ),
];
rmSync(repo, { recursive: true, force: true });

console.log(`\nAction cold start (${runs} runs each, ms)\n`);
console.log(`${"".padEnd(44)}${"p50".padStart(8)}${"p95".padStart(8)}${"min".padStart(8)}`);
for (const [name, s] of rows) {
  console.log(
    `${name.padEnd(44)}${s.p50.toFixed(0).padStart(8)}${s.p95.toFixed(0).padStart(8)}${s.min.toFixed(0).padStart(8)}`,
  );
}
const floor = rows[0]?.[1];
const action = rows[1]?.[1];
if (floor && action) {
  console.log(
    `\nAction above the Node floor: p50 +${(action.p50 - floor.p50).toFixed(0)} ms (the Action's own cost)`,
  );
  console.log(
    `load average while measuring: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} on ${os.cpus().length} CPUs`,
  );
}
console.log(`target: Action p95 < 300 ms → ${action && action.p95 < 300 ? "met" : "NOT met"}`);

function filesUnder(dir: string, prefix = ""): string[] {
  return readdirSync(dir).flatMap((name) =>
    statSync(path.join(dir, name)).isDirectory()
      ? filesUnder(path.join(dir, name), `${prefix}${name}/`)
      : [`${prefix}${name}`],
  );
}
const dist = path.join(packageDir, "dist");
const js = filesUnder(dist).filter((f) => f.endsWith(".js"));
console.log("\nbundle (dist/, minified ESM, split per command)\n");
console.log(`${"file".padEnd(40)}${"KiB".padStart(9)}${"gzip KiB".padStart(10)}`);
let total = 0;
let totalGz = 0;
for (const file of js.sort((a, b) => statSync(path.join(dist, b)).size - statSync(path.join(dist, a)).size)) {
  const bytes = readFileSync(path.join(dist, file));
  const gz = gzipSync(bytes).length;
  total += bytes.length;
  totalGz += gz;
  console.log(
    `${file.padEnd(40)}${(bytes.length / 1024).toFixed(0).padStart(9)}${(gz / 1024).toFixed(0).padStart(10)}`,
  );
}
console.log(
  `${"total".padEnd(40)}${(total / 1024).toFixed(0).padStart(9)}${(totalGz / 1024).toFixed(0).padStart(10)}`,
);
