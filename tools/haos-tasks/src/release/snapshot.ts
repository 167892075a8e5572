/**
 * Reads the plain data planRelease needs for one component (git reads only, the remote's copy of
 * the latest release tag included; no working tree).
 */
import { releaseCommitPattern } from "./classify.ts";
import type { ComponentConfig, ReleaseConfig } from "./config.ts";
import { ReleaseError } from "./errors.ts";
import { git } from "./git-runner.ts";
import { githubToken } from "./github-api.ts";
import { componentVersionTags, notesBaseTag } from "./next-version.ts";
import type { CommitFiles, PlanInput } from "./planner.ts";
import {
  type RemoteTag,
  readCommits,
  readFileAt,
  readRemoteTag,
  readRepositoryState,
  readTags,
  repositoryFromRemoteUrl,
} from "./read-repository.ts";

export interface SnapshotOptions {
  now?: Date;
  prerelease?: string;
  env?: NodeJS.ProcessEnv;
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
  return {
    message: msg,
    date: date.trim(),
    ...(versionFile !== undefined ? { versionFile } : {}),
    ...(changelog !== undefined ? { changelog } : {}),
  };
}

/** Reads the repository at `cwd` into a PlanInput for `component`. */
export async function readPlanInput(
  cwd: string,
  config: ReleaseConfig,
  component: ComponentConfig,
  options: SnapshotOptions = {},
): Promise<PlanInput> {
  const env = options.env ?? process.env;
  const [state, tags] = await Promise.all([readRepositoryState(cwd, config.remote), readTags(cwd)]);
  const versionTags = componentVersionTags(component, tags);
  const previous = versionTags.find((t) => t.reachable);
  const [commits, versionFile, changelog] = await Promise.all([
    readCommits(cwd, notesBaseTag(versionTags, options.prerelease)?.sha),
    readFileAt(cwd, "HEAD", component.versionFile),
    readFileAt(cwd, "HEAD", component.changelog),
  ]);
  const pattern = releaseCommitPattern(component);
  const releaseCommits: Record<string, CommitFiles> = {};
  const candidates = commits.filter((c) => pattern.test(c.message.split("\n", 1)[0] ?? "")).slice(0, 1);
  for (const c of candidates) releaseCommits[c.sha] = await commitFiles(cwd, component, c.sha, c.message);
  let remoteTag: RemoteTag | undefined;
  if (previous) {
    const files = await commitFiles(cwd, component, previous.sha);
    if (pattern.test(files.message.split("\n", 1)[0] ?? "")) {
      releaseCommits[previous.sha] = files;
      // Our latest release is finished only once its tag is on the remote, not just here.
      remoteTag = await readRemoteTag(cwd, config.remote, previous.tag);
    }
  }
  const repository = config.repository ?? env.GITHUB_REPOSITORY ?? repositoryFromRemoteUrl(state.remoteUrl);
  return {
    component,
    components: config.components,
    policy: config.policy,
    state,
    tags,
    commits,
    ...(versionFile !== undefined ? { versionFile } : {}),
    ...(changelog !== undefined ? { changelog } : {}),
    releaseCommits,
    ...(remoteTag ? { remoteTag } : {}),
    ...(repository ? { repository } : {}),
    hasGitHubToken: githubToken(env) !== undefined,
    serverUrl: (env.GITHUB_SERVER_URL ?? "https://github.com").replace(/\/+$/, ""),
    now: options.now ?? new Date(),
    ...(options.prerelease ? { prerelease: options.prerelease } : {}),
  };
}
