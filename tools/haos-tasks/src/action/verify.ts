import { loadKubeConfig } from "../kube/config.ts";
import { renderVerifySummary, verifyAnnotations } from "../report/phase-github.ts";
import { renderVerifyJson } from "../report/phase-json.ts";
import { phaseLine } from "../report/phase-text.ts";
import { appUrlProblem } from "../verify/app-url.ts";
import { parseDuration } from "../verify/engine.ts";
import { parseTargetSha } from "../verify/revision.ts";
import {
  type VerifyOptions,
  type VerifyOutcome,
  type VerifyReport,
  runVerify as verifyRollout,
} from "../verify/verify.ts";
import type { ActionContext, ActionResult } from "./context.ts";
import { getBoolean, getOptional, InputError } from "./inputs.ts";

/** `verify-outcome`: the report's outcome, or `misconfigured` when verify could not start. */
export type ActionVerifyOutcome = VerifyOutcome | "misconfigured";

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
  const urlProblem = appUrl === undefined ? undefined : appUrlProblem(appUrl);
  if (urlProblem) throw new InputError("app-url", urlProblem);
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

function messageOf(error: unknown): { detail: string; hint?: string } {
  const detail = error instanceof Error ? error.message : String(error);
  const hint = (error as { hint?: unknown } | undefined)?.hint;
  return typeof hint === "string" && hint !== "" ? { detail, hint } : { detail };
}

/**
 * Verify could not start (a bad input, no credentials, unreadable manifests — what the CLI exits
 * 2 for): still set every output, so `if: steps.verify.outputs.verify-outcome == 'misconfigured'`
 * can tell this apart from a failed rollout, and say why in the job summary.
 */
async function misconfigured(ctx: ActionContext, error: unknown): Promise<ActionResult> {
  const { detail, hint } = messageOf(error);
  const outcome: ActionVerifyOutcome = "misconfigured";
  ctx.setOutput("verify-outcome", outcome);
  ctx.setOutput("failed-phase", "");
  ctx.setOutput(
    "verify-report",
    JSON.stringify({
      outcome,
      failedPhase: null,
      ...(error instanceof InputError ? { input: error.input } : {}),
      detail,
      hint: hint ?? null,
    }),
  );
  await ctx.summary(`## ❌ haos-tasks verify: ${outcome}\n\n${detail}\n\n${hint ? `Fix: ${hint}\n\n` : ""}`);
  const fix = hint && !detail.includes(hint) ? `\n  fix: ${hint}` : "";
  return { failure: `verify ${outcome}: ${detail}${fix}` };
}

/** `command: verify` — phase lines in the log, the report as outputs, job summary and annotations. */
export async function runVerify(ctx: ActionContext): Promise<ActionResult> {
  let report: VerifyReport;
  try {
    report = await verifyRollout(verifyOptions(ctx));
  } catch (error) {
    return misconfigured(ctx, error);
  }
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
