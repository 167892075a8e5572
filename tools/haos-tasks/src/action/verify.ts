import { loadKubeConfig } from "../kube/config.ts";
import { renderVerifySummary, verifyAnnotations } from "../report/phase-github.ts";
import { renderVerifyJson } from "../report/phase-json.ts";
import { phaseLine } from "../report/phase-text.ts";
import { parseDuration } from "../verify/engine.ts";
import { parseTargetSha } from "../verify/revision.ts";
import { type VerifyOptions, runVerify as verifyRollout } from "../verify/verify.ts";
import type { ActionContext, ActionResult } from "./context.ts";
import { getBoolean, getOptional, InputError } from "./inputs.ts";

/** Parses the verify inputs into the options `haos-tasks verify` builds from its flags. */
export function verifyOptions(ctx: ActionContext): VerifyOptions {
  const revision = getOptional("revision", ctx.env) ?? ctx.env.GITHUB_SHA;
  if (!revision) throw new InputError("revision", "is required when GITHUB_SHA is not set");
  let target: string;
  try {
    target = parseTargetSha(revision);
  } catch (error) {
    throw new InputError("revision", (error as Error).message);
  }
  const timeout = getOptional("timeout", ctx.env) ?? "30m";
  const timeoutMs = parseDuration(timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    throw new InputError("timeout", `must be a duration like 30m, 90s or 1h30m (got '${timeout}')`);
  }
  const kubeconfig = getOptional("kubeconfig", ctx.env);
  const appUrl = getOptional("app-url", ctx.env);
  return {
    appDir: getOptional("app", ctx.env) ?? "apps/haos-enigma",
    repoRoot: ctx.cwd,
    target,
    kubeConfig: loadKubeConfig(kubeconfig),
    timeoutMs,
    reconcile: getBoolean("reconcile", ctx.env, false),
    ...(appUrl ? { appUrl } : {}),
    emit: (event) => ctx.log(phaseLine(event, new Date()).trimEnd()),
  };
}

/** `command: verify` — phase lines in the log, the report as outputs, job summary and annotations. */
export async function runVerify(ctx: ActionContext): Promise<ActionResult> {
  const report = await verifyRollout(verifyOptions(ctx));
  ctx.setOutput("verify-outcome", report.outcome);
  ctx.setOutput("failed-phase", report.failedPhase ?? "");
  ctx.setOutput("verify-report", renderVerifyJson(report).trim());
  await ctx.summary(renderVerifySummary(report));
  ctx.annotate(verifyAnnotations(report));
  if (report.outcome === "succeeded") return {};
  const phase = report.failedPhase ? ` in phase ${report.failedPhase}` : "";
  return {
    failure: `verify ${report.outcome}${phase}: ${report.detail}${report.hint ? `\n  fix: ${report.hint}` : ""}`,
  };
}
