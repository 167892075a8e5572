import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { Finding } from "../findings.ts";
import { normaliseFluxPath } from "../lint/platform/flux.ts";
import { at, isKind, type Subject } from "../lint/platform/subject.ts";
import { finding } from "../lint/rules.ts";
import type { BuildUnit, BuiltResource } from "../manifests/kustomize-build.ts";
import { apiGroup, field, type Resource, resourcesOf } from "../manifests/resources.ts";
import { byteOrder, kustomizationFileNames, type ObjectRef, type Workspace } from "../manifests/workspace.ts";
import type { EnvsubstItem, EnvsubstResult } from "../render/helper.ts";
import { expandResourceSet, isResourceSet } from "./resourcesets.ts";
import { instanceSync, type SourceMap } from "./sources.ts";

/** A Flux Kustomization read from the repository's files (before any build). */
export interface FluxKustomization {
  resource: Resource;
  name: string;
  namespace: string;
  /** Repo-relative spec.path. */
  dir: string;
  components: string[];
  /** spec.ignoreMissingComponents: a component folder that does not exist is left out (else the build fails, as Flux's does). */
  ignoreMissingComponents?: boolean;
  targetNamespace?: string;
  /** spec.patches, patchesStrategicMerge, patchesJson6902, images, namePrefix and nameSuffix, as kustomize-controller adds them. */
  edits?: FluxEdits;
  /**
   * spec.commonMetadata: labels and annotations kustomize-controller sets on every object it
   * applies (after the build and the substitution: ssautil.SetCommonMetadata in its apply step).
   */
  commonMetadata?: { labels: Record<string, string>; annotations: Record<string, string> };
  postBuild:
    | {
        substitute: Record<string, string>;
        substituteFrom: { kind: string; name: string; optional: boolean }[];
        /** spec.postBuild.substituteStrategy: Always (substitute even without variables). */
        always?: boolean;
      }
    | undefined;
}

/** A Flux Kustomization (kustomize.toolkit.fluxcd.io, any version), not a kustomize one. */
export const isFluxKustomization = (r: { apiVersion: string; kind: string }) =>
  apiGroup(r.apiVersion) === "kustomize.toolkit.fluxcd.io" && r.kind === "Kustomization";

/**
 * Whether a file's text can hold a Flux Kustomization, so the others need no parse before the
 * build starts: its apiVersion names the group as written, except inside a double-quoted scalar
 * that spells it with escapes (any backslash). Plain and single-quoted scalars that span lines
 * fold the break into a space, so they cannot name the group either.
 */
export function mayHoldFluxKustomization(text: string): boolean {
  return text.includes("kustomize.toolkit.fluxcd.io") || text.includes("\\");
}

/**
 * A Flux spec.path inside the source root, as kustomize-controller joins it
 * (securejoin.SecureJoin: `..` stops at the root), so `../../..` is the root and `../outside` is
 * `outside`; `escapes` says it was written to leave the root (references/flux-path reports it).
 * Read as written it walked `/` (and died on /proc) or built a folder outside the checkout.
 */
export function resolveFluxPath(spec: string): { dir: string; escapes: boolean } {
  const normal = normaliseFluxPath(spec);
  if (normal !== ".." && !normal.startsWith("../")) return { dir: normal, escapes: false };
  const inside = path.posix.normalize(`/${spec}`).slice(1).replace(/\/+$/, "");
  return { dir: inside === "" ? "." : inside, escapes: true };
}

/** Every Flux Kustomization in the workspace whose spec.path is a directory of the repository. */
export function fluxKustomizations(workspace: Workspace, sources?: SourceMap): FluxKustomization[] {
  const out: FluxKustomization[] = [];
  // A directory the walk found a kustomization file in is one: no file-system call for it.
  const knownDirectories = new Set(workspace.kustomizationDirs);
  for (const source of workspace.files.values()) {
    if (!mayHoldFluxKustomization(source.text)) continue;
    for (const r of resourcesOf(source)) {
      // The Kustomizations a ResourceSet generates build their paths too (placed at the ResourceSet).
      for (const object of isResourceSet(r)
        ? generatedKustomizations(r)
        : isFluxKustomization(r)
          ? [r.object]
          : []) {
        const k = fluxKustomizationOf(r, object, workspace.root, knownDirectories, sources);
        if (k) out.push(k);
      }
    }
  }
  return out;
}

/** The Flux Kustomizations a ResourceSet generates from its inputs (none when they cannot be known). */
export function generatedKustomizations(resourceSet: {
  namespace: string;
  object: Record<string, unknown>;
}): Record<string, unknown>[] {
  const expansion = expandResourceSet(resourceSet);
  if (!("objects" in expansion)) return [];
  return expansion.objects.filter(isFluxKustomization).map((o) => ({
    ...o.object,
    metadata: { ...(field(o.object, "metadata") as Record<string, unknown>), namespace: o.namespace },
  }));
}

/** The build-relevant fields of a Flux Kustomization's spec that kustomize-controller's generator writes. */
export interface FluxEdits {
  patches?: unknown[];
  patchesStrategicMerge?: unknown[];
  patchesJson6902?: unknown[];
  images?: unknown[];
  /** Set when the spec has the field, even empty: the generator then replaces the kustomization's own. */
  namePrefix?: string;
  nameSuffix?: string;
}

const editFields = ["patches", "patchesStrategicMerge", "patchesJson6902", "images"] as const;

/**
 * A Flux Kustomization as the build needs it, from its object: as written in `resource`, or as a
 * parent's build gave it (the parent's patches and substitution applied) when `object` is the
 * rendered one. Undefined when it does not build a directory of this repository.
 */
export function fluxKustomizationOf(
  resource: Resource,
  object: Record<string, unknown>,
  root: string,
  knownDirectories: ReadonlySet<string>,
  sources?: SourceMap,
): FluxKustomization | undefined {
  const specPath = field(object, "spec", "path");
  const raw = typeof specPath === "string" ? specPath : ".";
  if (raw.includes("${")) return undefined; // substituted by a parent: unknown here
  // Built only when it reads this repository: a GitRepository, or flux-system (bootstrap's or
  // a FluxInstance's sync, Git or OCI). Given the source map, a source that reads a folder of
  // this checkout (an OCI artifact CI pushes, an ExternalArtifact generated from a folder) is
  // built there, and one that reads another repository, branch or artifact is not built.
  const sourceRef = field(object, "spec", "sourceRef");
  const sourceKind = String(field(sourceRef, "kind") ?? "GitRepository");
  const namespace = String(field(object, "metadata", "namespace") ?? resource.namespace);
  const reading = sources?.resolve(
    sourceKind,
    String(field(sourceRef, "name") ?? ""),
    String(field(sourceRef, "namespace") ?? namespace),
  );
  if (reading?.reads === "foreign") return undefined;
  if (
    reading?.reads !== "this" &&
    sourceKind !== "GitRepository" &&
    field(sourceRef, "name") !== "flux-system"
  )
    return undefined;
  const dir = resolveFluxPath(reading?.reads === "this" ? path.posix.join(reading.base, raw) : raw).dir;
  const absolute = path.join(root, dir);
  if (!knownDirectories.has(dir) && (!existsSync(absolute) || !statSync(absolute).isDirectory()))
    return undefined;
  const components = field(object, "spec", "components");
  const postBuild = field(object, "spec", "postBuild");
  const targetNamespace = field(object, "spec", "targetNamespace");
  const substitute = field(postBuild, "substitute");
  const from = field(postBuild, "substituteFrom");
  const edits: FluxEdits = {};
  for (const name of editFields) {
    const value = field(object, "spec", name);
    if (Array.isArray(value) && value.length > 0) edits[name] = value;
  }
  // A prefix a parent's substitution would give is unknown here, as is such a targetNamespace.
  for (const name of ["namePrefix", "nameSuffix"] as const) {
    const value = field(object, "spec", name);
    if (typeof value === "string" && !value.includes("${")) edits[name] = value;
  }
  const common = field(object, "spec", "commonMetadata");
  const strings = (value: unknown): Record<string, string> =>
    value && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]))
      : {};
  const commonMetadata =
    common && typeof common === "object"
      ? { labels: strings(field(common, "labels")), annotations: strings(field(common, "annotations")) }
      : undefined;
  return {
    resource,
    ...(commonMetadata ? { commonMetadata } : {}),
    ...(field(object, "spec", "ignoreMissingComponents") === true ? { ignoreMissingComponents: true } : {}),
    name: String(field(object, "metadata", "name") ?? resource.name),
    namespace: String(field(object, "metadata", "namespace") ?? resource.namespace),
    dir,
    ...(typeof targetNamespace === "string" && !targetNamespace.includes("${") ? { targetNamespace } : {}),
    ...(Object.keys(edits).length > 0 ? { edits } : {}),
    components: Array.isArray(components)
      ? components
          .filter((c): c is string => typeof c === "string")
          .map((c) => path.posix.normalize(path.posix.join(dir, c)))
      : [],
    postBuild:
      postBuild && typeof postBuild === "object"
        ? {
            substitute:
              substitute && typeof substitute === "object"
                ? Object.fromEntries(Object.entries(substitute).map(([k, v]) => [k, String(v)]))
                : {},
            substituteFrom: Array.isArray(from)
              ? from.map((f) => ({
                  kind: String(field(f, "kind") ?? ""),
                  name: String(field(f, "name") ?? ""),
                  optional: field(f, "optional") === true,
                }))
              : [],
            ...(field(postBuild, "substituteStrategy") === "Always" ? { always: true } : {}),
          }
        : undefined,
  };
}

/**
 * Whether two readings of a Flux Kustomization build differently (path, components,
 * targetNamespace, patches, images) or substitute or label differently (postBuild, commonMetadata).
 */
export function buildsDifferently(a: FluxKustomization, b: FluxKustomization): boolean {
  const shape = (k: FluxKustomization) =>
    JSON.stringify([
      k.dir,
      k.components,
      k.ignoreMissingComponents === true,
      k.targetNamespace ?? "",
      k.edits ?? {},
      k.postBuild ?? null,
      k.commonMetadata ?? null,
    ]);
  return shape(a) !== shape(b);
}

/**
 * What Flux lists in the kustomization it generates for a path without one (fluxcd/pkg
 * kustomize_generator.go): every .yaml/.yml file below it, and each sub-directory holding a
 * kustomization file as a whole (not descended into).
 */
export function generatedResources(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) =>
      byteOrder(a.name, b.name),
    )) {
      const child = rel === "." ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (kustomizationFileNames.some((n) => existsSync(path.join(root, child, n)))) out.push(child);
        else walk(child);
      } else if (/\.ya?ml$/.test(entry.name)) out.push(child);
    }
  };
  walk(dir);
  return out;
}

/**
 * Build units as Flux builds them: every Flux Kustomization's path (with its components, or the
 * generated list when it has no kustomization file), plus the kustomization roots no Flux
 * Kustomization names. One unit per path: the first Kustomization naming it decides.
 */
export function buildUnits(
  roots: readonly string[],
  flux: readonly FluxKustomization[],
  hasKustomization: (dir: string) => boolean,
  root: string,
): { units: BuildUnit[]; byDir: Map<string, FluxKustomization> } {
  const byDir = new Map<string, FluxKustomization>();
  for (const k of flux) if (!byDir.has(k.dir)) byDir.set(k.dir, k);
  const units: BuildUnit[] = [];
  const seen = new Set<string>();
  for (const [dir, k] of byDir) {
    seen.add(dir);
    // kustomize-controller leaves out a missing component only under ignoreMissingComponents;
    // otherwise the build fails on it, and so does this one.
    const components = k.ignoreMissingComponents
      ? k.components.filter((c) => existsSync(path.join(root, c)))
      : k.components;
    const extra = {
      ...(components.length > 0 ? { components } : {}),
      ...(k.targetNamespace ? { namespace: k.targetNamespace } : {}),
      ...(k.edits ? { flux: k.edits } : {}),
    };
    if (hasKustomization(dir)) {
      units.push({ dir, ...extra });
    } else {
      const generated = generatedResources(root, dir);
      if (generated.length > 0) units.push({ dir, generated, ...extra });
    }
  }
  // A kustomization a generated list already includes is built there, not a second time.
  const inGenerated = new Set(units.flatMap((u) => u.generated ?? []));
  for (const dir of roots) if (!seen.has(dir) && !inGenerated.has(dir)) units.push({ dir });
  return { units, byDir };
}

const disabled = (object: Record<string, unknown>) => {
  const key = "kustomize.toolkit.fluxcd.io/substitute";
  return (
    field(object, "metadata", "annotations", key) === "disabled" ||
    field(object, "metadata", "labels", key) === "disabled"
  );
};

const decode = (value: string) => Buffer.from(value, "base64").toString("utf8");

/** What substitution needs to stay inside a cluster (validate/clusters.ts). */
export interface SubstitutionScope {
  /** Every Flux Kustomization read from the files (several may name one path). */
  flux: readonly FluxKustomization[];
  /** The clusters that apply a Flux Kustomization (those of the builds holding it). */
  clustersOfFlux: (k: FluxKustomization) => ReadonlySet<string>;
  /** The clusters that apply an object: of its build, or of the builds of its file. */
  clustersOf: (o: { build?: string | undefined; source?: { file: string } }) => ReadonlySet<string>;
  /** A repository file's text, to place a substitution error at its own line. */
  textOf?: (file: string) => string | undefined;
}

/**
 * Where the expression that failed is written: its text (from `${` to the end of its line in the
 * rendered object) looked up in the source file; the first `${NAME` there when the rest differs.
 */
export function expressionPosition(
  rendered: string,
  offset: number | undefined,
  source: string | undefined,
): { line: number; column: number } | undefined {
  if (offset === undefined || source === undefined) return undefined;
  const lineEnd = rendered.indexOf("\n", offset);
  const expression = rendered.slice(offset, lineEnd < 0 ? undefined : lineEnd).trimEnd();
  const name = /^\$\{[#]?[A-Za-z0-9_]*/.exec(expression)?.[0] ?? "${";
  let at = source.indexOf(expression);
  if (at < 0) at = source.indexOf(name);
  if (at < 0) return undefined;
  const before = source.slice(0, at);
  const line = before.split("\n").length;
  return { line, column: at - before.lastIndexOf("\n") };
}

type Candidate = {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  object: Record<string, unknown>;
  build?: string | undefined;
  source?: { file: string };
};

const meet = (a: ReadonlySet<string>, b: ReadonlySet<string>) =>
  a.size === 0 || b.size === 0 || [...a].some((x) => b.has(x));

/**
 * Applies each Flux Kustomization's postBuild substitution to the objects its build rendered,
 * as kustomize-controller does: substituteFrom ConfigMaps/Secrets (found among the rendered
 * objects, in the Kustomization's namespace and, given a scope, its cluster) in order, then
 * `substitute` on top; newlines removed. A source that is not in the repository (or its cluster),
 * or encrypted, makes every variable it might set unknown. A path two clusters' Kustomizations
 * name is substituted once per cluster: the copies for the other clusters are added to `built`,
 * and `clusters` says which cluster each substituted object belongs to.
 */
export async function substitute(
  built: BuiltResource[],
  byDir: ReadonlyMap<string, FluxKustomization>,
  findings: Finding[],
  standalone: readonly Candidate[],
  scope: SubstitutionScope | undefined,
  envsubst: Substituter,
): Promise<Map<BuiltResource, { unresolved: string[]; by: string; clusters?: ReadonlySet<string> }>> {
  const notes = new Map<
    BuiltResource,
    { unresolved: string[]; by: string; clusters?: ReadonlySet<string> }
  >();
  const configs: Candidate[] = [...built, ...standalone].filter(
    (b) => (b.kind === "ConfigMap" || b.kind === "Secret") && b.apiVersion === "v1",
  );
  const copies: BuiltResource[] = [];
  const jobs: SubstitutionJob[] = [];
  // The objects holding `${` by build, once (not a scan of every object per Kustomization).
  const byBuild = new Map<string, BuiltResource[]>();
  for (const b of built) {
    if (b.text === undefined || disabled(b.object)) continue;
    const list = byBuild.get(b.build) ?? [];
    list.push(b);
    byBuild.set(b.build, list);
  }
  for (const [dir, first] of byDir) {
    const own = byBuild.get(dir) ?? [];
    if (own.length === 0) continue;
    // One Kustomization per cluster that applies the path (the first one for its own cluster).
    const variants = [first];
    for (const k of scope?.flux ?? []) {
      if (k.dir !== dir || variants.includes(k)) continue;
      const clusters = scope?.clustersOfFlux(k) ?? new Set();
      if (clusters.size === 0 || variants.some((v) => meet(scope?.clustersOfFlux(v) ?? new Set(), clusters)))
        continue;
      variants.push(k);
    }
    variants.forEach((k, i) => {
      const clusters = scope && variants.length > 1 ? scope.clustersOfFlux(k) : undefined;
      const targets = i === 0 ? own : own.map((b) => ({ ...b }));
      if (i > 0) copies.push(...targets);
      jobs.push(...substituteWith(k, targets, configs, notes, clusters, scope));
    });
  }
  built.push(...copies);
  // One request for every object of the run; flux-render is started only when there is one.
  const items = jobs.map((j) => j.item);
  const results = items.length > 0 ? await envsubst(items) : [];
  for (const [i, job] of jobs.entries()) {
    const result = results[i];
    if (result) applySubstitution(job, result, findings, notes, scope);
  }
  return notes;
}

/** Flux's substitution of object texts: flux-render's envsubst op (startRenderer().envsubst). */
export type Substituter = (items: readonly EnvsubstItem[]) => Promise<EnvsubstResult[]>;

/**
 * The variable names a text refers to (`${NAME…}` and `${#NAME}`, not the escaped `$${…}`): which
 * of them this run cannot know decides what is left unresolved.
 */
export function referencedVariables(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/(\$+)\{#?([A-Za-z_][A-Za-z0-9_]*)/g)) {
    // An even run of `$` before `{` is escapes only: `$${X}` is the text `${X}`.
    if ((m[1] ?? "").length % 2 === 1 && m[2]) names.add(m[2]);
  }
  return names;
}

/**
 * Where in `text` the expression Flux failed on most likely starts (flux-render's envsubst names
 * no offset): the first unescaped `${` whose line holds no closing `}` after it, else the first.
 */
export function failingExpressionOffset(text: string): number | undefined {
  let first: number | undefined;
  let malformed: number | undefined;
  for (const m of text.matchAll(/\$+\{/g)) {
    if ((m[0].length - 1) % 2 === 0) continue;
    const at = m.index + m[0].length - 2;
    first ??= at;
    const lineEnd = text.indexOf("\n", at);
    const rest = text.slice(at, lineEnd < 0 ? undefined : lineEnd);
    if (!rest.includes("}")) return at;
    // An expression of a form fluxcd/pkg/envsubst does not know (`${TAG-1.27}`: `-` without `:`).
    if (malformed === undefined && !knownExpression.test(rest)) malformed = at;
  }
  return malformed ?? first;
}

/** The expression forms fluxcd/pkg/envsubst parses: ${V}, ${#V}, ${V:-x}, ${V:=x}, ${V:+x}, ${V:?x}, ${V^}, ${V,}, ${V:1:2}, ${V/a/b}, ${V#a}, ${V%a}. */
const knownExpression = /^\$\{#?[A-Za-z_][A-Za-z0-9_]*(?:(?::[-=+?]|\^\^?|,,?|:-?\d|\/\/?|##?|%%?)[^}]*)?\}/;

interface SubstitutionJob {
  k: FluxKustomization;
  b: BuiltResource;
  item: EnvsubstItem;
  unresolved: string[];
  by: string;
  clusters: ReadonlySet<string> | undefined;
}

function applySubstitution(
  { k, b, unresolved, by, clusters }: SubstitutionJob,
  result: EnvsubstResult,
  findings: Finding[],
  notes: Map<BuiltResource, { unresolved: string[]; by: string; clusters?: ReadonlySet<string> }>,
  scope: SubstitutionScope | undefined,
): void {
  if (result.error) {
    const position = result.error.line
      ? ` at line ${result.error.line}${result.error.column ? `, column ${result.error.column}` : ""} of the object as Flux substitutes it`
      : "";
    findings.push(
      finding(
        "flux/substitution",
        {
          file: b.origin ?? k.resource.source.file,
          ...(expressionPosition(
            b.text ?? "",
            failingExpressionOffset(b.text ?? ""),
            b.origin ? scope?.textOf?.(b.origin) : undefined,
          ) ?? { line: 1, column: 1 }),
        },
        `${b.kind} ${b.name}: Flux's variable substitution fails (${result.error.message}${position}); the Kustomization ${k.name} would not apply`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Flux syntax, printed as is
        "close every ${…}, or write $${…} for a literal, or annotate the object kustomize.toolkit.fluxcd.io/substitute: disabled",
      ),
    );
    return;
  }
  if (result.disabled || !result.object || typeof result.object !== "object") return;
  const parsed = result.object;
  const metadata = (parsed.metadata ?? {}) as Record<string, unknown>;
  const annotations = (metadata.annotations ?? {}) as Record<string, unknown>;
  delete annotations["haos-tasks.dev/build"];
  delete annotations["config.kubernetes.io/origin"];
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
  b.object = parsed;
  b.name = String(field(parsed, "metadata", "name") ?? b.name);
  b.namespace = String(field(parsed, "metadata", "namespace") ?? b.namespace);
  if (unresolved.length > 0 || clusters) notes.set(b, { unresolved, by, ...(clusters ? { clusters } : {}) });
}

/**
 * The variables Flux collects for `k` (substituteFrom in order, then substitute; an unknown one
 * gets its own reference `${NAME}` as value, so its fields keep it and are noted, never guessed)
 * and one envsubst item per object of `targets`.
 */
function substituteWith(
  k: FluxKustomization,
  targets: readonly BuiltResource[],
  configs: readonly Candidate[],
  notes: Map<BuiltResource, { unresolved: string[]; by: string; clusters?: ReadonlySet<string> }>,
  clusters: ReadonlySet<string> | undefined,
  scope: SubstitutionScope | undefined,
): SubstitutionJob[] {
  const note = (b: BuiltResource, unresolved: string[], by: string) =>
    notes.set(b, { unresolved, by, ...(clusters ? { clusters } : {}) });
  // Where the postBuild is (file:line), only for the notes that name it: finding a position
  // parses the Kustomization's file again, which 1,000 Kustomizations felt (0.6 s).
  let whereText: string | undefined;
  const by = () => {
    if (whereText === undefined) {
      const where = at({ resource: k.resource, file: k.resource.source.file } as Subject, "/spec/postBuild");
      whereText = `${where.file}:${where.line}`;
    }
    return whereText;
  };
  if (!k.postBuild) {
    if (clusters) for (const b of targets) note(b, [], by());
    return [];
  }
  const vars = new Map<string, string>();
  // A source not in the repository may set anything; an encrypted one sets known keys only.
  let someUnknown = false;
  const unknownKeys = new Set<string>();
  const from = scope?.clustersOfFlux(k) ?? new Set<string>();
  for (const ref of k.postBuild.substituteFrom) {
    // Another cluster's ConfigMap of the same name is not what this cluster's Flux reads.
    const found = configs.find(
      (c) =>
        c.kind === ref.kind &&
        c.name === ref.name &&
        (c.namespace || k.namespace) === k.namespace &&
        (!scope || meet(scope.clustersOf(c), from)),
    );
    if (!found) {
      if (!ref.optional) someUnknown = true;
      continue;
    }
    const object = found.object;
    const encrypted = object.sops !== undefined;
    const data = (field(object, "data") ?? {}) as Record<string, unknown>;
    const stringData = (field(object, "stringData") ?? {}) as Record<string, unknown>;
    const entries: [string, string][] = [
      ...Object.entries(data).map(([key, v]): [string, string] => [
        key,
        ref.kind === "Secret" && !encrypted && typeof v === "string" ? decode(v) : String(v),
      ]),
      ...(ref.kind === "Secret"
        ? Object.entries(stringData).map(([key, v]): [string, string] => [key, String(v)])
        : []),
    ];
    for (const [key, value] of entries) {
      if (encrypted || /^ENC\[/.test(value)) {
        vars.delete(key);
        unknownKeys.add(key);
      } else {
        unknownKeys.delete(key);
        vars.set(key, value);
      }
    }
  }
  for (const [key, value] of Object.entries(k.postBuild.substitute)) {
    unknownKeys.delete(key);
    vars.set(key, value);
  }
  // Flux substitutes only when it has variables (unknown sources may hold some), unless its
  // substituteStrategy is Always.
  const always = k.postBuild.always === true;
  if (vars.size === 0 && !someUnknown && unknownKeys.size === 0 && !always) {
    if (clusters) for (const b of targets) note(b, [], by());
    return [];
  }
  const isUnknown = (name: string) => !vars.has(name) && (someUnknown || unknownKeys.has(name));
  const jobs: SubstitutionJob[] = [];
  for (const b of targets) {
    if (b.text === undefined) continue;
    const unresolved = [...referencedVariables(b.text)].filter(isUnknown);
    jobs.push({
      k,
      b,
      unresolved,
      by: unresolved.length > 0 || clusters ? by() : "",
      clusters,
      item: {
        text: b.text,
        vars: {
          ...Object.fromEntries(vars),
          ...Object.fromEntries(unresolved.map((name) => [name, `\${${name}}`])),
        },
        ...(always ? { always } : {}),
      },
    });
  }
  return jobs;
}

/**
 * Objects Flux creates itself, so references to them resolve: the source and Kustomization a
 * flux-operator FluxInstance (or the flux-instance chart's `values.instance`) creates from its sync (named after its namespace unless
 * `sync.name`), and the ExternalArtifacts an ArtifactGenerator produces (`spec.artifacts[].name`).
 */
export function fluxCreatedObjects(subjects: readonly Subject[]): ObjectRef[] {
  // flux bootstrap creates (and commits) these; a repository checked out of context may lack them.
  const out: ObjectRef[] = [
    { kind: "GitRepository", name: "flux-system", namespace: "flux-system" },
    { kind: "Kustomization", name: "flux-system", namespace: "flux-system" },
  ];
  for (const s of subjects) {
    // The flux-instance chart's HelmRelease creates the same FluxInstance from `values.instance`.
    const sync = instanceSync(s);
    if (sync) {
      out.push(
        {
          kind: sync.kind,
          name: sync.name,
          namespace: sync.namespace,
          ...(sync.url !== undefined ? { url: sync.url } : {}),
        },
        { kind: "Kustomization", name: sync.name, namespace: sync.namespace },
      );
    }
    // What a ResourceSet generates exists once flux-operator reconciles it.
    if (isResourceSet(s)) {
      const expansion = expandResourceSet(s);
      if ("objects" in expansion)
        for (const o of expansion.objects) out.push({ kind: o.kind, name: o.name, namespace: o.namespace });
    }
    if (isKind(s, "source.extensions.fluxcd.io", "ArtifactGenerator")) {
      const artifacts = field(s.object, "spec", "artifacts");
      if (!Array.isArray(artifacts)) continue;
      for (const a of artifacts) {
        const name = field(a, "name");
        if (typeof name === "string") out.push({ kind: "ExternalArtifact", name, namespace: s.namespace });
      }
    }
  }
  return out;
}
