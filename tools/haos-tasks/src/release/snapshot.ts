/**
 * Reads the plain data planRelease needs for one component (git reads only, the remote's copy of
 * the latest release tag included; no working tree).
 */

import { git, runGit } from "../git/runner.ts";
import { topChangelogSection } from "./changelog.ts";
import { releaseCommitPattern } from "./classify.ts";
import { type ComponentConfig, effectivePolicy, type ReleaseConfig } from "./config.ts";
import { ReleaseError } from "./errors.ts";
import { GitHubApi, githubTargetFromEnv, githubToken } from "./github-api.ts";
import { componentVersionTags, notesBaseTag } from "./next-version.ts";
import type { BootstrapCommit, CommitFiles, GitHubReleaseState, PlanInput } from "./planner.ts";
import {
  type RemoteTag,
  readCommits,
  readFileAt,
  readRemoteTag,
  readRepositoryState,
  readTags,
  repositoryFromRemoteUrl,
} from "./read-repository.ts";
import { formatSemVer, parseSemVer } from "./semver.ts";
import { lockFilesOf } from "./snapshot-paths.ts";
import { readVersion, VersionFileError } from "./version-files.ts";

/**
 * The version the component's first version file holds in `content`: a plain text file's whole
 * text (checked as SemVer by the plan), package.json's `version`, …; undefined when the file
 * cannot be read as its type (the plan reports it at its line).
 */
export function versionFromFile(component: ComponentConfig, content: string | undefined): string | undefined {
  const spec = component.versionFiles[0];
  if (content === undefined || !spec || spec.type === "text") return content;
  try {
    return readVersion(spec, content);
  } catch (error) {
    // The plan reports it at its line (planner.ts checkVersionFiles).
    if (error instanceof VersionFileError) return undefined;
    throw error;
  }
}

export { lockFilesOf };

export interface SnapshotOptions {
  now?: Date;
  prerelease?: string;
  /** The edge's environment (GITHUB_REPOSITORY, GITHUB_SERVER_URL name the repository). */
  env: NodeJS.ProcessEnv;
}

/** Finds a configured component by name; a wrong name is a usage error listing the known ones. */
export function findComponent(config: ReleaseConfig, name: string): ComponentConfig {
  const component = config.components.find((c) => c.name === name);
  if (!component) {
    throw new ReleaseError(
      `unknown component '${name}'`,
      `use one of: ${config.components.map((c) => c.name).join(", ")} (release.components in .haos-tasks.yaml)`,
      "usage",
    );
  }
  return component;
}

async function commitFiles(
  cwd: string,
  component: ComponentConfig,
  sha: string,
  message?: string,
): Promise<CommitFiles> {
  const [msg, date, versionFile, changelog] = await Promise.all([
    message ?? git(cwd, ["log", "-1", "--format=%B", sha]),
    git(cwd, ["log", "-1", "--format=%cI", sha]),
    readFileAt(cwd, sha, component.versionFile),
    readFileAt(cwd, sha, component.changelog),
  ]);
  const version = versionFromFile(component, versionFile);
  return {
    message: msg,
    date: date.trim(),
    ...(version !== undefined ? { versionFile: version } : {}),
    ...(changelog !== undefined ? { changelog } : {}),
  };
}

/**
 * The commit that released the version a component's version file holds, when no tag of the
 * component exists: `bootstrapSha` from the config, else the newest commit that changed the
 * version file, provided its CHANGELOG has a section for that version (so the version was
 * released, not just written down). release-please's equivalent is a manifest version plus
 * `bootstrap-sha`.
 */
async function findBootstrap(
  cwd: string,
  component: ComponentConfig,
  versionFile: string | undefined,
  changelog: string | undefined,
): Promise<BootstrapCommit | undefined> {
  if (component.bootstrapSha) {
    const resolved = await runGit(cwd, [
      "rev-parse",
      "--verify",
      "--quiet",
      `${component.bootstrapSha}^{commit}`,
    ]);
    if (resolved.code !== 0)
      return { sha: component.bootstrapSha, source: "config", message: "", missing: true };
    const sha = resolved.stdout.trim();
    return { sha, source: "config", ...(await commitFiles(cwd, component, sha)) };
  }
  const version = versionFile !== undefined ? parseSemVer(versionFile) : undefined;
  if (!version || !changelog) return undefined;
  const section = topChangelogSection(changelog);
  const heading = section?.split("\n", 1)[0] ?? "";
  const v = formatSemVer(version).replace(/[.+]/g, "\\$&");
  if (!new RegExp(`^## +\\[?v?${v}\\b`).test(heading)) return undefined;
  const sha = (await git(cwd, ["log", "-1", "--format=%H", "HEAD", "--", component.versionFile])).trim();
  if (sha === "") return undefined;
  const files = await commitFiles(cwd, component, sha);
  if (files.versionFile?.trim() !== versionFile?.trim()) return undefined;
  return { sha, source: "version-file", ...files };
}

/** Whether GitHub has a published release for `tag`; undefined without a token or repository. */
async function readGitHubRelease(
  env: NodeJS.ProcessEnv,
  repository: string | undefined,
  tag: string,
): Promise<GitHubReleaseState | undefined> {
  const target = githubTargetFromEnv(env, repository);
  if (!target) return undefined;
  try {
    const releases = await new GitHubApi(target).releasesForTag(tag);
    const state = releases.some((r) => !r.draft) ? "published" : releases.length > 0 ? "draft" : "missing";
    return { tag, state };
  } catch (error) {
    if (error instanceof ReleaseError) return { tag, state: "unknown", error: error.message };
    throw error;
  }
}

/** Reads the repository at `cwd` into a PlanInput for `component`. */
export async function readPlanInput(
  cwd: string,
  config: ReleaseConfig,
  component: ComponentConfig,
  options: SnapshotOptions,
): Promise<PlanInput> {
  const env = options.env;
  const [state, tags] = await Promise.all([readRepositoryState(cwd, config.remote), readTags(cwd)]);
  const versionTags = componentVersionTags(component, tags);
  const previous = versionTags.find((t) => t.reachable);
  const [rawVersionFile, changelog] = await Promise.all([
    readFileAt(cwd, "HEAD", component.versionFile),
    readFileAt(cwd, "HEAD", component.changelog),
  ]);
  const versionFile = versionFromFile(component, rawVersionFile);
  // Every version file (and the package-lock.json entries of package.json files) as at HEAD.
  const paths = new Set<string>();
  for (const spec of component.versionFiles) {
    paths.add(spec.path);
    if (spec.type === "json") for (const lock of lockFilesOf(spec.path)) paths.add(lock);
  }
  const { policy, sources } = effectivePolicy(config, component);
  // node-workspace: every component's package.json (the graph), and this one's locks for its ranges.
  const workspace = policy.plugins.includes("node-workspace");
  const manifestOf = (c: ComponentConfig) => (c.path === "." ? "package.json" : `${c.path}/package.json`);
  if (workspace)
    for (const lock of [manifestOf(component), ...lockFilesOf(manifestOf(component))]) paths.add(lock);
  const versionFiles: Record<string, string> = {};
  await Promise.all(
    [...paths].map(async (file) => {
      const content = await readFileAt(cwd, "HEAD", file);
      if (content !== undefined) versionFiles[file] = content;
    }),
  );
  let workspacePackages: Record<string, { path: string; content: string }> | undefined;
  if (workspace) {
    workspacePackages = {};
    for (const c of config.components) {
      const content = await readFileAt(cwd, "HEAD", manifestOf(c));
      if (content !== undefined) workspacePackages[c.name] = { path: manifestOf(c), content };
    }
  }
  const bootstrap = previous ? undefined : await findBootstrap(cwd, component, versionFile, changelog);
  const since =
    bootstrap && !bootstrap.missing ? bootstrap.sha : notesBaseTag(versionTags, options.prerelease)?.sha;
  const commits = await readCommits(cwd, since);
  const pattern = releaseCommitPattern(component);
  const releaseCommits: Record<string, CommitFiles> = {};
  const candidates = commits.filter((c) => pattern.test(c.message.split("\n", 1)[0] ?? "")).slice(0, 1);
  for (const c of candidates) releaseCommits[c.sha] = await commitFiles(cwd, component, c.sha, c.message);
  const repository = config.repository ?? env.GITHUB_REPOSITORY ?? repositoryFromRemoteUrl(state.remoteUrl);
  let remoteTag: RemoteTag | undefined;
  let githubRelease: GitHubReleaseState | undefined;
  let previousFiles: CommitFiles | undefined;
  if (previous) {
    const files = await commitFiles(cwd, component, previous.sha);
    // A tag at one of our release commits, at the configured bootstrap commit, or at a commit whose
    // version file names the tag's version is a release this tool (or release-please) made: it is
    // finished once the tag is on the remote and GitHub has its published release.
    const ours =
      pattern.test(files.message.split("\n", 1)[0] ?? "") ||
      (component.bootstrapSha !== undefined && previous.sha.startsWith(component.bootstrapSha)) ||
      files.versionFile?.trim() === formatSemVer(previous.version);
    if (ours) {
      if (pattern.test(files.message.split("\n", 1)[0] ?? "")) releaseCommits[previous.sha] = files;
      previousFiles = files;
      if (state.remoteUrl !== undefined) remoteTag = await readRemoteTag(cwd, config.remote, previous.tag);
      githubRelease = await readGitHubRelease(env, repository, previous.tag);
    }
  }
  return {
    component,
    components: config.components,
    policy,
    policySources: sources,
    versionFiles,
    state,
    tags,
    commits,
    ...(versionFile !== undefined ? { versionFile } : {}),
    ...(changelog !== undefined ? { changelog } : {}),
    releaseCommits,
    ...(remoteTag ? { remoteTag } : {}),
    ...(githubRelease ? { githubRelease } : {}),
    ...(previousFiles ? { previousFiles } : {}),
    ...(bootstrap ? { bootstrap } : {}),
    ...(workspacePackages ? { workspacePackages } : {}),
    ...(repository ? { repository } : {}),
    hasGitHubToken: githubToken(env) !== undefined,
    serverUrl: (env.GITHUB_SERVER_URL ?? "https://github.com").replace(/\/+$/, ""),
    now: options.now ?? new Date(),
    ...(options.prerelease ? { prerelease: options.prerelease } : {}),
  };
}
