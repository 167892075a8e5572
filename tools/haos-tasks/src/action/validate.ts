import { writeFile } from "node:fs/promises";
import path from "node:path";
import { countFindings } from "../findings.ts";
import type { PhaseEvent } from "../phases.ts";
import { annotations, jobSummary } from "../report/github.ts";
import { renderSarif } from "../report/sarif.ts";
import { resolveMirror } from "../schemas/sources.ts";
import { catalogLoader } from "../validate/catalog-loader.ts";
import { type ValidateOptions, validate } from "../validate/pipeline.ts";
import { failsRun } from "../validate/report.ts";
import type { ActionContext, ActionResult } from "./context.ts";
import { getBoolean, getList, getOptional } from "./inputs.ts";
import { ensureValidateTools, type ValidateTools } from "./tools.ts";

/**
 * Parses the validate inputs into the options `haos-tasks validate` builds from its flags; the
 * tools (ensureValidateTools) are passed in, resolved once.
 */
export function validateOptions(ctx: ActionContext, tools?: ValidateTools): ValidateOptions {
  const explicitMirror = getOptional("schema-mirror", ctx.env);
  const mirror = resolveMirror(explicitMirror ? path.resolve(ctx.cwd, explicitMirror) : undefined, ctx.env);
  const progress = (event: PhaseEvent) => {
    if (event.status !== "progress") ctx.log(`validate: ${event.phase}: ${event.detail}`);
  };
  return {
    targets: getList("paths", ctx.env),
    cwd: ctx.cwd,
    env: ctx.env,
    ...(getBoolean("strict", ctx.env, false) ? { strict: true } : {}),
    ...(mirror ? { fetch: { mirror } } : {}),
    ...(tools
      ? {
          kubeconform: tools.kubeconform,
          ...tools.kustomize,
          ...(tools.fluxRender ? { fluxRender: tools.fluxRender } : { renderer: false as const }),
        }
      : {}),
    onProgress: progress,
    loadCatalog: catalogLoader({ ...(mirror ? { mirror } : {}), env: ctx.env, onProgress: progress }),
  };
}

/** `command: validate` — annotations (capped), a job-summary table, counts as outputs, optional SARIF. */
export async function runValidate(ctx: ActionContext): Promise<ActionResult> {
  const sarifFile = getOptional("sarif-file", ctx.env);
  const options = validateOptions(ctx, await ensureValidateTools(ctx));
  const result = await validate(options);
  const counts = countFindings(result.findings);
  ctx.annotate(annotations(result.findings));
  await ctx.summary(jobSummary(result.findings));
  if (sarifFile) {
    await writeFile(
      path.resolve(ctx.cwd, sarifFile),
      renderSarif(result.findings, { version: ctx.env.HAOS_TASKS_VERSION ?? "0.1.0" }),
    );
  }
  ctx.setOutput("errors", counts.error);
  ctx.setOutput("warnings", counts.warning);
  ctx.log(
    `validate: ${result.stats.files} files, ${result.stats.objects} objects: ${counts.error} errors, ${counts.warning} warnings`,
  );
  if (counts.error > 0)
    return { failure: `validate: ${counts.error} errors (see the annotations and job summary)` };
  if (failsRun(counts, options))
    return { failure: `validate: ${counts.warning} warnings and strict is true` };
  return {};
}
