import { runGit } from "../git/runner.ts";
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
  private async fetch(commit: string): Promise<void> {
    await runGit(this.repoDir, ["fetch", "--quiet", "--no-tags", "origin", commit], {
      timeoutMs: fetchTimeoutMs,
    }).catch(() => undefined);
  }

  private async isAncestor(commit: string): Promise<CommitRelation> {
    const result = await runGit(this.repoDir, ["merge-base", "--is-ancestor", this.target, commit]).catch(
      () => undefined,
    );
    if (result?.code === 0) return "descendant";
    return result?.code === 1 ? "other" : "unknown";
  }
}
