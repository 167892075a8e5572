/**
 * The one way haos-tasks talks to GitHub's REST API (the release's client and the Action's sticky
 * comment): fetch with the token, GitHub's media type and API version, a 30 s deadline, and the
 * guards on what comes back — a host that does not answer, an answer over `maxGitHubResponseBytes`
 * and a 2xx that is not GitHub's JSON (a proxy's or a captive portal's page) are errors naming the
 * URL. Each caller says what an HTTP status means to it (and which error class it throws).
 */
import type { HintedError } from "../errors.ts";

/** Where the API is, whose repository, and the token. */
export interface GitHubTarget {
  /** e.g. https://api.github.com (GITHUB_API_URL). */
  apiUrl: string;
  /** `owner/name`. */
  repository: string;
  token: string;
}

/** What GitHub answered, whatever the status: the caller maps the status to its own errors. */
export interface GitHubAnswer<T> {
  status: number;
  /** The parsed JSON; undefined for an empty body or a non-2xx answer that is not JSON. */
  body: T;
  headers: Headers;
  /** GitHub's `message` (for an error), else the body's first 200 characters. */
  message: string;
}

export interface GitHubRequestOptions {
  /** The JSON body (POST, PATCH). */
  body?: unknown;
  /** `haos-tasks-release`, `haos-tasks-diff`: which part of haos-tasks is asking. */
  userAgent: string;
  /**
   * The caller's error for "no GitHub answered": unreachable, too large, not GitHub's JSON. The
   * message names the URL; the hint the fix.
   */
  unreachable: (message: string, hint: string) => HintedError;
}

/**
 * The most one answer may hold. GitHub's largest pages here are 100 releases (bodies up to
 * 125,000 characters each, about 12.5 MB) and 100 comments (65,536 characters each, about 6.5 MB);
 * an endless body must end the request, not fill memory until the 30 s deadline.
 */
export const maxGitHubResponseBytes = 64 * 1024 * 1024;

const mib = (bytes: number) => `${bytes / 1024 / 1024} MiB`;

/** The body as text, or undefined once it passes `limit` bytes (the stream is cancelled then). */
async function readBounded(response: Response, limit: number): Promise<string | undefined> {
  const declared = Number(response.headers.get("content-length") ?? "");
  if (declared > limit) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Calls `<apiUrl>/repos/{owner}/{repo}<path>` and returns the answer for any HTTP status. */
export async function requestGitHub<T>(
  target: GitHubTarget,
  method: string,
  path: string,
  options: GitHubRequestOptions,
): Promise<GitHubAnswer<T>> {
  const { body, userAgent, unreachable } = options;
  const url = `${target.apiUrl.replace(/\/+$/, "")}/repos/${target.repository}${path}`;
  const check =
    "check GITHUB_API_URL and the network path: a proxy, a captive portal or another service answers there";
  let response: Response;
  let text: string | undefined;
  try {
    response = await fetch(url, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${target.token}`,
        "x-github-api-version": "2022-11-28",
        "user-agent": userAgent,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      // A host that accepts and never answers (or never stops answering) must not hang the run.
      signal: AbortSignal.timeout(30_000),
    });
    text = await readBounded(response, maxGitHubResponseBytes);
  } catch (error) {
    throw unreachable(
      `GitHub API unreachable at ${url}: ${(error as Error).message}`,
      "check the network and GITHUB_API_URL",
    );
  }
  if (text === undefined) {
    throw unreachable(
      `${url} did not answer as the GitHub API: HTTP ${response.status} with an answer over ${mib(maxGitHubResponseBytes)}`,
      check,
    );
  }
  let parsed: T | undefined;
  try {
    parsed = text === "" ? undefined : (JSON.parse(text) as T);
  } catch {
    // A proxy's or an outage's HTML page: keep the status, report the text.
    parsed = undefined;
  }
  // A 2xx that is not GitHub's JSON (a proxy's or a captive portal's HTML page): said with the URL,
  // not left to fail later as "Cannot read properties of undefined (reading 'filter')".
  if (response.status >= 200 && response.status < 300 && parsed === undefined && text !== "") {
    const type = response.headers.get("content-type") ?? "no content type";
    throw unreachable(
      `${url} did not answer as the GitHub API: HTTP ${response.status} with ${type.split(";")[0]} (${JSON.stringify(text.slice(0, 80))})`,
      check,
    );
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return {
    status: response.status,
    body: parsed as T,
    headers: response.headers,
    message: typeof message === "string" ? message : text.slice(0, 200),
  };
}
