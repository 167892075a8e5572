import path from "node:path";
import type { Finding } from "../findings.ts";
import { normaliseFluxPath } from "../lint/platform/flux.ts";
import { buildUnitKey, cachedBatch, cachedBuild } from "../manifests/build-cache.ts";
import { includedDirectories, type Kustomization, readKustomization } from "../manifests/kustomization.ts";
import {
  type BuildFailure,
  type BuildResult,
  type BuildUnit,
  type BuiltResource,
  buildKustomizations,
  kustomizeEngine,
  startHelpers,
} from "../manifests/kustomize-build.ts";
import type { KustomizeBuilder } from "../manifests/kustomize-inprocess.ts";
import { field, type Resource, resourcesOf } from "../manifests/resources.ts";
import { kustomizationFileOf, refusedFiles, type Workspace } from "../manifests/workspace.ts";
import { hasParseErrors } from "../manifests/yaml-source.ts";
import { startRenderer } from "../render/helper.ts";
import { userCacheDir } from "../schemas/sources.ts";
import { binaryIdentity, toolPath } from "../tools/paths.ts";
import { type Clusters, findClusters, syncPath } from "./clusters.ts";
import {
  buildsDifferently,
  buildUnits,
  type FluxKustomization,
  fluxKustomizationOf,
  fluxKustomizations,
  generatedKustomizations,
  isFluxKustomization,
  type Substituter,
  type SubstitutionScope,
  substitute,
} from "./flux.ts";
import { repositoryKey } from "./references.ts";
import { isResourceSet } from "./resourcesets.ts";
import { instanceSync, SourceMap } from "./sources.ts";

/**
 * Flux applies a child Kustomization as its parent's build made it: the parent's `spec.patches`
 * (the cluster-template idiom that gives every child its interval, prune or postBuild) and the
 * parent's substitution of the child's own fields. A child whose applied spec builds differently
 * from its file (or whose path only the parent's substitution resolves) is built again with the
 * applied spec; its objects replace those of the first build.
 */
async function applyParentBuilds(
  built: BuildResult,
  fluxByDir: Map<string, FluxKustomization>,
  workspace: Workspace,
  options: Pick<BuildStageOptions, "kubectl" | "env">,
  envsubst: Substituter,
): Promise<{ built: BuildResult; units: BuildUnit[] }> {
  const knownDirectories = new Set(workspace.kustomizationDirs);
  const written = [...fluxByDir.values()];
  // Substitution first, on copies: the child's fields as the parent's postBuild leaves them.
  const children = built.resources.filter((b) => isFluxKustomization(b));
  if (children.length === 0) return { built, units: [] };
  const copies = children.map((b) => ({ ...b, object: structuredClone(b.object) }));
  await substitute(copies, fluxByDir, [], configSources(workspace, fluxByDir), undefined, envsubst);
  const redo: FluxKustomization[] = [];
  for (const child of copies) {
    // The same name can be a Kustomization of each cluster: the one written in the file it came from.
    const named = written.filter(
      (k) => k.name === child.name && (k.namespace === child.namespace || !k.namespace),
    );
    const source =
      named.find((k) => k.resource.source.file === child.origin) ??
      (named.length === 1 ? named[0] : undefined);
    const file = child.origin ? workspace.files.get(child.origin) : undefined;
    const resource =
      source?.resource ??
      (file ? resourcesOf(file).find((r) => isFluxKustomization(r) && r.name === child.name) : undefined);
    if (!resource) continue;
    const applied = fluxKustomizationOf(resource, child.object, workspace.root, knownDirectories);
    if (!applied) continue;
    if (source && !buildsDifferently(source, applied)) continue;
    if (redo.some((k) => k.dir === applied.dir)) continue;
    if (source && source.dir !== applied.dir) fluxByDir.delete(source.dir);
    fluxByDir.set(applied.dir, applied);
    redo.push(applied);
  }
  if (redo.length === 0) return { built, units: [] };
  const { units } = buildUnits([], redo, (dir) => knownDirectories.has(dir), workspace.root);
  const helpers = kustomizeEngine(options) === "in-process" ? startHelpers({ env: options.env }) : undefined;
  helpers?.catch(() => {});
  try {
    const again = await buildKustomizations(units, {
      root: workspace.root,
      ...(options.kubectl ? { kubectl: options.kubectl } : {}),
      env: options.env,
      ...(helpers ? { helpers } : {}),
      refuse: refusedFiles(workspace),
    });
    const dirs = new Set(units.map((u) => u.dir));
    return {
      built: {
        resources: [...built.resources.filter((b) => !dirs.has(b.build)), ...again.resources],
        failures: [...built.failures.filter((f) => !dirs.has(f.dir)), ...again.failures],
        superseded: (built.superseded ?? []).filter((f) => !dirs.has(f.dir)),
      },
      units,
    };
  } finally {
    await (await helpers?.catch(() => undefined))?.close();
  }
}

/** The ConfigMaps and Secrets substituteFrom may read, when some Flux Kustomization substitutes. */
function configSources(workspace: Workspace, fluxByDir: ReadonlyMap<string, FluxKustomization>): Resource[] {
  // A file whose text names neither kind (nor escapes anything) holds neither.
  return [...fluxByDir.values()].some((k) => k.postBuild)
    ? [...workspace.files.values()]
        .filter((source) => /ConfigMap|Secret|\\/.test(source.text))
        .flatMap((source) => resourcesOf(source).filter((r) => r.kind === "ConfigMap" || r.kind === "Secret"))
    : [];
}

/** Directories to build: kustomizations no other kustomization in the tree includes (not Components). */
function rootKustomizations(kustomizations: readonly Kustomization[]): string[] {
  // A cycle (a kustomization including itself) keeps a root: built, it fails as kustomize does.
  const included = includedDirectories(kustomizations);
  return kustomizations
    .filter((k) => !included.has(k.dir))
    .filter((k) => {
      const doc = k.source.documents[0];
      return doc !== undefined && !hasParseErrors(doc);
    })
    .filter((k) => field(k.source.documents[0]?.value, "kind") !== "Component")
    .map((k) => k.dir);
}

/**
 * What validate builds for a workspace: its kustomizations, and the build units — the root
 * kustomizations and the paths of the Flux Kustomizations, with Flux's components, targetNamespace
 * and generated kustomizations. The benchmark's build floor builds the same units.
 */
export function planBuilds(
  workspace: Workspace,
  env: NodeJS.ProcessEnv,
): {
  kustomizations: Kustomization[];
  byDir: Map<string, Kustomization>;
  units: BuildUnit[];
  fluxByDir: Map<string, FluxKustomization>;
  flux: FluxKustomization[];
  sources: SourceMap;
} {
  const kustomizations = workspace.kustomizationDirs.flatMap((dir) => {
    const source = kustomizationFileOf(workspace, dir);
    return source ? [readKustomization(source, dir)] : [];
  });
  const byDir = new Map(kustomizations.map((k) => [k.dir, k]));
  const sources = new SourceMap(workspace, repositoryKey, env);
  const flux = fluxKustomizations(workspace, sources);
  const { units, byDir: fluxByDir } = buildUnits(
    rootKustomizations(kustomizations),
    flux,
    (dir) => byDir.has(dir),
    workspace.root,
  );
  return { kustomizations, byDir, units, fluxByDir, flux, sources };
}

/**
 * Builds the roots; when one fails, builds the kustomizations it includes on their own, level by
 * level, so one broken app does not leave its siblings unchecked. A failure is reported at the most
 * specific kustomization that fails: a parent whose included kustomization fails is not repeated.
 */
async function buildFallingBackToIncluded(
  roots: readonly string[],
  kustomizations: readonly Kustomization[],
  build: (dirs: readonly string[]) => Promise<BuildResult>,
  generatedOf: (dir: string) => readonly string[] | undefined = () => undefined,
): Promise<BuildResult> {
  const byDir = new Map(kustomizations.map((k) => [k.dir, k]));
  const isBuildable = (dir: string) =>
    byDir.has(dir) && field(byDir.get(dir)?.source.documents[0]?.value, "kind") !== "Component";
  // A Flux path without a kustomization file lists its kustomization folders in the generated
  // list: they are built on their own when the generated build fails.
  const included = (dir: string): string[] =>
    generatedOf(dir)?.filter(isBuildable) ??
    (byDir.get(dir)?.entries ?? []).flatMap((e) =>
      e.mayBeDirectory && e.path && isBuildable(e.path) ? [e.path] : [],
    );
  const result: BuildResult = { resources: [], failures: [] };
  const attempted = new Set<string>();
  let level = [...roots];
  while (level.length > 0) {
    for (const dir of level) attempted.add(dir);
    const { resources, failures } = await build(level);
    result.resources.push(...resources);
    const next: string[] = [];
    for (const failure of failures) {
      // A cycle fails the same in each of its members: reported once, at the one built.
      const children = /cycle detected/.test(failure.message)
        ? []
        : included(failure.dir).filter((d) => !attempted.has(d) && !next.includes(d));
      next.push(...children);
      result.failures.push(failure);
    }
    level = next;
  }
  // Keep only the most specific failures: drop a parent when something it includes failed too.
  const failed = new Set(result.failures.map((f) => f.dir));
  const superseded = (f: BuildFailure) => included(f.dir).some((d) => d !== f.dir && failed.has(d));
  result.superseded = result.failures.filter(superseded);
  result.failures = result.failures.filter((f) => !superseded(f));
  return result;
}

/**
 * What renders an object, as Flux would apply it: the Flux Kustomization whose path it is built
 * from, a kustomization root no Flux Kustomization names (`kind: "kustomization"`), or — once the
 * render engine renders charts — the HelmRelease whose chart renders it (`parent`: the owner that
 * applies the HelmRelease).
 */
export interface BuildOwner {
  /** `Kustomization/<namespace>/<name>`, `HelmRelease/<namespace>/<name>`, or the root's directory. */
  id: string;
  kind: "Kustomization" | "HelmRelease" | "kustomization";
  name: string;
  namespace: string;
  /** Repo-relative directory it builds (spec.path, the kustomization root, a HelmRelease's parent's). */
  path: string;
  /** The owner that applies this one (a HelmRelease: the Flux Kustomization that renders it). */
  parent?: string;
  /** Repo-relative file that declares it (Flux objects). */
  file?: string;
}

/** One rendered object and the owner that renders it. */
export interface OwnedObject {
  owner: string;
  resource: BuiltResource;
}

/** An owner that does not render, with the renderer's message (paths repo-relative). */
export interface OwnerFailure {
  owner: string;
  /** The kustomization (or chart source) that failed, repo-relative. */
  dir: string;
  message: string;
}

export interface BuildStageOptions {
  /** Build with this `kubectl kustomize` instead of the in-process helper (see kustomizeEngine). */
  kubectl?: string;
  /** In-process helpers already started (startHelpers): used, not closed. Else started and closed here. */
  helpers?: Promise<KustomizeBuilder>;
  /** Called with the plan before anything is built (validate sizes its progress and pacing on it). */
  onPlan?: (plan: ReturnType<typeof planBuilds>) => void;
  /** Progress of the kustomize builds (done of total). */
  onChunk?: (done: number, total: number) => void;
  /** The environment of the helpers, from the edge (tools and the git facts of sources are read through it). */
  env: NodeJS.ProcessEnv;
  /** The flux-render binary for the default envsubst (default: found through env). */
  fluxRender?: string;
  /**
   * The build cache's directory (manifests/build-cache.ts), used with the in-process helper; none
   * when undefined. validate and diff give the user cache directory's `builds` unless told not to.
   */
  buildCache?: string;
  /** Filled with the build cache's hits and misses. */
  buildCacheStats?: { hits: number; misses: number };
  /**
   * Flux's postBuild substitution (flux-render's envsubst op). Default: a flux-render started on
   * the first object to substitute (none when no Flux Kustomization substitutes) and closed at
   * the end of the stage.
   */
  envsubst?: Substituter;
}

/**
 * The build cache validate and diff use unless told not to: `$HAOS_TASKS_BUILD_CACHE`, else the
 * user cache directory's `builds` (`$HAOS_TASKS_CACHE_DIR/builds`, else `$XDG_CACHE_HOME` or
 * `~/.cache` + `haos-tasks/builds`), beside the schema and chart caches — keep that directory
 * between CI runs.
 */
export function defaultBuildCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.HAOS_TASKS_BUILD_CACHE) return path.resolve(env.HAOS_TASKS_BUILD_CACHE);
  return path.join(userCacheDir(env), "builds");
}

/** flux-render's identity for the envsubst cache (undefined when it is not installed). */
function fluxRenderIdentity(env: NodeJS.ProcessEnv, binary: string | undefined): string | undefined {
  try {
    return binaryIdentity(binary ?? toolPath("flux-render", env));
  } catch {
    return undefined;
  }
}

/** flux-render's envsubst, the process started on the first call only; close() ends it if started. */
export function lazyEnvsubst(
  env: NodeJS.ProcessEnv,
  binary?: string,
): { envsubst: Substituter; close(): Promise<void> } {
  let renderer: ReturnType<typeof startRenderer> | undefined;
  return {
    envsubst: async (items) => {
      renderer ??= startRenderer({ env, ...(binary ? { binary } : {}) });
      return await (await renderer).envsubst(items);
    },
    close: async () => {
      await (await renderer?.catch(() => undefined))?.close();
    },
  };
}

export interface BuildStage {
  kustomizations: Kustomization[];
  byDir: Map<string, Kustomization>;
  units: BuildUnit[];
  fluxByDir: Map<string, FluxKustomization>;
  /** Every Flux Kustomization of the workspace, as read from its files. */
  flux: FluxKustomization[];
  /** Where each Flux source's content is (this checkout, a folder of it, or foreign). */
  sources: SourceMap;
  /** The clusters as Flux sees them (validate/clusters.ts). */
  clusters: Clusters;
  /** Every built object (Flux postBuild substitution applied) and every build failure. */
  built: BuildResult;
  /** Objects whose substitution left variables unresolved (validate's subjects note them). */
  notes: Map<BuiltResource, { unresolved: string[]; by: string; clusters?: ReadonlySet<string> }>;
  /** Substitution failures (flux/substitution), in the order they were found. */
  findings: Finding[];
  owners: Map<string, BuildOwner>;
  /** `built.resources`, each with its owner. */
  objects: OwnedObject[];
  /** `built.failures`, each with its owner. */
  failures: OwnerFailure[];
}

/** The owner of each build unit: its Flux Kustomization, else the kustomization root itself. */
function unitOwners(units: readonly BuildUnit[], fluxByDir: ReadonlyMap<string, FluxKustomization>) {
  const owners = new Map<string, BuildOwner>();
  const ownerOfUnit = new Map<string, string>();
  for (const unit of units) {
    const k = fluxByDir.get(unit.dir);
    const owner: BuildOwner = k
      ? {
          id: `Kustomization/${k.namespace}/${k.name}`,
          kind: "Kustomization",
          name: k.name,
          namespace: k.namespace,
          path: unit.dir,
          file: k.resource.source.file,
        }
      : { id: unit.dir, kind: "kustomization", name: unit.dir, namespace: "", path: unit.dir };
    owners.set(owner.id, owner);
    ownerOfUnit.set(unit.dir, owner.id);
  }
  return { owners, ownerOfUnit };
}

/**
 * validate's build, as one step: plan the units (planBuilds), build them with kustomize (falling
 * back to the kustomizations a failing root includes), apply Flux's postBuild substitution, and
 * say which owner renders each object and which owner each failure stops. validate and diff both
 * call it; diff once per commit.
 */
export async function buildStage(workspace: Workspace, options: BuildStageOptions): Promise<BuildStage> {
  const root = workspace.root;
  const plan = planBuilds(workspace, options.env);
  const { kustomizations, units } = plan;
  options.onPlan?.(plan);
  const unitOf = new Map(units.map((u) => [u.dir, u]));
  const ownHelpers =
    options.helpers === undefined && kustomizeEngine(options) === "in-process"
      ? startHelpers({ env: options.env })
      : undefined;
  ownHelpers?.catch(() => {});
  const helpers = options.helpers ?? ownHelpers;
  let built: BuildResult;
  try {
    const build = (dirs: readonly string[]) =>
      buildKustomizations(
        dirs.map((d) => unitOf.get(d) ?? { dir: d }),
        {
          root,
          ...(options.kubectl ? { kubectl: options.kubectl } : {}),
          env: options.env,
          ...(helpers ? { helpers } : {}),
          refuse: refusedFiles(workspace),
          ...(options.onChunk ? { onChunk: options.onChunk } : {}),
        },
      );
    const identity =
      options.buildCache !== undefined && helpers && kustomizeEngine(options) === "in-process"
        ? (await helpers.catch(() => undefined))?.identity
        : undefined;
    const cache = identity && options.buildCache ? { dir: options.buildCache, identity } : undefined;
    built = await buildFallingBackToIncluded(
      units.map((u) => u.dir),
      kustomizations,
      cache
        ? (dirs) =>
            cachedBuild(
              dirs,
              (d) => buildUnitKey(unitOf.get(d) ?? { dir: d }, plan.byDir, workspace, cache.identity),
              cache,
              build,
              options.buildCacheStats,
            )
        : build,
      (dir) => unitOf.get(dir)?.generated,
    );
  } finally {
    await (await ownHelpers?.catch(() => undefined))?.close();
  }
  const own = options.envsubst ? undefined : lazyEnvsubst(options.env, options.fluxRender);
  const substituter = options.envsubst ?? (own as { envsubst: Substituter }).envsubst;
  // Flux's substitution of an object is the same for the same text and variables: with the build
  // cache, its answers are kept beside the builds (keyed by flux-render's binary too).
  const renderIdentity = options.buildCache ? fluxRenderIdentity(options.env, options.fluxRender) : undefined;
  const envsubst: Substituter =
    options.buildCache && renderIdentity
      ? cachedBatch(substituter, { dir: path.join(options.buildCache, "envsubst"), identity: renderIdentity })
      : substituter;
  try {
    return await finishStage(built, plan, unitOf, workspace, options, envsubst);
  } finally {
    await own?.close();
  }
}

async function finishStage(
  initial: BuildResult,
  plan: ReturnType<typeof planBuilds>,
  unitOf: Map<string, BuildUnit>,
  workspace: Workspace,
  options: BuildStageOptions,
  envsubst: Substituter,
): Promise<BuildStage> {
  const { kustomizations, byDir, units, fluxByDir, flux, sources } = plan;
  let built = initial;
  const applied = await applyParentBuilds(built, fluxByDir, workspace, options, envsubst);
  built = applied.built;
  for (const unit of applied.units) {
    const at = units.findIndex((u) => u.dir === unit.dir);
    if (at >= 0) units[at] = unit;
    else units.push(unit);
    unitOf.set(unit.dir, unit);
  }
  // Clusters as Flux sees them: references, duplicates and substituteFrom stay inside each.
  // A Flux Kustomization in a file no build renders (a FluxInstance's sync path with no
  // kustomization.yaml, applied by bootstrap) links its folder.
  const renderedFiles = new Set(built.resources.map((b) => b.origin));
  const loose = flux
    .filter((k) => !renderedFiles.has(k.resource.source.file))
    .map((k) => ({ ...k.resource, build: path.posix.dirname(k.resource.source.file) }));
  // A ResourceSet links the build holding it to the paths of the Kustomizations it generates.
  const generated = [...built.resources, ...loose].flatMap((b) =>
    isResourceSet(b)
      ? generatedKustomizations(b).map((object) => ({
          apiVersion: String(object.apiVersion),
          kind: String(object.kind),
          object,
          build: b.build,
        }))
      : [],
  );
  const clusters = findClusters(
    [...built.resources, ...loose, ...generated],
    new Set([
      ...units.map((u) => u.dir),
      ...built.resources.map((b) => b.build),
      ...loose.map((l) => l.build),
    ]),
    (b) => {
      const specPath = field(b.object, "spec", "path") ?? ".";
      if (typeof specPath !== "string" || specPath.includes("${")) return undefined;
      const ref = field(b.object, "spec", "sourceRef");
      const reading = sources.resolve(
        String(field(ref, "kind") ?? "GitRepository"),
        String(field(ref, "name") ?? ""),
        String(field(ref, "namespace") ?? field(b.object, "metadata", "namespace") ?? ""),
      );
      return reading.reads === "foreign"
        ? undefined
        : normaliseFluxPath(path.posix.join(reading.reads === "this" ? reading.base : ".", specPath));
    },
    // A FluxInstance's sync is a cluster of this repository only when its source is this checkout.
    (b) => {
      const sync = instanceSync(b);
      const dir = syncPath(b);
      if (!sync || dir === undefined) return undefined;
      const reading = sources.resolve(sync.kind, sync.name, sync.namespace);
      return reading.reads === "foreign"
        ? undefined
        : normaliseFluxPath(path.posix.join(reading.reads === "this" ? reading.base : ".", dir));
    },
  );
  const findings: Finding[] = [];
  const notes = await substitute(
    built.resources,
    fluxByDir,
    findings,
    // The substituteFrom candidates, only when some Flux Kustomization substitutes at all.
    configSources(workspace, fluxByDir),
    substitutionScope(clusters, built.resources, flux, workspace),
    envsubst,
  );
  const { owners, ownerOfUnit } = unitOwners(units, fluxByDir);
  // A kustomization built on its own after its root failed (or reported as the most specific
  // failure) belongs to the unit that includes it.
  const includedBy = new Map<string, string>();
  const walk = (unit: string, dir: string, seen: Set<string>) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    if (!includedBy.has(dir)) includedBy.set(dir, unit);
    for (const e of byDir.get(dir)?.entries ?? []) if (e.mayBeDirectory && e.path) walk(unit, e.path, seen);
  };
  for (const unit of units) includedBy.set(unit.dir, unit.dir);
  for (const unit of units) {
    for (const start of [unit.dir, ...(unit.components ?? []), ...(unit.generated ?? [])])
      walk(unit.dir, start, new Set());
  }
  const ownerOf = (dir: string): string => {
    const unit = includedBy.get(dir) ?? dir;
    const id = ownerOfUnit.get(unit);
    if (id) return id;
    owners.set(dir, { id: dir, kind: "kustomization", name: dir, namespace: "", path: dir });
    return dir;
  };
  // kustomize-controller's apply step: spec.commonMetadata's labels and annotations on every object
  // it applies, replacing keys of the same name (ssautil.SetCommonMetadata, after the substitution).
  for (const b of built.resources) {
    const common = fluxByDir.get(includedBy.get(b.build) ?? b.build)?.commonMetadata;
    if (!common) continue;
    const metadata = { ...((field(b.object, "metadata") as Record<string, unknown> | undefined) ?? {}) };
    for (const key of ["labels", "annotations"] as const) {
      const merged = { ...((metadata[key] as Record<string, unknown> | undefined) ?? {}), ...common[key] };
      if (Object.keys(merged).length > 0) metadata[key] = merged;
    }
    b.object = { ...b.object, metadata };
  }
  return {
    kustomizations,
    byDir,
    units,
    fluxByDir,
    flux,
    sources,
    clusters,
    built,
    notes,
    findings,
    owners,
    objects: built.resources.map((resource) => ({ owner: ownerOf(resource.build), resource })),
    failures: built.failures.map((f) => ({ owner: ownerOf(f.dir), dir: f.dir, message: f.message })),
  };
}

/** Substitution inside clusters: a Kustomization's clusters are those of the builds holding it. */
function substitutionScope(
  clusters: Clusters,
  built: readonly BuiltResource[],
  flux: readonly FluxKustomization[],
  workspace: Workspace,
): SubstitutionScope {
  const byFile = new Map<string, Set<string>>();
  const fluxAt = new Map<string, Set<string>>();
  for (const b of built) {
    if (b.origin === undefined) continue;
    const of = clusters.of(b.build);
    const set = byFile.get(b.origin) ?? new Set<string>();
    for (const c of of) set.add(c);
    byFile.set(b.origin, set);
    if (isFluxKustomization(b)) {
      const key = `${b.origin}\u0000${b.name}`;
      const own = fluxAt.get(key) ?? new Set<string>();
      for (const c of of) own.add(c);
      fluxAt.set(key, own);
    }
  }
  return {
    flux,
    clustersOfFlux: (k) =>
      fluxAt.get(`${k.resource.source.file}\u0000${k.name}`) ??
      clusters.of(path.posix.dirname(k.resource.source.file)),
    clustersOf: (o) =>
      o.build !== undefined
        ? clusters.of(o.build)
        : (byFile.get(o.source?.file ?? "") ?? clusters.of(path.posix.dirname(o.source?.file ?? "."))),
    textOf: (file) => workspace.files.get(file)?.text,
  };
}
