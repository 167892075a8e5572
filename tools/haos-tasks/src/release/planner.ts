/**
 * planRelease: everything a release of one component would do, computed from plain data read from
 * git (snapshot.ts). Apply executes exactly this object; `release plan` prints it.
 */
import { createHash } from "node:crypto";
import type { Finding } from "../findings.ts";
import {
  applyChangelogInsertion,
  planChangelogInsertion,
  renderChangelogSection,
  topChangelogSection,
} from "./changelog.ts";
import {
  type ConsideredCommit,
  classifyCommits,
  type ExcludedCommit,
  releaseCommitPattern,
} from "./classify.ts";
import type { ComponentConfig, PolicySource, ReleasePolicy } from "./config.ts";
import { missingGitHubAccess } from "./github-api.ts";
import {
  componentVersionTags,
  decideNextVersion,
  notesBaseTag,
  tagFor,
  type VersionTag,
} from "./next-version.ts";
import type { GitCommit, RemoteTag, RepositoryState, TagRef, Upstream } from "./read-repository.ts";
import { ComponentScopes } from "./scoping.ts";
import { compareSemVer, formatSemVer, nextPrerelease, parseSemVer } from "./semver.ts";
import { lockFilesOf } from "./snapshot-paths.ts";
import {
  type DependencyType,
  dependencyTypes,
  packageNameOf,
  readVersion,
  VersionFileError,
  writeDependencyRanges,
  writeLockVersion,
  writeVersion,
} from "./version-files.ts";
import { dependencyNotes, withDependencies, workspacePackageOf } from "./workspace-notes.ts";

/** Files of one commit as they are in that commit. */
export interface CommitFiles {
  message: string;
  versionFile?: string;
  changelog?: string;
  date: string;
}

/** The commit that released a component's current version before it had a tag (see snapshot.ts). */
export interface BootstrapCommit extends Partial<CommitFiles> {
  sha: string;
  source: "config" | "version-file";
  message: string;
  /** The configured bootstrapSha is not a commit of this repository. */
  missing?: boolean;
}

/** Whether GitHub has the release of a tag (read only with a token and a repository). */
export interface GitHubReleaseState {
  tag: string;
  state: "published" | "draft" | "missing" | "unknown";
  /** Why GitHub could not be asked (state unknown). */
  error?: string;
}

export interface PlanInput {
  component: ComponentConfig;
  components: readonly ComponentConfig[];
  /** The component's policy: its own values over the release section's (config.ts effectivePolicy). */
  policy: ReleasePolicy;
  /** Where each policy value came from; shown in the plan. */
  policySources?: Partial<Record<keyof ReleasePolicy, PolicySource>>;
  /** Every version file and package-lock.json that may carry the version, as at HEAD (path → text). */
  versionFiles?: Readonly<Record<string, string>>;
  state: RepositoryState;
  tags: readonly TagRef[];
  /**
   * Commits since notesBaseTag (the previous tag for a prerelease, the previous stable tag for a
   * stable release; all history without one), newest first.
   */
  commits: readonly GitCommit[];
  /** The version the first version file holds at HEAD (snapshot.ts versionFromFile). */
  versionFile?: string;
  changelog?: string;
  /** Release commits in range and the previous tag's commit, with their files (resume / complete). */
  releaseCommits: Readonly<Record<string, CommitFiles>>;
  /** The remote's copy of the latest release tag, when that tag is at one of our release commits. */
  remoteTag?: RemoteTag;
  /** GitHub's release of the latest release tag, when a token and repository are set. */
  githubRelease?: GitHubReleaseState;
  /** The latest tag's commit with its files, when it is a release (ours, bootstrap or release-please's). */
  previousFiles?: CommitFiles;
  /** No tag yet, but the version file's version was released at this commit: tag it first. */
  bootstrap?: BootstrapCommit;
  /** `owner/name`, for links and the GitHub release. */
  repository?: string;
  /** Whether GITHUB_TOKEN or GH_TOKEN is set (never the token itself): apply needs one to publish. */
  hasGitHubToken: boolean;
  serverUrl: string;
  now: Date;
  prerelease?: string;
  /**
   * linked-versions: the version this component's group releases at (the highest any member
   * needs, linked.ts); it is this component's releaseAs, and a member with nothing of its own
   * gets release-please's "Synchronize <group> versions" entry.
   */
  linked?: { group: string; version: string };
  /**
   * node-workspace (release.plugins): every component's package.json at HEAD (component name →
   * path and content), read when the component's policy lists the plugin (workspace.ts).
   */
  workspacePackages?: Readonly<Record<string, { path: string; content: string }>>;
  /**
   * node-workspace: the workspace dependencies released in this run (workspace.ts planWorkspace).
   * Their ranges in `manifest` (and its package-lock.json entry) are updated and the notes get a
   * `### Dependencies` section; `version` (a patch) releases a component with nothing of its own.
   */
  workspace?: {
    manifest: string;
    dependencies: WorkspaceDependency[];
    version?: string;
    reason?: string;
  };
}

/** A workspace package released in this run that a component depends on (node-workspace). */
export interface WorkspaceDependency {
  component: string;
  /** Its package.json `name`. */
  package: string;
  version: string;
  /** Why it is released without changes of its own (its dependency's release, or its tag's place). */
  via?: string;
}

export type PlanStatus = "release" | "resume" | "up-to-date" | "blocked";

export interface FileChange {
  path: string;
  action: "create" | "update";
  /** sha256 of the content at HEAD; apply refuses to write over anything else. */
  beforeSha256?: string;
  /** The whole new content (version file, new changelog). */
  content?: string;
  /** For an existing changelog: the text inserted at a character offset; the rest stays byte-identical. */
  insert?: { at: number; text: string };
  summary: string;
}

export interface PlannedRelease {
  version: string;
  tag: string;
  /** Moving tags (e.g. `v1`) re-pointed at the release commit. */
  movingTags: string[];
  releaseName: string;
  prerelease: boolean;
  makeLatest: boolean;
  /** release-please `draft`: the GitHub release is created and left a draft. */
  draft?: boolean;
  /** Release notes: the CHANGELOG section. */
  notes: string;
  /**
   * The GitHub release body when the notes exceed GitHub's limit (GITHUB_RELEASE_BODY_LIMIT): cut
   * at the last whole entry that fits, with a link to the full section. Undefined: the notes.
   */
  body?: string;
}

/** GitHub rejects a release whose body is longer than 125,000 characters (422 "body is too long"). */
export const GITHUB_RELEASE_BODY_LIMIT = 125_000;

export interface ReleasePlan {
  component: string;
  status: PlanStatus;
  summary: string;
  head: string;
  branch?: string;
  /** Where the branch pushes and is compared: its configured upstream, whatever its name. */
  upstream?: Upstream;
  repository?: string;
  previous?: { tag: string; version: string; sha: string };
  baseline: { version?: string; source: "tag" | "version-file" | "none" };
  considered: ConsideredCommit[];
  excluded: ExcludedCommit[];
  bump?: { level?: string; reason: string };
  release?: PlannedRelease;
  files: FileChange[];
  /** The release commit: to create (message) or already made (sha, on resume or completion). */
  commit?: { message: string; sha?: string };
  /** What apply will do, in order. */
  steps: string[];
  /** For status resume: what is left of a release that exists in part, in words. */
  unfinished?: string;
  /** The component's effective policy, each value with where it came from. */
  policy?: Record<string, { value: unknown; from: PolicySource }>;
  /** node-workspace: the workspace dependencies released in this run that this release names. */
  workspace?: { dependencies: WorkspaceDependency[] };
  findings: Finding[];
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const fullSteps = ["write-files", "commit", "tag", "push", "draft-release", "publish-release"];
const finishSteps = ["tag", "push", "draft-release", "publish-release"];

/** The steps as the policy has them: no GitHub release with skipGithubRelease, no publish with draft. */
function stepsFor(steps: readonly string[], policy: ReleasePolicy): string[] {
  if (policy.skipGithubRelease) return steps.filter((s) => s !== "draft-release" && s !== "publish-release");
  if (policy.draft) return steps.filter((s) => s !== "publish-release");
  return [...steps];
}

/** Plans the next release of one component. Pure: same input, same plan. */
export function planRelease(input: PlanInput): ReleasePlan {
  const { component, state } = input;
  const findings: Finding[] = [];
  const versionTags = componentVersionTags(component, input.tags);
  const reachable = versionTags.filter((t) => t.reachable);
  const previous = reachable[0];
  const stable = reachable.find((t) => t.version.prerelease.length === 0);
  const fileVersion = input.versionFile !== undefined ? parseSemVer(input.versionFile) : undefined;
  if (state.shallow) {
    findings.push({
      severity: "error",
      rule: "release/shallow-clone",
      message: "the clone is shallow: history and tags are incomplete",
      hint: "fetch all history: `git fetch --unshallow --tags`; in GitHub Actions give actions/checkout `fetch-depth: 0`",
    });
  }
  if (!state.branch) {
    findings.push({
      severity: "warning",
      rule: "release/detached-head",
      message: "HEAD is detached; apply needs a branch",
      hint: "`git switch <branch>`; in Actions release from a push to the branch, not a pull_request merge ref",
    });
  }
  if (state.behind) {
    findings.push({
      severity: "warning",
      rule: "release/behind-remote",
      message: `${state.branch} is ${state.behind} commit(s) behind its upstream ${state.upstream?.remote}/${state.upstream?.branch}`,
      hint: "`git pull --ff-only` before releasing",
    });
  }
  if (input.versionFile !== undefined && !fileVersion) {
    findings.push({
      severity: "error",
      rule: "release/version-file",
      file: component.versionFile,
      line: 1,
      message: `${component.versionFile} does not hold a SemVer version: '${input.versionFile.trim()}'`,
      hint: previous
        ? `write ${formatSemVer(previous.version)} (the latest tag ${previous.tag})`
        : "write the current version, e.g. 0.1.0",
    });
  }

  checkVersionFiles(input, findings);
  checkChangelogText(input, findings);

  const scopes = new ComponentScopes(input.components);
  const classified = classifyCommits(
    input.commits,
    component,
    scopes,
    input.policy.types,
    input.policy.releaseRules,
  );
  if (input.linked && !classified.considered.some((c) => c.effect !== "none")) {
    // release-please's linked-versions plugin appends this commit (with an empty SHA) to a member
    // that has no release of its own; its Release-As footer lists it.
    const rule = input.policy.types.find((t) => t.type === "chore");
    classified.considered.push({
      sha: "",
      header: `chore(${component.name}): Synchronize ${input.linked.group} versions`,
      type: "chore",
      scope: component.name,
      description: `Synchronize ${input.linked.group} versions`,
      breaking: [],
      effect: "none",
      why: `linked-versions group ${input.linked.group} releases ${input.linked.version}`,
      section: rule?.section ?? "chore",
      hidden: rule?.hidden ?? true,
      footers: [{ token: "Release-As", separator: ": ", value: input.linked.version }],
      closes: [],
      warnings: [],
      releaseAs: input.linked.version,
      listed: classified.considered.length,
    });
  }
  const base: ReleasePlan = {
    component: component.name,
    status: "up-to-date",
    summary: "",
    head: state.head,
    ...(state.branch ? { branch: state.branch } : {}),
    ...(state.upstream ? { upstream: state.upstream } : {}),
    ...(input.repository ? { repository: input.repository } : {}),
    ...(previous
      ? { previous: { tag: previous.tag, version: formatSemVer(previous.version), sha: previous.sha } }
      : {}),
    baseline: previous
      ? { version: formatSemVer(previous.version), source: "tag" }
      : fileVersion
        ? { version: formatSemVer(fileVersion), source: "version-file" }
        : { source: "none" },
    considered: classified.considered,
    excluded: classified.excluded,
    files: [],
    steps: [],
    findings,
  };
  const repositoryUrl = input.repository ? `${input.serverUrl}/${input.repository}` : undefined;
  const pattern = releaseCommitPattern(component);

  // A release commit in range without its tag: an earlier apply stopped after committing.
  const pending = input.commits.find((c) => pattern.test(c.message.split("\n", 1)[0] ?? ""));
  const pendingVersion = pending
    ? pattern.exec(pending.message.split("\n", 1)[0] ?? "")?.groups?.version
    : undefined;
  if (
    pending &&
    pendingVersion &&
    parseSemVer(pendingVersion) &&
    // A stable release's range holds the release commits of its prereleases, which have tags.
    !reachable.some((t) => formatSemVer(t.version) === pendingVersion)
  ) {
    return finish(resumePlan(base, input, pending, pendingVersion, versionTags), input);
  }
  if (!previous && input.bootstrap)
    return finish(bootstrapPlan(base, input, input.bootstrap, versionTags), input);

  if (previous && fileVersion && formatSemVer(fileVersion) !== formatSemVer(previous.version)) {
    findings.push({
      severity: "error",
      rule: "release/version-drift",
      file: component.versionFile,
      line: 1,
      message: `${component.versionFile} says ${formatSemVer(fileVersion)} but the latest tag ${previous.tag} says ${formatSemVer(previous.version)}`,
      hint: `set ${component.versionFile} to ${formatSemVer(previous.version)} in a commit, or create the missing tag for ${formatSemVer(fileVersion)} at the commit that released it`,
    });
  }

  let decision = decideNextVersion({
    ...(previous ? { previous } : {}),
    ...(stable ? { stable } : {}),
    ...(fileVersion && !previous ? { versionFile: fileVersion } : {}),
    considered: classified.considered,
    policy: input.policy,
    ...(input.prerelease ? { prerelease: input.prerelease } : {}),
    existing: versionTags.map((t) => t.version),
    ...(input.linked
      ? { configReleaseAs: input.linked.version }
      : component.releaseAs
        ? { configReleaseAs: component.releaseAs }
        : {}),
  });
  const patch = input.workspace?.version ? parseSemVer(input.workspace.version) : undefined;
  // With --prerelease the dependent's patch is a prerelease of it too (1.0.1-rc.1).
  const forced =
    patch && input.prerelease
      ? nextPrerelease(
          patch,
          input.prerelease,
          versionTags.map((t) => t.version),
        )
      : patch;
  if (!decision.version && !decision.error && forced)
    // node-workspace: released for its workspace dependencies only, a patch (workspace.ts).
    decision = {
      version: forced,
      level: "patch",
      reason: input.workspace?.reason ?? "workspace dependencies released",
    };
  base.bump = { ...(decision.level ? { level: decision.level } : {}), reason: decision.reason };
  if (decision.notice) {
    findings.push({
      severity: "warning",
      rule: "release/release-as-done",
      message: `${component.name}: ${decision.notice.message}`,
      hint: decision.notice.hint,
    });
  }
  if (decision.error) {
    findings.push({
      severity: "error",
      rule: "release/version",
      message: decision.error.message,
      hint: decision.error.hint,
    });
  }
  if (!decision.version) {
    if (previous && input.releaseCommits[previous.sha]) {
      // The latest release was ours: apply makes sure its tag is pushed and its GitHub release published.
      const files = input.releaseCommits[previous.sha] as CommitFiles;
      base.release = plannedRelease(
        component,
        formatSemVer(previous.version),
        topChangelogSection(files.changelog ?? "") ?? "",
        versionTags,
      );
      base.commit = { message: files.message.split("\n", 1)[0] ?? "", sha: previous.sha };
      base.steps = finishSteps;
      checkPushed(base, previous, input.remoteTag);
    }
    if (previous) checkPublished(base, input, previous, versionTags);
    return finish(base, input);
  }
  const version = formatSemVer(decision.version);
  const tag = tagFor(component, version);
  const clash = versionTags.find((t) => formatSemVer(t.version) === version);
  if (clash) {
    findings.push({
      severity: "error",
      rule: "release/tag-exists",
      message: `tag ${clash.tag} for ${version} already exists at ${clash.sha.slice(0, 7)}, which this branch does not contain`,
      hint: "release from the branch that has that tag, or delete the stray tag if it was a mistake",
    });
  }
  const date = input.now.toISOString().slice(0, 10);
  const notesBase = notesBaseTag(versionTags, input.prerelease);
  const section = renderChangelogSection(
    {
      version,
      date,
      tag,
      ...(notesBase ? { previousTag: notesBase.tag } : {}),
      ...(repositoryUrl ? { repositoryUrl } : {}),
    },
    classified.considered,
    input.policy.types,
    { sentenceCase: input.policy.plugins.includes("sentence-case") },
  );
  const notes = workspaceNotes(input, section);
  base.status = "release";
  base.release = plannedRelease(component, version, notes, versionTags, input.policy);
  limitReleaseBody(base.release, component, repositoryUrl, findings);
  base.files = [
    ...workspaceRangeChanges(input, versionFileChanges(input, version, findings)),
    changelogChange(component, input.changelog, notes),
  ];
  if (input.workspace && input.workspace.dependencies.length > 0)
    base.workspace = { dependencies: input.workspace.dependencies };
  if (findings.some((f) => f.severity === "error")) base.files = [];
  base.commit = { message: component.commitMessage.replace("{version}", version) };
  base.steps = fullSteps;
  return finish(base, input);
}

/**
 * A release tag that exists here but not on the remote is an apply that stopped before pushing:
 * the release is unfinished, not up to date. An unreadable remote (offline) only warns.
 */
function checkPushed(plan: ReleasePlan, previous: VersionTag, remoteTag: RemoteTag | undefined): void {
  if (remoteTag?.tag !== previous.tag) return;
  const { remote, tag } = remoteTag;
  const commit = previous.sha.slice(0, 7);
  if (remoteTag.error !== undefined) {
    plan.findings.push({
      severity: "warning",
      rule: "release/remote-unreadable",
      message: `cannot read tag ${tag} from ${remote} (${remoteTag.error}), so whether ${tag} was pushed is not checked`,
      hint: `check the network and the remote's credentials: \`git ls-remote ${remote} refs/tags/${tag}\``,
    });
  } else if (remoteTag.sha === undefined) {
    plan.status = "resume";
    plan.bump = {
      reason: `${tag} at release commit ${commit} exists only locally: an earlier apply stopped before pushing to ${remote}`,
    };
  } else if (remoteTag.sha !== previous.sha) {
    plan.findings.push({
      severity: "error",
      rule: "release/tag-moved",
      message: `tag ${tag} on ${remote} points at ${remoteTag.sha.slice(0, 7)}, not at release commit ${commit} as here`,
      hint: `inspect both commits; never move a published release tag (if ${remote}'s is right: \`git tag -d ${tag}\` and \`git fetch --tags\`)`,
    });
  }
}

/**
 * A release whose tag exists but whose GitHub release does not (or is still a draft) is unfinished:
 * an earlier apply pushed the tag and then failed to reach GitHub. apply creates and publishes it.
 */
function checkPublished(
  plan: ReleasePlan,
  input: PlanInput,
  previous: VersionTag,
  versionTags: readonly VersionTag[],
): void {
  const gh = input.githubRelease;
  // A tag not yet pushed is unfinished already (checkPushed); its steps include the release.
  if (!gh || gh.tag !== previous.tag || plan.status === "blocked" || plan.status === "resume") return;
  if (input.policy.skipGithubRelease) return;
  // With `draft`, a draft is the finished state.
  if (gh.state === "draft" && input.policy.draft) return;
  if (gh.state === "unknown") {
    plan.findings.push({
      severity: "warning",
      rule: "release/github-unreadable",
      message: `cannot ask GitHub whether ${previous.tag} has its release (${gh.error ?? "no answer"}), so that is not checked`,
      hint: "check GITHUB_TOKEN, GITHUB_API_URL and the network; `release plan` again",
    });
    return;
  }
  if (gh.state === "published") return;
  const files = input.releaseCommits[previous.sha] ?? input.previousFiles;
  const version = formatSemVer(previous.version);
  plan.status = "resume";
  plan.unfinished = gh.state === "draft" ? "publish the draft release" : "create the release";
  plan.release ??= plannedRelease(
    input.component,
    version,
    topChangelogSection(files?.changelog ?? "") ?? `## ${version}\n`,
    versionTags,
  );
  plan.commit ??= { message: files?.message.split("\n", 1)[0] ?? "", sha: previous.sha };
  plan.steps = ["draft-release", "publish-release"];
  plan.bump = {
    reason: `unfinished: ${previous.tag} exists but GitHub has ${gh.state === "draft" ? "only a draft" : "no release"} for it (an earlier apply stopped before publishing); apply will ${plan.unfinished}`,
  };
}

/**
 * The first release of a version that exists already (version file and CHANGELOG section, no
 * tag): tag it at the commit that set it and publish its release, instead of releasing its
 * changes a second time as the next version. The commits after that commit wait for the next plan.
 */
function bootstrapPlan(
  base: ReleasePlan,
  input: PlanInput,
  b: BootstrapCommit,
  versionTags: readonly VersionTag[],
): ReleasePlan {
  const { component } = input;
  const short = b.sha.slice(0, 7);
  const where =
    b.source === "config" ? `bootstrapSha ${short} (release.components.${component.name})` : short;
  const v = b.missing ? undefined : parseSemVer(b.versionFile ?? "");
  if (!v) {
    base.findings.push({
      severity: "error",
      rule: "release/bootstrap",
      message: b.missing
        ? `${where} is not a commit of this repository`
        : `${where}: ${component.versionFile} there holds '${(b.versionFile ?? "nothing").trim()}', not a SemVer version`,
      hint: "set bootstrapSha to the commit that released the current version (`git log -- <version file>`)",
    });
    return base;
  }
  const version = formatSemVer(v);
  const tag = tagFor(component, version);
  const elsewhere = versionTags.find((t) => t.tag === tag && t.sha !== b.sha);
  if (elsewhere) {
    base.findings.push({
      severity: "error",
      rule: "release/tag-exists",
      message: `tag ${tag} exists at ${elsewhere.sha.slice(0, 7)}, which this branch does not contain`,
      hint: "release from the branch that has that tag, or delete the stray tag if it was a mistake",
    });
  }
  const header = b.message.split("\n", 1)[0] ?? "";
  base.status = "resume";
  base.unfinished = `tag ${version} at ${short}, the commit that set it`;
  base.baseline = { version, source: "version-file" };
  base.bump = {
    reason:
      b.source === "config"
        ? `${where} released ${version} (its ${component.versionFile}); no tag ${tag} exists yet, so apply tags it there`
        : `${component.versionFile} says ${version} since ${short} ("${header}") and ${component.changelog} has its section, but no tag ${tag} exists: the first release of an existing version is tagged at the commit that set it, not released again; the ${base.considered.length} commit(s) of ${component.name} after it are planned once the tag exists`,
  };
  base.release = plannedRelease(
    component,
    version,
    topChangelogSection(b.changelog ?? "") ?? `## ${version}\n`,
    versionTags,
  );
  base.commit = { message: header, sha: b.sha };
  base.steps = finishSteps;
  return base;
}

function plannedRelease(
  component: ComponentConfig,
  version: string,
  notes: string,
  versionTags: readonly VersionTag[],
  policy?: ReleasePolicy,
): PlannedRelease {
  const v = parseSemVer(version);
  // A prerelease version is a GitHub prerelease; with release-please's `prerelease: true` a 0.x
  // release is one too (manifest.ts: `prerelease && (preRelease || major === 0)`).
  const prerelease = (v?.prerelease.length ?? 0) > 0 || (policy?.prerelease === true && v?.major === 0);
  // A backport (1.4.3 while 2.0.0 is tagged, on any branch) must not take "latest" from the newer line.
  const superseded =
    v !== undefined &&
    versionTags.some((t) => t.version.prerelease.length === 0 && compareSemVer(t.version, v) > 0);
  return {
    version,
    tag: tagFor(component, version),
    movingTags:
      component.majorTag && v && !prerelease ? [component.majorTag.replace("{major}", String(v.major))] : [],
    releaseName: component.releaseName.replace("{version}", version),
    prerelease,
    makeLatest: component.makeLatest && !prerelease && !superseded,
    ...(policy?.draft ? { draft: true } : {}),
    notes,
  };
}

function resumePlan(
  base: ReleasePlan,
  input: PlanInput,
  pending: GitCommit,
  version: string,
  versionTags: ReturnType<typeof componentVersionTags>,
): ReleasePlan {
  const files = input.releaseCommits[pending.sha];
  const written = files?.versionFile?.trim();
  if (written !== version) {
    base.findings.push({
      severity: "error",
      rule: "release/version-drift",
      file: input.component.versionFile,
      message: `release commit ${pending.sha.slice(0, 7)} says ${version} but its ${input.component.versionFile} says ${written ?? "nothing"}`,
      hint: "revert that release commit and plan again",
    });
  }
  const tag = tagFor(input.component, version);
  const elsewhere = versionTags.find((t) => t.tag === tag && t.sha !== pending.sha);
  if (elsewhere) {
    base.findings.push({
      severity: "error",
      rule: "release/tag-moved",
      message: `tag ${tag} points at ${elsewhere.sha.slice(0, 7)}, not at release commit ${pending.sha.slice(0, 7)}`,
      hint: `inspect both commits; delete the wrong tag (\`git push origin :refs/tags/${tag}\`) only if it was never published`,
    });
  }
  base.status = "resume";
  base.bump = {
    reason: `release commit ${pending.sha.slice(0, 7)} for ${version} has no tag yet: an earlier apply stopped after committing`,
  };
  base.release = plannedRelease(
    input.component,
    version,
    topChangelogSection(files?.changelog ?? "") ?? "",
    versionTags,
  );
  base.commit = { message: pending.message.split("\n", 1)[0] ?? "", sha: pending.sha };
  base.steps = finishSteps;
  return base;
}

/**
 * A CHANGELOG that is not UTF-8 text (Latin-1, binary) would be rewritten with U+FFFD in place of
 * its bytes (git's output is read as UTF-8): refuse it up front, naming the file and line, instead
 * of corrupting it. A U+FFFD or NUL in the text read is the sign.
 */
function checkChangelogText(input: PlanInput, findings: Finding[]): void {
  const text = input.changelog;
  if (text === undefined) return;
  const bad = /[\uFFFD\0]/.exec(text);
  if (!bad) return;
  const file = input.component.changelog;
  const binary = bad[0] === "\0";
  findings.push({
    severity: "error",
    rule: "release/changelog-encoding",
    file,
    line: text.slice(0, bad.index).split("\n").length,
    message: binary
      ? `${file} is binary (a NUL byte), not a Markdown text file: a release would corrupt it`
      : `${file} is not UTF-8 text (a byte sequence that is not UTF-8): a release would corrupt it`,
    hint: binary
      ? `restore ${file} as text, or point changelogPath at a new file`
      : `convert it in a commit (e.g. \`iconv -f latin1 -t utf-8 ${file} -o ${file}.new && mv ${file}.new ${file}\`), or point changelogPath at a new file`,
  });
}

/**
 * Notes longer than GitHub's release body limit would push the tag and then fail at the release on
 * every rerun: the plan cuts the body at the last whole entry that fits and links to the full
 * section in the CHANGELOG at the release tag (the CHANGELOG itself gets every entry).
 */
function limitReleaseBody(
  release: PlannedRelease,
  component: ComponentConfig,
  repositoryUrl: string | undefined,
  findings: Finding[],
): void {
  const length = [...release.notes].length;
  if (length <= GITHUB_RELEASE_BODY_LIMIT) return;
  const link = repositoryUrl
    ? `${repositoryUrl}/blob/${release.tag}/${component.changelog}`
    : `${component.changelog} at ${release.tag}`;
  const lines = release.notes.split("\n");
  const kept: string[] = [];
  let size = 0;
  const footer = (n: number) =>
    `\n\n… ${n} more line(s) of the notes do not fit GitHub's ${GITHUB_RELEASE_BODY_LIMIT.toLocaleString("en")}-character release body: see the full notes in ${repositoryUrl ? `[${component.changelog}](${link})` : link}.\n`;
  for (const line of lines) {
    const next = size + [...line].length + 1;
    if (next + [...footer(lines.length)].length > GITHUB_RELEASE_BODY_LIMIT) break;
    kept.push(line);
    size = next;
  }
  // End at a whole entry: drop a trailing partial multi-line entry (its continuation lines).
  while (kept.length > 0 && /^ {2}\S/.test(lines[kept.length] ?? "")) kept.pop();
  release.body = `${kept.join("\n").replace(/\n+$/, "")}${footer(lines.length - kept.length)}`;
  findings.push({
    severity: "warning",
    rule: "release/notes-too-long",
    message: `the release notes are ${length.toLocaleString("en")} characters; GitHub's release body limit is ${GITHUB_RELEASE_BODY_LIMIT.toLocaleString("en")}`,
    hint: `the GitHub release gets the first ${kept.length} lines and a link to the full notes in ${component.changelog}; release more often to keep each release's notes short`,
  });
}

/** The raw content of a version file at HEAD (the first one's comes as input.versionFile's source). */
const rawFile = (input: PlanInput, file: string): string | undefined => input.versionFiles?.[file];

/**
 * Reads every version file as its type says: one that cannot be read is an error naming file:line
 * (nothing is written: the plan is blocked), and one whose version differs from the first file's
 * is reported (the release writes the new version into all of them).
 */
function checkVersionFiles(input: PlanInput, findings: Finding[]): void {
  const { component } = input;
  if (!input.versionFiles) return;
  let first: { file: string; version: string } | undefined;
  for (const spec of component.versionFiles) {
    const content = rawFile(input, spec.path);
    if (content === undefined) {
      if (spec.type !== "text")
        findings.push({
          severity: "error",
          rule: "release/version-file",
          file: spec.path,
          line: 1,
          message: `${spec.path} (${spec.type} version file) does not exist`,
          hint: `create it with the current version, or remove it from versionFiles of ${component.name}`,
        });
      continue;
    }
    // The first plain text file is checked by the SemVer check above.
    if (spec.type === "text" && spec === component.versionFiles[0]) {
      first = { file: spec.path, version: content.trim() };
      continue;
    }
    try {
      const version = readVersion(spec, content);
      if (!first) first = { file: spec.path, version };
      else if (version !== first.version)
        findings.push({
          severity: "warning",
          rule: "release/version-mismatch",
          file: spec.path,
          message: `${spec.path} says ${version} but ${first.file} says ${first.version}`,
          hint: "the release writes the new version into every version file; set them equal in a commit if that is wrong",
        });
    } catch (error) {
      if (!(error instanceof VersionFileError)) throw error;
      findings.push({
        severity: "error",
        rule: "release/version-file",
        file: error.file,
        line: error.line,
        message: error.message,
        hint: error.hint,
      });
    }
  }
}

/** The new content of every version file and package-lock.json entry, each editing only the version. */
function versionFileChanges(input: PlanInput, version: string, findings: Finding[]): FileChange[] {
  const { component } = input;
  const changes: FileChange[] = [];
  const change = (file: string, before: string | undefined, content: string, summary: string) =>
    changes.push({
      path: file,
      action: before === undefined ? "create" : "update",
      ...(before !== undefined ? { beforeSha256: sha256(before) } : {}),
      content,
      summary,
    });
  for (const spec of component.versionFiles) {
    // Without the snapshot's file map (plain PlanInput), the first file's content is input.versionFile.
    const before = input.versionFiles
      ? rawFile(input, spec.path)
      : spec === component.versionFiles[0]
        ? input.versionFile
        : undefined;
    try {
      const now = before === undefined ? undefined : readVersion(spec, before);
      change(
        spec.path,
        before,
        writeVersion(spec, before, version),
        before === undefined
          ? `create with ${version}`
          : `${now?.trim()} → ${version}${spec.type === "text" ? "" : ` (${spec.type})`}`,
      );
      if (spec.type !== "json" || before === undefined) continue;
      const dir = spec.path.includes("/") ? spec.path.slice(0, spec.path.lastIndexOf("/")) : "";
      for (const lock of lockFilesOf(spec.path)) {
        const lockBefore = rawFile(input, lock);
        if (lockBefore === undefined || changes.some((c) => c.path === lock)) continue;
        const lockDir = lock.includes("/") ? lock.slice(0, lock.lastIndexOf("/")) : "";
        const after = writeLockVersion(
          lock,
          lockBefore,
          packageNameOf(spec.path, before),
          dir,
          lockDir,
          version,
        );
        if (after !== lockBefore) change(lock, lockBefore, after, `${spec.path}'s entries → ${version}`);
      }
    } catch (error) {
      if (!(error instanceof VersionFileError)) throw error;
      if (!findings.some((f) => f.file === error.file && f.rule === "release/version-file"))
        findings.push({
          severity: "error",
          rule: "release/version-file",
          file: error.file,
          line: error.line,
          message: error.message,
          hint: error.hint,
        });
    }
  }
  return changes;
}

/** The released workspace dependencies by package name → new version. */
const workspaceVersions = (input: PlanInput) =>
  new Map((input.workspace?.dependencies ?? []).map((d) => [d.package, d.version]));

/** node-workspace: the section with release-please's `### Dependencies` notes appended. */
function workspaceNotes(input: PlanInput, section: string): string {
  const manifest = input.workspace?.manifest;
  const content = manifest ? rawFile(input, manifest) : undefined;
  if (!manifest || content === undefined) return section;
  const pkg = workspacePackageOf(input.component.name, manifest, content);
  return pkg ? withDependencies(section, dependencyNotes(pkg, workspaceVersions(input))) : section;
}

/**
 * node-workspace: the dependency ranges on the released workspace packages rewritten in the
 * component's package.json (dependencies, devDependencies, optionalDependencies; not
 * peerDependencies, as release-please without updatePeerDependencies) and in its package-lock.json
 * entries (all four maps, as release-please's PackageLockJson), on top of the version changes.
 */
function workspaceRangeChanges(input: PlanInput, changes: FileChange[]): FileChange[] {
  const manifest = input.workspace?.manifest;
  const versions = workspaceVersions(input);
  if (!manifest || versions.size === 0) return changes;
  const out = [...changes];
  const dir = manifest.includes("/") ? manifest.slice(0, manifest.lastIndexOf("/")) : "";
  const edit = (file: string, at: string[], types: readonly DependencyType[]) => {
    const index = out.findIndex((c) => c.path === file);
    const existing = out[index];
    const before = rawFile(input, file);
    const current = existing?.content ?? before;
    if (current === undefined) return;
    const after = writeDependencyRanges(file, current, at, types, versions);
    if (after === current) return;
    if (existing)
      out[index] = {
        ...existing,
        content: after,
        summary: `${existing.summary}; workspace dependency ranges`,
      };
    else
      out.push({
        path: file,
        action: "update",
        beforeSha256: sha256(current),
        content: after,
        summary: "workspace dependency ranges",
      });
  };
  edit(manifest, [], ["dependencies", "devDependencies", "optionalDependencies"]);
  for (const lock of lockFilesOf(manifest)) {
    const lockDir = lock.includes("/") ? lock.slice(0, lock.lastIndexOf("/")) : "";
    const entry = dir === lockDir ? "" : lockDir === "" ? dir : dir.slice(lockDir.length + 1);
    edit(lock, ["packages", entry], dependencyTypes);
  }
  return out;
}

function changelogChange(
  component: ComponentConfig,
  before: string | undefined,
  section: string,
): FileChange {
  const insertion = planChangelogInsertion(before ?? "", section);
  if (before === undefined) {
    return {
      path: component.changelog,
      action: "create",
      content: applyChangelogInsertion("", insertion),
      summary: "create with the release section",
    };
  }
  const lines = before.slice(0, insertion.at).split("\n").length;
  return {
    path: component.changelog,
    action: "update",
    beforeSha256: sha256(before),
    insert: insertion,
    summary: `insert ${insertion.text.split("\n").length - 1} lines at line ${lines}; existing content unchanged`,
  };
}

function finish(plan: ReleasePlan, input: PlanInput): ReleasePlan {
  if (plan.findings.some((f) => f.severity === "error")) plan.status = "blocked";
  plan.steps = stepsFor(plan.steps, input.policy);
  if (plan.release && input.policy.draft) plan.release.draft = true;
  if (input.policySources) {
    plan.policy = {};
    for (const [key, from] of Object.entries(input.policySources))
      plan.policy[key] = { value: input.policy[key as keyof ReleasePolicy], from: from as PolicySource };
  }
  checkGitHubAccess(plan, input);
  const v = plan.release?.version;
  plan.summary =
    plan.status === "release"
      ? `${plan.component}: release ${v} (${plan.bump?.reason ?? ""})`
      : plan.status === "resume"
        ? plan.unfinished
          ? `${plan.component}: unfinished release ${v}: ${plan.unfinished}`
          : `${plan.component}: finish release ${v} (commit ${plan.commit?.sha?.slice(0, 7)})`
        : plan.status === "blocked"
          ? `${plan.component}: blocked — ${plan.findings
              .filter((f) => f.severity === "error")
              .map((f) => f.message)
              .join("; ")}`
          : `${plan.component}: nothing to release since ${plan.previous?.tag ?? "the start of history"} (${plan.bump?.reason ?? ""})`;
  return plan;
}

/** A plan apply would refuse for want of a token or repository says so now, naming which. */
function checkGitHubAccess(plan: ReleasePlan, input: PlanInput): void {
  if (plan.status !== "release" && plan.status !== "resume") return;
  if (input.policy.skipGithubRelease) return;
  const gap = missingGitHubAccess(input.hasGitHubToken, input.repository);
  const gh = input.githubRelease;
  if (!gap && gh?.state === "unknown" && !plan.findings.some((f) => f.rule === "release/github-unreadable")) {
    // The plan asked GitHub (about the previous release) and got no answer: apply needs it.
    plan.findings.push({
      severity: "warning",
      rule: "release/github-unreadable",
      message: `GitHub did not answer (${gh.error ?? "no answer"}); release apply needs it to publish ${plan.release?.tag ?? "the release"}`,
      hint: "check GITHUB_API_URL, GITHUB_TOKEN and the network; apply checks GitHub first and changes nothing if it still cannot reach it",
    });
  }
  if (!gap) return;
  plan.findings.push({
    severity: "warning",
    rule: "release/github-access",
    message: `release apply refuses without GitHub access: ${gap.message}`,
    hint: gap.hint,
  });
}

/** Computes a file's new content from the plan and the content at HEAD. */
export function contentAfter(change: FileChange, before: string | undefined): string {
  if (change.content !== undefined) return change.content;
  if (change.insert && before !== undefined) return applyChangelogInsertion(before, change.insert);
  throw new Error(`plan for ${change.path} has neither content nor insert`);
}

export { sha256 };
