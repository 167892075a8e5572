import path from "node:path";
import { loadConfig } from "../config/load.ts";
import { configFileName } from "../config/site.ts";
import type { Finding } from "../findings.ts";
import { finding } from "../lint/rules.ts";
import {
  findRepoRoot,
  kustomizationFileOf,
  loadWorkspace,
  type Workspace,
  WorkspaceError,
} from "../manifests/workspace.ts";
import type { PhaseEvent } from "../phases.ts";
import type { Platform } from "../platform/platform.ts";
import type { HelmRenderer, RenderStats } from "../render/stage.ts";
import type { FetchOptions, SchemaLock } from "../schemas/sources.ts";
import type { ValidateConfig } from "./config.ts";
import { finalizeFindings } from "./finalize.ts";
import { PlatformLookup } from "./platforms.ts";
import type { CatalogLike } from "./schema-stage.ts";

/** A started chart renderer (render/defaults.ts startDefaultRenderer). */
export type ClosableRenderer = HelmRenderer & { close(): Promise<void> };

export interface ValidateOptions {
  /** Files or directories, relative to cwd. Empty means cwd. */
  targets: readonly string[];
  cwd: string;
  /**
   * The environment of the run, from the edge (the CLI's io.env, the Action's ctx.env): where
   * tools, the cache and the schema mirror are looked up when the options do not name them
   * (HAOS_TASKS_TOOLS_DIR, PATH, HAOS_TASKS_CACHE_DIR, HAOS_TASKS_SCHEMA_MIRROR), and the
   * environment of the helper processes. Nothing of validate reads process.env.
   */
  env: NodeJS.ProcessEnv;
  /** `lint`: style rules only (no build, no schemas). */
  only?: "lint";
  /** The schema catalog for a platform (undefined when no platform.yaml applies). */
  loadCatalog?: (platform: Platform | undefined, kubernetesVersion?: string) => Promise<CatalogLike>;
  /**
   * --strict (the Action's `strict`): warnings fail the run (the shells' exit), a kind without a
   * schema and a chart that cannot be had are errors, and external schemas get a closed root.
   */
  strict?: boolean;
  /** --kubernetes-version: overrides validate.kubernetesVersion and platform.yaml. */
  kubernetesVersion?: string;
  /** --schema-location values, tried before schemas.locations of the config. */
  schemaLocations?: readonly string[];
  /** --catalog: a catalog directory `schemas sync --from-cluster` wrote. */
  catalog?: string;
  /** For schema locations that are URLs (tests pass a local server's fetch). */
  fetchLocation?: typeof globalThis.fetch;
  /** The kubeconform binary (default: found through env, tools/paths.ts toolPath). */
  kubeconform?: string;
  /** The kustomize-build helper binary (default: found through env). */
  kustomizeBuild?: string;
  /**
   * How kustomizations are built: the in-process helper (default), or `kubectl kustomize` (a
   * runner without Go: the Action sets it when the helper cannot be had; the CLI from
   * HAOS_TASKS_KUSTOMIZE=kubectl). `kubectl` names the binary (default: kubectl on PATH).
   */
  kustomize?: "in-process" | "kubectl";
  kubectl?: string;
  /** The flux-render binary, for postBuild substitution and chart rendering (default: found through env). */
  fluxRender?: string;
  lock?: SchemaLock;
  fetch?: Partial<FetchOptions>;
  onProgress?: (event: PhaseEvent) => void;
  /**
   * The chart renderer for HelmReleases and CozyStack apps. Default: the flux-render helpers,
   * started only when the run has something to render. false: no renderer can run here (the
   * Action without Go): HelmReleases and CozyStack apps are reported as not rendered, once,
   * instead of failing the run.
   */
  renderer?: false | (() => Promise<ClosableRenderer>);
  /** --no-build-cache: false builds every kustomization instead of reusing kept objects (manifests/build-cache.ts). */
  buildCache?: false;
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

/**
 * What every stage of a validate run reads and adds to: the options, the configuration, the
 * repository, the scope of the files given, and the findings and figures so far. Each stage is a
 * function over it (src/validate/stages/); pipeline.ts runs them in order.
 */
export interface ValidateContext {
  readonly options: ValidateOptions;
  readonly root: string;
  readonly config: ValidateConfig;
  /** The whole repository: references resolve there, whatever was given. */
  readonly workspace: Workspace;
  /** The files given (every file when the whole repository was). */
  readonly scope: ReadonlySet<string>;
  /** Whether a finding at this file is reported. */
  inScope(file: string | undefined): boolean;
  progress(phase: string, status: PhaseEvent["status"], detail: string, data?: Record<string, unknown>): void;
  /** Findings of every stage so far (filtered to the scope and finalised by resultOf). */
  readonly findings: Finding[];
  readonly stats: ValidateResult["stats"];
  clusters: ValidateResult["clusters"];
  /** The platform.yaml that applies to each file. */
  readonly platforms: PlatformLookup;
}

/**
 * The first stage: the configuration, the files given and the repository around them. A run
 * that finds nothing to check stops here (a job pointed at the wrong folder must not pass).
 */
export async function openContext(options: ValidateOptions): Promise<ValidateContext> {
  const started = Date.now();
  const firstTarget = path.resolve(options.cwd, options.targets[0] ?? ".");
  const root = findRepoRoot(firstTarget);
  const { validate: config } = await loadConfig(root);
  const requested = await loadWorkspace(options.targets, { cwd: options.cwd, ignore: config.ignore, root });
  if (requested.files.size === 0 && requested.problems.length === 0) {
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
  const progress: ValidateContext["progress"] = (phase, status, detail, data) =>
    options.onProgress?.({ phase, status, detail, elapsed: Date.now() - started, ...(data ? { data } : {}) });
  progress("lint", "running", `${requested.files.size} YAML files`);
  return {
    options,
    root,
    config,
    workspace,
    scope,
    inScope,
    progress,
    findings: requested.problems.map((p) =>
      finding(p.rule, { file: p.file, line: p.line ?? 1, column: 1 }, p.message, p.hint),
    ),
    stats: {
      files: scope.size,
      kustomizations: workspace.kustomizationDirs.filter((d) =>
        inScope(kustomizationFileOf(workspace, d)?.file),
      ).length,
      fluxKustomizations: 0,
      builds: 0,
      objects: 0,
    },
    clusters: [],
    platforms: new PlatformLookup(root),
  };
}

/** The last stage: the findings in scope, finalised (disable comments, overrides, one per place). */
export function resultOf(ctx: ValidateContext): ValidateResult {
  return {
    root: ctx.root,
    findings: finalizeFindings(
      // The configuration's own findings (an unreadable --schema-location) concern every path given.
      ctx.findings.filter((f) => ctx.inScope(f.file) || f.file === configFileName),
      ctx.workspace,
      ctx.config,
    ),
    stats: { ...ctx.stats },
    clusters: ctx.clusters,
  };
}
