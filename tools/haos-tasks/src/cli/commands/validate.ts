import { appendFile } from "node:fs/promises";
import path from "node:path";
import { HintedError } from "../../errors.ts";
import { exitCodesText } from "../../exit-codes.ts";
import { countFindings } from "../../findings.ts";
import { ruleCatalog } from "../../lint/rules.ts";
import type { PhaseEvent } from "../../phases.ts";
import { chartProgressText, liveLine } from "../../report/progress-line.ts";
import { resolveMirror } from "../../schemas/sources.ts";
import { parseChartMirror } from "../../validate/config.ts";
import { type Command, colourOf, ExitCode, formatOption, helpOption, UsageError } from "../command.ts";

const formats = ["text", "json", "sarif", "github"] as const;

export const validateCommand: Command = {
  path: ["validate"],
  summary: "Lint, build, render and schema-check Flux apps; every finding at file:line:col",
  usage:
    "haos-tasks validate [paths…] [--changed-since REF] [--schema-location TEMPLATE]… [--kubernetes-version 1.N] [--format text|json|sarif|github] [--strict] [--only lint]",
  details: [
    "Checks every YAML file under the paths (default: .) as Flux will deploy it, in stages:",
    "  1. YAML lint of every file;",
    "  2. every kustomization built in-process by kustomize-build (the kustomize library kubectl 1.34",
    "     embeds; one helper per core) with Flux's semantics: Flux Kustomizations with their",
    "     components, targetNamespace, patches, images and postBuild substitution (fluxcd/pkg/envsubst),",
    "     no load restrictor, generated kustomizations, children with the spec their parent's build",
    "     gives them (HAOS_TASKS_KUSTOMIZE=kubectl builds with `kubectl kustomize` instead, slower);",
    "  3. every HelmRelease and CozyStack app (VMDisk, VMInstance, as cozystack-api hands it to",
    "     helm-controller) rendered by flux-render — helm-controller's own libraries (Helm SDK,",
    "     fluxcd/pkg/chartutil: values + valuesFrom, values schema, postRenderers, commonMetadata);",
    "  4. references (listed files, Flux path/sourceRef/dependsOn, duplicates);",
    "  5. the real kubeconform -strict against the pinned schema catalog (synced on demand), for",
    "     written and rendered objects alike;",
    "  6. the platform rules of the nearest platform.yaml, on written and rendered objects.",
    "Configure in .haos-tasks.yaml under `validate:`; silence",
    "one place with `# haos-tasks-disable-line <rule>`, `# haos-tasks-disable-next-line <rule>`",
    "or a whole file with `# haos-tasks-disable <rule>`.",
    "",
    "Paths may be single files (pre-commit, lint-staged): references still resolve against the whole",
    "repository, and only findings in the given files are reported. --changed-since REF checks the",
    "YAML files changed since REF (committed, staged and unstaged).",
    "",
    "charts: from the repository's HelmRepository (HTTP index or type: oci), OCIRepository, HelmChart",
    "or a chart folder of this checkout; charts the schema lock pins (CozyStack's vm-disk/vm-instance,",
    "ARC's, bjw-s app-template 4.1.x) are read from the lock's files, sha256-checked, offline.",
    "Downloads are cached by content under --chart-cache (default $HAOS_TASKS_CACHE_DIR/charts or",
    "~/.cache/haos-tasks/charts; keep it between CI runs); --offline renders from the cache only;",
    "--chart-mirror ORIGIN=URL (repeatable, also charts.mirrors) fetches an origin from a mirror:",
    "oci://host/path (TLS) or http://host:port/path (plain HTTP) for an oci:// origin, a repository",
    "URL for an https:// one. Registry credentials come from the Docker/Helm config. On a terminal",
    "(--format text), one line on stderr names the chart being fetched or rendered; none in logs.",
    "A chart that cannot be had is one helm/chart-unavailable warning (an error under --strict). Helm's",
    ".Capabilities: the declared Kubernetes version, and APIVersions holding every kind the run has",
    "a schema or CRD for, plus --api-versions / charts.apiVersions.",
    "",
    "schema sources, tried in this order for every kind:",
    "  1. the pinned catalog (tools/haos-tasks/schemas.lock.json), for the Kubernetes version of",
    "     --kubernetes-version, validate.kubernetesVersion or platform.yaml (1.33–1.36 pinned)",
    "  2. the repository's CRD files: found in the tree, and schemas.crds globs in .haos-tasks.yaml",
    "  3. kubeconform-style locations: --schema-location (repeatable), then schemas.locations;",
    "     kubeconform's template variables ({{.Group}}, {{.ResourceKind}}, {{.ResourceAPIVersion}},",
    "     {{.NormalizedKubernetesVersion}}, {{.StrictSuffix}}, {{.KindSuffix}}) and `default`; a URL",
    "     is downloaded once and cached by URL, a directory is read directly",
    "  4. a catalog written by `haos-tasks schemas sync --from-cluster`: --catalog / schemas.catalog",
    "A kind no source has is reported once (a warning; an error under --strict). --strict also",
    "closes the open root of external schemas, as the pinned ones are. A CRD file anywhere in the",
    "repository wins over every source for its group, kind and version, in the clusters that apply",
    "it (every cluster when none does): it is what that cluster runs.",
    "A location that resolves none of the kinds asked of it is a schema/source warning.",
    "",
    "clusters: each tree a flux-system or FluxInstance sync applies (kubernetes/main, clusters/prod)",
    "is a cluster; duplicates, sourceRef/dependsOn and postBuild.substituteFrom resolve inside the",
    "cluster that applies the object, and a folder two clusters apply is checked with each one's",
    "variables. The summary lists the clusters found (`clusters` in --format json).",
    "",
    "sources: a Kustomization is built from this checkout only when its source is it: flux-system, a",
    "GitRepository of the origin remote (on the cluster's branch when the repository tells it:",
    "flux-system's, origin's default, a PR's base), an OCIRepository a CI file",
    "pushes (`flux push artifact … --path=<folder>`: spec.path is inside that folder), an",
    "ExternalArtifact an ArtifactGenerator copies from a folder. Any other source is one",
    "flux/foreign-source info naming the Kustomizations it leaves unchecked. A FluxInstance's sync",
    "is such a source (its Kustomization, named after its namespace or sync.name, applies",
    "sync.path). A ResourceSet's Kustomizations and sources are expanded from its static inputs",
    "(plain << inputs.x >> templates); each ResourceSet is one flux/resourceset info saying what it",
    "leaves unchecked (its generated objects, or all of it for provider inputs).",
    "",
    "machine-written files and style severities: SOPS-encrypted files (`*.sops.yaml`, or a root",
    "`sops:` with `mac`/`lastmodified`) skip the style rules (validate.lintEncrypted: true checks",
    "them too). yaml/indentation and yaml/truthy are warnings: the YAML means the same to kustomize,",
    'which re-emits `- n` as the string "n" Flux applies (a boolean field still fails its schema).',
    "yaml/duplicate-key stays an error: kustomize, and so Flux, fails the whole build; the failed",
    "build is reported too and its files are still checked one by one.",
    "",
    "examples:",
    "  haos-tasks validate",
    "  haos-tasks validate kubernetes/apps/default/app/helmrelease.yaml",
    "  haos-tasks validate --changed-since origin/main --format github",
    "  haos-tasks validate --schema-location 'https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'",
    "",
    `exit codes: ${exitCodesText([0, 1, 2, 70])} (validate uses these four of the common codes: 1 = an`,
    "error finding, or a warning under --strict; 2 = bad usage, configuration or an unreadable repository)",
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
    strict: {
      type: "boolean",
      description:
        "Warnings fail too; a kind without a schema and a chart that cannot be had are errors; external schemas get a closed root (the Action's `strict`).",
    },
    only: { type: "string", valueName: "lint", description: "Run only one stage." },
    mirror: {
      type: "string",
      valueName: "dir",
      description: "Read schema sources from this mirror directory.",
    },
    "schema-location": {
      type: "string",
      multiple: true,
      valueName: "template",
      description: "A kubeconform -schema-location (URL or directory template, or `default`); repeatable.",
    },
    "kubernetes-version": {
      type: "string",
      valueName: "1.N",
      description: "Kubernetes minor whose OpenAPI checks built-in kinds (overrides platform.yaml).",
    },
    catalog: {
      type: "string",
      valueName: "dir",
      description: "A schema catalog written by `schemas sync --from-cluster`.",
    },
    "changed-since": {
      type: "string",
      valueName: "ref",
      description: "Check only YAML files changed since this git ref.",
    },
    "chart-mirror": {
      type: "string",
      multiple: true,
      valueName: "origin=url",
      description:
        "Fetch charts of an origin (oci:// prefix or https:// repository) from a mirror instead; repeatable (also charts.mirrors).",
    },
    "chart-cache": {
      type: "string",
      valueName: "dir",
      description:
        "The content-addressed chart cache (default: <user cache>/haos-tasks/charts; also charts.cache).",
    },
    offline: { type: "boolean", description: "Render charts from the cache (and pinned charts) only." },
    "no-render-cache": {
      type: "boolean",
      description:
        "Render every HelmRelease instead of reusing answers kept under the chart cache (renders/; keyed by the renderer's build, the chart's content and every input of the render).",
    },
    "no-build-cache": {
      type: "boolean",
      description:
        "Build and schema-check everything instead of reusing what is kept under the user cache: kustomize builds (haos-tasks/builds; keyed by kustomize's build and the content of every file a build reads) and kubeconform's answers (haos-tasks/builds/kubeconform; keyed by the schemas and each object).",
    },
    "api-versions": {
      type: "string",
      multiple: true,
      valueName: "group/version[/Kind]",
      description: "Add to Helm's .Capabilities.APIVersions when rendering charts; repeatable.",
    },
  },
  async run(args, io) {
    const format = formatOption(args.values.format, formats, "text");
    const only = args.values.only;
    if (only !== undefined && only !== "lint")
      throw new UsageError(`--only takes 'lint' (got '${String(only)}')`);
    const mirror = resolveMirror(args.values.mirror as string | undefined, io.env);
    const kubernetesVersion = args.values["kubernetes-version"] as string | undefined;
    if (kubernetesVersion !== undefined && !/^1\.\d+$/.test(kubernetesVersion))
      throw new UsageError(`--kubernetes-version takes a minor like 1.35 (got '${kubernetesVersion}')`);
    if (kubernetesVersion !== undefined) {
      // A minor the schema lock does not pin is a wrong flag, not a finding at platform.yaml:1:1.
      const [{ readSchemaLock }, { sourceAddress }] = await Promise.all([
        import("../../schemas/sources.ts"),
        import("../../schemas/selection.ts"),
      ]);
      const lock = await readSchemaLock().catch(() => undefined);
      // The Python client's major version is the Kubernetes minor (v34.x ↔ 1.34), as selection.ts reads it.
      const pinned = [
        ...new Set(
          (lock?.sources ?? []).flatMap((source) => {
            const address = sourceAddress(source.url);
            const major = /^v(\d+)\./.exec(address.tag)?.[1];
            return address.repo === "kubernetes-client/python" && major ? [`1.${major}`] : [];
          }),
        ),
      ].sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
      if (pinned.length > 0 && !pinned.includes(kubernetesVersion))
        throw new UsageError(
          `--kubernetes-version ${kubernetesVersion} has no schemas pinned in schemas.lock.json (pinned: ${pinned.join(", ")})`,
        );
    }
    const schemaLocations = (args.values["schema-location"] as string[] | undefined) ?? [];
    const catalog = args.values.catalog as string | undefined;
    const changedSince = args.values["changed-since"] as string | undefined;
    const chartMirrors = ((args.values["chart-mirror"] as string[] | undefined) ?? []).map((m) => {
      const parsed = parseChartMirror(m);
      if (!parsed)
        throw new UsageError(
          `--chart-mirror takes ORIGIN=URL (got '${m}'), e.g. oci://ghcr.io/bjw-s-labs=http://127.0.0.1:5000/bjw-s-labs`,
        );
      return parsed;
    });
    const chartCache = args.values["chart-cache"] as string | undefined;
    const apiVersions = (args.values["api-versions"] as string[] | undefined) ?? [];
    // Loaded on demand, so `release` and `verify` do not pay for the validate pipeline at start.
    const [
      { validate },
      { changedFiles },
      { catalogLoader },
      { renderValidateText, renderValidateJson, failsRun },
      { renderSarif },
      github,
    ] = await Promise.all([
      import("../../validate/pipeline.ts"),
      import("../../git/changed-files.ts"),
      import("../../validate/catalog-loader.ts"),
      import("../../validate/report.ts"),
      import("../../report/sarif.ts"),
      import("../../report/github.ts"),
    ]);
    const { annotationLines, jobSummary } = github;
    const started = Date.now();
    // On a terminal, in text format: one line redrawn while charts are fetched and rendered.
    const line = liveLine(io.stderr, {
      live: format === "text" && io.stderrIsTTY === true,
      width: () => process.stderr.columns || 100,
    });
    const progress = (event: PhaseEvent) => {
      if (event.data?.charts) {
        const text = chartProgressText(event.data.charts);
        if (text) line.update(text);
        else line.clear();
      }
      if (event.status === "progress" && !io.env.HAOS_TASKS_DEBUG) return;
      line.clear();
      io.stderr(
        `validate: ${event.phase}: ${event.detail} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`,
      );
    };
    let result: Awaited<ReturnType<typeof validate>>;
    try {
      const changed = changedSince ? await changedFiles(changedSince, io.cwd, args.positionals) : undefined;
      if (changed && changed.length === 0) {
        io.stderr(`validate: no YAML files changed since ${changedSince}\n`);
        if (format === "json") io.stdout(renderValidateJson([], { stats: { files: 0, objects: 0 } }));
        else if (format === "text") io.stdout("✓ no findings (no YAML files changed)\n");
        return ExitCode.ok;
      }
      result = await validate({
        targets: changed ?? args.positionals,
        cwd: io.cwd,
        env: io.env,
        // The CLI's edge reads the environment's choice of kustomize (the Action passes its own).
        ...(io.env.HAOS_TASKS_KUSTOMIZE === "kubectl" ? { kustomize: "kubectl" as const } : {}),
        ...(only === "lint" ? { only: "lint" as const } : {}),
        ...(mirror ? { fetch: { mirror } } : {}),
        ...(args.values.strict === true ? { strict: true } : {}),
        ...(kubernetesVersion ? { kubernetesVersion } : {}),
        ...(catalog ? { catalog: path.resolve(io.cwd, catalog) } : {}),
        schemaLocations: schemaLocations.map((l) =>
          l === "default" || /^https?:\/\//i.test(l) ? l : path.resolve(io.cwd, l),
        ),
        charts: {
          mirrors: chartMirrors,
          ...(chartCache ? { cacheDir: path.resolve(io.cwd, chartCache) } : {}),
          ...(args.values.offline === true ? { offline: true } : {}),
          ...(args.values["no-render-cache"] === true ? { renderCache: false } : {}),
        },
        ...(apiVersions.length > 0 ? { apiVersions } : {}),
        ...(args.values["no-build-cache"] === true ? { buildCache: false as const } : {}),
        onProgress: progress,
        loadCatalog: catalogLoader({ ...(mirror ? { mirror } : {}), env: io.env, onProgress: progress }),
      });
    } catch (error) {
      line.clear();
      // JSON consumers get a document on every exit, with the error that stopped the run.
      if (format === "json") {
        io.stdout(
          renderValidateJson([], {
            error: {
              message: error instanceof Error ? error.message : String(error),
              ...(error instanceof HintedError && error.hint ? { hint: error.hint } : {}),
            },
          }),
        );
      }
      throw error;
    }
    line.clear();
    const findings = result.findings;
    const { stats } = result;
    const clusters =
      result.clusters.length > 0
        ? `; ${result.clusters.length === 1 ? "cluster" : `${result.clusters.length} clusters`}: ${result.clusters.map((c) => c.name).join(", ")}`
        : "";
    const checked = `${stats.files} files, ${stats.kustomizations} kustomization.yaml, ${stats.fluxKustomizations} Flux Kustomization${stats.fluxKustomizations === 1 ? "" : "s"}, ${stats.objects} objects${clusters}${stats.render ? `; ${stats.render.objects} of the objects rendered by ${stats.render.rendered} of ${stats.render.releases} HelmReleases and CozyStack apps` : ""}`;
    if (format === "text") io.stdout(renderValidateText(findings, { colour: colourOf(io), checked }));
    if (format === "json")
      io.stdout(
        renderValidateJson(findings, { root: result.root, stats: result.stats, clusters: result.clusters }),
      );
    if (format === "sarif")
      io.stdout(renderSarif(findings, { version: io.env.npm_package_version ?? "0.1.0" }));
    if (format === "github") {
      const lines = annotationLines(findings);
      if (lines.length > 0) io.stdout(`${lines.join("\n")}\n`);
      const summaryFile = io.env.GITHUB_STEP_SUMMARY;
      if (summaryFile) await appendFile(path.resolve(io.cwd, summaryFile), jobSummary(findings));
    }
    return failsRun(countFindings(findings), { strict: args.values.strict === true })
      ? ExitCode.failure
      : ExitCode.ok;
  },
};
