import { appendFile } from "node:fs/promises";
import path from "node:path";
import { countFindings } from "../../findings.ts";
import { ruleCatalog } from "../../lint/rules.ts";
import type { PhaseEvent } from "../../phases.ts";
import { resolveMirror } from "../../schemas/sources.ts";
import { type Command, colourOf, ExitCode, formatOption, helpOption, UsageError } from "../command.ts";

const formats = ["text", "json", "sarif", "github"] as const;

export const validateCommand: Command = {
  path: ["validate"],
  summary: "Lint, build and schema-check Flux apps; every finding at file:line:col",
  usage: "haos-tasks validate [paths…] [--format text|json|sarif|github] [--strict] [--only lint]",
  details: [
    "Checks every YAML file under the paths (default: .): YAML lint, `kubectl kustomize` of every",
    "kustomization, references (listed files, Flux path/sourceRef/dependsOn, duplicates), the real",
    "kubeconform -strict against the pinned schema catalog (synced on demand), and the platform",
    "rules of the nearest platform.yaml. Configure in .haos-tasks.yaml under `validate:`; silence",
    "one place with `# haos-tasks-disable-line <rule>`, `# haos-tasks-disable-next-line <rule>`",
    "or a whole file with `# haos-tasks-disable <rule>`.",
    "",
    "exit codes: 0 clean, 1 errors (or warnings with --strict), 2 usage or unreadable input",
    "",
    "rules:",
    ...ruleCatalog.map((r) => `  ${r.id.padEnd(30)}${r.severity.padEnd(9)}${r.description}`),
  ].join("\n"),
  examples: [
    "haos-tasks validate                      # the whole repository",
    "haos-tasks validate apps/haos-enigma --strict",
    "haos-tasks validate --only lint          # YAML lint alone, no schemas",
    "haos-tasks validate --format sarif > validate.sarif",
  ],
  allowPositionals: true,
  options: {
    ...helpOption,
    format: {
      type: "string",
      valueName: "text|json|sarif|github",
      description: "Output format.",
      default: "text",
    },
    strict: { type: "boolean", description: "Warnings fail too." },
    only: { type: "string", valueName: "lint", description: "Run only one stage." },
    mirror: {
      type: "string",
      valueName: "dir",
      description: "Read schema sources from this mirror directory.",
    },
  },
  async run(args, io) {
    const format = formatOption(args.values.format, formats, "text");
    const only = args.values.only;
    if (only !== undefined && only !== "lint")
      throw new UsageError(`--only takes 'lint' (got '${String(only)}')`);
    const mirror = resolveMirror(args.values.mirror as string | undefined, io.env);
    // Loaded on demand, so `release` and `verify` do not pay for the validate pipeline at start.
    const [{ validate }, { catalogLoader }, { renderText }, { renderJson }, { renderSarif }, github] =
      await Promise.all([
        import("../../validate/pipeline.ts"),
        import("../../validate/catalog-loader.ts"),
        import("../../report/text.ts"),
        import("../../report/json.ts"),
        import("../../report/sarif.ts"),
        import("../../report/github.ts"),
      ]);
    const { annotationLines, jobSummary } = github;
    const started = Date.now();
    const progress = (event: PhaseEvent) => {
      if (event.status === "progress" && !io.env.HAOS_TASKS_DEBUG) return;
      io.stderr(
        `validate: ${event.phase}: ${event.detail} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`,
      );
    };
    const result = await validate({
      targets: args.positionals,
      cwd: io.cwd,
      ...(only === "lint" ? { only: "lint" as const } : {}),
      ...(mirror ? { fetch: { mirror } } : {}),
      onProgress: progress,
      loadCatalog: catalogLoader({ ...(mirror ? { mirror } : {}), env: io.env, onProgress: progress }),
    });
    const findings = result.findings;
    const checked = `${result.stats.files} files, ${result.stats.objects} objects`;
    if (format === "text") io.stdout(renderText(findings, { colour: colourOf(io), checked }));
    if (format === "json") io.stdout(renderJson(findings, { root: result.root, stats: result.stats }));
    if (format === "sarif")
      io.stdout(renderSarif(findings, { version: io.env.npm_package_version ?? "0.1.0" }));
    if (format === "github") {
      const lines = annotationLines(findings);
      if (lines.length > 0) io.stdout(`${lines.join("\n")}\n`);
      const summaryFile = io.env.GITHUB_STEP_SUMMARY;
      if (summaryFile) await appendFile(path.resolve(io.cwd, summaryFile), jobSummary(findings));
    }
    const counts = countFindings(findings);
    return counts.error > 0 || (args.values.strict === true && counts.warning > 0)
      ? ExitCode.failure
      : ExitCode.ok;
  },
};
