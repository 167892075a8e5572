import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type DiffOptions, type DiffResult, diffApps } from "../diff/diff.ts";
import { diffJson } from "../diff/formats.ts";
import { parseMaxChars, renderDiffMarkdown, SUMMARY_MAX_CHARS } from "../diff/markdown.ts";
import type { ActionContext, ActionResult } from "./context.ts";
import { getBoolean, getList, getOptional, getRequired, InputError } from "./inputs.ts";
import { type CommentTarget, upsertStickyComment } from "./sticky-comment.ts";
import { ensureKustomizeBuild } from "./tools.ts";

/** Parses the diff inputs into the options `haos-tasks diff` builds from its flags. */
export function diffOptions(ctx: ActionContext): {
  options: DiffOptions;
  maxChars: number;
  comment: boolean;
} {
  const maxChars = parseMaxChars(getOptional("max-chars", ctx.env));
  if (typeof maxChars !== "number") throw new InputError("max-chars", maxChars.problem);
  return {
    options: {
      repo: ctx.cwd,
      base: getRequired("base-ref", ctx.env, "for command diff (e.g. the pull request's base.sha)"),
      head: getOptional("head-ref", ctx.env) ?? "HEAD",
      paths: getList("paths", ctx.env),
      ...(ctx.env.HAOS_TASKS_KUBECTL ? { kubectl: ctx.env.HAOS_TASKS_KUBECTL } : {}),
      env: ctx.env,
    },
    maxChars,
    comment: getBoolean("comment", ctx.env, false),
  };
}

/** The pull request the workflow runs for (pull_request / pull_request_target events), if any. */
function pullRequestNumber(env: NodeJS.ProcessEnv): number | undefined {
  if (!env.GITHUB_EVENT_PATH) return undefined;
  try {
    const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, "utf8")) as {
      pull_request?: { number?: unknown };
      number?: unknown;
    };
    const n = event.pull_request?.number ?? (event.pull_request ? event.number : undefined);
    return typeof n === "number" && Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function commentTarget(ctx: ActionContext, issue: number): CommentTarget {
  const token = getRequired("token", ctx.env, "to comment (default: github.token)");
  const repository = ctx.env.GITHUB_REPOSITORY;
  if (!repository)
    throw new InputError("token", "has no repository to comment on: GITHUB_REPOSITORY is not set");
  return {
    apiUrl: ctx.env.GITHUB_API_URL ?? "https://api.github.com",
    repository,
    issue,
    token,
  };
}

async function postComment(ctx: ActionContext, markdown: string): Promise<ActionResult> {
  const issue = pullRequestNumber(ctx.env);
  if (issue === undefined) {
    ctx.log(`no pull request in this ${ctx.env.GITHUB_EVENT_NAME ?? "unknown"} event: no sticky comment`);
    return {};
  }
  const result = await upsertStickyComment(commentTarget(ctx, issue), markdown);
  ctx.setOutput("comment-url", result.url);
  ctx.log(`sticky diff comment ${result.action}: ${result.url}`);
  return {};
}

const fullDiffNote =
  "the job summary of this run, and the Markdown file in the Action's `diff-file` output (upload it as an artifact)";

/** Writes the whole diff (nothing cut) as Markdown and JSON for an artifact; returns the paths. */
function writeFullDiff(ctx: ActionContext, result: DiffResult): { markdown: string; json: string } {
  const dir = path.join(ctx.env.RUNNER_TEMP ?? os.tmpdir(), "haos-tasks-diff");
  mkdirSync(dir, { recursive: true });
  const files = { markdown: path.join(dir, "diff.md"), json: path.join(dir, "diff.json") };
  writeFileSync(
    files.markdown,
    renderDiffMarkdown(result, {
      maxChars: Number.MAX_SAFE_INTEGER,
      maxLinesPerResource: Number.MAX_SAFE_INTEGER,
    }),
  );
  writeFileSync(files.json, `${JSON.stringify(diffJson(result), null, 2)}\n`);
  return files;
}

/** `command: diff` — the rendered diff as outputs, job summary, full-diff files and (opt-in) the sticky comment. */
export async function runDiff(ctx: ActionContext): Promise<ActionResult> {
  const parsed = diffOptions(ctx);
  const { maxChars, comment } = parsed;
  // The kustomize this runner has, passed in (never set on the Action's environment).
  const kustomize = parsed.options.kubectl ? undefined : await ensureKustomizeBuild(ctx);
  const options: DiffOptions =
    kustomize?.kustomize === "kubectl"
      ? { ...parsed.options, kubectl: "kubectl" }
      : kustomize
        ? {
            ...parsed.options,
            env: { ...parsed.options.env, HAOS_TASKS_TOOLS_DIR: path.dirname(kustomize.kustomizeBuild) },
          }
        : parsed.options;
  const result = await diffApps(options);
  const markdown = renderDiffMarkdown(result, { maxChars, fullDiff: fullDiffNote });
  const apps = result.apps.map((app) => ({
    path: app.path,
    status: app.status,
    added: app.resources.filter((r) => r.change === "added").length,
    changed: app.resources.filter((r) => r.change === "changed").length,
    removed: app.resources.filter((r) => r.change === "removed").length,
  }));
  ctx.setOutput("diff-markdown", markdown);
  ctx.setOutput(
    "diff-changed",
    result.apps.some((a) => a.status !== "unchanged"),
  );
  ctx.setOutput("diff-apps", JSON.stringify(apps));
  const files = writeFullDiff(ctx, result);
  ctx.setOutput("diff-file", files.markdown);
  ctx.setOutput("diff-json-file", files.json);
  await ctx.summary(
    renderDiffMarkdown(result, {
      maxChars: SUMMARY_MAX_CHARS,
      fullDiff: "the Markdown file in the Action's `diff-file` output (upload it as an artifact)",
    }),
  );
  ctx.log(
    `diff: ${result.changedFiles} changed files, ${apps.length} affected owners, ${result.dangers.length} dangers; full diff in ${files.markdown}`,
  );
  if (comment) await postComment(ctx, markdown);
  const broken = result.apps.filter((a) => a.status === "error").map((a) => a.path);
  return broken.length > 0
    ? { failure: `does not build at head: ${broken.join(", ")} (see the job summary)` }
    : {};
}

/**
 * `command: comment` — posts the Markdown a diff step produced (input `body`) as the pull request's
 * sticky comment, created or updated in place. For a job that holds `pull-requests: write` and
 * runs no code of the pull request (see .github/workflows/ci.yml).
 */
export async function runDiffComment(ctx: ActionContext): Promise<ActionResult> {
  const body = getRequired("body", ctx.env, "for command comment (the diff step's diff-markdown output)");
  if (pullRequestNumber(ctx.env) === undefined) {
    return {
      failure: `command comment needs a pull_request event (got ${ctx.env.GITHUB_EVENT_NAME ?? "none"})`,
    };
  }
  return postComment(ctx, body);
}
