import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Finding } from "../findings.ts";
import { lintSyntax } from "../lint/documents.ts";
import { platformRules } from "../lint/platform/index.ts";
import { at, type Subject } from "../lint/platform/subject.ts";
import { finding } from "../lint/rules.ts";
import { lintStyle } from "../lint/style.ts";
import type { Kustomization } from "../manifests/kustomization.ts";
import { type BuildFailure, kustomizeEngine, startHelpers } from "../manifests/kustomize-build.ts";
import type { KustomizeBuilder } from "../manifests/kustomize-inprocess.ts";
import { apiGroup, objectProblem, resourcesOf } from "../manifests/resources.ts";
import {
  findRepoRoot,
  isIgnored,
  knownNonResources,
  kustomizationFileNames,
  kustomizationFileOf,
  loadWorkspace,
  type Workspace,
  WorkspaceError,
} from "../manifests/workspace.ts";
import { pointerPosition, releaseAst } from "../manifests/yaml-source.ts";
import type { PhaseEvent } from "../phases.ts";
import type { Platform } from "../platform/platform.ts";
import {
  defaultChartCacheDir,
  lockedSchemaFiles,
  pinnedChartDirs,
  startDefaultRenderer,
} from "../render/defaults.ts";
import type { HelmRenderer, RenderStats } from "../render/stage.ts";
import { needsRender, renderForValidate } from "../render/validate-render.ts";
import { cacheDirs } from "../schemas/catalog.ts";
import { LocationReader } from "../schemas/locations.ts";
import { type FetchOptions, readSchemaLock, resolveMirror, type SchemaLock } from "../schemas/sources.ts";
import { toolPath } from "../tools/paths.ts";
import { type BuildStage, buildStage } from "./build-stage.ts";
import { defaultPlatform } from "./catalog-loader.ts";
import { crdScopes } from "./clusters.ts";
import { configFileName, loadValidateConfig, type ValidateConfig } from "./config.ts";
import { finalizeFindings } from "./finalize.ts";
import { type FluxKustomization, fluxCreatedObjects, isFluxKustomization } from "./flux.ts";
import { PlatformLookup, ruleContext } from "./platforms.ts";
import {
  duplicateResources,
  fluxReferences,
  kustomizationReferences,
  ownersOf,
  owningKustomization,
} from "./references.ts";
import type { UnmatchedLocation } from "./schema-sources.ts";
import { type CatalogLike, schemaFindings, unmatchedLocationFinding } from "./schema-stage.ts";
import { builtSubjects, SourceFiles, standaloneSubject } from "./subjects.ts";

export interface ValidateOptions {
  /** Files or directories, relative to cwd. Empty means cwd. */
  targets: readonly string[];
  cwd: string;
  /** `lint`: style rules only (no build, no schemas). */
  only?: "lint";
  /** The schema catalog for a platform (undefined when no platform.yaml applies). */
  loadCatalog?: (platform: Platform | undefined, kubernetesVersion?: string) => Promise<CatalogLike>;
  /** --strict: missing schemas are errors and external schemas get a closed root. */
  strict?: boolean;
  /** --kubernetes-version: overrides validate.kubernetesVersion and platform.yaml. */
  kubernetesVersion?: string;
  /** --schema-location values, tried before schemas.locations of the config. */
  schemaLocations?: readonly string[];
  /** --catalog: a catalog directory `schemas sync --from-cluster` wrote. */
  catalog?: string;
  /** For schema locations that are URLs (tests pass a local server's fetch). */
  fetchLocation?: typeof globalThis.fetch;
  kubeconform?: string;
  kubectl?: string;
  lock?: SchemaLock;
  fetch?: FetchOptions;
  onProgress?: (event: PhaseEvent) => void;
  /**
   * Starts the chart renderer for HelmReleases and CozyStack apps (default: the flux-render
   * helper, started only when the run has something to render).
   */
  startRenderer?: () => Promise<HelmRenderer & { close(): Promise<void> }>;
  /**
   * false: no renderer can run here (the Action without Go): HelmReleases and CozyStack apps are
   * reported as not rendered, once, instead of failing the run.
   */
  render?: boolean;
  /** --api-versions: more entries for Helm's .Capabilities.APIVersions. */
  apiVersions?: readonly string[];
  /** --chart-mirror, --chart-cache, --offline (charts.mirrors and charts.cache of the config come after). */
  charts?: ChartFetchOptions;
}

/** How the renderer gets charts. */
export interface ChartFetchOptions {
  mirrors?: readonly { origin: string; url: string }[];
  /** Absolute chart cache directory. */
  cacheDir?: string;
  offline?: boolean;
  /** --no-render-cache: false renders every release instead of reusing kept answers. */
  renderCache?: boolean;
}

export interface ValidateResult {
  root: string;
  findings: Finding[];
  /**
   * Files read (in scope), kustomization files (kustomization.yaml) among them, Flux
   * Kustomizations among the objects checked, builds run, objects checked.
   */
  stats: {
    files: number;
    kustomizations: number;
    fluxKustomizations: number;
    builds: number;
    objects: number;
    /** HelmReleases and CozyStack apps rendered (present when the run had any). */
    render?: RenderStats;
  };
  /** The clusters found (validate/clusters.ts): a name and the build at the top of its tree. */
  clusters: { name: string; root: string }[];
}

function buildFailureFinding(
  failure: BuildFailure,
  workspace: Workspace,
  kustomizations: Kustomization[],
  listed: readonly string[] = [],
  flux?: FluxKustomization,
): Finding {
  const k = kustomizations.find((x) => x.dir === failure.dir);
  const own = kustomizationFileOf(workspace, failure.dir)?.file;
  // kustomize names no file for a repeated key: the listed file whose parse has one is it.
  const repeated = /mapping key "([^"]*)" already defined/.test(failure.message)
    ? listed.find((f) => {
        const source = workspace.files.get(f);
        return source !== undefined && lintSyntax(source).some((x) => x.rule === "yaml/duplicate-key");
      })
    : undefined;
  const entry = k?.entries.find(
    (e) =>
      failure.message.includes(`'${e.entry}'`) ||
      failure.message.includes(`/${e.entry}`) ||
      (repeated !== undefined && (e.path === repeated || repeated.startsWith(`${e.path}/`))),
  );
  const doc = k?.source.documents[0];
  // A Flux path without a kustomization file (Flux generates one) fails at the Kustomization that
  // names it: never at a file that does not exist.
  const fluxAt =
    own === undefined && flux
      ? at({ resource: flux.resource, file: flux.resource.source.file } as Subject, "/spec/path")
      : undefined;
  const file = own ?? fluxAt?.file ?? `${failure.dir}/kustomization.yaml`;
  const pos = fluxAt
    ? { line: fluxAt.line, column: fluxAt.column }
    : k && doc && entry
      ? pointerPosition(k.source, doc, entry.pointer)
      : { line: 1, column: 1 };
  const message = repeated
    ? `kustomize build failed: ${repeated} repeats a key (${shortenBuildMessage(failure.message.replace(/\s*\n\s*/g, " "))}): Flux applies nothing of this build; its files are checked one by one`
    : `kustomize build failed: ${shortenBuildMessage(failure.message)}`;
  return finding(
    "build/kustomize",
    { file, ...pos },
    message,
    repeated
      ? `remove or merge the repeated key in ${repeated} (see yaml/duplicate-key there)`
      : "run `kubectl kustomize` on the directory and fix the reported entry",
  );
}

/** Work that pauses while the gate is closed: close() holds it at its next pause, open() lets it go. */
class Gate {
  #closed: Promise<void> | undefined;
  #open: () => void = () => {};
  close(): void {
    this.#closed ??= new Promise((resolve) => {
      this.#open = resolve;
    });
  }
  open(): void {
    this.#open();
    this.#closed = undefined;
  }
  get closed(): Promise<void> | undefined {
    return this.#closed;
  }
}

/**
 * A pause that lets the event loop run once `ms` of synchronous work has passed since the last
 * one (so child processes are fed and read), and costs nothing otherwise. While `gate` is closed
 * the pause waits for it to open: the work pausing is not on the critical path then.
 */
function yieldEvery(ms: number, gate: Gate = new Gate()): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (gate.closed) await gate.closed;
    if (performance.now() - last < ms) return;
    await new Promise((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}

export { planBuilds } from "./build-stage.ts";

/** kubectl's message cut to its innermost cause (kustomize nests every level's context). */
export function shortenBuildMessage(message: string, max = 220): string {
  const parts = message.split(/: (?=[a-zA-Z'"])/);
  let inner = parts.slice(-2).join(": ");
  if (parts.length > 2 && inner.length < 60) inner = parts.slice(-3).join(": ");
  return inner.length > max ? `${inner.slice(0, max - 1)}…` : inner;
}

/** The files a kustomization lists, through the kustomization directories it includes. */
function listedFiles(
  dir: string,
  byDir: ReadonlyMap<string, Kustomization>,
  seen = new Set<string>(),
): string[] {
  if (seen.has(dir)) return [];
  seen.add(dir);
  const k = byDir.get(dir);
  if (!k) return [];
  return k.entries.flatMap((e) => {
    if (!e.path) return [];
    if (byDir.has(e.path)) return listedFiles(e.path, byDir, seen);
    return [e.path];
  });
}

/** Platform rules a directory loses without platform.yaml (named in the info finding). */
const platformRuleIds = [
  "cozystack/*",
  "kubevirt/efi",
  "kube-ovn/*",
  "flux/prune-protection",
  "platform/pinned-url",
];
const platformGroups = [
  "apps.cozystack.io",
  "kubevirt.io",
  "instancetype.kubevirt.io",
  "kubeovn.io",
  "cdi.kubevirt.io",
];

/**
 * validate: lint → build → references → kubeconform → platform rules → findings. Plain data in,
 * findings out; progress goes to `onProgress`. Given files or folders short of the repository,
 * the whole repository is read (references resolve there) and only findings in the given files
 * are reported.
 */
export async function validate(options: ValidateOptions): Promise<ValidateResult> {
  // The kustomize helpers start first: their start (a Go process each) overlaps reading the
  // repository. A missing helper is reported where the build awaits them.
  const helpers =
    options.only !== "lint" && kustomizeEngine(options) === "in-process" ? startHelpers({}) : undefined;
  helpers?.catch(() => {});
  try {
    return await validateWith(options, helpers);
  } finally {
    await closeHelpers(helpers);
  }
}

async function closeHelpers(helpers: Promise<KustomizeBuilder> | undefined): Promise<void> {
  await (await helpers?.catch(() => undefined))?.close();
}

async function validateWith(
  options: ValidateOptions,
  helpers: Promise<KustomizeBuilder> | undefined,
): Promise<ValidateResult> {
  const started = Date.now();
  const progress = (phase: string, status: PhaseEvent["status"], detail: string) =>
    options.onProgress?.({ phase, status, detail, elapsed: Date.now() - started });
  const firstTarget = path.resolve(options.cwd, options.targets[0] ?? ".");
  const root = findRepoRoot(firstTarget);
  const { config } = await loadValidateConfig(root);
  const requested = await loadWorkspace(options.targets, { cwd: options.cwd, ignore: config.ignore, root });
  if (requested.files.size === 0 && requested.problems.length === 0) {
    // A job pointed at the wrong folder must not pass by checking nothing.
    throw new WorkspaceError(
      `no YAML files to validate under ${options.targets.join(", ") || "."} (ignored: ${config.ignore.join(", ") || "none"})`,
      "pass the folder of your Flux apps or manifests, or check validate.ignore in .haos-tasks.yaml",
    );
  }
  const wholeRepository = requested.targets.includes(".");
  const workspace = wholeRepository
    ? requested
    : await loadWorkspace(["."], { cwd: root, ignore: config.ignore, root });
  const scope = new Set([...requested.files.keys(), ...requested.problems.map((p) => p.file)]);
  const inScope = (file: string | undefined) => wholeRepository || (file !== undefined && scope.has(file));
  progress("lint", "running", `${requested.files.size} YAML files`);
  const findings: Finding[] = requested.problems.map((p) =>
    finding(p.rule, { file: p.file, line: p.line ?? 1, column: 1 }, p.message, p.hint),
  );
  // The style rules parse every file (workspace files are parsed on first use). With a build to
  // run, they run while the kustomize helpers build, yielding now and then so the helpers get
  // their next roots and their answers are read.
  const lint = async (pause: () => Promise<void>) => {
    for (const [file, source] of workspace.files) {
      if (!inScope(file)) continue;
      findings.push(...lintStyle(source, config));
      // Only a finding's position needs the AST from here on: it is parsed again if one does.
      releaseAst(source);
      await pause();
    }
  };
  const kustomizationsInScope = workspace.kustomizationDirs.filter((d) =>
    inScope(kustomizationFileOf(workspace, d)?.file),
  ).length;
  let builds = 0;
  let fluxCount = 0;
  let renderStats: RenderStats | undefined;
  let clusterList: { name: string; root: string }[] = [];
  const done = (objects: number): ValidateResult => ({
    root,
    findings: finalizeFindings(
      // The configuration's own findings (an unreadable --schema-location) concern every path given.
      findings.filter((f) => inScope(f.file) || f.file === configFileName),
      workspace,
      config,
    ),
    stats: {
      files: scope.size,
      kustomizations: kustomizationsInScope,
      fluxKustomizations: fluxCount,
      builds,
      objects,
      ...(renderStats ? { render: renderStats } : {}),
    },
    clusters: clusterList,
  });
  if (options.only === "lint") {
    await lint(async () => {});
    return done(0);
  }

  // The style rules run while the helpers build and go on while kubeconform checks: nothing
  // before the schema stage needs their findings. They wait (the gate) while the run's critical
  // path is Node's own: from the build's last few roots (one per helper: their answers must be
  // read at once, and a small repository has only those) until kubeconform has started. Each
  // file is parsed once, by whichever step reads it first.
  const gate = new Gate();
  const tail = os.availableParallelism();
  const building = buildStage(workspace, {
    ...(options.kubectl ? { kubectl: options.kubectl } : {}),
    ...(helpers ? { helpers } : {}),
    onPlan: ({ units }) => {
      builds = units.length;
      progress(
        "build",
        "running",
        `${kustomizeEngine(options) === "kubectl" ? "kubectl kustomize" : "kustomize (in-process)"}: ${units.length} builds of ${workspace.kustomizationDirs.length} kustomizations`,
      );
      if (units.length <= tail) gate.close();
    },
    onChunk: (n, total) => {
      if (total - n <= tail) gate.close();
      progress("build", "progress", `${n}/${total} build batches`);
    },
  }).finally(() => {
    gate.close();
    // The helpers' memory is free for kubeconform (their exit is awaited at the end).
    void closeHelpers(helpers);
  });
  // Awaited below: a failure must not count as unhandled meanwhile.
  building.catch(() => {});
  const linting = lint(yieldEvery(5, gate));
  linting.catch(() => {});
  let stage: BuildStage;
  try {
    stage = await building;
  } catch (error) {
    gate.open();
    throw error;
  }
  const { kustomizations, byDir, units, fluxByDir, flux, sources, clusters, built, notes } = stage;
  builds = units.length;
  const unitOf = new Map(units.map((u) => [u.dir, u]));
  findings.push(
    ...built.failures.map((f) =>
      buildFailureFinding(
        f,
        workspace,
        kustomizations,
        unitOf.get(f.dir)?.generated?.flatMap((e) => (byDir.has(e) ? listedFiles(e, byDir) : [e])) ??
          listedFiles(f.dir, byDir),
        fluxByDir.get(f.dir),
      ),
    ),
  );
  findings.push(...stage.findings);

  const files = new SourceFiles(workspace);
  const subjects: Subject[] = await builtSubjects(built.resources, files);
  built.resources.forEach((b, i) => {
    const note = notes.get(b);
    const subject = subjects[i];
    if (subject) subject.clusters = note?.clusters ?? clusters.of(b.build);
    if (note && subject && note.unresolved.length > 0) {
      subject.unresolved = note.unresolved;
      subject.substitutedBy = note.by;
    }
  });
  // A failed build must not hide the other checks of its files: what no build rendered is
  // checked file by file, as written.
  const rendered = new Set(built.resources.flatMap((b) => (b.origin ? [b.origin] : [])));
  const generated = new Set(units.flatMap((u) => u.generated ?? []));
  const fallback = new Set<string>();
  for (const failure of built.failures) {
    const unit = unitOf.get(failure.dir);
    const listed =
      unit?.generated?.flatMap((entry) => (byDir.has(entry) ? listedFiles(entry, byDir) : [entry])) ??
      listedFiles(failure.dir, byDir);
    for (const file of listed) if (!rendered.has(file) && workspace.files.has(file)) fallback.add(file);
  }
  const dirs = ownersOf(
    workspace,
    kustomizations,
    flux.map((k) => k.dir),
  );
  for (const [file, source] of workspace.files) {
    const base = path.posix.basename(file);
    if (knownNonResources.includes(base) || isIgnored(file, config.nonResources)) continue;
    if (kustomizationFileNames.includes(base)) continue;
    if (!fallback.has(file)) {
      if (owningKustomization(file, dirs) !== undefined || generated.has(file) || rendered.has(file))
        continue;
    }
    const looseClusters = clusters.of(path.posix.dirname(file));
    // A file checked on its own because its build failed: the variables its Flux Kustomization
    // would substitute are not known here (their fields stay unchecked, as for an unknown source).
    const substitutedBy = fallback.has(file) ? substitutingKustomization(file, fluxByDir) : undefined;
    const variables = substitutedBy ? [...new Set(source.text.match(/(?<=\$\{)[A-Za-z0-9_]+/g) ?? [])] : [];
    subjects.push(
      ...resourcesOf(source).map((r) => ({
        ...standaloneSubject(r),
        clusters: looseClusters,
        ...(variables.length > 0 && substitutedBy ? { unresolved: variables, substitutedBy } : {}),
      })),
    );
    // kustomize rejects such documents in a build; a file Flux applies on its own would be
    // rejected by the cluster, so it must not pass here as "0 objects".
    for (const doc of source.documents) {
      const problem = objectProblem(doc);
      if (problem)
        findings.push(
          finding(
            "manifest/not-an-object",
            { file, line: doc.start.line, column: doc.start.column },
            problem,
            "spell apiVersion, kind and metadata.name as Kubernetes does, or list the file under validate.nonResources if it is not a manifest",
          ),
        );
    }
  }
  const platforms = new PlatformLookup(root);
  const lock = options.lock ?? (await readSchemaLock().catch(() => undefined));
  const fetchOptions = { ...environmentFetch(), ...options.fetch };
  const startRenderer = options.startRenderer ?? startDefaultRenderer;
  if (options.render === false && needsRender(subjects)) {
    const first = subjects.find((s) => needsRender([s]));
    if (first)
      findings.push(
        finding(
          "helm/chart-unavailable",
          at(first, "/kind"),
          `${subjects.filter((s) => needsRender([s])).length} HelmReleases and CozyStack apps not rendered: flux-render is not installed, so what their charts render is not checked`,
          "add actions/setup-go before this Action (it then builds flux-render), or run `npm run bootstrap -- validate`",
        ),
      );
  } else if (needsRender(subjects)) {
    progress("render", "running", "HelmReleases and CozyStack apps");
    const renderer = await startRenderer();
    try {
      const rendered = await renderForValidate(subjects, {
        root,
        renderer,
        platformOf: (file) => platforms.forFile(file),
        defaultPlatform: () => defaultPlatform(),
        ...((options.kubernetesVersion ?? config.kubernetesVersion)
          ? { kubernetesVersion: options.kubernetesVersion ?? config.kubernetesVersion }
          : {}),
        ...(options.loadCatalog ? { loadCatalog: options.loadCatalog } : {}),
        apiVersions: [...(options.apiVersions ?? []), ...config.charts.apiVersions],
        ...(lock ? { lock, pinnedChart: pinnedChartDirs(lock, fetchOptions) } : {}),
        fetch: fetchOptions,
        strict: options.strict ?? false,
        chartFetch: {
          mirrors: [...(options.charts?.mirrors ?? []), ...config.charts.mirrors],
          cacheDir:
            options.charts?.cacheDir ??
            (config.charts.cache ? path.resolve(root, config.charts.cache) : defaultChartCacheDir()),
          ...(options.charts?.offline ? { offline: true } : {}),
          ...(options.charts?.renderCache === false ? { renderCache: false } : {}),
          ...(lock ? { schemaFiles: await lockedSchemaFiles(lock, fetchOptions).catch(() => ({})) } : {}),
        },
        onRendered: (e) =>
          progress(
            "render",
            "progress",
            `${e.owner}: ${e.chart} ${e.ok ? "rendered" : "failed"}${e.renderCached ? " (render cache)" : e.cached === undefined ? "" : e.cached ? " (cached)" : ` (fetched in ${e.fetchMs ?? 0} ms)`}${e.renderMs === undefined ? "" : `, ${e.renderMs} ms`}`,
          ),
      });
      subjects.push(...rendered.subjects);
      findings.push(...rendered.findings);
      renderStats = rendered.stats;
      progress(
        "render",
        "succeeded",
        `${rendered.stats.rendered}/${rendered.stats.releases} releases rendered, ${rendered.stats.objects} objects; chart cache ${rendered.stats.cacheHits}/${rendered.stats.chartLoads}, render cache ${rendered.stats.renderCacheHits}/${rendered.stats.chartLoads}`,
      );
    } finally {
      await renderer.close();
    }
  }
  const checked = subjects.filter((s) => inScope(s.file));
  const bySchemaSet = await groupByPlatform(checked, platforms);
  // kubeconform runs in its own process: the reference checks and platform rules run once it has
  // started, and the findings are added in the same order as before (references, schemas, rules).
  let kubeconformStarted: () => void = () => {};
  const kubeconformRunning = new Promise<void>((resolve) => {
    kubeconformStarted = resolve;
  });
  // The clusters that apply a repository file (its builds', else its folder's).
  const fileClusters = new Map<string, Set<string>>();
  for (const b of built.resources) {
    if (b.origin === undefined) continue;
    const set = fileClusters.get(b.origin) ?? new Set<string>();
    for (const c of clusters.of(b.build)) set.add(c);
    fileClusters.set(b.origin, set);
  }
  const clustersOfFile = (file: string): ReadonlySet<string> =>
    fileClusters.get(file) ?? clusters.of(path.posix.dirname(file));
  const schemaStage = async (): Promise<Finding[]> => {
    const schema: Finding[] = [];
    // A location is said to resolve nothing only when no schema group's kinds found anything there.
    const answered = new Set<string>();
    const unmatched = new Map<string, UnmatchedLocation>();
    if (options.loadCatalog) {
      for (const [platform, group] of bySchemaSet) {
        progress("schemas", "running", `kubeconform over ${group.length} objects`);
        let catalog: CatalogLike;
        const kubernetesVersion = options.kubernetesVersion ?? config.kubernetesVersion;
        try {
          catalog = await options.loadCatalog(platform, kubernetesVersion);
        } catch (error) {
          // A catalog that cannot be built (a version the lock does not pin, a missing source) is a
          // finding at the declaration: every object of the group stays unchecked, visibly.
          const hint = (error as { hint?: unknown }).hint;
          schema.push(
            finding(
              "schema/error",
              { file: platform?.file ?? configFileName, line: 1, column: 1 },
              `no schema catalog, ${group.length} objects not schema-checked: ${error instanceof Error ? error.message : String(error)}`,
              typeof hint === "string" ? hint : "run `haos-tasks schemas sync` to see why",
            ),
          );
          continue;
        }
        const declared = platform ?? (await defaultPlatform().catch(() => undefined));
        // A repository CRD wins in the clusters that apply it: objects of another cluster are
        // checked in a run of their own, without it (one run when every cluster sees the same).
        const crdFiles = [
          ...new Set([
            ...(await globFiles(root, config.schemas.crds, config.ignore)),
            ...repositoryCrdFiles(workspace),
          ]),
        ];
        for (const part of crdScopes(group, crdFiles, (file) => clustersOfFile(path.relative(root, file)))) {
          schema.push(
            ...(await schemaFindings(part.subjects.map(withoutSopsMetadata), catalog, config, {
              kubeconform: options.kubeconform ?? toolPath("kubeconform"),
              strict: options.strict ?? false,
              positions: config.positions,
              onKubeconformStart: kubeconformStarted,
              onLocations: (yes, no) => {
                for (const l of yes) answered.add(l);
                for (const miss of no) {
                  const known = unmatched.get(miss.location);
                  unmatched.set(
                    miss.location,
                    known ? { ...known, asked: [...known.asked, ...miss.asked] } : miss,
                  );
                }
              },
              sources: {
                root,
                crdFiles: part.crdFiles,
                locations: [...(options.schemaLocations ?? []), ...config.schemas.locations],
                ...((options.catalog ?? config.schemas.catalog)
                  ? { clusterCatalog: path.resolve(root, options.catalog ?? config.schemas.catalog ?? "") }
                  : {}),
                kubernetesVersion: kubernetesVersion ?? declared?.versions.kubernetes ?? "master",
                strict: options.strict ?? false,
                reader: new LocationReader({
                  cacheDir: path.join(path.dirname(cacheDirs().catalogRoot), "locations"),
                  ...(options.fetchLocation ? { fetch: options.fetchLocation } : {}),
                }),
              },
            })),
          );
        }
      }
    }
    for (const [location, miss] of unmatched)
      if (!answered.has(location)) schema.push(unmatchedLocationFinding(miss, root));
    return schema;
  };
  const schemaChecks = schemaStage();
  // Awaited below, after the platform rules: a failure must not count as unhandled meanwhile.
  const schemaDone = schemaChecks.then(
    () => {},
    () => {},
  );
  await Promise.race([kubeconformRunning, schemaDone]);
  gate.open();
  findings.push(...kustomizationReferences(workspace, kustomizations, config, dirs));
  const elsewhere = fluxCreatedObjects(subjects);
  const referenceFindings = [
    ...fluxReferences(subjects, root, config, elsewhere, clusters, sources),
    ...duplicateResources(subjects, clusters),
  ];
  progress("rules", "running", "platform rules");
  const context = await ruleContext(subjects, platforms, lock, fetchOptions);
  const ruleFindings = platformRules(context);
  await linting;
  findings.push(...referenceFindings, ...(await schemaChecks), ...ruleFindings, ...platforms.findings);
  // An app of platform kinds without a platform.yaml silently lost its platform rules before.
  const noted = new Set<string>();
  for (const s of checked) {
    if (!platformGroups.includes(apiGroup(s.apiVersion)) || (await platforms.forFile(s.file))) continue;
    const dir = s.build ?? path.posix.dirname(s.file);
    if (noted.has(dir)) continue;
    noted.add(dir);
    findings.push(
      finding(
        "platform/missing",
        at(s, "/kind"),
        `no platform.yaml at or above ${dir}: the platform rules are off for its ${s.kind} and the other platform objects there (${platformRuleIds.join(", ")})`,
        "add a platform.yaml to the app folder (see apps/haos-enigma/platform.yaml) to check CozyStack, KubeVirt and Kube-OVN rules",
      ),
    );
  }
  fluxCount = new Set(
    checked.filter(isFluxKustomization).map((s) => `${s.file}\u0000${s.namespace}/${s.name}`),
  ).size;
  clusterList = clusters.list.map((c) => ({ name: c.name, root: c.root }));
  progress("validate", "succeeded", `${checked.length} objects`);
  return done(checked.length);
}

/** The postBuild (`file:line`) of the Flux Kustomization whose path holds a file, if it substitutes. */
function substitutingKustomization(
  file: string,
  fluxByDir: ReadonlyMap<string, FluxKustomization>,
): string | undefined {
  for (let dir = path.posix.dirname(file); ; dir = path.posix.dirname(dir)) {
    const k = fluxByDir.get(dir);
    if (k?.postBuild) {
      const where = at({ resource: k.resource, file: k.resource.source.file } as Subject, "/spec/postBuild");
      return `${where.file}:${where.line}`;
    }
    if (dir === "." || dir === "/" || dir === "") return undefined;
  }
}

/**
 * A SOPS-encrypted manifest carries its key metadata in a root `sops:` mapping, which Flux's
 * kustomize-controller removes when it decrypts: the schema check sees the object Flux applies.
 */
function withoutSopsMetadata(subject: Subject): Subject {
  // Most objects have no `sops`: no copy of them (nor of the subject, whose trace is lazy).
  if (!Object.hasOwn(subject.object, "sops")) return subject;
  const { sops, ...object } = subject.object as Record<string, unknown>;
  return sops && typeof sops === "object" && !Array.isArray(sops) ? { ...subject, object } : subject;
}

/**
 * Where platform rules read locked sources unless told: the mirror and the cache directory the
 * environment names (HAOS_TASKS_SCHEMA_MIRROR, HAOS_TASKS_CACHE_DIR), as the schema catalog does.
 */
function environmentFetch(): FetchOptions {
  const mirror = resolveMirror(undefined);
  return { ...(mirror ? { mirror } : {}), cacheDir: cacheDirs().sourceCacheDir };
}

/** Subjects grouped by the platform that applies (its versions choose the schemas). */
async function groupByPlatform(
  subjects: readonly Subject[],
  platforms: PlatformLookup,
): Promise<Map<Platform | undefined, Subject[]>> {
  const groups = new Map<Platform | undefined, Subject[]>();
  const byFile = await platforms.forFilesOf(subjects);
  for (const s of subjects) {
    const platform = byFile.get(s.file);
    const list = groups.get(platform) ?? [];
    list.push(s);
    groups.set(platform, list);
  }
  return groups;
}

/**
 * CRD files anywhere in the repository (besides schemas.crds): the definitions its clusters run
 * win over the catalog's for the same group, kind and version. Absolute paths.
 */
function repositoryCrdFiles(workspace: Workspace): string[] {
  const out: string[] = [];
  for (const [file, source] of workspace.files) {
    if (!source.text.includes("CustomResourceDefinition")) continue;
    if (
      resourcesOf(source).some(
        (r) => r.kind === "CustomResourceDefinition" && apiGroup(r.apiVersion) === "apiextensions.k8s.io",
      )
    )
      out.push(path.join(workspace.root, file));
  }
  return out;
}

/** Repo-relative globs → absolute files (for schemas.crds). */
async function globFiles(
  root: string,
  globs: readonly string[],
  ignore: readonly string[],
): Promise<string[]> {
  if (globs.length === 0) return [];
  const { glob } = await import("node:fs/promises");
  const out = new Set<string>();
  for (const pattern of globs) {
    for await (const rel of glob(pattern, { cwd: root })) {
      if (!isIgnored(rel.split(path.sep).join("/"), ignore)) out.add(path.join(root, rel));
    }
  }
  return [...out].sort();
}

export type { ValidateConfig };

/**
 * YAML files changed since `ref` (from the merge base, so a PR check sees its own changes):
 * committed, staged, unstaged and untracked; deleted files are left out. Absolute paths, limited
 * to `within` (paths relative to cwd) when given.
 */
export async function changedFiles(
  ref: string,
  cwd: string,
  within: readonly string[] = [],
): Promise<string[]> {
  const { runGit } = await import("../git/runner.ts");
  const git = async (...args: string[]) => {
    const run = await runGit(cwd, args);
    if (run.code !== 0) {
      throw new WorkspaceError(
        `git ${args.join(" ")} failed: ${String(run.stderr).trim()}`,
        "pass a ref git knows (e.g. origin/main; in CI fetch it first: git fetch origin main)",
      );
    }
    return String(run.stdout);
  };
  const top = (await git("rev-parse", "--show-toplevel")).trim();
  const base = (await git("merge-base", ref, "HEAD")).trim();
  const names = [
    ...(await git("diff", "--name-only", "--diff-filter=d", base)).split("\n"),
    ...(await git("ls-files", "--others", "--exclude-standard"))
      .split("\n")
      .map((f) => path.relative(top, path.join(cwd, f))),
  ].filter((f) => f && (/\.ya?ml$/.test(f) || path.posix.basename(f) === "Kustomization"));
  const scopes = within.map((w) => path.resolve(cwd, w));
  return [...new Set(names.map((f) => path.join(top, f)))]
    .filter((f) => existsSync(f))
    .filter((f) => scopes.length === 0 || scopes.some((s) => f === s || f.startsWith(`${s}${path.sep}`)))
    .sort();
}
