import type { DiffOptions } from "../../diff/diff.ts";
import { DEFAULT_MAX_CHARS, parseMaxChars, renderDiffMarkdown } from "../../diff/markdown.ts";
import { chartProgressText, liveLine } from "../../report/progress-line.ts";
import {
  type Command,
  ExitCode,
  formatOption,
  helpOption,
  internalExitText,
  UsageError,
} from "../command.ts";

/** Exit code of a diff: 1 when an owner does not render at head (the PR breaks it), else 0. */
export function diffExitCode(apps: readonly { status: string }[]): number {
  return apps.some((a) => a.status === "error") ? ExitCode.failure : ExitCode.ok;
}

export const diffCommand: Command = {
  path: ["diff"],
  summary:
    "Render what a change does to the cluster: both commits through validate's build, diffed per owner, dangers first",
  usage: "haos-tasks diff --base <ref> [--head <ref>] [--path <dir>…] [--format markdown|json|diff]",
  details: [
    "Renders the merge base of <base> and <head>, and <head>, with validate's build (Flux",
    "Kustomizations with their components, targetNamespace, generated kustomizations and postBuild",
    "substitution) and diffs what each owner renders (the Flux Kustomization, kustomization root or",
    "HelmRelease), by kind/namespace/name. An owner is shown when a changed file is one it reads or",
    "when its rendered objects differ; one that fails to render is a render failure, not a deletion.",
    "Danger notes (immutable-field, data-loss, re-import, vm-restart, rbac-widened, flux-policy,",
    "render-failure) come first. Chart-bump noise (diff.noise in .haos-tasks.yaml; default",
    "helm.sh/chart, checksum/*, app.kubernetes.io/version) is left out. Secret values are redacted.",
    "Markdown starts with <!-- haos-tasks-diff --> and fits --max-chars, naming what it cut.",
    "Builds in-process (kustomize-build) unless HAOS_TASKS_KUBECTL or HAOS_TASKS_KUSTOMIZE=kubectl.",
    "On a terminal (not --format json), one line on stderr names the chart being fetched or rendered.",
    "",
    "exit codes: 0 diff rendered, 1 an owner does not render at head, 2 usage, git error or a --path",
    `that exists at neither commit, ${internalExitText}`,
  ].join("\n"),
  examples: [
    "haos-tasks diff --base origin/main",
    "haos-tasks diff --base v1.2.0 --head HEAD --path apps --format json",
    "haos-tasks diff --base origin/main --format diff | less -R",
  ],
  options: {
    ...helpOption,
    base: { type: "string", valueName: "ref", description: "Base git ref (required)." },
    head: { type: "string", valueName: "ref", description: "Head git ref.", default: "HEAD" },
    path: {
      type: "string",
      multiple: true,
      valueName: "dir",
      description:
        "Only kustomizations under this folder, relative to the repository root (repeatable; default: the whole repository).",
    },
    format: {
      type: "string",
      valueName: "markdown|json|diff",
      description: "Output format.",
      default: "markdown",
    },
    "no-render-cache": {
      type: "boolean",
      description:
        "Render every HelmRelease of both commits instead of reusing answers kept under the chart cache.",
    },
    "no-build-cache": {
      type: "boolean",
      description:
        "Build every kustomization of both commits instead of reusing the objects kept under the user cache (haos-tasks/builds).",
    },
    "max-chars": {
      type: "string",
      valueName: "n",
      description: `Cap of the Markdown output; what is cut is listed (default: ${DEFAULT_MAX_CHARS}).`,
    },
  },
  async run(args, io) {
    const format = formatOption(args.values.format, ["markdown", "json", "diff"] as const, "markdown");
    const base = args.values.base;
    if (typeof base !== "string" || base === "") {
      throw new UsageError("--base <ref> is required, e.g. `--base origin/main`");
    }
    const maxChars = parseMaxChars(args.values["max-chars"] as string | undefined);
    if (typeof maxChars !== "number") throw new UsageError(`--max-chars ${maxChars.problem}`);
    const options: DiffOptions = {
      repo: io.cwd,
      base,
      head: typeof args.values.head === "string" ? args.values.head : "HEAD",
      paths: Array.isArray(args.values.path) ? args.values.path : [],
      ...(io.env.HAOS_TASKS_KUBECTL ? { kubectl: io.env.HAOS_TASKS_KUBECTL } : {}),
      env: io.env,
      ...(args.values["no-render-cache"] === true ? { renderCache: false } : {}),
      ...(args.values["no-build-cache"] === true ? { buildCache: false as const } : {}),
    };
    const [{ diffApps }, { diffJson, diffUnified }] = await Promise.all([
      import("../../diff/diff.ts"),
      import("../../diff/formats.ts"),
    ]);
    // On a terminal (not --format json): one line redrawn on stderr while charts are fetched and rendered.
    const line = liveLine(io.stderr, {
      live: format !== "json" && io.stderrIsTTY === true,
      width: () => process.stderr.columns || 100,
    });
    let result: Awaited<ReturnType<typeof diffApps>>;
    try {
      result = await diffApps({
        ...options,
        onChartProgress: (charts) => {
          const text = chartProgressText(charts);
          if (text) line.update(text);
          else line.clear();
        },
      });
    } finally {
      line.clear();
    }
    io.stdout(
      format === "json"
        ? `${JSON.stringify(diffJson(result), null, 2)}\n`
        : format === "diff"
          ? diffUnified(result)
          : renderDiffMarkdown(result, { maxChars }),
    );
    return diffExitCode(result.apps);
  },
};
