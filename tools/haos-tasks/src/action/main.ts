import * as core from "@actions/core";
import { describeError, HintedError, isSystemError } from "../errors.ts";
import { type ActionContext, type ActionResult, runnerContext } from "./context.ts";
import { getBoolean, getChoice, getOptional } from "./inputs.ts";

export const actionCommands = ["validate", "diff", "comment", "version-bump", "release", "verify"] as const;
export type ActionCommand = (typeof actionCommands)[number];

type Runner = (ctx: ActionContext) => Promise<ActionResult>;

/**
 * Each command's module is loaded on demand, so `diff` never parses the Kubernetes client that
 * `verify` needs: the bundle is split per command and cold start stays small.
 */
const loaders: Record<ActionCommand, () => Promise<Runner>> = {
  validate: async () => (await import("./validate.ts")).runValidate,
  diff: async () => (await import("./diff.ts")).runDiff,
  comment: async () => (await import("./diff.ts")).runDiffComment,
  "version-bump": async () => (await import("./release.ts")).runVersionBump,
  release: async () => (await import("./release.ts")).runRelease,
  verify: async () => (await import("./verify.ts")).runVerify,
};

/**
 * What each command's outputs say when it ends before it could set them (a bad input, an
 * unreadable repository, a crash): action.yml promises outputs on every exit, so a later step's
 * `if:` never reads a missing output as "nothing wrong". Counts are empty (unknown, never "0"),
 * flags false, lists empty.
 */
const outputsOnFailure: Record<ActionCommand, Record<string, string>> = {
  validate: { errors: "", warnings: "" },
  diff: {
    "diff-markdown": "",
    "diff-changed": "",
    "diff-apps": "[]",
    "diff-file": "",
    "diff-json-file": "",
    "comment-url": "",
  },
  comment: { "comment-url": "" },
  "version-bump": {
    releasable: "false",
    version: "",
    "previous-version": "",
    "tag-name": "",
    releases: "[]",
  },
  release: {
    "release-created": "false",
    version: "",
    "tag-name": "",
    "html-url": "",
    sha: "",
    releases: "[]",
  },
  verify: { "verify-outcome": "misconfigured", "failed-phase": "", "verify-report": "" },
};

/**
 * The step's failure text: a HintedError's message and fix, an operating-system error's message,
 * and for anything else — a bug in haos-tasks — its stack, to be reported.
 */
function describe(error: unknown): string {
  if (error instanceof HintedError) return describeError(error);
  if (isSystemError(error)) return error.message;
  const stack = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return `internal error, a bug in haos-tasks: please report it with this stack\n${stack}`;
}

/**
 * The Action: reads `command`, masks secrets, runs the command's shell around the same core the
 * CLI calls, and fails the step with the reason. Never throws.
 */
export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let command: ActionCommand | undefined;
  const set = new Set<string>();
  try {
    // Mask before anything can print: the token is passed on to the core through env.
    const token = getOptional("token", env);
    if (token) core.setSecret(token);
    command = getChoice("command", env, actionCommands);
    // Read now, whatever the command: it was read only when a tool was missing, so a typo
    // (`install-tools: maybe`) passed until the day it mattered.
    getBoolean("install-tools", env, true);
    const base = runnerContext(env);
    const ctx = {
      ...base,
      setOutput: (name: string, value: string | number | boolean) => {
        set.add(name);
        base.setOutput(name, value);
      },
    };
    const runner = await loaders[command]();
    const result = await runner(ctx);
    if (result.failure && result.annotated) {
      core.info(result.failure);
      process.exitCode = 1; // core.ExitCode.Failure (a const enum local-action's stub lacks)
    } else if (result.failure) core.setFailed(result.failure);
  } catch (error) {
    core.setFailed(describe(error));
  } finally {
    for (const [name, value] of Object.entries(command ? outputsOnFailure[command] : {}))
      if (!set.has(name)) core.setOutput(name, value);
  }
}
