import { execFile } from "node:child_process";
import type { CommitRelation } from "./revision.ts";

/**
 * Decides whether `commit` descends from `target` with `git merge-base --is-ancestor target commit`
 * in the local clone: exit 0 → descendant, 1 → other, anything else (commit not fetched, shallow
 * clone, no git) → unknown. Results are cached; a lookup runs once per commit.
 */
export class AncestryResolver {
  private readonly cache = new Map<string, CommitRelation>();
  private readonly repoDir: string;
  private readonly target: string;

  constructor(repoDir: string, target: string) {
    this.repoDir = repoDir;
    this.target = target;
  }

  /** The cached relation, or undefined when not looked up yet. */
  relation = (commit: string): CommitRelation | undefined => this.cache.get(commit);

  async resolve(commits: Iterable<string>): Promise<void> {
    for (const commit of commits) {
      if (commit === this.target || this.cache.has(commit)) continue;
      this.cache.set(commit, await this.isAncestor(commit));
    }
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
