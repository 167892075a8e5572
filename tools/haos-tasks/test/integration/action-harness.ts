import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { toolsRepoRoot } from "../../src/tools/paths.ts";

/** The committed bundle, run exactly as the runner runs `runs.main` of a node24 action. */
export const bundledEntry = path.join(toolsRepoRoot, "tools", "haos-tasks", "dist", "index.js");
const actionYml = path.join(toolsRepoRoot, "tools", "haos-tasks", "action.yml");

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  /** GITHUB_OUTPUT parsed from its `name<<delimiter` heredoc format. */
  outputs: Record<string, string>;
  summary: string;
  /** Values the step asked the runner to mask (`::add-mask::`). */
  masked: string[];
  /** `::error …::message` lines, message decoded. */
  errors: string[];
}

export interface ActionRunOptions {
  workspace: string;
  eventName?: string;
  event?: Record<string, unknown>;
  sha?: string;
  /** Stands in for `${{ github.token }}` in input defaults. */
  githubToken?: string;
  env?: Record<string, string>;
  /** Called with each stdout chunk (to follow progress). */
  onStdout?: (text: string) => void;
  /** Run this entry instead of dist/index.js (`sourceEntry`: the sources, before a rebuild). */
  entry?: string;
}

/** The Action's sources, run by Node 24 directly (types stripped), for tests of unbundled changes. */
export const sourceEntry = path.join(toolsRepoRoot, "tools", "haos-tasks", "src", "action", "index.ts");

/** Parses a GITHUB_OUTPUT file: `name<<DELIM\nvalue\nDELIM` blocks (and legacy `name=value`). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc?.[1] && heredoc[2]) {
      const end = lines.indexOf(heredoc[2], i + 1);
      if (end < 0) throw new Error(`unterminated output ${heredoc[1]}`);
      outputs[heredoc[1]] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else if (line.includes("=")) {
      outputs[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
  }
  return outputs;
}

/**
 * The runner's environment for one step: every input of action.yml as INPUT_<NAME> (upper case,
 * spaces to `_`, dashes kept), with action.yml's defaults for inputs the step does not set.
 */
function inputEnv(inputs: Record<string, string>, githubToken: string): Record<string, string> {
  const declared = (
    parse(readFileSync(actionYml, "utf8")) as { inputs: Record<string, { default?: string }> }
  ).inputs;
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const fallback = String(spec.default ?? "").replace("${{ github.token }}", githubToken);
    env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = inputs[name] ?? fallback;
  }
  for (const [name, value] of Object.entries(inputs)) {
    if (!(name in declared)) throw new Error(`action.yml declares no input '${name}'`);
    env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
  }
  return env;
}

/** Starts `node dist/index.js` as the runner does; `done` resolves when the step ends. */
export function startBundledAction(
  inputs: Record<string, string>,
  options: ActionRunOptions,
): { done: Promise<ActionRun>; kill: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-tasks-action-"));
  const files = {
    output: path.join(dir, "output"),
    summary: path.join(dir, "summary.md"),
    event: path.join(dir, "event.json"),
  };
  writeFileSync(files.output, "");
  writeFileSync(files.summary, "");
  writeFileSync(files.event, JSON.stringify(options.event ?? {}));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? os.homedir(),
    ...(process.env.HAOS_TASKS_SCHEMA_MIRROR
      ? { HAOS_TASKS_SCHEMA_MIRROR: process.env.HAOS_TASKS_SCHEMA_MIRROR }
      : {}),
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_SHA: options.sha ?? "0000000000000000000000000000000000000000",
    GITHUB_REF: "refs/heads/main",
    GITHUB_REPOSITORY: "acme/home",
    GITHUB_EVENT_NAME: options.eventName ?? "push",
    GITHUB_EVENT_PATH: files.event,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_API_URL: "https://api.github.com",
    RUNNER_TEMP: dir,
    RUNNER_TOOL_CACHE: path.join(dir, "tool-cache"),
    ...inputEnv(inputs, options.githubToken ?? ""),
    ...options.env,
  };
  const child = spawn(process.execPath, [options.entry ?? bundledEntry], {
    cwd: options.workspace,
    env,
    stdio: "pipe",
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    options.onStdout?.(chunk.toString());
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<ActionRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      try {
        const decode = (s: string) => s.replace(/%0A/g, "\n").replace(/%0D/g, "\r").replace(/%25/g, "%");
        resolve({
          code: code ?? -1,
          stdout,
          stderr,
          outputs: parseOutputFile(readFileSync(files.output, "utf8")),
          summary: readFileSync(files.summary, "utf8"),
          masked: [...stdout.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1] ?? ""),
          errors: [...stdout.matchAll(/^::error[^:]*::(.*)$/gm)].map((m) => decode(m[1] ?? "")),
        });
      } catch (error) {
        reject(error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
  return { done, kill: () => child.kill("SIGKILL") };
}

/** Runs the bundled Action to completion. */
export function runBundledAction(
  inputs: Record<string, string>,
  options: ActionRunOptions,
): Promise<ActionRun> {
  return startBundledAction(inputs, options).done;
}
