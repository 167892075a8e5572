import { execFileSync } from "node:child_process";
import { HintedError } from "../errors.ts";
import { ExitCode, type ExitCodeValue } from "../exit-codes.ts";
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

/**
 * Every git failure haos-tasks reports: a message with git's own words and a hint naming the fix.
 * The exit code is the caller's: a failed release step is 1, a bad ref or no checkout is 2.
 */
export class GitError extends HintedError {}

/** git itself could not be started (not installed, not on PATH, cwd missing). */
export class GitUnavailableError extends GitError {
  constructor(args: readonly string[], cause: string) {
    super(`git ${args[0] ?? ""} could not run: ${cause}`, "install git 2.30+ and put it on PATH");
  }
}

/** The environment every git child gets; `extra` adds variables (GIT_INDEX_FILE, author overrides). */
export function gitEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...extra };
}

export interface GitOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs git and returns its output whatever the exit code; rejects only when git cannot run. */
export async function runGit(
  cwd: string,
  args: readonly string[],
  options: GitOptions = {},
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

/**
 * Runs git and returns its stdout; a non-zero exit is a GitError carrying git's message, with
 * `hint` (default: see git's message) and `exitCode` (default: 1, a failed step).
 */
export async function git(
  cwd: string,
  args: readonly string[],
  options: GitOptions & { hint?: string; exitCode?: ExitCodeValue } = {},
): Promise<string> {
  const { hint, exitCode, ...run } = options;
  const result = await runGit(cwd, args, run);
  if (result.code !== 0) {
    const io = localIoError(args, result.stderr);
    if (io) throw io;
    throw new GitError(
      `git ${args.join(" ")} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
      hint ?? "see git's message above",
      { exitCode: exitCode ?? ExitCode.failure },
    );
  }
  return result.stdout;
}

/** What an operating-system error git met on a local file says, and the fix for each. */
const osReasons: readonly { pattern: RegExp; fix: (file: string) => string }[] = [
  {
    pattern: /\.lock'?: File exists/i,
    fix: (file) =>
      `another git process is working in this repository: let it finish (if none is, remove ${file})`,
  },
  {
    pattern: /Read-only file system/i,
    fix: () => "run in a writable checkout (the file system is mounted read-only)",
  },
  {
    pattern: /No space left on device|Disk quota exceeded/i,
    fix: (file) => `free disk space on the file system of ${file}`,
  },
  {
    pattern: /Permission denied|Operation not permitted|insufficient permission/i,
    fix: (file) => `make ${file} writable by the user running haos-tasks (\`ls -ld ${file}\`)`,
  },
  {
    pattern: /Is a directory|Not a directory|unable to create directory|File exists|Input\/output error/i,
    fix: (file) => `move aside what is in the way at ${file}`,
  },
];

/**
 * The local file git could not read or write, when a failed git's stderr says so: its own files
 * (.git/FETCH_HEAD, .git/index.lock, refs, objects) or the work tree's on a read-only, full or
 * foreign-owned file system — an I/O error of the checkout (exit 2), never the remote's fault or
 * a failed step. A remote's refusal (`remote:` lines, ssh's `Permission denied (publickey)`,
 * GitHub's `Permission to … denied`) is not one. Undefined when stderr names no such error.
 */
export function localIoError(args: readonly string[], stderr: string): GitError | undefined {
  for (const raw of stderr.split("\n")) {
    const line = raw.replace(/^(?:error|fatal|warning): /, "").trim();
    if (/^remote:|publickey|Permission to \S+ denied|The requested URL returned/i.test(line)) continue;
    const reason = osReasons.find((r) => r.pattern.test(line));
    if (!reason) continue;
    const file =
      /'([^']+)'/.exec(line)?.[1] ??
      /(?:database|file|for|directory) ((?:\.git|\/)\S*?)[:.,]?(?:\s|$)/.exec(line)?.[1] ??
      "the repository";
    return new GitError(
      `git ${args[0] ?? ""} cannot use ${file}, a local I/O error: ${line}`,
      `${reason.fix(file)}, then run again`,
      { exitCode: ExitCode.usage },
    );
  }
  return undefined;
}

/**
 * git's trimmed stdout, synchronously, for the few facts read where no promise can wait (the
 * origin remote, origin/HEAD); undefined when git fails, is missing or prints nothing.
 */
export function gitOutputSync(cwd: string, args: readonly string[]): string | undefined {
  try {
    const out = execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      env: gitEnv(),
    }).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}

/** `git remote get-url origin` of the repository at `root`; undefined without git or an origin. */
export function originUrl(root: string): string | undefined {
  return gitOutputSync(root, ["remote", "get-url", "origin"]);
}
