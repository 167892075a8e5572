import { HintedError, isSystemError } from "../errors.ts";
import { loadKubeConfig } from "../kube/config.ts";
import { renderVerifySummary, verifyAnnotations } from "../report/phase-github.ts";
import { renderVerifyJson } from "../report/phase-json.ts";
import { phaseLine } from "../report/phase-text.ts";
import {
  actionSettingNames,
  parseVerifySettings,
  renameSettings,
  VerifySettingError,
} from "../verify/options.ts";
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

/** The verify inputs, parsed by the same settings parser as `haos-tasks verify`'s flags. */
export async function verifyOptions(ctx: ActionContext): Promise<VerifyOptions> {
  const startedAt = Date.now();
  try {
    return await parseVerifySettings(
      {
        ...optional("app", ctx),
        ...optional("revision", ctx),
        ...optional("timeout", ctx),
        ...optional("kubeconfig", ctx),
        ...optional("app-url", ctx),
        reconcile: getBoolean("reconcile", ctx.env, false),
      },
      {
        repoRoot: ctx.cwd,
        startedAt,
        githubSha: ctx.env.GITHUB_SHA,
        loadKubeConfig: (file) => loadKubeConfig(file, ctx.env),
        emit: (event) => ctx.log(phaseLine(event, new Date()).trimEnd()),
      },
    );
  } catch (error) {
    if (error instanceof VerifySettingError) throw new InputError(error.setting, error.reason);
    throw error;
  }
}

function optional(name: "app" | "revision" | "timeout" | "kubeconfig" | "app-url", ctx: ActionContext) {
  const value = getOptional(name, ctx.env);
  return value === undefined ? {} : { [name]: value };
}

/** The error's message and hint in the Action's words (`input 'timeout'`, not `--timeout`). */
function messageOf(error: unknown): { detail: string; hint?: string } {
  const detail = renameSettings(error instanceof Error ? error.message : String(error), actionSettingNames);
  return error instanceof HintedError && error.hint !== ""
    ? { detail, hint: renameSettings(error.hint, actionSettingNames) }
    : { detail };
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
    report = await verifyRollout(await verifyOptions(ctx));
  } catch (error) {
    // A bug is no misconfiguration: it goes on to the Action's edge, which fails with its stack.
    if (!(error instanceof HintedError || isSystemError(error))) throw error;
    return misconfigured(ctx, error);
  }
  // The core's hints are written for the CLI: here they name inputs.
  report = {
    ...report,
    detail: renameSettings(report.detail, actionSettingNames),
    ...(report.hint ? { hint: renameSettings(report.hint, actionSettingNames) } : {}),
  };
  ctx.setOutput("verify-outcome", report.outcome);
  ctx.setOutput("failed-phase", report.failedPhase ?? "");
  ctx.setOutput("verify-report", renderVerifyJson(report).trim());
  await ctx.summary(renderVerifySummary(report));
  ctx.annotate(verifyAnnotations(report));
  if (report.outcome === "succeeded") return {};
  const phase = report.failedPhase ? ` in phase ${report.failedPhase}` : "";
  return {
    failure: `verify ${report.outcome}${phase}: ${report.detail}${report.hint ? `\n  fix: ${report.hint}` : ""}`,
    // The ::error annotation (with its title) said it already: one error per failure.
    annotated: true,
  };
}
