/**
 * Validating scratch repositories, the one way the validate integration tests do it: a fixture
 * folder committed as a scratch repository (scratch-repo.ts), a planted edit, `haos-tasks
 * validate --format json` run in-process, its findings listed as `severity rule file:line`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { runCli } from "./cli.ts";
import { createScratchRepo, type ScratchRepo, type ScratchRepoOptions } from "./scratch-repo.ts";

/** One finding of `validate --format json`. */
export interface JsonFinding {
  rule: string;
  file: string;
  line: number;
  column: number;
  severity: string;
  message: string;
}

type Counts = { error: number; warning: number; info: number };

/** The report of `validate --format json`, the parts the tests read. */
export interface ValidateJson {
  summary: Counts;
  rules: Record<string, Counts>;
  stats: {
    files: number;
    kustomizations: number;
    fluxKustomizations: number;
    objects: number;
    render?: { releases: number; rendered: number; objects: number; cacheHits: number; chartLoads: number };
  };
  clusters: { name: string; root: string }[];
  findings: JsonFinding[];
  /** A run that ends on an error (exit 2) still writes its report, with the error. */
  error?: { message: string };
}

/**
 * Scratch repositories made for one test file, every one removed by `removeAll` (its afterAll).
 * `commit` (default true) commits the copied fixture as `init`.
 */
export function scratchRepos(): {
  create(options: ScratchRepoOptions & { commit?: boolean }): ScratchRepo;
  /** A folder made some other way, removed with the rest. */
  track(dir: string): void;
  removeAll(): Promise<void>;
} {
  const dirs: string[] = [];
  return {
    create({ commit = true, ...options }) {
      const repo = createScratchRepo(options);
      dirs.push(repo.dir);
      if (commit) repo.commit("init");
      return repo;
    },
    track: (dir) => {
      dirs.push(dir);
    },
    removeAll: async () => {
      await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** Replaces `from` with `to` in `file` (relative to `dir`); throws when the file lacks `from`. */
export function edit(dir: string, file: string, from: string, to: string): void {
  const absolute = path.join(dir, file);
  const text = readFileSync(absolute, "utf8");
  if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
  writeFileSync(absolute, text.replace(from, to));
}

/**
 * `haos-tasks validate --format json …args` in `dir` (the CLI in-process, this process's
 * environment): the exit code, the report, its errors and their places (`rule file:line`, sorted).
 * Output that is no JSON fails with what the CLI printed.
 */
export async function validateJson(
  dir: string,
  args: readonly string[] = [],
): Promise<{ code: number; json: ValidateJson; errors: JsonFinding[]; places: string[] }> {
  const result = await runCli(["validate", "--format", "json", ...args], { cwd: dir, env: process.env });
  let json: ValidateJson;
  try {
    json = JSON.parse(result.stdout) as ValidateJson;
  } catch {
    throw new Error(
      `validate ${args.join(" ")} (exit ${result.code}) printed no JSON report:\n${result.stdout}${result.stderr}`,
    );
  }
  const errors = json.findings.filter((f) => f.severity === "error");
  return {
    code: result.code,
    json,
    errors,
    places: errors.map((f) => `${f.rule} ${f.file}:${f.line}`).sort(),
  };
}

/** Findings as `severity rule file:line`, sorted; only those of `severities` when given. */
export function findingPlaces(findings: readonly JsonFinding[], severities?: readonly string[]): string[] {
  return findings
    .filter((f) => !severities || severities.includes(f.severity))
    .map((f) => `${f.severity} ${f.rule} ${f.file}:${f.line}`)
    .sort();
}
