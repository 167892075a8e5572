import { spawn } from "node:child_process";
import { gitEnv, runGit } from "../git/runner.ts";

/** A git failure with the fix, e.g. a base ref missing from a shallow clone. */
export class GitError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

/** git through the one runner (src/git/runner.ts: LC_ALL=C, never a prompt). */
async function git(repo: string, args: string[]): Promise<string> {
  const result = await runGit(repo, args).catch((error: unknown) => {
    throw new GitError(
      error instanceof Error ? error.message : String(error),
      "install git and put it on PATH",
    );
  });
  if (result.code !== 0) {
    throw new GitError(
      `git ${args.join(" ")} failed in ${repo}: ${result.stderr.trim() || `exit ${result.code}`}`,
      "run inside a git checkout with the full history (actions/checkout with `fetch-depth: 0`)",
    );
  }
  return result.stdout;
}

/**
 * The top level of the checkout `dir` is in: git lists some paths relative to the working
 * directory (`ls-tree`, `archive`) and others from the root (`diff --name-only`).
 */
export async function repositoryRoot(dir: string): Promise<string> {
  try {
    return (await git(dir, ["rev-parse", "--show-toplevel"])).trim();
  } catch {
    throw new GitError(`${dir} is not inside a git checkout`, "run inside the git repository");
  }
}

/** The full SHA of a ref, or a GitError naming the ref and how to fetch it. */
export async function resolveCommit(repo: string, ref: string): Promise<string> {
  try {
    return (await git(repo, ["rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`])).trim();
  } catch {
    throw new GitError(
      `unknown git ref '${ref}' in ${repo}`,
      "fetch it first (`git fetch origin <ref>`), or check out with `fetch-depth: 0` so base and head are both present",
    );
  }
}

/** Whether `relativePath` (a file or folder, repo-relative) exists in `commit`. */
export async function pathExists(repo: string, commit: string, relativePath: string): Promise<boolean> {
  try {
    await git(repo, ["cat-file", "-e", `${commit}:${relativePath.replace(/^\.\/+/, "")}`]);
    return true;
  } catch {
    return false;
  }
}

/** The commit both refs descend from, as GitHub's "Files changed" compares; `base` when none. */
export async function mergeBase(repo: string, base: string, head: string): Promise<string> {
  try {
    return (await git(repo, ["merge-base", base, head])).trim() || base;
  } catch {
    return base;
  }
}

/** Paths (repo-relative, forward slashes) that differ between two commits. */
export async function changedFiles(repo: string, base: string, head: string): Promise<string[]> {
  const out = await git(repo, ["diff", "--name-only", "--no-renames", "-z", base, head, "--"]);
  return out.split("\0").filter(Boolean);
}

/**
 * Writes the tree of a commit into `dir` (`git archive | tar -x`): no worktree bookkeeping left
 * in the user's repository if the run is killed.
 */
export async function exportTree(repo: string, commit: string, dir: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    // A stream, so not runGit: its environment still (LC_ALL=C, no prompts).
    const archive = spawn("git", ["-C", repo, "archive", "--format=tar", commit], {
      stdio: ["ignore", "pipe", "pipe"],
      env: gitEnv(),
    });
    const tar = spawn("tar", ["-x", "-C", dir], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    archive.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    tar.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    archive.stdout.pipe(tar.stdin);
    let pending = 2;
    let failed = false;
    const done = (code: number | null, what: string) => {
      if (code !== 0 && !failed) {
        failed = true;
        reject(new GitError(`${what} of ${commit} failed: ${stderr.trim()}`, "check that the commit exists"));
      }
      pending -= 1;
      if (pending === 0 && !failed) resolve();
    };
    archive.on("error", reject);
    tar.on("error", reject);
    archive.on("close", (code) => done(code, "git archive"));
    tar.on("close", (code) => done(code, "tar -x"));
  });
}
