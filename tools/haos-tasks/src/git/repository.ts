import { spawn } from "node:child_process";
import { ExitCode } from "../exit-codes.ts";
import { ownChild } from "../tools/children.ts";
import { GitError, GitUnavailableError, git, gitEnv } from "./runner.ts";

/**
 * What diff reads of a checkout: its root, commits by ref, which paths a commit holds or two
 * commits change, a commit's tree on disk. A failure here is the user's checkout (exit 2).
 */
const checkout = (cwd: string, args: readonly string[]): Promise<string> =>
  git(cwd, args, {
    hint: "run inside a git checkout with the full history (actions/checkout with `fetch-depth: 0`)",
    exitCode: ExitCode.usage,
  });

/**
 * The top level of the checkout `dir` is in: git lists some paths relative to the working
 * directory (`ls-tree`, `archive`) and others from the root (`diff --name-only`). Outside a
 * checkout: a usage error (exit 2) whose fix is `hint`, in the caller's words — the same for
 * every command (diff, release, the Action's).
 */
export async function repositoryRoot(dir: string, hint = "run inside the git repository"): Promise<string> {
  try {
    return (await checkout(dir, ["rev-parse", "--show-toplevel"])).trim();
  } catch (cause) {
    if (cause instanceof GitUnavailableError) throw cause;
    throw new GitError(`${dir} is not inside a git checkout`, hint, { cause, exitCode: ExitCode.usage });
  }
}

/** The full SHA of a ref, or a GitError naming the ref and how to fetch it. */
export async function resolveCommit(repo: string, ref: string): Promise<string> {
  try {
    return (await checkout(repo, ["rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`])).trim();
  } catch (cause) {
    throw new GitError(
      `unknown git ref '${ref}' in ${repo}`,
      "fetch it first (`git fetch origin <ref>`), or check out with `fetch-depth: 0` so base and head are both present",
      { cause },
    );
  }
}

/** Whether `relativePath` (a file or folder, repo-relative) exists in `commit`. */
export async function pathExists(repo: string, commit: string, relativePath: string): Promise<boolean> {
  try {
    await checkout(repo, ["cat-file", "-e", `${commit}:${relativePath.replace(/^\.\/+/, "")}`]);
    return true;
  } catch {
    return false;
  }
}

/** The commit both refs descend from, as GitHub's "Files changed" compares; `base` when none. */
export async function mergeBase(repo: string, base: string, head: string): Promise<string> {
  try {
    return (await checkout(repo, ["merge-base", base, head])).trim() || base;
  } catch {
    return base;
  }
}

/** Paths (repo-relative, forward slashes) that differ between two commits. */
export async function changedFiles(repo: string, base: string, head: string): Promise<string[]> {
  const out = await checkout(repo, ["diff", "--name-only", "--no-renames", "-z", base, head, "--"]);
  return out.split("\0").filter(Boolean);
}

/**
 * Writes the tree of a commit into `dir` (`git archive | tar -x`): no worktree bookkeeping left
 * in the user's repository if the run is killed.
 */
export async function exportTree(repo: string, commit: string, dir: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    // A stream, so not runGit: its environment still (LC_ALL=C, no prompts).
    const archive = ownChild(
      spawn("git", ["-C", repo, "archive", "--format=tar", commit], {
        stdio: ["ignore", "pipe", "pipe"],
        env: gitEnv(),
      }),
    );
    const tar = ownChild(spawn("tar", ["-x", "-C", dir], { stdio: ["pipe", "ignore", "pipe"] }));
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
    const fail = (error: GitError) => {
      if (failed) return;
      failed = true;
      reject(error);
    };
    const done = (code: number | null, what: string) => {
      if (code !== 0)
        fail(new GitError(`${what} of ${commit} failed: ${stderr.trim()}`, "check that the commit exists"));
      pending -= 1;
      if (pending === 0 && !failed) resolve();
    };
    archive.on("error", (error) => fail(new GitUnavailableError(["archive"], error.message)));
    tar.on("error", (error) =>
      fail(new GitError(`tar could not run: ${error.message}`, "install tar and put it on PATH")),
    );
    archive.on("close", (code) => done(code, "git archive"));
    tar.on("close", (code) => done(code, "tar -x"));
  });
}
