/**
 * The few GitHub REST calls a release makes (git data, refs, releases), over src/github/request.ts.
 * Errors carry the fix: 401/403 name the token and the `contents: write` permission, network
 * errors and answers that are not GitHub's the URL.
 */
import { type GitHubTarget, requestGitHub } from "../github/request.ts";
import { ReleaseError } from "./errors.ts";

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers?: Headers;
}

/** What `GET /repos/{owner}/{repo}` says about the token's rights (full-repository, in part). */
interface RepositoryAccess {
  full_name?: string;
  private?: boolean;
  archived?: boolean;
  permissions?: { admin?: boolean; maintain?: boolean; push?: boolean };
}

export interface GitHubRelease {
  id: number;
  tag_name: string;
  name: string | null;
  draft: boolean;
  prerelease: boolean;
  html_url: string;
  body?: string | null;
}

/** The token for the GitHub API: GITHUB_TOKEN, else GH_TOKEN; undefined when none is set. */
export function githubToken(env: NodeJS.ProcessEnv): string | undefined {
  return (env.GITHUB_TOKEN ?? env.GH_TOKEN) || undefined;
}

/** Reads the GitHub target from the environment; undefined when a token or repository is missing. */
export function githubTargetFromEnv(
  env: NodeJS.ProcessEnv,
  repository: string | undefined,
): GitHubTarget | undefined {
  const token = githubToken(env);
  if (!token || !repository) return undefined;
  return { apiUrl: (env.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, ""), repository, token };
}

/** What is missing to reach GitHub, and how to set it. */
export interface GitHubAccessGap {
  message: string;
  hint: string;
}

/**
 * Names exactly what keeps a release from the GitHub API — the token, the repository or both —
 * with how to set each; undefined when neither is missing.
 */
export function missingGitHubAccess(
  hasToken: boolean,
  repository: string | undefined,
): GitHubAccessGap | undefined {
  const missing: string[] = [];
  const fixes: string[] = [];
  if (!hasToken) {
    missing.push("no GitHub token (neither GITHUB_TOKEN nor GH_TOKEN is set)");
    fixes.push(
      "set GITHUB_TOKEN to a token with `contents: write` (locally `export GITHUB_TOKEN=$(gh auth token)`; in a workflow pass secrets.GITHUB_TOKEN as GITHUB_TOKEN and give the job `permissions: contents: write`)",
    );
  }
  if (!repository) {
    missing.push(
      "no GitHub repository (release.repository and GITHUB_REPOSITORY are not set, and the remote is not a github.com URL)",
    );
    fixes.push(
      "set `repository: owner/name` under release: in .haos-tasks.yaml, or GITHUB_REPOSITORY=owner/name",
    );
  }
  return missing.length > 0 ? { message: missing.join(" and "), hint: fixes.join("; ") } : undefined;
}

/** A small GitHub REST client bound to one repository. */
export class GitHubApi {
  readonly target: GitHubTarget;
  constructor(target: GitHubTarget) {
    this.target = target;
  }

  /** Calls `/repos/{owner}/{repo}<path>`; returns 2xx, 404 and 422 to the caller, throws on the rest. */
  async request<T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const response = await requestGitHub<T>(this.target, method, path, {
      body,
      userAgent: "haos-tasks-release",
      unreachable: (message, hint) => new ReleaseError(message, hint, "unreachable"),
    });
    const { message } = response;
    if (response.status === 401) {
      throw new ReleaseError(
        `GitHub rejected the token (401 on ${method} ${path}): ${message}`,
        "set GITHUB_TOKEN to a valid token",
        "forbidden",
      );
    }
    if (response.status === 403) {
      throw new ReleaseError(
        `GitHub refused ${method} ${path} (403): ${message}`,
        "the token needs the `contents: write` permission: add `permissions: contents: write` to the workflow job (or give the token Contents read/write)",
        "forbidden",
      );
    }
    if (response.status >= 500) {
      throw new ReleaseError(
        `GitHub failed ${method} ${path} (${response.status}): ${message}`,
        "retry later; re-running apply completes the release",
        "unreachable",
      );
    }
    if (
      response.status >= 400 &&
      response.status !== 404 &&
      response.status !== 409 &&
      response.status !== 422
    ) {
      throw new ReleaseError(
        `GitHub ${method} ${path} returned ${response.status}: ${message}`,
        "see GitHub's message",
      );
    }
    return { status: response.status, body: response.body, headers: response.headers };
  }

  /**
   * Proves, before anything is pushed, that the token is valid and may push and create releases
   * on the repository (both need the `contents: write` permission), so apply never stops halfway:
   *
   * 1. `GET /repos/{owner}/{repo}`: 401 is a bad token, 404 a repository the token cannot see.
   * 2. The repository's `permissions` (present for user tokens): `push` (or maintain/admin) needed.
   * 3. Else the classic token's scopes (`X-OAuth-Scopes`): `repo`, or `public_repo` for a public one.
   * 4. Else (an installation token such as GITHUB_TOKEN, which gets neither): a write GitHub must
   *    refuse on content — creating a tag ref at the all-zero object. GitHub authorizes before it
   *    validates, so a token without `contents: write` gets 403 and one with it 422 ("Object does
   *    not exist"); nothing is created either way.
   */
  async checkAccess(): Promise<void> {
    const repo = this.target.repository;
    const { status, body, headers } = await this.request<RepositoryAccess>("GET", "");
    if (status === 404) {
      throw new ReleaseError(
        `GitHub has no repository ${repo} that this token can see (404 on GET /repos/${repo})`,
        "check GITHUB_REPOSITORY (or release.repository) and that the token has access to that repository",
        "usage",
      );
    }
    if (status !== 200) {
      throw new ReleaseError(
        `GitHub answered ${status} to GET /repos/${repo}`,
        "re-run apply; nothing was pushed",
        "unreachable",
      );
    }
    const fix =
      "give the token `contents: write` (workflow: `permissions: contents: write`; fine-grained token: Contents read and write; classic token: the `repo` scope)";
    if (body?.archived) {
      throw new ReleaseError(
        `${repo} is archived: nothing can be pushed or released`,
        "unarchive the repository",
        "forbidden",
      );
    }
    const p = body?.permissions;
    if (p) {
      if (p.push || p.maintain || p.admin) return;
      throw new ReleaseError(
        `the token may not push to ${repo} (GitHub says permissions.push is false); nothing was pushed`,
        fix,
        "forbidden",
      );
    }
    const scopes = headers?.get("x-oauth-scopes");
    if (scopes !== null && scopes !== undefined) {
      const list = scopes.split(",").map((x) => x.trim());
      if (list.includes("repo") || (list.includes("public_repo") && body?.private === false)) return;
      throw new ReleaseError(
        `the token's scopes (${scopes || "none"}) do not allow pushing to ${repo}; nothing was pushed`,
        fix,
        "forbidden",
      );
    }
    const probe = await this.request("POST", "/git/refs", {
      ref: "refs/tags/haos-tasks-preflight-probe",
      sha: "0000000000000000000000000000000000000000",
    });
    if (probe.status === 422) return;
    throw new ReleaseError(
      `cannot prove the token may write to ${repo}: the write probe answered ${probe.status}; nothing was pushed`,
      fix,
      "forbidden",
    );
  }

  /** Every release (drafts included) whose tag is `tag`. */
  async releasesForTag(tag: string): Promise<GitHubRelease[]> {
    const found: GitHubRelease[] = [];
    for (let page = 1; page <= 10; page++) {
      const { status, body } = await this.request<GitHubRelease[]>(
        "GET",
        `/releases?per_page=100&page=${page}`,
      );
      if (status !== 200)
        throw new ReleaseError(`cannot list releases (${status})`, "check GITHUB_REPOSITORY and the token");
      found.push(...body.filter((r) => r.tag_name === tag));
      if (body.length < 100) break;
    }
    return found;
  }
}
