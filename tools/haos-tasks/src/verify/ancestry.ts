import { execFile } from "node:child_process";
import type { CommitRelation } from "./revision.ts";

/** A fetch of one missing commit gives up after this long: the engine waits for it. */
const fetchTimeoutMs = 15_000;

/**
 * Decides whether `commit` descends from `target` with `git merge-base --is-ancestor target commit`
 * in the local clone: exit 0 → descendant, 1 → other, anything else (commit not fetched, shallow
 * clone, no git) → unknown. A commit the clone lacks — pushed after the checkout, like the release
 * commit release.yml pushes on top of the job's commit — is fetched from origin and looked up again
 * on later calls; only descendant and other are final.
 */
export class AncestryResolver {
  private readonly cache = new Map<string, CommitRelation>();
  private readonly fetchedAt = new Map<string, number>();
  private readonly repoDir: string;
  private readonly target: string;
  private readonly fetchRetryMs: number;

  /** `fetchRetryMs`: how often a commit still missing after a fetch is fetched again. */
  constructor(repoDir: string, target: string, options: { fetchRetryMs?: number } = {}) {
    this.repoDir = repoDir;
    this.target = target;
    this.fetchRetryMs = options.fetchRetryMs ?? 30_000;
  }

  /** The last relation found, or undefined when not looked up yet. */
  relation = (commit: string): CommitRelation | undefined => this.cache.get(commit);

  async resolve(commits: Iterable<string>): Promise<void> {
    for (const commit of commits) {
      const known = this.cache.get(commit);
      if (commit === this.target || known === "descendant" || known === "other") continue;
      let relation = await this.isAncestor(commit);
      if (relation === "unknown" && this.fetchDue(commit)) {
        await this.fetch(commit);
        relation = await this.isAncestor(commit);
      }
      this.cache.set(commit, relation);
    }
  }

  private fetchDue(commit: string): boolean {
    const last = this.fetchedAt.get(commit);
    if (last !== undefined && Date.now() - last < this.fetchRetryMs) return false;
    this.fetchedAt.set(commit, Date.now());
    return true;
  }

  /** Best effort: no origin, no network or no such commit leaves the relation unknown. */
  private fetch(commit: string): Promise<void> {
    return new Promise((resolve) => {
      execFile(
        "git",
        ["fetch", "--quiet", "--no-tags", "origin", commit],
        {
          cwd: this.repoDir,
          timeout: fetchTimeoutMs,
          // A credential prompt would hang until the timeout on a runner.
          env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
        },
        () => resolve(),
      );
    });
  }

  private isAncestor(commit: string): Promise<CommitRelation> {
    return new Promise((resolve) => {
      execFile(
        "git",
        ["merge-base", "--is-ancestor", this.target, commit],
        { cwd: this.repoDir },
        (error) => {
          if (!error) resolve("descendant");
          else resolve((error as { code?: unknown }).code === 1 ? "other" : "unknown");
        },
      );
    });
  }
}
