import os from "node:os";
import { kustomizeEngine, startHelpers } from "../manifests/kustomize-build.ts";
import type { KustomizeBuilder } from "../manifests/kustomize-inprocess.ts";
import { cacheDirs } from "../schemas/catalog.ts";
import { readSchemaLock, resolveMirror } from "../schemas/sources.ts";
import {
  type ClosableRenderer,
  openContext,
  resultOf,
  type ValidateContext,
  type ValidateOptions,
  type ValidateResult,
} from "./context.ts";
import { isFluxKustomization } from "./flux.ts";
import { buildTail, SteppedWork, settled, startedEarly } from "./schedule.ts";
import { buildStep } from "./stages/build.ts";
import { lintStage } from "./stages/lint.ts";
import { type LockedFiles, renderStep, startRendererEarly } from "./stages/render.ts";
import { rulesStep } from "./stages/rules.ts";
import { schemaStep } from "./stages/schemas.ts";
import { subjectsStep } from "./stages/subjects.ts";

export { planBuilds } from "./build-stage.ts";
export type { ValidateConfig } from "./config.ts";
export type { ChartFetchOptions, ClosableRenderer, ValidateOptions, ValidateResult } from "./context.ts";
export { shortenBuildMessage } from "./stages/build.ts";

/**
 * validate: lint → build → subjects → render → schemas (kubeconform), references and platform
 * rules → findings. Plain data in, findings out; progress goes to `onProgress`. Given files or
 * folders short of the repository, the whole repository is read (references resolve there) and
 * only findings in the given files are reported. Each stage is a function over the run's
 * context (context.ts, stages/); how they overlap is schedule.ts's.
 */
export async function validate(options: ValidateOptions): Promise<ValidateResult> {
  // The kustomize helpers start first: their start (a Go process each) overlaps reading the
  // repository. A missing helper is reported where the build awaits them.
  const helpers =
    options.only !== "lint" && kustomizeEngine(options) === "in-process"
      ? startedEarly(
          startHelpers({
            env: options.env,
            ...(options.kustomizeBuild ? { helper: options.kustomizeBuild } : {}),
          }),
        )
      : undefined;
  try {
    return await validateWith(options, helpers);
  } finally {
    await closeHelpers(helpers);
  }
}

async function closeHelpers(helpers: Promise<KustomizeBuilder> | undefined): Promise<void> {
  await (await helpers?.catch(() => undefined))?.close();
}

async function validateWith(
  options: ValidateOptions,
  helpers: Promise<KustomizeBuilder> | undefined,
): Promise<ValidateResult> {
  const ctx = await openContext(options);
  const lint = new SteppedWork(lintStage(ctx));
  if (options.only === "lint") {
    lint.drain();
    return resultOf(ctx);
  }
  // The renderer's helpers start now, beside the builds, when anything may need them.
  let early = startRendererEarly(ctx);
  try {
    return await checkAll(ctx, options, helpers, lint, () => {
      const handed = early;
      early = undefined;
      return handed;
    });
  } finally {
    await (await early?.catch(() => undefined))?.close();
  }
}

async function checkAll(
  ctx: ValidateContext,
  options: ValidateOptions,
  helpers: Promise<KustomizeBuilder> | undefined,
  lint: SteppedWork,
  /** The early renderer, handed over once (renderStep then closes it). */
  takeRenderer: () => Promise<ClosableRenderer> | undefined,
): Promise<ValidateResult> {
  // Window 1 of the style rules: while the helpers build, until the build's tail.
  const tail = buildTail(os.availableParallelism());
  const building = buildStep(ctx, helpers, tail).finally(() => {
    tail.reached();
    // The helpers' memory is free for kubeconform (their exit is awaited at the end).
    void closeHelpers(helpers);
  });
  const [stage] = await Promise.all([building, lint.run(tail.signal)]);
  const subjects = await subjectsStep(ctx, stage);
  const locked = await lockedFiles(options);
  await renderStep(ctx, subjects, locked, takeRenderer());
  const checked = subjects.filter((s) => ctx.inScope(s.file));
  // kubeconform runs in its own process: window 2 of the style rules, the reference checks and
  // the platform rules run once it has started (or the schema check is over).
  const kubeconform = Promise.withResolvers<void>();
  const schemas = schemaStep(ctx, checked, stage, kubeconform.resolve);
  await Promise.race([kubeconform.promise, settled(schemas)]);
  const [{ references, rules }, schemaFindings] = await Promise.all([
    rulesStep(ctx, stage, subjects, checked, locked),
    schemas,
    lint.run(),
  ]);
  ctx.findings.push(...references, ...schemaFindings, ...rules);
  ctx.stats.fluxKustomizations = new Set(
    checked.filter(isFluxKustomization).map((s) => `${s.file}\u0000${s.namespace}/${s.name}`),
  ).size;
  ctx.stats.objects = checked.length;
  ctx.clusters = stage.clusters.list.map((c) => ({ name: c.name, root: c.root }));
  ctx.progress("validate", "succeeded", `${checked.length} objects`);
  return resultOf(ctx);
}

/**
 * The schema lock and where platform rules and charts read its files unless told: the mirror and
 * the cache directory the environment names (HAOS_TASKS_SCHEMA_MIRROR, HAOS_TASKS_CACHE_DIR), as
 * the schema catalog does.
 */
async function lockedFiles(options: ValidateOptions): Promise<LockedFiles> {
  const mirror = resolveMirror(undefined, options.env);
  return {
    lock: options.lock ?? (await readSchemaLock().catch(() => undefined)),
    fetch: {
      ...(mirror ? { mirror } : {}),
      cacheDir: cacheDirs(options.env).sourceCacheDir,
      ...options.fetch,
    },
  };
}
