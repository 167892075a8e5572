import { type DiffOptions, diffApps } from "../diff/diff.ts";
import { parseMaxChars, renderDiffMarkdown } from "../diff/markdown.ts";
import type { ActionContext, ActionResult } from "./context.ts";
import { getList, getOptional, getRequired, InputError } from "./inputs.ts";

/** Parses the diff inputs into the options `haos-tasks diff` builds from its flags. */
export function diffOptions(ctx: ActionContext): { options: DiffOptions; maxChars: number } {
  const maxChars = parseMaxChars(getOptional("max-chars", ctx.env));
  if (typeof maxChars !== "number") throw new InputError("max-chars", maxChars.problem);
  return {
    options: {
      repo: ctx.cwd,
      base: getRequired("base-ref", ctx.env, "for command diff (e.g. the pull request's base.sha)"),
      head: getOptional("head-ref", ctx.env) ?? "HEAD",
      paths: getList("paths", ctx.env),
      kubectl: ctx.env.HAOS_TASKS_KUBECTL ?? "kubectl",
    },
    maxChars,
  };
}

/** `command: diff` — the rendered diff as outputs and job summary. */
export async function runDiff(ctx: ActionContext): Promise<ActionResult> {
  const { options, maxChars } = diffOptions(ctx);
  const result = await diffApps(options);
  const markdown = renderDiffMarkdown(result, { maxChars });
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
  await ctx.summary(markdown);
  ctx.log(`diff: ${result.changedFiles} changed files, ${apps.length} affected apps`);
  const broken = result.apps.filter((a) => a.status === "error").map((a) => a.path);
  return broken.length > 0
    ? { failure: `does not build at head: ${broken.join(", ")} (see the job summary)` }
    : {};
}
