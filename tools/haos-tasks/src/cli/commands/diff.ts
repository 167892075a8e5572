import type { DiffOptions } from "../../diff/diff.ts";
import { DEFAULT_MAX_CHARS, parseMaxChars, renderDiffMarkdown } from "../../diff/markdown.ts";
import { type Command, ExitCode, formatOption, helpOption, UsageError } from "../command.ts";

/** Exit code of a diff: 1 when an app does not build at head (the PR breaks it), else 0. */
export function diffExitCode(apps: readonly { status: string }[]): number {
  return apps.some((a) => a.status === "error") ? ExitCode.failure : ExitCode.ok;
}

export const diffCommand: Command = {
  path: ["diff"],
  summary: "Render each changed Flux app at base and head and diff the resources (Markdown)",
  usage: "haos-tasks diff --base <ref> [--head <ref>] [--path <dir>…] [--format markdown|json]",
  details: [
    "Finds the kustomization directories affected by the files changed between the merge base of",
    "<base> and <head> (a changed file inside the directory or inside anything it loads), builds each",
    "at both commits with `kubectl kustomize`, and diffs the resources by kind/namespace/name.",
    "Secret data/stringData values (and annotations carrying them) are redacted. Markdown starts",
    "with <!-- haos-tasks:diff -->.",
    "",
    "exit codes: 0 diff rendered, 1 an app does not build at head, 2 usage, git error or a --path",
    "that exists at neither commit",
  ].join("\n"),
  examples: [
    "haos-tasks diff --base origin/main",
    "haos-tasks diff --base v1.2.0 --head HEAD --path apps --format json",
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
      valueName: "markdown|json",
      description: "Output format.",
      default: "markdown",
    },
    "max-chars": {
      type: "string",
      valueName: "n",
      description: `Cap of the Markdown output; what is cut is listed (default: ${DEFAULT_MAX_CHARS}).`,
    },
  },
  async run(args, io) {
    const format = formatOption(args.values.format, ["markdown", "json"] as const, "markdown");
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
      kubectl: io.env.HAOS_TASKS_KUBECTL ?? "kubectl",
    };
    const { diffApps } = await import("../../diff/diff.ts");
    const result = await diffApps(options);
    io.stdout(
      format === "json" ? `${JSON.stringify(result, null, 2)}\n` : renderDiffMarkdown(result, { maxChars }),
    );
    return diffExitCode(result.apps);
  },
};
