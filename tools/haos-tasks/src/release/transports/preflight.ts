/** Checks both transports make before changing anything. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { git } from "../../git/runner.ts";
import { ReleaseError } from "../errors.ts";
import { contentAfter, type ReleasePlan, sha256 } from "../planner.ts";
import { readFileAt } from "../read-repository.ts";

/**
 * Refuses a shallow clone, a detached HEAD, a HEAD that moved since the plan, and a dirty tree —
 * except the plan's own files holding either their HEAD content or the planned content (an
 * earlier apply stopped after writing them).
 */
export async function checkLocalRepository(root: string, plan: ReleasePlan): Promise<void> {
  const [shallow, head] = await Promise.all([
    git(root, ["rev-parse", "--is-shallow-repository"]),
    git(root, ["rev-parse", "HEAD"]),
  ]);
  if (shallow.trim() === "true") {
    throw new ReleaseError(
      "the clone is shallow: tags and history are incomplete",
      "`git fetch --unshallow --tags`; in GitHub Actions set `fetch-depth: 0` on actions/checkout",
      "usage",
    );
  }
  if (!plan.branch) {
    throw new ReleaseError(
      "HEAD is detached: a release commit needs a branch",
      "`git switch <branch>`; in Actions release on push to the branch (not on a pull_request merge ref)",
      "usage",
    );
  }
  if (head.trim() !== plan.head) {
    throw new ReleaseError(
      `HEAD moved since the plan (${plan.head.slice(0, 7)} → ${head.trim().slice(0, 7)})`,
      "run apply again; it plans against the new HEAD",
      "failure",
    );
  }
  const status = await git(root, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]);
  const entries = status.split("\0").filter(Boolean);
  const dirty: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as string;
    const file = entry.slice(3);
    if (entry.startsWith("R") || entry.startsWith("C")) i++;
    if (!(await isPlannedState(root, plan, file))) dirty.push(`${entry.slice(0, 2).trim()} ${file}`);
  }
  if (dirty.length > 0) {
    const list = dirty.slice(0, 10).join(", ") + (dirty.length > 10 ? ` (+${dirty.length - 10} more)` : "");
    throw new ReleaseError(
      `the working tree is dirty: ${list}`,
      "commit or stash these changes (the release commit must contain only version and changelog)",
      "usage",
    );
  }
}

async function isPlannedState(root: string, plan: ReleasePlan, file: string): Promise<boolean> {
  const change = plan.files.find((f) => f.path === file);
  if (!change) return false;
  let current: string | undefined;
  try {
    current = await readFile(path.join(root, file), "utf8");
  } catch {
    current = undefined;
  }
  const before = await readFileAt(root, plan.head, file);
  if (current === undefined) return before === undefined;
  const hash = sha256(current);
  return hash === change.beforeSha256 || hash === sha256(contentAfter(change, before));
}

/** The planned content of every file, computed from HEAD; refuses if HEAD's content is not what was planned. */
export async function plannedContents(
  root: string,
  plan: ReleasePlan,
): Promise<{ path: string; content: string }[]> {
  const out: { path: string; content: string }[] = [];
  for (const change of plan.files) {
    const before = await readFileAt(root, plan.head, change.path);
    const beforeHash = before === undefined ? undefined : sha256(before);
    if (beforeHash !== change.beforeSha256) {
      throw new ReleaseError(
        `${change.path} at ${plan.head.slice(0, 7)} is not what the plan read`,
        "run apply again to re-plan",
        "failure",
      );
    }
    out.push({ path: change.path, content: contentAfter(change, before) });
  }
  return out;
}
