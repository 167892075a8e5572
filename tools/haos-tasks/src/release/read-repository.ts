/**
 * Reads what a release plan needs from git — and only reads: history in one `git log` spawn, tags
 * in two `for-each-ref` spawns, files as they are at HEAD (never the working tree).
 */
import { git, runGit } from "../git/runner.ts";

export interface GitCommit {
  sha: string;
  parents: string[];
  /** Committer date, ISO 8601. */
  date: string;
  message: string;
  /** Changed files (renames as delete + add); empty for merges and empty commits. */
  files: string[];
}

export interface TagRef {
  name: string;
  /** The commit the tag points to (peeled for annotated tags). */
  sha: string;
  /** Reachable from HEAD. */
  reachable: boolean;
}

/** A branch's configured upstream (`branch.<name>.remote` / `.merge`), which need not share its name. */
export interface Upstream {
  /** Remote name, e.g. `origin`. */
  remote: string;
  /** The branch on the remote, e.g. `main` for a local `work` tracking `origin/main`. */
  branch: string;
  /** The local remote-tracking ref, e.g. `refs/remotes/origin/main`. */
  trackingRef: string;
}

export interface RepositoryState {
  head: string;
  /** Undefined on a detached HEAD. */
  branch?: string;
  /** The branch's upstream; undefined when none is configured. */
  upstream?: Upstream;
  shallow: boolean;
  remoteUrl?: string;
  /** Commits on the upstream that HEAD lacks, from the last fetch; undefined without a tracking ref. */
  behind?: number;
  ahead?: number;
}

/** Reads commits reachable from `head` and not from `since` (newest first). */
export async function readCommits(
  cwd: string,
  since: string | undefined,
  head = "HEAD",
): Promise<GitCommit[]> {
  const range = since ? [`${since}..${head}`] : [head];
  const out = await git(cwd, [
    "log",
    "-z",
    "--no-renames",
    "--name-only",
    "--format=%x1e%H%x00%P%x00%cI%x00%B",
    ...range,
    "--",
  ]);
  const commits: GitCommit[] = [];
  for (const record of out.split("\x1e")) {
    if (record === "") continue;
    const parts = record.split("\0");
    const [sha = "", parents = "", date = "", message = ""] = parts;
    const files: string[] = [];
    for (let i = 4; i < parts.length; i++) {
      const name = (parts[i] as string).replace(/^\n/, "");
      if (name !== "") files.push(name);
    }
    commits.push({ sha, parents: parents === "" ? [] : parents.split(" "), date, message, files });
  }
  return commits;
}

/**
 * Every tag with the commit it points to and whether HEAD reaches it. Reachability is ancestry
 * alone: the set of commits `git rev-list HEAD` lists, read once (about 40 bytes a commit, fast on
 * 20,000), and each tag's commit looked up in it. `for-each-ref --merged=HEAD` is not used: git
 * versions whose walk stops on commit dates (SLOP) miss a tag when more than five commits after it
 * are dated before it — skewed clocks, rebased or cherry-picked commits — and the release sticks.
 */
export async function readTags(cwd: string): Promise<TagRef[]> {
  const format = "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)";
  const [all, history] = await Promise.all([
    git(cwd, ["for-each-ref", format, "refs/tags"]),
    // No HEAD yet (an unborn branch): no tag is reachable.
    runGit(cwd, ["rev-list", "HEAD", "--"]).then((r) => (r.code === 0 ? r.stdout : "")),
  ]);
  const reachable = new Set(history.split("\n").filter(Boolean));
  return all
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name = "", object = "", peeled = ""] = line.split("\0");
      const sha = peeled || object;
      return { name, sha, reachable: reachable.has(sha) };
    });
}

/** A file's content at a revision; undefined when it does not exist there. */
export async function readFileAt(cwd: string, rev: string, file: string): Promise<string | undefined> {
  const result = await runGit(cwd, ["cat-file", "blob", `${rev}:${file}`]);
  return result.code === 0 ? result.stdout : undefined;
}

/** The upstream git would pull from for `branch`; undefined when none is configured. */
export async function readUpstream(cwd: string, branch: string): Promise<Upstream | undefined> {
  const out = await runGit(cwd, [
    "for-each-ref",
    "--format=%(upstream:remotename)%00%(upstream:remoteref)%00%(upstream)",
    `refs/heads/${branch}`,
  ]);
  const [remote = "", merge = "", trackingRef = ""] = out.stdout.trim().split("\0");
  if (out.code !== 0 || remote === "" || !merge.startsWith("refs/heads/")) return undefined;
  const name = merge.slice("refs/heads/".length);
  // Empty when no fetch refspec maps the branch; the default refspec's ref is what preflight fetches into.
  return { remote, branch: name, trackingRef: trackingRef || `refs/remotes/${remote}/${name}` };
}

/** HEAD, branch and its upstream, shallowness, the remote URL and how far the branch is from its upstream. */
export async function readRepositoryState(cwd: string, remote: string): Promise<RepositoryState> {
  const [head, branch, shallow, url] = await Promise.all([
    git(cwd, ["rev-parse", "--verify", "HEAD"], { hint: "make a first commit; a release needs history" }),
    runGit(cwd, ["symbolic-ref", "-q", "--short", "HEAD"]),
    git(cwd, ["rev-parse", "--is-shallow-repository"]),
    runGit(cwd, ["remote", "get-url", remote]),
  ]);
  const state: RepositoryState = {
    head: head.trim(),
    shallow: shallow.trim() === "true",
    ...(branch.code === 0 ? { branch: branch.stdout.trim() } : {}),
    ...(url.code === 0 ? { remoteUrl: url.stdout.trim() } : {}),
  };
  const upstream = state.branch ? await readUpstream(cwd, state.branch) : undefined;
  if (upstream) {
    state.upstream = upstream;
    const counts = await runGit(cwd, [
      "rev-list",
      "--left-right",
      "--count",
      `HEAD...${upstream.trackingRef}`,
    ]);
    if (counts.code === 0) {
      const [ahead = "0", behind = "0"] = counts.stdout.trim().split(/\s+/);
      state.ahead = Number(ahead);
      state.behind = Number(behind);
    }
  }
  return state;
}

/** A tag as a remote has it. */
export interface RemoteTag {
  remote: string;
  tag: string;
  /** The commit the remote's tag points to (peeled); undefined when the remote has no such tag. */
  sha?: string;
  /** Why the remote could not be read (offline, no such remote); then nothing is known. */
  error?: string;
}

/** Reads one tag from `remote` with `git ls-remote`, which changes nothing locally or remotely. */
export async function readRemoteTag(cwd: string, remote: string, tag: string): Promise<RemoteTag> {
  const ref = `refs/tags/${tag}`;
  const out = await runGit(cwd, ["ls-remote", remote, ref, `${ref}^{}`]);
  if (out.code !== 0) {
    const reason = out.stderr.trim().split("\n")[0] || `git ls-remote exited with ${out.code}`;
    return { remote, tag, error: reason };
  }
  const shas = new Map<string, string>();
  for (const line of out.stdout.split("\n")) {
    const [sha = "", name = ""] = line.split("\t");
    if (name !== "") shas.set(name, sha);
  }
  // Patterns match ref name tails, so only the exact names count.
  const sha = shas.get(`${ref}^{}`) ?? shas.get(ref);
  return { remote, tag, ...(sha ? { sha } : {}) };
}

/** `owner/name` from a GitHub remote URL (https, ssh or scp form); undefined for anything else. */
export function repositoryFromRemoteUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const m = /github\.com[:/]([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : undefined;
}
