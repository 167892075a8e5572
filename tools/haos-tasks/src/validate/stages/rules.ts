import type { Finding } from "../../findings.ts";
import { platformRules } from "../../lint/platform/index.ts";
import { missingPlatformRules } from "../../lint/platform/missing.ts";
import type { Subject } from "../../lint/platform/subject.ts";
import type { BuildStage } from "../build-stage.ts";
import type { ValidateContext } from "../context.ts";
import { fluxCreatedObjects } from "../flux.ts";
import { ruleContext } from "../platforms.ts";
import { duplicateResources, fluxReferences, kustomizationReferences, ownersOf } from "../references.ts";
import type { LockedFiles } from "./render.ts";

/**
 * The reference checks (kustomization entries, Flux paths, sourceRefs, dependsOn, duplicates) and
 * the platform rules (lint/platform/) over every object; platform/missing over the objects in
 * scope. Returns the references', the rules' and the platform declarations' findings, in that order.
 */
export async function rulesStep(
  ctx: ValidateContext,
  stage: BuildStage,
  subjects: readonly Subject[],
  checked: readonly Subject[],
  locked: LockedFiles,
): Promise<{ references: Finding[]; rules: Finding[] }> {
  const { workspace, config, root } = ctx;
  const { kustomizations, flux, clusters, sources } = stage;
  const dirs = ownersOf(
    workspace,
    kustomizations,
    flux.map((k) => k.dir),
  );
  const references = [
    ...kustomizationReferences(workspace, kustomizations, config, dirs),
    ...fluxReferences(subjects, root, config, fluxCreatedObjects(subjects), clusters, sources),
    ...duplicateResources(subjects, clusters),
  ];
  ctx.progress("rules", "running", "platform rules");
  const context = await ruleContext(subjects, ctx.platforms, locked.lock, locked.fetch);
  return {
    references,
    rules: [...platformRules(context), ...ctx.platforms.findings, ...missingPlatformRules(context, checked)],
  };
}
