import { execFile } from "node:child_process";
import { ReleaseError } from "./errors.ts";

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs git and returns its output whatever the exit code; `env` adds variables (GIT_INDEX_FILE,
 * author overrides). Output is bounded at 1 GiB so a 20,000-commit log fits.
 */
export function runGit(
  cwd: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      {
        cwd,
        maxBuffer: 1024 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...options.env },
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(
            new ReleaseError(
              `git ${args[0]} could not run: ${error.message}`,
              "install git 2.30+ and put it on PATH",
              "usage",
            ),
          );
          return;
        }
        resolve({ stdout, stderr, code: typeof error?.code === "number" ? error.code : 0 });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs git and returns stdout; a non-zero exit becomes a ReleaseError carrying git's message. */
export async function git(
  cwd: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; hint?: string } = {},
): Promise<string> {
  const result = await runGit(cwd, args, options);
  if (result.code !== 0) {
    throw new ReleaseError(
      `git ${args.join(" ")} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
      options.hint ?? "see git's message above",
    );
  }
  return result.stdout;
}
