/**
 * Executes a release plan step by step: files, commit, tag, push, draft release, publish. Each step
 * looks at what exists first, so a re-run after a failure anywhere completes the release or no-ops;
 * concurrent runs end with exactly one release (the branch and tag refs are the lock; duplicate
 * drafts are resolved to the oldest).
 */
import type { PhaseEvent } from "../phases.ts";
import { ReleaseError } from "./errors.ts";
import type { GitHubApi, GitHubRelease } from "./github-api.ts";
import type { PlannedRelease, ReleasePlan } from "./planner.ts";
import type { ReleaseTransport } from "./transports/transport.ts";

export interface ApplyOptions {
  onEvent?: (event: PhaseEvent) => void;
}

export interface ApplyResult {
  status: "released" | "up-to-date" | "lost-race";
  message: string;
  sha?: string;
  releaseUrl?: string;
}

/** Applies `plan` through `transport`. */
export async function applyRelease(
  plan: ReleasePlan,
  transport: ReleaseTransport,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const started = Date.now();
  const emit = (phase: string, status: PhaseEvent["status"], detail: string) =>
    options.onEvent?.({ phase, status, detail, elapsed: Date.now() - started });
  if (plan.status === "blocked") {
    throw new ReleaseError(
      plan.summary,
      plan.findings.find((f) => f.hint)?.hint ?? "run `haos-tasks release plan` for details",
      "failure",
    );
  }
  const release = plan.release;
  if (!release) {
    emit("plan", "skipped", plan.summary);
    return { status: "up-to-date", message: `nothing to release: ${plan.summary}` };
  }
  const step = async <T>(phase: string, detail: string, run: () => Promise<T>): Promise<T> => {
    emit(phase, "running", detail);
    const value = await run();
    emit(phase, "succeeded", detail);
    return value;
  };
  const github = transport.github;
  // skipGithubRelease (release-please's skip-github-release): commit, tag and push only.
  const withGitHub = plan.steps.includes("draft-release");
  if (plan.status === "up-to-date") {
    if (!withGitHub) return { status: "up-to-date", message: `nothing to release: ${plan.summary}` };
    if (!github) {
      return {
        status: "up-to-date",
        message: `nothing to release: ${plan.summary} (no GitHub token or repository: the release of ${release.tag} was not checked)`,
      };
    }
    const existing = await github.releasesForTag(release.tag);
    if (existing.some((r) => !r.draft || release.draft)) {
      return {
        status: "up-to-date",
        message: `nothing to release: ${plan.summary}; ${release.tag} is published`,
      };
    }
    emit("plan", "progress", `${release.tag} has no published release yet: completing it`);
  }
  if (!github && withGitHub) {
    // The plan names what is missing; a transport built from another environment than the plan's falls back.
    const access = plan.findings.find((f) => f.rule === "release/github-access");
    throw new ReleaseError(
      `${release.releaseName}: ${access?.message ?? "no GitHub repository or token for the release"}`,
      access?.hint ??
        "set GITHUB_TOKEN (or GH_TOKEN) and GITHUB_REPOSITORY (or a github.com remote, or release.repository)",
      "usage",
    );
  }
  await step(
    "preflight",
    "clean tree, full history, on a branch, not behind; the token may push and release",
    async () => {
      // GitHub first: a token that cannot publish must stop the run before anything is pushed.
      if (withGitHub) await github?.checkAccess();
      await transport.preflight(plan);
    },
  );
  let sha = plan.commit?.sha;
  if (!sha) {
    await step("write-files", plan.files.map((f) => f.path).join(", "), () => transport.writeFiles(plan));
    sha = await step("commit", plan.commit?.message ?? "", () => transport.commit(plan));
  }
  const commitSha = sha;
  await step("tag", [release.tag, ...release.movingTags].join(", "), () => transport.tag(plan, commitSha));
  await step("push", `${plan.branch ?? ""} and ${release.tag}`, () => transport.push(plan, commitSha));
  if (!withGitHub || !github) {
    return {
      status: "released",
      message: `released ${release.releaseName} at ${commitSha.slice(0, 7)} (tag ${release.tag} pushed; no GitHub release: skipGithubRelease)`,
      sha: commitSha,
    };
  }
  const outcome = await step("release", release.releaseName, () => publishRelease(github, release));
  if (outcome.lost) {
    return {
      status: "lost-race",
      message: `${release.releaseName}: another run published it (${outcome.release.html_url})`,
      sha: commitSha,
      releaseUrl: outcome.release.html_url,
    };
  }
  return {
    status: "released",
    message: `released ${release.releaseName} at ${commitSha.slice(0, 7)}: ${outcome.release.html_url}`,
    sha: commitSha,
    releaseUrl: outcome.release.html_url,
  };
}

/**
 * Creates the release as a draft, then publishes it (immutable releases lock the tag on publish).
 * If several drafts exist for the tag (concurrent runs), the oldest wins and ours is deleted.
 */
async function publishRelease(
  github: GitHubApi,
  release: PlannedRelease,
): Promise<{ release: GitHubRelease; lost: boolean }> {
  let existing = await github.releasesForTag(release.tag);
  const published = existing.find((r) => !r.draft);
  if (published) return { release: published, lost: false };
  let mine: GitHubRelease | undefined;
  if (existing.length === 0) {
    const created = await github.request<GitHubRelease>("POST", "/releases", {
      tag_name: release.tag,
      name: release.releaseName,
      body: release.body ?? release.notes,
      draft: true,
      prerelease: release.prerelease,
    });
    if (created.status !== 201)
      throw new ReleaseError(
        `cannot create the draft release ${release.tag} (${created.status})`,
        "see GitHub's message; re-run apply",
      );
    mine = created.body;
    existing = await github.releasesForTag(release.tag);
  }
  const winnerPublished = existing.find((r) => !r.draft);
  const drafts = existing.filter((r) => r.draft).sort((a, b) => a.id - b.id);
  const winner = winnerPublished ?? drafts[0] ?? mine;
  if (!winner) throw new ReleaseError(`the draft release for ${release.tag} vanished`, "re-run apply");
  if (mine && mine.id !== winner.id) {
    await github.request("DELETE", `/releases/${mine.id}`);
    if (winnerPublished) return { release: winnerPublished, lost: true };
  }
  // release-please's `draft`: the release stays a draft for a person to publish.
  if (release.draft) return { release: winner, lost: Boolean(mine && mine.id !== winner.id) };
  const done = await github.request<GitHubRelease>("PATCH", `/releases/${winner.id}`, {
    draft: false,
    make_latest: release.makeLatest ? "true" : "false",
  });
  if (done.status !== 200)
    throw new ReleaseError(
      `cannot publish release ${release.tag} (${done.status})`,
      "re-run apply; it publishes the existing draft",
    );
  return { release: done.body, lost: Boolean(mine && mine.id !== winner.id) };
}
