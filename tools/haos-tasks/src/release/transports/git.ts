/**
 * The local transport: files written atomically into the working tree, a commit, annotated tags
 * and one atomic push of branch and tags to the remote.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ReleaseConfig } from "../config.ts";
import { ReleaseError } from "../errors.ts";
import { git, runGit } from "../git-runner.ts";
import type { GitHubApi } from "../github-api.ts";
import { checkLocalRepository, plannedContents } from "./preflight.ts";
import type { ReleaseTransport } from "./transport.ts";

export interface GitTransportOptions {
  root: string;
  config: ReleaseConfig;
  github: GitHubApi | undefined;
}

async function localTagCommit(root: string, tag: string): Promise<string | undefined> {
  const result = await runGit(root, ["rev-parse", "--verify", "--quiet", `refs/tags/${tag}^{commit}`]);
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** Creates the local git transport. */
export function createGitTransport(options: GitTransportOptions): ReleaseTransport {
  const { root, config, github } = options;
  const remote = config.remote;
  return {
    name: "git",
    github,
    async preflight(plan) {
      await checkLocalRepository(root, plan);
      const url = await runGit(root, ["remote", "get-url", remote]);
      if (url.code !== 0) {
        throw new ReleaseError(
          `no git remote '${remote}' to push the release to`,
          `\`git remote add ${remote} <url>\`, or set release.remote in .haos-tasks.yaml`,
          "usage",
        );
      }
      const branch = plan.branch as string;
      const fetched = await runGit(root, [
        "fetch",
        "--quiet",
        "--no-tags",
        remote,
        `+refs/heads/${branch}:refs/remotes/${remote}/${branch}`,
      ]);
      if (fetched.code !== 0 && !/couldn't find remote ref/i.test(fetched.stderr)) {
        throw new ReleaseError(
          `cannot fetch ${branch} from ${remote}: ${fetched.stderr.trim()}`,
          "check the remote URL and credentials",
          "unreachable",
        );
      }
      if (fetched.code === 0) {
        const counts = await git(root, ["rev-list", "--count", `HEAD..refs/remotes/${remote}/${branch}`]);
        const behind = Number(counts.trim());
        const releaseCommit = plan.commit?.sha;
        const containsRelease = releaseCommit
          ? (
              await runGit(root, [
                "merge-base",
                "--is-ancestor",
                releaseCommit,
                `refs/remotes/${remote}/${branch}`,
              ])
            ).code === 0
          : false;
        if (behind > 0 && !containsRelease) {
          throw new ReleaseError(
            `${branch} is ${behind} commit(s) behind ${remote}/${branch}`,
            "`git pull --ff-only`, then run apply again",
            "failure",
          );
        }
      }
    },
    async writeFiles(plan) {
      for (const { path: file, content } of await plannedContents(root, plan)) {
        const target = path.join(root, file);
        await mkdir(path.dirname(target), { recursive: true });
        const temp = path.join(
          path.dirname(target),
          `.${path.basename(target)}.haos-tasks-${process.pid}.tmp`,
        );
        await writeFile(temp, content);
        await rename(temp, target);
      }
    },
    async commit(plan) {
      const paths = plan.files.map((f) => f.path);
      await git(root, ["add", "--", ...paths]);
      await git(
        root,
        ["commit", "--quiet", "--no-verify", "-m", plan.commit?.message ?? "chore(release)", "--", ...paths],
        {
          hint: "set git's identity: `git config user.name …` and `git config user.email …`",
        },
      );
      return (await git(root, ["rev-parse", "HEAD"])).trim();
    },
    async tag(plan, sha) {
      const release = plan.release;
      if (!release) return;
      const existing = await localTagCommit(root, release.tag);
      if (existing && existing !== sha) {
        throw new ReleaseError(
          `tag ${release.tag} already exists at ${existing.slice(0, 7)}, not at the release commit ${sha.slice(0, 7)}`,
          `inspect both; delete the wrong tag (\`git tag -d ${release.tag}\`) only if it was never pushed`,
          "failure",
        );
      }
      if (!existing) await git(root, ["tag", "-a", release.tag, "-m", release.releaseName, sha]);
      for (const moving of release.movingTags) {
        await git(root, ["tag", "-f", "-a", moving, "-m", `${release.releaseName} (moving ${moving})`, sha]);
      }
    },
    async push(plan, sha) {
      const release = plan.release;
      if (!release) return;
      const branch = plan.branch as string;
      const onRemote =
        (await runGit(root, ["merge-base", "--is-ancestor", sha, `refs/remotes/${remote}/${branch}`]))
          .code === 0;
      const refspecs = [
        ...(onRemote ? [] : [`${sha}:refs/heads/${branch}`]),
        `refs/tags/${release.tag}:refs/tags/${release.tag}`,
        ...release.movingTags.map((t) => `+refs/tags/${t}:refs/tags/${t}`),
      ];
      const pushed = await runGit(root, ["push", "--atomic", "--porcelain", remote, ...refspecs]);
      if (pushed.code === 0) return;
      const output = `${pushed.stdout}\n${pushed.stderr}`;
      if (
        /refs\/tags\/.*(already exists|would clobber)/i.test(output) ||
        new RegExp(`refs/tags/${release.tag}.*rejected`).test(output)
      ) {
        throw new ReleaseError(
          `${remote} already has tag ${release.tag} at another commit`,
          `compare with \`git ls-remote ${remote} refs/tags/${release.tag}\`; never move a published release tag`,
          "failure",
        );
      }
      if (/non-fast-forward|fetch first|stale info/i.test(output)) {
        throw new ReleaseError(
          `${remote}/${branch} moved while releasing (another push or release run won)`,
          "`git pull --ff-only` and run apply again; it plans against the new head",
          "failure",
        );
      }
      throw new ReleaseError(
        `git push to ${remote} failed: ${pushed.stderr.trim()}`,
        "check push rights on the remote (`contents: write` for GITHUB_TOKEN)",
        /403|denied/i.test(output) ? "forbidden" : "failure",
      );
    },
  };
}
