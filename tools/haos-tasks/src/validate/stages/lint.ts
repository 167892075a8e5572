import { lintStyle } from "../../lint/style.ts";
import { releaseAst } from "../../manifests/yaml-source.ts";
import type { ValidateContext } from "../context.ts";

/**
 * The style rules over every file in scope, one step per file (schedule.ts runs the steps in the
 * gaps of the build and the schema check). Each file is parsed once, by whichever stage reads it
 * first.
 */
export function* lintStage(ctx: ValidateContext): Generator<void> {
  for (const [file, source] of ctx.workspace.files) {
    if (!ctx.inScope(file)) continue;
    ctx.findings.push(...lintStyle(source, ctx.config));
    // Only a finding's position needs the AST from here on: it is parsed again if one does.
    releaseAst(source);
    yield;
  }
}
