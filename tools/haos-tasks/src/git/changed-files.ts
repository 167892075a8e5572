import { existsSync } from "node:fs";
import path from "node:path";
import { WorkspaceError } from "../manifests/workspace.ts";
import { runGit } from "./runner.ts";

/**
 * validate --changed-since: YAML files changed since `ref` (from the merge base, so a PR check
 * sees its own changes): committed, staged, unstaged and untracked; deleted files are left out.
 * Absolute paths, limited to `within` (paths relative to cwd) when given.
 */
export async function changedFiles(
  ref: string,
  cwd: string,
  within: readonly string[] = [],
): Promise<string[]> {
  const git = async (...args: string[]) => {
    const run = await runGit(cwd, args);
    if (run.code !== 0) {
      throw new WorkspaceError(
        `git ${args.join(" ")} failed: ${String(run.stderr).trim()}`,
        "pass a ref git knows (e.g. origin/main; in CI fetch it first: git fetch origin main)",
      );
    }
    return String(run.stdout);
  };
  const top = (await git("rev-parse", "--show-toplevel")).trim();
  const base = (await git("merge-base", ref, "HEAD")).trim();
  const names = [
    ...(await git("diff", "--name-only", "--diff-filter=d", base)).split("\n"),
    ...(await git("ls-files", "--others", "--exclude-standard"))
      .split("\n")
      .map((f) => path.relative(top, path.join(cwd, f))),
  ].filter((f) => f && (/\.ya?ml$/.test(f) || path.posix.basename(f) === "Kustomization"));
  const scopes = within.map((w) => path.resolve(cwd, w));
  return [...new Set(names.map((f) => path.join(top, f)))]
    .filter((f) => existsSync(f))
    .filter((f) => scopes.length === 0 || scopes.some((s) => f === s || f.startsWith(`${s}${path.sep}`)))
    .sort();
}
