/**
 * The GitHub transport: the release commit is made through the git data API (blobs → tree →
 * commit → fast-forward-only ref update), so GitHub signs it and shows it verified; tags are refs
 * created through the refs API — creating the tag ref is the lock two concurrent runs race for.
 */

import { runGit } from "../../git/runner.ts";
import { ReleaseError } from "../errors.ts";
import type { GitHubApi } from "../github-api.ts";
import { checkLocalRepository, plannedContents } from "./preflight.ts";
import type { ReleaseTransport } from "./transport.ts";

interface GitRef {
  ref: string;
  object: { sha: string; type: string };
}

async function refCommit(github: GitHubApi, ref: string): Promise<string | undefined> {
  const { status, body } = await github.request<GitRef>("GET", `/git/ref/${ref}`);
  if (status === 404) return undefined;
  // Any other answer without a ref (a 422 from a proxy or an outage) is a failure, not "no ref".
  if (status !== 200 || !body?.object)
    throw new ReleaseError(
      `GitHub answered ${status} to GET /git/ref/${ref}`,
      "re-run apply; it continues where it stopped",
      "unreachable",
    );
  if (body.object.type === "tag") {
    const tag = await github.request<{ object?: { sha: string } }>("GET", `/git/tags/${body.object.sha}`);
    if (tag.status !== 200 || !tag.body?.object)
      throw new ReleaseError(
        `GitHub answered ${tag.status} to GET /git/tags/${body.object.sha}`,
        "re-run apply",
        "unreachable",
      );
    return tag.body.object.sha;
  }
  return body.object.sha;
}

/** Creates the GitHub API transport for the checkout at `root`. */
export function createGitHubTransport(root: string, github: GitHubApi): ReleaseTransport {
  return {
    name: "github",
    github,
    async preflight(plan) {
      await checkLocalRepository(root, plan);
      const branch = plan.branch as string;
      const remoteHead = await refCommit(github, `heads/${branch}`);
      if (!remoteHead) {
        throw new ReleaseError(
          `branch ${branch} does not exist on GitHub (${github.target.repository})`,
          "push the branch first",
          "usage",
        );
      }
      if (remoteHead === plan.head || remoteHead === plan.commit?.sha) return;
      const known = (await runGit(root, ["merge-base", "--is-ancestor", remoteHead, plan.head])).code === 0;
      if (plan.commit?.sha && known) return;
      throw new ReleaseError(
        known
          ? `local ${branch} (${plan.head.slice(0, 7)}) has commits GitHub's ${branch} (${remoteHead.slice(0, 7)}) lacks`
          : `${branch} on GitHub is at ${remoteHead.slice(0, 7)}, which this checkout does not have (behind)`,
        known
          ? "push them first: the API commits on top of GitHub's branch head"
          : "`git pull --ff-only` (in Actions: a fresh checkout with `fetch-depth: 0`) and run apply again",
        "failure",
      );
    },
    async writeFiles() {
      // The files go straight into the API commit; the working tree stays as it is.
    },
    async commit(plan) {
      const branch = plan.branch as string;
      const tree: { path: string; mode: "100644"; type: "blob"; sha: string }[] = [];
      for (const { path, content } of await plannedContents(root, plan)) {
        const blob = await github.request<{ sha: string }>("POST", "/git/blobs", {
          content,
          encoding: "utf-8",
        });
        if (blob.status !== 201)
          throw new ReleaseError(`cannot create the blob for ${path} (${blob.status})`, "re-run apply");
        tree.push({ path, mode: "100644", type: "blob", sha: blob.body.sha });
      }
      const parent = await github.request<{ sha: string; tree: { sha: string } }>(
        "GET",
        `/git/commits/${plan.head}`,
      );
      if (parent.status !== 200)
        throw new ReleaseError(`GitHub does not have ${plan.head.slice(0, 7)}`, "push the branch first");
      const newTree = await github.request<{ sha: string }>("POST", "/git/trees", {
        base_tree: parent.body.tree.sha,
        tree,
      });
      if (newTree.status !== 201)
        throw new ReleaseError(`cannot create the release tree (${newTree.status})`, "re-run apply");
      // No author or committer: GitHub then signs the commit and shows it as verified.
      const commit = await github.request<{ sha: string }>("POST", "/git/commits", {
        message: plan.commit?.message ?? "chore(release)",
        tree: newTree.body.sha,
        parents: [plan.head],
      });
      if (commit.status !== 201)
        throw new ReleaseError(`cannot create the release commit (${commit.status})`, "re-run apply");
      // force: false — GitHub only fast-forwards, so the update fails if the branch moved since the plan.
      const moved = await github.request("PATCH", `/git/refs/heads/${branch}`, {
        sha: commit.body.sha,
        force: false,
      });
      if (moved.status !== 200) {
        throw new ReleaseError(
          `${branch} on GitHub moved since the plan (another push or release run won)`,
          "run apply again from a fresh checkout; it plans against the new head",
          "failure",
        );
      }
      return commit.body.sha;
    },
    async tag(plan, sha) {
      const release = plan.release;
      if (!release) return;
      const created = await github.request("POST", "/git/refs", { ref: `refs/tags/${release.tag}`, sha });
      if (created.status !== 201) {
        const existing = await refCommit(github, `tags/${release.tag}`);
        if (existing !== sha) {
          throw new ReleaseError(
            `tag ${release.tag} already exists on GitHub at ${existing?.slice(0, 7) ?? "?"}, not at the release commit ${sha.slice(0, 7)}`,
            "another release of this version exists: inspect it; never move a published release tag",
            "failure",
          );
        }
      }
      for (const moving of release.movingTags) {
        const updated = await github.request("PATCH", `/git/refs/tags/${moving}`, { sha, force: true });
        if (updated.status !== 200) {
          const made = await github.request("POST", "/git/refs", { ref: `refs/tags/${moving}`, sha });
          if (made.status !== 201)
            throw new ReleaseError(`cannot move tag ${moving} (${made.status})`, "re-run apply");
        }
      }
    },
    async push() {
      // Commit and tags are already on GitHub.
    },
  };
}
