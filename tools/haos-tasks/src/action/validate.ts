import { writeFile } from "node:fs/promises";
import path from "node:path";
import { countFindings } from "../findings.ts";
import type { PhaseEvent } from "../phases.ts";
import { annotationLines, jobSummary } from "../report/github.ts";
import { renderSarif } from "../report/sarif.ts";
import { resolveMirror } from "../schemas/sources.ts";
import { catalogLoader } from "../validate/catalog-loader.ts";
import { type ValidateOptions, validate } from "../validate/pipeline.ts";
import type { ActionContext, ActionResult } from "./context.ts";
import { getBoolean, getList, getOptional } from "./inputs.ts";
import { ensureFluxRender, ensureKubeconform, ensureKustomizeBuild } from "./tools.ts";

/** Parses the validate inputs into the options `haos-tasks validate` builds from its flags. */
export function validateOptions(ctx: ActionContext): ValidateOptions {
  const explicitMirror = getOptional("schema-mirror", ctx.env);
  const mirror = resolveMirror(explicitMirror ? path.resolve(ctx.cwd, explicitMirror) : undefined, ctx.env);
  const progress = (event: PhaseEvent) => {
    if (event.status !== "progress") ctx.log(`validate: ${event.phase}: ${event.detail}`);
  };
  return {
    targets: getList("paths", ctx.env),
    cwd: ctx.cwd,
    ...(mirror ? { fetch: { mirror } } : {}),
    onProgress: progress,
    loadCatalog: catalogLoader({ ...(mirror ? { mirror } : {}), env: ctx.env, onProgress: progress }),
  };
}

/** `command: validate` — annotations (capped), a job-summary table, counts as outputs, optional SARIF. */
export async function runValidate(ctx: ActionContext): Promise<ActionResult> {
  const strict = getBoolean("strict", ctx.env, false);
  const sarifFile = getOptional("sarif-file", ctx.env);
  await ensureKubeconform(ctx);
  await ensureKustomizeBuild(ctx);
  const render = await ensureFluxRender(ctx);
  const result = await validate({ ...validateOptions(ctx), ...(render ? {} : { render: false }) });
  const counts = countFindings(result.findings);
  ctx.annotate(annotationLines(result.findings));
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
  if (strict && counts.warning > 0)
    return { failure: `validate: ${counts.warning} warnings and strict is true` };
  return {};
}
