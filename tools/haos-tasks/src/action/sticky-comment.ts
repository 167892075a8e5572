import { DIFF_MARKER, LEGACY_DIFF_MARKERS } from "../diff/markdown.ts";
import { HintedError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { type GitHubTarget, requestGitHub } from "../github/request.ts";

/** Where a sticky comment goes: the API, the repository, the pull request and the token. */
export interface CommentTarget extends GitHubTarget {
  issue: number;
}

export interface StickyResult {
  action: "created" | "updated" | "unchanged";
  id: number;
  url: string;
}

interface IssueComment {
  id: number;
  body?: string;
  html_url: string;
  user: { login: string; type: string } | null;
}

/** A GitHub API failure with the fix (a read-only token names the permission). */
export class CommentError extends HintedError {}

async function call<T>(target: CommentTarget, method: string, path: string, body?: unknown): Promise<T> {
  const response = await requestGitHub<T>(target, method, path, {
    body,
    userAgent: "haos-tasks-diff",
    unreachable: (message, hint) => new CommentError(message, hint, { exitCode: ExitCode.unreachable }),
  });
  if (response.status >= 200 && response.status < 300) return response.body;
  const hint =
    response.status === 401
      ? "pass a valid token in the `token` input"
      : response.status === 403 || response.status === 404
        ? "the job needs `permissions: pull-requests: write` (a fork's pull request gets a read-only token: keep its diff in the job summary)"
        : "retry; the comment is created or updated in place on the next run";
  throw new CommentError(`GitHub ${method} ${path} failed (${response.status}): ${response.message}`, hint, {
    exitCode: response.status === 401 || response.status === 403 ? ExitCode.forbidden : ExitCode.failure,
  });
}

const isOurs = (c: IssueComment) =>
  typeof c.body === "string" && [DIFF_MARKER, ...LEGACY_DIFF_MARKERS].some((m) => c.body?.startsWith(m));

/**
 * Creates the pull request's one diff comment, or updates it in place: the comment whose body
 * starts with the marker (or an earlier version's), a bot's first when several do. A comment that
 * only quotes the marker further down is not ours. An identical body is left alone.
 */
export async function upsertStickyComment(target: CommentTarget, body: string): Promise<StickyResult> {
  if (!body.startsWith(DIFF_MARKER)) {
    throw new CommentError(
      `the comment body does not start with ${DIFF_MARKER}`,
      "pass the diff command's diff-markdown output as the body",
    );
  }
  const found: IssueComment[] = [];
  for (let page = 1; ; page++) {
    const comments = await call<IssueComment[]>(
      target,
      "GET",
      `/issues/${target.issue}/comments?per_page=100&page=${page}`,
    );
    found.push(...comments.filter(isOurs));
    if (comments.length < 100) break;
  }
  const mine = found.find((c) => c.user?.type === "Bot") ?? found[0];
  if (mine && mine.body === body) return { action: "unchanged", id: mine.id, url: mine.html_url };
  if (mine) {
    const updated = await call<IssueComment>(target, "PATCH", `/issues/comments/${mine.id}`, { body });
    return { action: "updated", id: updated.id, url: updated.html_url };
  }
  const created = await call<IssueComment>(target, "POST", `/issues/${target.issue}/comments`, { body });
  return { action: "created", id: created.id, url: created.html_url };
}
