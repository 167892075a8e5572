/**
 * The few GitHub REST calls a release makes (git data, refs, releases), over fetch. Errors carry
 * the fix: 401/403 name the token and the `contents: write` permission, network errors the URL.
 */
import { ReleaseError } from "./errors.ts";

export interface GitHubTarget {
  /** e.g. https://api.github.com (GITHUB_API_URL). */
  apiUrl: string;
  /** `owner/name`. */
  repository: string;
  token: string;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
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
    const url = `${this.target.apiUrl}/repos/${this.target.repository}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: "application/vnd.github+json",
          authorization: `Bearer ${this.target.token}`,
          "x-github-api-version": "2022-11-28",
          "user-agent": "haos-tasks-release",
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new ReleaseError(
        `GitHub API unreachable at ${url}: ${(error as Error).message}`,
        "check the network and GITHUB_API_URL",
        "unreachable",
      );
    }
    const text = await response.text();
    const parsed = text === "" ? undefined : (JSON.parse(text) as T);
    const message = (parsed as { message?: string } | undefined)?.message ?? text.slice(0, 200);
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
    return { status: response.status, body: parsed as T };
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
