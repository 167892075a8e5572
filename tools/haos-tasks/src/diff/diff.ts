import { mkdirSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { loadConfig } from "../config/load.ts";
import {
  changedFiles,
  exportTree,
  mergeBase,
  pathExists,
  repositoryRoot,
  resolveCommit,
} from "../git/repository.ts";
import { GitError } from "../git/runner.ts";
import type { Subject } from "../lint/platform/subject.ts";
import type { BuiltResource } from "../manifests/kustomize-build.ts";
import { kustomizeEngine, startHelpers } from "../manifests/kustomize-build.ts";
import type { KustomizeBuilder } from "../manifests/kustomize-inprocess.ts";
import { loadWorkspace, type Workspace } from "../manifests/workspace.ts";
import { type buildAndRender, builtRenderInputs, renderBuilt } from "../render/build-render.ts";
import type { ChartProgress } from "../render/stage.ts";
import {
  type BuildOwner,
  type BuildStage,
  buildStage,
  defaultBuildCacheDir,
  lazyEnvsubst,
} from "../validate/build-stage.ts";
import { defaultValidateConfig, type ValidateConfig } from "../validate/config.ts";
import type { Substituter } from "../validate/flux.ts";
import { type Danger, type KubeObject, objectDangers, renderFailureDanger } from "./dangers.ts";
import { changedPaths, isVersionMove, stripNoise } from "./objects.ts";
import { redactSecretPair, renderObject, resourceKey } from "./resources.ts";
import { unifiedDiff } from "./unified.ts";

/** What `haos-tasks diff` and the Action's diff command both build from their arguments. */
export interface DiffOptions {
  /** A directory of the repository checkout (its root is looked up). */
  repo: string;
  /** Base ref; the comparison starts at the merge base of base and head, like a PR's "Files changed". */
  base: string;
  head: string;
  /** Repo-relative folders whose owners are shown (`.` = everywhere). */
  paths: string[];
  /** Build with this `kubectl kustomize` instead of validate's in-process kustomize. */
  kubectl?: string;
  /** Context lines around each change. */
  context?: number;
  /**
   * The render of one commit (default: validate's build stage and chart renders, buildAndRender). Tests stand in a renderer that adds
   * HelmRelease owners, as the chart engine does, to pin how diff consumes them.
   */
  render?: typeof buildAndRender;
  /** Label/annotation key globs left out of the comparison (default: `diff.noise` of the head's config). */
  noise?: string[];
  /** The edge's environment: the helpers' (kustomize-build, flux-render are found through it). */
  env: NodeJS.ProcessEnv;
  /**
   * Render every HelmRelease of both commits, not only those the change affects (see
   * releasesToRender; the result is the same — this is for checking that).
   */
  renderAll?: boolean;
  /** --no-render-cache: false renders every release instead of reusing flux-render's kept answers. */
  renderCache?: boolean;
  /** --no-build-cache: false builds every kustomization instead of reusing kept objects. */
  buildCache?: false;
  /** Progress of the chart fetches and renders of each commit (the CLI draws a terminal's progress line from it). */
  onChartProgress?: (progress: ChartProgress) => void;
}

export type ResourceChangeKind = "added" | "removed" | "changed";

export interface ResourceChange {
  /** `Kind/namespace/name`, or `Kind/name` when cluster-scoped. */
  key: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  change: ResourceChangeKind;
  /** The owner that renders it (see BuildOwner.id). */
  owner: string;
  /** Changed field paths (empty for added and removed objects). */
  paths: string[];
  /** Unified diff of the rendered YAML: noise left out, Secret values redacted. */
  diff: string;
}

export type AppStatus = "added" | "removed" | "changed" | "unchanged" | "error";

/** What one owner renders differently. */
export interface AppDiff {
  /** Repo-relative directory the owner builds. */
  path: string;
  owner: Pick<BuildOwner, "id" | "kind" | "name" | "namespace" | "path"> & { parent?: string; file?: string };
  status: AppStatus;
  /** Empty when either side does not render (see errors). */
  resources: ResourceChange[];
  /** Render failures, by side, with the renderer's message. */
  errors: { side: "base" | "head"; message: string }[];
}

/** One line per HelmRelease whose chart or values move. */
export interface HelmSummary {
  /** `HelmRelease/namespace/name`. */
  release: string;
  /** The owner that applies the HelmRelease. */
  owner: string;
  chart: string;
  from?: string;
  to?: string;
  /** Whether the chart's objects were rendered (a HelmRelease owner exists); else counts are 0. */
  rendered: boolean;
  added: number;
  changed: number;
  removed: number;
  line: string;
}

export interface DiffResult {
  base: { ref: string; sha: string };
  head: { ref: string; sha: string };
  /** The folders whose owners are shown. */
  paths: string[];
  changedFiles: number;
  apps: AppDiff[];
  dangers: Danger[];
  helmReleases: HelmSummary[];
  totals: { added: number; changed: number; removed: number };
  /** Only image and chart-version moves: nothing added, removed, failing or dangerous. */
  routine: boolean;
}

/** One commit, rendered by validate's build stage. */
interface Side {
  stage: BuildStage;
  objects: Map<string, Map<string, BuiltResource>>;
  failures: Map<string, string[]>;
  /** Repo-relative files and directories each owner reads. */
  inputs: Map<string, Set<string>>;
  all: BuiltResource[];
}

const isWithin = (file: string, dir: string) =>
  dir === "." || dir === "" || file === dir || file.startsWith(`${dir}/`);

const keyOf = (r: { kind: string; name: string; namespace: string }) =>
  resourceKey(r.kind, r.name, r.namespace || undefined);

function inputsOf(stage: BuildStage): Map<string, Set<string>> {
  const inputs = new Map<string, Set<string>>();
  const ownerOfUnit = new Map<string, string>();
  for (const owner of stage.owners.values())
    if (owner.kind !== "HelmRelease") ownerOfUnit.set(owner.path, owner.id);
  const add = (owner: string, p: string | undefined) => {
    if (!p) return;
    const set = inputs.get(owner) ?? new Set<string>();
    inputs.set(owner, set);
    set.add(p);
  };
  for (const unit of stage.units) {
    const owner = ownerOfUnit.get(unit.dir) ?? unit.dir;
    const seen = new Set<string>();
    // A directory's kustomization file and everything it names, through the kustomizations it loads.
    const walk = (p: string) => {
      if (seen.has(p)) return;
      seen.add(p);
      const k = stage.byDir.get(p);
      if (!k) {
        add(owner, p);
        return;
      }
      add(owner, k.source.file);
      for (const e of k.entries) if (e.path) walk(e.path);
    };
    walk(unit.dir);
    for (const c of unit.components ?? []) walk(c);
    for (const g of unit.generated ?? []) walk(g);
    add(owner, stage.fluxByDir.get(unit.dir)?.resource.source.file);
  }
  for (const { owner, resource } of stage.objects) {
    add(owner, resource.origin);
    add(owner, resource.configuredIn);
  }
  return inputs;
}

/**
 * One commit built (and, with a stand-in `options.render`, rendered by it); the default path renders
 * afterwards (renderBuilt), once both commits are built and what the change affects is known.
 */
async function buildSide(
  root: string,
  config: ValidateConfig,
  options: DiffOptions,
  helpers: Promise<KustomizeBuilder> | undefined,
  envsubst: Substituter,
): Promise<{ workspace: Workspace; stage: BuildStage }> {
  const workspace = await loadWorkspace(["."], { cwd: root, ignore: config.ignore, root });
  const stage = await (options.render ?? buildStage)(workspace, {
    ...(options.kubectl ? { kubectl: options.kubectl } : {}),
    ...(helpers ? { helpers } : {}),
    env: options.env,
    envsubst,
    ...(options.buildCache === false ? {} : { buildCache: defaultBuildCacheDir(options.env) }),
  });
  return { workspace, stage };
}

/** Files that change what every chart renders: the platform (Kubernetes version, CozyStack) and the config. */
const renderWide = /(^|\/)(platform\.ya?ml|\.haos-tasks\.ya?ml)$/;

/**
 * The HelmReleases a change can render differently — those whose object, chart (as the source
 * objects resolve it), valuesFrom data or chart directory files differ between the commits — or
 * undefined for all of them: when the platform, the config or the repository's CRDs (Helm's
 * .Capabilities.APIVersions) change. CozyStack apps are always rendered (their charts `lookup`
 * other objects). A release left out renders the same at both commits, so it has no changes to
 * show: leaving it out of both renders changes nothing in the result (render-all gives the same).
 */
function releasesToRender(
  base: { root: string; stage: BuildStage },
  head: { root: string; stage: BuildStage },
  changed: readonly string[],
): ((owner: Subject) => boolean) | undefined {
  if (changed.some((f) => renderWide.test(f))) return undefined;
  const crds = (stage: BuildStage) =>
    JSON.stringify(
      stage.objects
        .filter(({ resource }) => resource.kind === "CustomResourceDefinition")
        .map(({ resource }) => [resource.name, field(resource.object, "spec")])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  if (crds(base.stage) !== crds(head.stage)) return undefined;
  const before = builtRenderInputs(base.root, base.stage);
  const after = builtRenderInputs(head.root, head.stage);
  const affected = new Set<string>();
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(key);
    const h = after.get(key);
    if (!b || !h || b.fingerprint !== h.fingerprint) affected.add(key);
    else if (
      [b.chartDir, h.chartDir].some((dir) => dir !== undefined && changed.some((f) => isWithin(f, dir)))
    )
      affected.add(key);
  }
  return (owner) =>
    owner.kind !== "HelmRelease" || affected.has(`HelmRelease/${owner.namespace}/${owner.name}`);
}

function sideOf(root: string, stage: BuildStage): Side {
  const objects = new Map<string, Map<string, BuiltResource>>();
  for (const { owner, resource } of stage.objects) {
    const map = objects.get(owner) ?? new Map<string, BuiltResource>();
    objects.set(owner, map);
    map.set(keyOf(resource), resource);
  }
  const failures = new Map<string, string[]>();
  for (const f of stage.failures) {
    // Paths inside the temporary export mean nothing to the reader: make them repo-relative.
    const message = f.message.split(`${root}/`).join("").split(root).join(".");
    failures.set(f.owner, [...(failures.get(f.owner) ?? []), message]);
  }
  return { stage, objects, failures, inputs: inputsOf(stage), all: stage.built.resources };
}

function normalizeScope(scope: string): string {
  const normalized = path.posix.normalize(scope.replaceAll("\\", "/")).replace(/\/+$/, "");
  return normalized === "" ? "." : normalized;
}

const group = (apiVersion: string) =>
  apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "";
const field = (object: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>(
    (o, k) =>
      o && typeof o === "object" && !Array.isArray(o) ? (o as Record<string, unknown>)[k] : undefined,
    object,
  );

/** The Flux Kustomization object of an owner, as a build at that commit rendered it. */
function fluxObject(owner: BuildOwner, side: Side): BuiltResource | undefined {
  return side.all.find(
    (r) =>
      r.kind === "Kustomization" &&
      group(r.apiVersion) === "kustomize.toolkit.fluxcd.io" &&
      r.name === owner.name &&
      (r.namespace || owner.namespace) === owner.namespace,
  );
}

const rendersFlux = (side: Side, owner: BuildOwner) => fluxObject(owner, side) !== undefined;

/** Whether removing an object from this owner deletes it in the cluster. */
function prunes(owner: BuildOwner | undefined, side: Side): boolean {
  if (!owner) return false;
  if (owner.kind === "HelmRelease") return true;
  if (owner.kind !== "Kustomization") return false;
  // The Flux Kustomization as that commit renders it (a parent may set prune), else as written.
  const object = fluxObject(owner, side)?.object ?? side.stage.fluxByDir.get(owner.path)?.resource.object;
  return field(object, "spec", "prune") === true;
}

/** The chart a HelmRelease installs at one commit: name and version, from its chartRef's source or chart.spec. */
export function chartOf(
  release: KubeObject,
  objects: readonly BuiltResource[],
): { name: string; version: string } | undefined {
  const namespace = String(field(release, "metadata", "namespace") ?? "");
  const spec = field(release, "spec", "chart", "spec");
  if (spec && typeof spec === "object") {
    const name = field(spec, "chart");
    if (typeof name === "string")
      return { name: path.posix.basename(name), version: String(field(spec, "version") ?? "*") };
  }
  const ref = field(release, "spec", "chartRef");
  if (!ref || typeof ref !== "object") return undefined;
  const kind = String(field(ref, "kind") ?? "");
  const name = String(field(ref, "name") ?? "");
  const ns = String(field(ref, "namespace") ?? namespace);
  const source = objects.find((o) => o.kind === kind && o.name === name && (o.namespace || ns) === ns);
  if (!source) return { name, version: "?" };
  if (kind === "OCIRepository") {
    const url = String(field(source.object, "spec", "url") ?? name);
    const refSpec = field(source.object, "spec", "ref");
    const version = field(refSpec, "tag") ?? field(refSpec, "semver") ?? field(refSpec, "digest") ?? "latest";
    return { name: url.replace(/\/+$/, "").split("/").pop() ?? name, version: String(version) };
  }
  if (kind === "HelmChart") {
    return {
      name: String(field(source.object, "spec", "chart") ?? name),
      version: String(field(source.object, "spec", "version") ?? "*"),
    };
  }
  return { name, version: "?" };
}

function compareOwner(
  owner: string,
  base: Map<string, BuiltResource>,
  head: Map<string, BuiltResource>,
  noise: readonly string[],
  context: number,
  dangerOf: (b: BuiltResource | undefined, h: BuiltResource | undefined) => Danger[],
): { changes: ResourceChange[]; dangers: Danger[] } {
  const keys = [...new Set([...base.keys(), ...head.keys()])].sort();
  const changes: ResourceChange[] = [];
  const dangers: Danger[] = [];
  for (const key of keys) {
    const b = base.get(key);
    const h = head.get(key);
    if (b && h && isDeepStrictEqual(b.object, h.object)) continue;
    dangers.push(...dangerOf(b, h));
    const before = b ? stripNoise(b.object, noise) : undefined;
    const after = h ? stripNoise(h.object, noise) : undefined;
    // Only noise moved (a chart label, a checksum): not a change to review.
    if (before && after && isDeepStrictEqual(before, after)) continue;
    const either = (h ?? b) as BuiltResource;
    const pair = either.kind === "Secret" ? redactSecretPair(before, after) : { base: before, head: after };
    const change: ResourceChangeKind = !b ? "added" : !h ? "removed" : "changed";
    const header = `--- ${b ? `base/${key}` : "/dev/null"}\n+++ ${h ? `head/${key}` : "/dev/null"}\n`;
    changes.push({
      key,
      apiVersion: either.apiVersion,
      kind: either.kind,
      ...(either.namespace ? { namespace: either.namespace } : {}),
      name: either.name,
      change,
      owner,
      paths: change === "changed" ? changedPaths(before, after) : [],
      diff: header + unifiedDiff(renderObject(pair.base), renderObject(pair.head), context),
    });
  }
  return { changes, dangers };
}

/**
 * Renders both commits with validate's build stage (Flux Kustomizations with their components,
 * targetNamespace, generated kustomizations and postBuild substitution; HelmReleases once the
 * render engine renders them) and diffs what each owner renders, keyed by kind/namespace/name.
 * An owner is shown when a changed file is one it reads or when what it renders differs. An owner
 * that does not render on a side is a render failure, never all its objects added or removed.
 */
export async function diffApps(options: DiffOptions): Promise<DiffResult> {
  const repo = await repositoryRoot(options.repo);
  const context = options.context ?? 3;
  const scopes = (options.paths.length > 0 ? options.paths : ["."]).map(normalizeScope);
  const [baseSha, headSha] = await Promise.all([
    resolveCommit(repo, options.base),
    resolveCommit(repo, options.head),
  ]);
  // Same commit (e.g. a re-run on the base): nothing can differ, so skip the git work.
  const from = baseSha === headSha ? baseSha : await mergeBase(repo, baseSha, headSha);
  // A typo in a path must not read as "no rendered changes".
  for (const scope of scopes) {
    if (scope === ".") continue;
    const [atBase, atHead] = await Promise.all([
      pathExists(repo, from, scope),
      pathExists(repo, headSha, scope),
    ]);
    if (!atBase && !atHead) {
      throw new GitError(
        `path '${scope}' exists at neither ${options.base} (${from.slice(0, 7)}) nor ${options.head} (${headSha.slice(0, 7)})`,
        "give a folder of the repository, relative to its root (e.g. apps/haos-enigma)",
      );
    }
  }
  const result: DiffResult = {
    base: { ref: options.base, sha: from },
    head: { ref: options.head, sha: headSha },
    paths: scopes,
    changedFiles: 0,
    apps: [],
    dangers: [],
    helmReleases: [],
    totals: { added: 0, changed: 0, removed: 0 },
    routine: false,
  };
  const changed = from === headSha ? [] : await changedFiles(repo, from, headSha);
  result.changedFiles = changed.length;
  if (changed.length === 0) return result;

  const tmp = mkdtempSync(path.join(os.tmpdir(), "haos-tasks-diff-"));
  const helpers =
    kustomizeEngine({
      ...(options.kubectl ? { kubectl: options.kubectl } : {}),
      env: options.env,
    }) === "in-process"
      ? startHelpers({ env: options.env })
      : undefined;
  helpers?.catch(() => {});
  // One flux-render for both commits' substitution, started only if one of them substitutes.
  const substitution = lazyEnvsubst(options.env);
  let base: Side;
  let head: Side;
  let removing: Promise<void> = Promise.resolve();
  let noise: readonly string[];
  try {
    const baseRoot = path.join(tmp, "base");
    const headRoot = path.join(tmp, "head");
    mkdirSync(baseRoot);
    mkdirSync(headRoot);
    await Promise.all([exportTree(repo, from, baseRoot), exportTree(repo, headSha, headRoot)]);
    // The head's configuration must hold; the base's, written for another revision, may not: its
    // defaults then.
    const headConfig = await loadConfig(headRoot);
    const baseConfig = await loadConfig(baseRoot).then(
      (c) => c.validate,
      () => defaultValidateConfig,
    );
    noise = options.noise ?? headConfig.diff.noise;
    const headBuilt = await buildSide(headRoot, headConfig.validate, options, helpers, substitution.envsubst);
    const baseBuilt = await buildSide(baseRoot, baseConfig, options, helpers, substitution.envsubst);
    if (!options.render) {
      // Only what the change affects is rendered, at both commits (the render cache answers the
      // second commit's render of a release whose inputs are the same).
      const select = options.renderAll
        ? undefined
        : releasesToRender(
            { root: baseRoot, stage: baseBuilt.stage },
            { root: headRoot, stage: headBuilt.stage },
            changed,
          );
      const renderOptions = {
        env: options.env,
        ...(select ? { select } : {}),
        ...(options.renderCache === false ? { renderCache: false } : {}),
        ...(options.onChartProgress ? { onChartProgress: options.onChartProgress } : {}),
      };
      await renderBuilt(headBuilt.workspace, headBuilt.stage, renderOptions);
      await renderBuilt(baseBuilt.workspace, baseBuilt.stage, renderOptions);
    }
    head = sideOf(headRoot, headBuilt.stage);
    base = sideOf(baseRoot, baseBuilt.stage);
  } finally {
    await (await helpers?.catch(() => undefined))?.close();
    await substitution.close();
    // The exported trees go while the objects are compared (nothing below reads them).
    removing = rm(tmp, { recursive: true, force: true });
  }

  const ownerIds = new Set([...base.stage.owners.keys(), ...head.stage.owners.keys()]);
  const ownerOf = (id: string) => (head.stage.owners.get(id) ?? base.stage.owners.get(id)) as BuildOwner;
  const touched = (side: Side, id: string) =>
    [...(side.inputs.get(id) ?? [])].some((input) => changed.some((file) => isWithin(file, input)));
  const empty = new Map<string, BuiltResource>();
  for (const id of [...ownerIds].sort()) {
    const owner = ownerOf(id);
    if (!scopes.some((scope) => isWithin(owner.path, scope))) continue;
    const atBase = base.stage.owners.has(id);
    const atHead = head.stage.owners.has(id);
    const baseErrors = base.failures.get(id) ?? [];
    const headErrors = [...(head.failures.get(id) ?? [])];
    // Its path gone while the Flux Kustomization stays: Flux fails to build it and prunes nothing.
    if (owner.kind === "Kustomization" && atBase && !atHead && rendersFlux(head, owner)) {
      headErrors.push(
        `the Flux Kustomization ${owner.namespace}/${owner.name} stays but its path ${owner.path} is gone: Flux fails to build it (nothing is pruned)`,
      );
    }
    const errors: AppDiff["errors"] = [
      ...baseErrors.map((message) => ({ side: "base" as const, message })),
      ...headErrors.map((message) => ({ side: "head" as const, message })),
    ];
    const renders = baseErrors.length === 0 && headErrors.length === 0;
    const { changes, dangers } = renders
      ? compareOwner(
          id,
          atBase ? (base.objects.get(id) ?? empty) : empty,
          atHead ? (head.objects.get(id) ?? empty) : empty,
          noise,
          context,
          (b, h) =>
            objectDangers(b?.object, h?.object, {
              // Flux prunes with the owner's spec at head; an owner gone at head prunes as it was.
              prunes: atHead
                ? prunes(head.stage.owners.get(id), head)
                : prunes(base.stage.owners.get(id), base),
              owner: id,
            }),
        )
      : { changes: [], dangers: [] };
    // A Flux Kustomization no build renders (its file is applied by hand or by bootstrap): its
    // prune/suspend/force still decide what Flux does with this owner's objects.
    if (
      owner.kind === "Kustomization" &&
      atBase &&
      atHead &&
      !rendersFlux(base, owner) &&
      !rendersFlux(head, owner)
    ) {
      dangers.push(
        ...objectDangers(
          base.stage.fluxByDir.get(owner.path)?.resource.object,
          head.stage.fluxByDir.get(owner.path)?.resource.object,
          { prunes: false, owner: id },
        ).filter((d) => d.code === "flux-policy"),
      );
    }
    const isTouched = touched(base, id) || touched(head, id);
    const differs =
      changes.length > 0 ||
      dangers.length > 0 ||
      atBase !== atHead ||
      (errors.length > 0 && (baseErrors.length === 0 || headErrors.length === 0));
    if (!isTouched && !differs) continue;
    const status: AppStatus =
      headErrors.length > 0
        ? "error"
        : baseErrors.length > 0
          ? "changed" // head renders again: the base's failure is the change
          : !atBase
            ? "added"
            : !atHead
              ? "removed"
              : changes.length > 0
                ? "changed"
                : "unchanged";
    result.apps.push({
      path: owner.path,
      owner: {
        id: owner.id,
        kind: owner.kind,
        name: owner.name,
        namespace: owner.namespace,
        path: owner.path,
        ...(owner.parent ? { parent: owner.parent } : {}),
        ...(owner.file ? { file: owner.file } : {}),
      },
      status,
      resources: changes,
      errors,
    });
    result.dangers.push(...dangers);
    if (headErrors.length > 0) result.dangers.push(renderFailureDanger(id, headErrors.join("; ")));
    for (const c of changes) result.totals[c.change] += 1;
  }
  result.helmReleases = helmSummaries(base, head, result.apps);
  result.routine =
    result.totals.changed > 0 &&
    result.totals.added === 0 &&
    result.totals.removed === 0 &&
    result.dangers.length === 0 &&
    result.apps.every((a) => a.errors.length === 0) &&
    result.apps.every((a) => a.resources.every((r) => r.paths.length > 0 && r.paths.every(isVersionMove)));
  await removing;
  return result;
}

/**
 * The ConfigMaps and Secrets a HelmRelease's `spec.valuesFrom` reads at one commit (their data;
 * Secret values never leave this comparison), so a change there is the HelmRelease's too.
 */
function valuesSources(release: KubeObject, objects: readonly BuiltResource[]): unknown[] {
  const namespace = String(field(release, "metadata", "namespace") ?? "");
  const refs = field(release, "spec", "valuesFrom");
  if (!Array.isArray(refs)) return [];
  return refs.map((ref) => {
    const kind = String(field(ref, "kind") ?? "");
    const name = String(field(ref, "name") ?? "");
    const source = objects.find(
      (o) => o.kind === kind && o.name === name && (o.namespace || namespace) === namespace,
    );
    return source
      ? [kind, name, field(source.object, "data"), field(source.object, "stringData")]
      : [kind, name];
  });
}

/** A summary per HelmRelease whose object, resolved chart or valuesFrom sources differ between the commits. */
function helmSummaries(base: Side, head: Side, apps: readonly AppDiff[]): HelmSummary[] {
  const isRelease = (r: BuiltResource) =>
    r.kind === "HelmRelease" && group(r.apiVersion) === "helm.toolkit.fluxcd.io";
  const releases = (side: Side) => {
    const out = new Map<string, { resource: BuiltResource; owner: string }>();
    for (const { owner, resource } of side.stage.objects)
      if (isRelease(resource)) out.set(keyOf(resource), { resource, owner });
    return out;
  };
  const before = releases(base);
  const after = releases(head);
  const shown = new Set(apps.map((a) => a.owner.id));
  const out: HelmSummary[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const b = before.get(key);
    const h = after.get(key);
    const owner = (h ?? b)?.owner ?? "";
    if (!shown.has(owner)) continue;
    const chartBefore = b ? chartOf(b.resource.object, base.all) : undefined;
    const chartAfter = h ? chartOf(h.resource.object, head.all) : undefined;
    const valuesBefore = b ? valuesSources(b.resource.object, base.all) : [];
    const valuesAfter = h ? valuesSources(h.resource.object, head.all) : [];
    const valuesMoved = !isDeepStrictEqual(valuesBefore, valuesAfter);
    // Rendered once the engine renders charts: an owner of that id on either side.
    const isRendered =
      base.stage.owners.get(key)?.kind === "HelmRelease" ||
      head.stage.owners.get(key)?.kind === "HelmRelease";
    const shownRender = apps.find((a) => a.owner.id === key);
    if (
      b &&
      h &&
      !shownRender &&
      !valuesMoved &&
      isDeepStrictEqual(b.resource.object, h.resource.object) &&
      isDeepStrictEqual(chartBefore, chartAfter)
    )
      continue;
    const rendered = isRendered ? (shownRender ?? { resources: [], errors: [] }) : undefined;
    const count = (change: ResourceChangeKind) =>
      rendered?.resources.filter((r) => r.change === change).length ?? 0;
    const chart = chartAfter?.name ?? chartBefore?.name ?? "?";
    const from = chartBefore?.version;
    const to = chartAfter?.version;
    const versions = !b
      ? `${to} (new)`
      : !h
        ? `${from} (removed)`
        : from === to
          ? `${to}`
          : `${from} → ${to}`;
    const tail = rendered
      ? rendered.errors.length > 0
        ? `does not render at ${rendered.errors.map((e) => e.side).join(" and ")}`
        : `${count("changed")} object${count("changed") === 1 ? "" : "s"} changed, ${count("added")} added, ${count("removed")} removed`
      : from === to && b && h
        ? `${valuesMoved ? "valuesFrom sources" : "values or settings"} changed (chart objects not rendered)`
        : "chart objects not rendered";
    out.push({
      release: key,
      owner,
      chart,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      rendered: rendered !== undefined,
      added: count("added"),
      changed: count("changed"),
      removed: count("removed"),
      line: `${chart} ${versions}: ${tail}`,
    });
  }
  return out;
}
