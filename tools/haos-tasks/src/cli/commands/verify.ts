import { appendFileSync } from "node:fs";
import type { PhaseEvent } from "../../phases.ts";
import { renderAnnotation } from "../../report/github.ts";
import { renderVerifySummary, verifyAnnotations } from "../../report/phase-github.ts";
import { renderVerifyJson } from "../../report/phase-json.ts";
import { applyEvent, newBoard, phaseLine, renderBoard, renderVerifyText } from "../../report/phase-text.ts";
import { phaseNames } from "../../verify/phases/types.ts";
import type { VerifyOutcome } from "../../verify/verify.ts";
import {
  type Command,
  type CommandIO,
  colourOf,
  ExitCode,
  formatOption,
  helpOption,
  internalExitText,
  UsageError,
} from "../command.ts";

const exitCodes: Record<VerifyOutcome, number> = {
  succeeded: ExitCode.ok,
  failed: ExitCode.failure,
  timeout: ExitCode.timeout,
  forbidden: ExitCode.forbidden,
  unreachable: ExitCode.unreachable,
};

/** Live progress on stderr: a redrawn board in a terminal, timestamped lines otherwise. */
function progressWriter(io: CommandIO, live: boolean): { emit: (e: PhaseEvent) => void; close: () => void } {
  if (!live) return { emit: (e) => io.stderr(phaseLine(e, new Date())), close: () => {} };
  const board = newBoard(phaseNames);
  const started = Date.now();
  let drawn = 0;
  const draw = (): void => {
    const text = renderBoard(board, {
      colour: colourOf(io),
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
    "missing RBAC rule), 5 API server unreachable (refused, silent or failing for --unreachable-after,",
    "or something else answers: HTML, foreign JSON, not HTTP, an endless body — the URL is named),",
    internalExitText,
  ].join("\n"),
  examples: [
    "haos-tasks verify --revision HEAD                 # the checkout's commit",
    "haos-tasks verify --revision 4f2c1ab --timeout 45m --phase-timeout disk=30m",
    "haos-tasks verify --kubeconfig ~/.kube/enigma --reconcile --format json",
  ],
  options: {
    ...helpOption,
    app: {
      type: "string",
      valueName: "dir",
      description: "The Flux app folder.",
      default: "apps/haos-enigma",
    },
    revision: {
      type: "string",
      valueName: "rev",
      description: "Commit to wait for: a SHA (short or full), HEAD, a tag… (default: $GITHUB_SHA).",
    },
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
    const startedAt = Math.min(io.startedAt ?? Date.now(), Date.now());
    const v = args.values;
    const format = formatOption(v.format, ["text", "json"] as const, "text");
    // Something within the first second, before the Kubernetes client is even loaded.
    if (!(io.isTTY && format === "text"))
      io.stderr(
        phaseLine(
          {
            phase: "source",
            status: "progress",
            detail: `starting: reading ${String(v.app ?? "apps/haos-enigma")}`,
            elapsed: Date.now() - startedAt,
          },
          new Date(),
        ),
      );
    // Loaded on demand: the Kubernetes client would weigh on every other command's start.
    const [{ loadKubeConfig }, { runVerify }, { parseVerifySettings, VerifySettingError }] =
      await Promise.all([
        import("../../kube/config.ts"),
        import("../../verify/verify.ts"),
        import("../../verify/options.ts"),
      ]);
    // Drawn once the settings are known to be good: a usage error is one line, not a board.
    let progress: ReturnType<typeof progressWriter> | undefined;
    const text = (name: string) => (v[name] === undefined ? undefined : String(v[name]));
    let options: Awaited<ReturnType<typeof parseVerifySettings>>;
    try {
      options = await parseVerifySettings(
        {
          ...(v.app !== undefined ? { app: String(v.app) } : {}),
          ...(text("revision") !== undefined ? { revision: text("revision") } : {}),
          ...(text("timeout") !== undefined ? { timeout: text("timeout") } : {}),
          ...(v["phase-timeout"] !== undefined
            ? { "phase-timeout": (v["phase-timeout"] as unknown[]).map(String) }
            : {}),
          ...(text("kubeconfig") !== undefined ? { kubeconfig: text("kubeconfig") } : {}),
          reconcile: v.reconcile === true,
          ...(text("app-url") !== undefined ? { "app-url": text("app-url") } : {}),
          ...(text("import-restarts") !== undefined ? { "import-restarts": text("import-restarts") } : {}),
          ...(text("unreachable-after") !== undefined
            ? { "unreachable-after": text("unreachable-after") }
            : {}),
        },
        {
          repoRoot: io.cwd,
          startedAt,
          githubSha: io.env.GITHUB_SHA,
          loadKubeConfig: (file) => loadKubeConfig(file, io.env),
          emit: (event) => progress?.emit(event),
        },
      );
    } catch (error) {
      if (error instanceof VerifySettingError) throw new UsageError(`--${error.setting} ${error.reason}`);
      throw error;
    }
    const live = progressWriter(io, io.isTTY && format === "text");
    progress = live;
    const report = await runVerify(options).finally(live.close);
    io.stdout(
      format === "json" ? renderVerifyJson(report) : renderVerifyText(report, { colour: colourOf(io) }),
    );
    if (io.env.GITHUB_STEP_SUMMARY) appendFileSync(io.env.GITHUB_STEP_SUMMARY, renderVerifySummary(report));
    // Keep stdout pure JSON with --format json; the runner reads workflow commands from both streams.
    const annotate = format === "json" ? io.stderr : io.stdout;
    if (io.env.GITHUB_ACTIONS === "true")
      for (const a of verifyAnnotations(report)) annotate(`${renderAnnotation(a)}\n`);
    return exitCodes[report.outcome];
  },
};
