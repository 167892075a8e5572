import { type GitResult, GitUnavailableError, runGit as runGitProcess } from "../git/runner.ts";
import { ReleaseError } from "./errors.ts";

export type { GitResult };

/**
 * Runs git (through the one runner, src/git/runner.ts) and returns its output whatever the exit
 * code; git that cannot start is a usage ReleaseError.
 */
export async function runGit(
  cwd: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<GitResult> {
  try {
    return await runGitProcess(cwd, args, options);
  } catch (error) {
    if (error instanceof GitUnavailableError) throw new ReleaseError(error.message, error.hint, "usage");
    throw error;
  }
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
