/**
 * The local transport: files written atomically into the working tree, a commit, annotated tags
 * and one atomic push of branch and tags to the remote.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { HintedError } from "../../errors.ts";
import { git, localIoError, runGit } from "../../git/runner.ts";
import type { ReleaseConfig } from "../config.ts";
import { ReleaseError } from "../errors.ts";
import type { GitHubApi } from "../github-api.ts";
import type { ReleasePlan } from "../planner.ts";
import type { Upstream } from "../read-repository.ts";
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

/**
 * The branch on `remote` the release commit goes to: the local branch's configured upstream, which
 * may have another name (`work` tracking `origin/main` pushes to main). Without one there is no
 * right answer (a same-named branch would be created on the remote), so apply refuses.
 */
function pushTarget(plan: ReleasePlan, remote: string): Upstream {
  const branch = plan.branch as string;
  const upstream = plan.upstream;
  if (!upstream) {
    throw new ReleaseError(
      `${branch} has no upstream branch, so there is no branch on ${remote} to release to`,
      `\`git branch --set-upstream-to=${remote}/<branch> ${branch}\` (e.g. ${remote}/main), or \`git push -u ${remote} ${branch}\` to publish it under its own name`,
      "usage",
    );
  }
  if (upstream.remote !== remote) {
    throw new ReleaseError(
      `${branch} tracks ${upstream.remote}/${upstream.branch}, but releases push to ${remote} (release.remote)`,
      `set release.remote to ${upstream.remote} in .haos-tasks.yaml, or \`git branch --set-upstream-to=${remote}/${upstream.branch} ${branch}\``,
      "usage",
    );
  }
  return upstream;
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
      const upstream = pushTarget(plan, remote);
      const fetched = await runGit(root, [
        "fetch",
        "--quiet",
        "--no-tags",
        remote,
        `+refs/heads/${upstream.branch}:${upstream.trackingRef}`,
      ]);
      const where = `${remote}/${upstream.branch}`;
      // A fetch that reached the remote but could not write .git/FETCH_HEAD or the tracking ref
      // (a read-only checkout, a full disk) is the checkout's I/O error, not an unreachable remote.
      if (fetched.code !== 0) {
        const io = localIoError(["fetch"], fetched.stderr);
        if (io) throw io;
      }
      if (fetched.code !== 0 && !/couldn't find remote ref/i.test(fetched.stderr)) {
        throw new ReleaseError(
          `cannot fetch ${upstream.branch} from ${remote}: ${fetched.stderr.trim()}`,
          "check the remote URL and credentials",
          "unreachable",
        );
      }
      if (fetched.code === 0) {
        const counts = await git(root, ["rev-list", "--count", `HEAD..${upstream.trackingRef}`]);
        const behind = Number(counts.trim());
        const releaseCommit = plan.commit?.sha;
        const containsRelease = releaseCommit
          ? (await runGit(root, ["merge-base", "--is-ancestor", releaseCommit, upstream.trackingRef]))
              .code === 0
          : false;
        if (behind > 0 && !containsRelease) {
          throw new ReleaseError(
            `${plan.branch} is ${behind} commit(s) behind ${where}`,
            "`git pull --ff-only`, then run apply again",
            "failure",
          );
        }
      }
    },
    async writeFiles(plan) {
      // Every file is written whole to a temporary file first; only when all are written are they
      // renamed into place (a rename that fails puts back the files renamed before it). A failed
      // write (a read-only or full file system, something in the way) leaves every file as it was
      // and no temporary file behind, names the file and is an I/O error (exit 2): never a
      // version.txt without its CHANGELOG.
      const temps: { file: string; temp: string; target: string; before: Buffer | undefined }[] = [];
      const renamed: (typeof temps)[number][] = [];
      try {
        for (const { path: file, content } of await plannedContents(root, plan)) {
          const target = path.join(root, file);
          const temp = path.join(
            path.dirname(target),
            `.${path.basename(target)}.haos-tasks-${process.pid}.tmp`,
          );
          try {
            await mkdir(path.dirname(target), { recursive: true });
            const before = await readFile(target).catch(() => undefined);
            temps.push({ file, temp, target, before });
            await writeFile(temp, content, { flag: "wx" });
          } catch (error) {
            throw writeError(file, temp, error);
          }
        }
        for (const entry of temps) {
          try {
            await rename(entry.temp, entry.target);
          } catch (error) {
            throw writeError(entry.file, entry.temp, error);
          }
          renamed.push(entry);
        }
      } catch (error) {
        await Promise.all(temps.map(({ temp }) => rm(temp, { force: true }).catch(() => undefined)));
        for (const { target, before } of renamed.reverse()) {
          await (before === undefined ? rm(target, { force: true }) : writeFile(target, before)).catch(
            () => undefined,
          );
        }
        throw error;
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
      const upstream = pushTarget(plan, remote);
      const branch = upstream.branch;
      const onRemote =
        (await runGit(root, ["merge-base", "--is-ancestor", sha, upstream.trackingRef])).code === 0;
      const refspecs = [
        ...(onRemote ? [] : [`${sha}:refs/heads/${branch}`]),
        `refs/tags/${release.tag}:refs/tags/${release.tag}`,
        ...release.movingTags.map((t) => `+refs/tags/${t}:refs/tags/${t}`),
      ];
      const pushed = await runGit(root, ["push", "--atomic", "--porcelain", remote, ...refspecs]);
      if (pushed.code === 0) return;
      throw await pushFailure(root, remote, { branch, tag: release.tag, sha }, pushed);
    },
  };
}

/** A file of the release that cannot be written: an I/O error (exit 2) naming it and the fix. */
function writeError(file: string, temp: string, error: unknown): ReleaseError {
  const e = error as NodeJS.ErrnoException;
  const dir = path.dirname(file) || ".";
  const leftover = path.join(dir, path.basename(temp));
  const fix =
    e.code === "ENOSPC" || e.code === "EDQUOT"
      ? "free disk space"
      : e.code === "EROFS"
        ? "run in a writable checkout (the file system is mounted read-only)"
        : e.code === "EACCES" || e.code === "EPERM"
          ? `make ${dir} and ${file} writable by the user running haos-tasks`
          : e.code === "EEXIST"
            ? `remove ${leftover} (left by an earlier run)`
            : `move aside what is in the way at ${file}`;
  return new ReleaseError(
    `cannot write ${file} (${e.message}); nothing was changed`,
    `${fix}, then run apply again`,
    "usage",
  );
}

/** One ref's line of `git push --porcelain`: `<flag>\t<from>:<to>\t<summary>`. */
interface PushedRef {
  rejected: boolean;
  to: string;
  /** `[rejected] (already exists)`, `[remote rejected] (pre-receive hook declined)`, … */
  summary: string;
}

function pushedRefs(stdout: string): PushedRef[] {
  const refs: PushedRef[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^(?<flag>[ +\-*=!])\t(?<spec>[^\t]*)\t(?<summary>.*)$/.exec(line);
    if (!m?.groups) continue;
    const spec = m.groups.spec ?? "";
    refs.push({
      rejected: m.groups.flag === "!",
      to: spec.slice(spec.lastIndexOf(":") + 1),
      summary: m.groups.summary ?? "",
    });
  }
  return refs;
}

/**
 * Why an atomic push failed, from git's porcelain lines: with `--atomic` the first ref git refuses
 * carries the real reason and every other ref only says "atomic push failed", so any rejected push
 * names the tag in its output; the reason has to be read per ref.
 */
async function pushFailure(
  root: string,
  remote: string,
  pushing: { branch: string; tag: string; sha: string },
  pushed: { stdout: string; stderr: string },
): Promise<HintedError> {
  const refs = pushedRefs(pushed.stdout).filter((r) => r.rejected && !/atomic push fail/i.test(r.summary));
  // Nothing rejected by the remote, but a local file git could not read or write (the objects to
  // pack, the tracking ref): the checkout's I/O error.
  const io =
    refs.length === 0 && !/^remote:/m.test(pushed.stderr) ? localIoError(["push"], pushed.stderr) : undefined;
  if (io) return io;
  // A run that wins the race between the remote's advertisement and its ref transaction shows up
  // as the server's `cannot lock ref` instead of the client's `[rejected]`.
  const locked = (kind: "tags" | "heads", why: string) =>
    new RegExp(`cannot lock ref '(refs/${kind}/[^']+)': ${why}`).exec(pushed.stderr)?.[1];
  const clashRef =
    refs.find(
      (r) =>
        r.to.startsWith("refs/tags/") && /^\[rejected\].*(already exists|would clobber)/i.test(r.summary),
    )?.to ?? locked("tags", "reference already exists");
  if (clashRef) {
    const name = clashRef.slice("refs/tags/".length);
    const listed = await runGit(root, ["ls-remote", remote, `refs/tags/${name}`, `refs/tags/${name}^{}`]);
    const shas = listed.stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\t")[0] ?? "");
    const at = shas.length > 0 ? ` at ${(shas[shas.length - 1] as string).slice(0, 7)}` : "";
    return new ReleaseError(
      `${remote} already has tag ${name}${at}, another commit than the release commit ${pushing.sha.slice(0, 7)}`,
      `compare with \`git ls-remote ${remote} refs/tags/${name}\`; never move a published release tag`,
      "failure",
    );
  }
  const movedRef =
    refs.find(
      (r) =>
        r.to.startsWith("refs/heads/") &&
        /^\[rejected\].*(non-fast-forward|fetch first|stale info)/i.test(r.summary),
    )?.to ?? locked("heads", "is at");
  if (movedRef) {
    return new ReleaseError(
      `${remote} ${movedRef.slice("refs/heads/".length)} moved while releasing (another push or release run won); nothing was pushed`,
      "`git pull --ff-only` and run apply again; it plans against the new head",
      "failure",
    );
  }
  // Refused by the server: a pre-receive/update hook, branch or tag protection, permissions.
  const remoteMessage = pushed.stderr
    .split("\n")
    .filter((l) => /^remote:/.test(l))
    .map((l) => l.replace(/^remote:\s*/, "").trim())
    .filter(Boolean)
    .join("; ");
  const refused = refs.find((r) => /^\[remote rejected\]/i.test(r.summary));
  const output = `${pushed.stdout}\n${pushed.stderr}`;
  const kind = /403|denied|permission/i.test(output) ? "forbidden" : "failure";
  if (refused) {
    return new ReleaseError(
      `${remote} refused the push of ${refused.to}: ${refused.summary.replace(/^\[remote rejected\]\s*/i, "")}${remoteMessage ? ` — ${remoteMessage}` : ""}; nothing was pushed`,
      "the remote's hooks or protection rules declined it: fix what the remote says (or ask its admin), then run apply again",
      kind,
    );
  }
  return new ReleaseError(
    `git push to ${remote} failed: ${pushed.stderr.trim() || pushed.stdout.trim()} (branch ${pushing.branch}, tag ${pushing.tag})`,
    "check push rights on the remote (`contents: write` for GITHUB_TOKEN)",
    kind,
  );
}
