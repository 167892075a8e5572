import { existsSync } from "node:fs";
import path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import { HintedError } from "../errors.ts";
import { runGit } from "../git/runner.ts";
import { appUrlProblem } from "./app-url.ts";
import { parseDuration } from "./engine.ts";
import { type PhaseName, phaseNames } from "./phases/types.ts";
import type { VerifyOptions } from "./verify.ts";

/**
 * The settings of a verify run as the user typed them — `haos-tasks verify --<name>` flags and
 * the Action's `<name>` inputs have the same kebab-case names — parsed once, here, for both.
 */
export interface VerifySettings {
  app?: string;
  revision?: string;
  timeout?: string;
  "phase-timeout"?: readonly string[];
  kubeconfig?: string;
  reconcile?: boolean;
  "app-url"?: string;
  "import-restarts"?: string;
  "unreachable-after"?: string;
}

export type VerifySettingName = keyof VerifySettings;

/** A setting with a bad value; the edge names it (`--timeout` or input `timeout`). */
export class VerifySettingError extends HintedError {
  readonly setting: VerifySettingName;
  /** The reason without the setting's name: `must be a duration like 30m (got 'x')`. */
  readonly reason: string;
  constructor(setting: VerifySettingName, reason: string) {
    super(`${setting} ${reason}`, "");
    this.setting = setting;
    this.reason = reason;
  }
}

/** How each edge spells a setting in messages and hints. */
export interface SettingNames {
  /** `--timeout` (CLI) or `input 'timeout'` (Action). */
  name(setting: VerifySettingName): string;
}

export const actionSettingNames: SettingNames = { name: (s) => `input '${s}'` };

const settingNames: readonly VerifySettingName[] = [
  "app",
  "revision",
  "timeout",
  "phase-timeout",
  "kubeconfig",
  "reconcile",
  "app-url",
  "import-restarts",
  "unreachable-after",
];

/**
 * Rewrites the `--<setting>` mentions of a core message or hint in the edge's words (the core's
 * hints are written for the CLI; the Action's user has inputs, not flags).
 */
export function renameSettings(text: string, names: SettingNames): string {
  return text.replace(/--([a-z][a-z-]*)/g, (whole, flag: string) =>
    (settingNames as readonly string[]).includes(flag) ? names.name(flag as VerifySettingName) : whole,
  );
}

/**
 * The longest duration a setting takes: Node's timers hold 2^31-1 ms (about 24.8 days) and fire at
 * once for anything longer, so `--timeout 597h` ended the run immediately ("deadline (0s)").
 */
export const maxDurationMs = 2 ** 31 - 1;

function duration(setting: VerifySettingName, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new VerifySettingError(setting, `must be a duration like 30m, 90s or 1h30m (got '${value}')`);
  if (ms > maxDurationMs)
    throw new VerifySettingError(setting, `must be at most 596h (24 days; got '${value}')`);
  return ms;
}

function phaseTimeouts(values: readonly string[]): Partial<Record<PhaseName, number>> {
  const result: Partial<Record<PhaseName, number>> = {};
  for (const entry of values) {
    const [name, value] = entry.split("=");
    if (!phaseNames.includes(name as PhaseName) || !value) {
      throw new VerifySettingError(
        "phase-timeout",
        `takes <phase>=<duration> with phase one of ${phaseNames.join(", ")} (got '${entry}')`,
      );
    }
    result[name as PhaseName] = duration("phase-timeout", value);
  }
  return result;
}

/**
 * The commit `revision` names in the checkout: anything `git rev-parse` resolves (HEAD, a short
 * SHA, a tag, a branch). A full SHA the clone does not have yet is taken as given: the commit Flux
 * reports may be fetched later (see ancestry.ts).
 */
export async function resolveRevision(checkout: string, revision: string): Promise<string> {
  const value = revision.trim();
  const full = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i.test(value);
  const result = await runGit(checkout, [
    "rev-parse",
    "--verify",
    "--quiet",
    "--end-of-options",
    `${value}^{commit}`,
  ]).catch(() => undefined);
  const sha = result?.code === 0 ? result.stdout.trim() : "";
  if (sha) return sha.toLowerCase();
  if (full) return value.toLowerCase();
  throw new VerifySettingError(
    "revision",
    `names no commit in ${checkout} (got '${revision}'): give a commit SHA (full or short), HEAD, a tag or a branch that \`git rev-parse\` resolves there`,
  );
}

/** What the edges pass on to runVerify besides the settings: where, credentials, progress. */
export interface VerifyRunContext {
  /** The checkout (cwd of the CLI, working-directory of the Action). */
  repoRoot: string;
  /** $GITHUB_SHA, the default revision. */
  githubSha?: string | undefined;
  loadKubeConfig: (file: string | undefined) => KubeConfig;
  emit: VerifyOptions["emit"];
  /** When the command started: --timeout counts from here, loading and parsing included. */
  startedAt?: number;
}

/**
 * Parses the settings into runVerify's options, in the order a person fixes them: values first
 * (no I/O), then the revision in the checkout. The kubeconfig is loaded by runVerify only after
 * the app folder was read, so a wrong app is named before missing credentials.
 */
export async function parseVerifySettings(
  settings: VerifySettings,
  context: VerifyRunContext,
): Promise<VerifyOptions> {
  const appDir = settings.app ?? "apps/haos-enigma";
  const revision = settings.revision ?? (context.githubSha || undefined);
  if (!revision)
    throw new VerifySettingError("revision", "is required: no commit to verify (GITHUB_SHA is not set)");
  const restarts = Number(settings["import-restarts"] ?? "3");
  if (!Number.isInteger(restarts) || restarts < 1)
    throw new VerifySettingError(
      "import-restarts",
      `must be a positive integer (got '${settings["import-restarts"]}')`,
    );
  const timeoutMs = duration("timeout", settings.timeout ?? "30m");
  const appUrl = settings["app-url"];
  const urlProblem = appUrl === undefined ? undefined : appUrlProblem(appUrl);
  if (urlProblem) throw new VerifySettingError("app-url", urlProblem);
  const perPhase = phaseTimeouts(settings["phase-timeout"] ?? []);
  const unreachableAfterMs = duration("unreachable-after", settings["unreachable-after"] ?? "60s");
  const appPath = path.resolve(context.repoRoot, appDir);
  const target = await resolveRevision(existsSync(appPath) ? appPath : context.repoRoot, revision);
  const kubeconfig = settings.kubeconfig;
  return {
    appDir,
    repoRoot: context.repoRoot,
    target,
    kubeConfig: () => context.loadKubeConfig(kubeconfig),
    timeoutMs,
    ...(context.startedAt !== undefined ? { startedAt: context.startedAt } : {}),
    phaseTimeouts: perPhase,
    reconcile: settings.reconcile === true,
    ...(appUrl ? { appUrl } : {}),
    importRestartLimit: restarts,
    view: { unreachableAfterMs },
    emit: context.emit,
  };
}
