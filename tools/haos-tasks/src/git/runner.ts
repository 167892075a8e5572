import { runTool } from "../tools/run.ts";

/**
 * The one way haos-tasks runs git: messages in English whatever the user's locale (LC_ALL=C, so
 * callers can match them), never a credential prompt (GIT_TERMINAL_PROMPT=0, a CI job would hang
 * on it), output bounded at 1 GiB so a 20,000-commit log fits.
 */
export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** git itself could not be started (not installed, not on PATH, cwd missing). */
export class GitUnavailableError extends Error {
  readonly hint = "install git 2.30+ and put it on PATH";
  constructor(args: readonly string[], cause: string) {
    super(`git ${args[0] ?? ""} could not run: ${cause}`);
  }
}

/** The environment every git child gets; `extra` adds variables (GIT_INDEX_FILE, author overrides). */
export function gitEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...extra };
}

/** Runs git and returns its output whatever the exit code; rejects only when git cannot run. */
export async function runGit(
  cwd: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<GitResult> {
  const run = await runTool("git", args, {
    cwd,
    env: gitEnv(options.env),
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  // Killed on timeout: an exit status of its own, not "git is missing".
  if (run.failure?.killed) return { stdout: run.stdout, stderr: `${run.stderr}git timed out`, code: 124 };
  if (run.failure) throw new GitUnavailableError(args, run.failure.message);
  return { stdout: run.stdout, stderr: run.stderr, code: run.exitCode ?? 0 };
}
