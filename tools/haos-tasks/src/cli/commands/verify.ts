import { appendFileSync } from "node:fs";
import type { PhaseEvent } from "../../phases.ts";
import { renderVerifySummary, verifyAnnotations } from "../../report/phase-github.ts";
import { renderVerifyJson } from "../../report/phase-json.ts";
import { applyEvent, newBoard, phaseLine, renderBoard, renderVerifyText } from "../../report/phase-text.ts";
import { appUrlProblem } from "../../verify/app-url.ts";
import { parseDuration } from "../../verify/engine.ts";
import { type PhaseName, phaseNames } from "../../verify/phases/types.ts";
import { parseTargetSha } from "../../verify/revision.ts";
import type { VerifyOutcome } from "../../verify/verify.ts";
import { type Command, type CommandIO, ExitCode, formatOption, helpOption, UsageError } from "../command.ts";

const exitCodes: Record<VerifyOutcome, number> = {
  succeeded: ExitCode.ok,
  failed: ExitCode.failure,
  timeout: ExitCode.timeout,
  forbidden: ExitCode.forbidden,
  unreachable: ExitCode.unreachable,
};

function duration(value: unknown, flag: string): number {
  const ms = typeof value === "string" ? parseDuration(value) : undefined;
  if (ms === undefined || ms <= 0)
    throw new UsageError(`${flag} must be a duration like 30m, 90s or 1h30m (got '${String(value)}')`);
  return ms;
}

function phaseTimeouts(values: unknown): Partial<Record<PhaseName, number>> {
  const result: Partial<Record<PhaseName, number>> = {};
  for (const entry of Array.isArray(values) ? values : []) {
    const [name, value] = String(entry).split("=");
    if (!phaseNames.includes(name as PhaseName) || !value) {
      throw new UsageError(
        `--phase-timeout takes <phase>=<duration> with phase one of ${phaseNames.join(", ")} (got '${String(entry)}')`,
      );
    }
    result[name as PhaseName] = duration(value, `--phase-timeout ${name}`);
  }
  return result;
}

/** --app-url as given, once it is an http(s) URL: a typo must not end as a 10-minute app timeout. */
function appUrl(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const problem = appUrlProblem(String(value));
  if (problem) throw new UsageError(`--app-url ${problem}`);
  return String(value);
}

/** Live progress on stderr: a redrawn board in a terminal, timestamped lines otherwise. */
function progressWriter(io: CommandIO, live: boolean): { emit: (e: PhaseEvent) => void; close: () => void } {
  if (!live) return { emit: (e) => io.stderr(phaseLine(e, new Date())), close: () => {} };
  const board = newBoard(phaseNames);
  const started = Date.now();
  let drawn = 0;
  const draw = (): void => {
    const text = renderBoard(board, {
      colour: true,
      width: process.stderr.columns ?? 100,
      nowElapsed: Date.now() - started,
    });
    io.stderr(`${drawn > 0 ? `\x1b[${drawn}A\x1b[J` : ""}${text}`);
    drawn = text.split("\n").length - 1;
  };
  const timer = setInterval(draw, 1000);
  timer.unref();
  draw();
  return {
    emit: (e) => {
      applyEvent(board, e);
      draw();
    },
    close: () => {
      clearInterval(timer);
      draw();
    },
  };
}

export const verifyCommand: Command = {
  path: ["verify"],
  summary: "Watch the cluster until Flux applied the commit and the HAOS VM is ready",
  usage:
    "haos-tasks verify [--app <dir>] [--revision <sha>] [--timeout <dur>] [--format text|json] [--reconcile]",
  details: [
    "Phases: source, kustomization, releases, disk, vm, address, app, underlay — each with its own",
    "timeout under the overall --timeout. Object names come from the app's manifests and platform.yaml.",
    "Credentials: --kubeconfig, else $KUBECONFIG, ~/.kube/config, the in-cluster ServiceAccount.",
    "With GITHUB_STEP_SUMMARY set, a job summary is appended; on GitHub Actions, annotations are printed.",
    "exit codes: 0 verified, 1 terminal failure, 2 misconfiguration, 3 timeout, 4 forbidden (names the",
    "missing RBAC rule), 5 API server unreachable",
  ].join("\n"),
  options: {
    ...helpOption,
    app: {
      type: "string",
      valueName: "dir",
      description: "The Flux app folder.",
      default: "apps/haos-enigma",
    },
    revision: { type: "string", valueName: "sha", description: "Commit to wait for (default: $GITHUB_SHA)." },
    timeout: { type: "string", valueName: "duration", description: "Overall deadline.", default: "30m" },
    "phase-timeout": {
      type: "string",
      multiple: true,
      valueName: "phase=dur",
      description: "A phase's own timeout, e.g. disk=40m (repeatable).",
    },
    format: { type: "string", valueName: "text|json", description: "Output format.", default: "text" },
    kubeconfig: {
      type: "string",
      valueName: "file",
      description: "Kubeconfig file (default: client-node's default order).",
    },
    reconcile: {
      type: "boolean",
      description: "Request a Flux reconcile (re-requested until the commit appears).",
    },
    "app-url": {
      type: "string",
      valueName: "url",
      description: "Home Assistant URL to probe (default: http://<expectedWholeIp>:8123/).",
    },
    "import-restarts": {
      type: "string",
      valueName: "n",
      description: "DataVolume importer restarts that count as a failed import.",
      default: "3",
    },
    "unreachable-after": {
      type: "string",
      valueName: "duration",
      description: "How long the API may be unreachable before exit 5.",
      default: "60s",
    },
  },
  async run(args, io) {
    const v = args.values;
    const format = formatOption(v.format, ["text", "json"] as const, "text");
    const revision = (v.revision as string | undefined) ?? io.env.GITHUB_SHA;
    if (!revision) throw new UsageError("no commit to verify: pass --revision <sha> or set GITHUB_SHA");
    let target: string;
    try {
      target = parseTargetSha(revision);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const restarts = Number(v["import-restarts"] ?? "3");
    if (!Number.isInteger(restarts) || restarts < 1)
      throw new UsageError("--import-restarts must be a positive integer");
    const timeoutMs = duration(v.timeout ?? "30m", "--timeout");
    const url = appUrl(v["app-url"]);
    const perPhase = phaseTimeouts(v["phase-timeout"]);
    const unreachableAfterMs = duration(v["unreachable-after"] ?? "60s", "--unreachable-after");
    const kubeconfig = v.kubeconfig as string | undefined;
    // Loaded on demand: the Kubernetes client would weigh on every other command's start.
    const [{ loadKubeConfig }, { runVerify }] = await Promise.all([
      import("../../kube/config.ts"),
      import("../../verify/verify.ts"),
    ]);
    const progress = progressWriter(io, io.isTTY && format === "text");
    const report = await runVerify({
      appDir: String(v.app ?? "apps/haos-enigma"),
      repoRoot: io.cwd,
      target,
      // Loaded after the app folder and platform.yaml were read: a wrong --app is named as such.
      kubeConfig: () => loadKubeConfig(kubeconfig),
      timeoutMs,
      phaseTimeouts: perPhase,
      reconcile: v.reconcile === true,
      ...(url ? { appUrl: url } : {}),
      importRestartLimit: restarts,
      view: { unreachableAfterMs },
      emit: progress.emit,
    }).finally(progress.close);
    io.stdout(format === "json" ? renderVerifyJson(report) : renderVerifyText(report, { colour: io.isTTY }));
    if (io.env.GITHUB_STEP_SUMMARY) appendFileSync(io.env.GITHUB_STEP_SUMMARY, renderVerifySummary(report));
    // Keep stdout pure JSON with --format json; the runner reads workflow commands from both streams.
    const annotate = format === "json" ? io.stderr : io.stdout;
    if (io.env.GITHUB_ACTIONS === "true") for (const line of verifyAnnotations(report)) annotate(`${line}\n`);
    return exitCodes[report.outcome];
  },
};
