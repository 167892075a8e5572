import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { Finding } from "../findings.ts";
import { originUrl } from "../git/runner.ts";
import { normaliseFluxPath } from "../lint/platform/flux.ts";
import { at, isKind, type Subject } from "../lint/platform/subject.ts";
import { finding } from "../lint/rules.ts";
import type { Kustomization } from "../manifests/kustomization.ts";
import { apiGroup, field, resourcesOf, stringField } from "../manifests/resources.ts";
import {
  isIgnored,
  knownNonResources,
  kustomizationFileNames,
  kustomizationFileOf,
  type ObjectRef,
  type Workspace,
} from "../manifests/workspace.ts";
import { pointerPosition } from "../manifests/yaml-source.ts";
import { type Clusters, findClusters, sameCluster } from "./clusters.ts";
import type { ValidateConfig } from "./config.ts";
import { isFluxKustomization, mayHoldFluxKustomization, resolveFluxPath } from "./flux.ts";
import { expandResourceSet, isResourceSet } from "./resourcesets.ts";
import { instanceSync, type SourceMap, type SourceReading } from "./sources.ts";

/** Where files belong: kustomization directories, and the directories Flux Kustomizations build. */
export interface Owners {
  /** Repo-relative directories that hold a kustomization file. */
  kustomizations: ReadonlySet<string>;
  /** Repo-relative `spec.path` directories of the Flux Kustomizations in the workspace. */
  fluxPaths: ReadonlySet<string>;
}

/** The owners of the workspace's files, for {@link owningKustomization}. */
export function ownersOf(
  workspace: Workspace,
  kustomizations: readonly Kustomization[],
  /** Flux paths already resolved against their source (a folder an OCI artifact is pushed from). */
  resolved: Iterable<string> = [],
): Owners {
  const fluxPaths = new Set<string>(resolved);
  for (const source of workspace.files.values()) {
    // Only a file whose text can hold one is parsed: this runs while kubeconform waits to start.
    if (!mayHoldFluxKustomization(source.text)) continue;
    for (const r of resourcesOf(source)) {
      if (!isFluxKustomization(r)) continue;
      const specPath = field(r.object, "spec", "path");
      fluxPaths.add(normaliseFluxPath(typeof specPath === "string" ? specPath : "."));
    }
  }
  return { kustomizations: new Set(kustomizations.map((k) => k.dir)), fluxPaths };
}

/**
 * The nearest directory at or above `file` that holds a kustomization; undefined when there is
 * none, or when a Flux Kustomization's `spec.path` comes first.
 */
export function owningKustomization(file: string, owners: Owners): string | undefined {
  for (let dir = path.posix.dirname(file); ; dir = path.posix.dirname(dir)) {
    if (owners.kustomizations.has(dir)) return dir;
    // Flux builds its spec.path itself (generating a kustomization when it has none): the files
    // there are that Flux Kustomization's, not those of a kustomization further up.
    if (owners.fluxPaths.has(dir)) return undefined;
    if (dir === "." || dir === "/" || dir === "") return undefined;
  }
}

/** Every listed path exists; every YAML file of an app folder is listed, known or ignored. */
export function kustomizationReferences(
  workspace: Workspace,
  kustomizations: readonly Kustomization[],
  config: ValidateConfig,
  owners: Owners = ownersOf(workspace, kustomizations),
): Finding[] {
  const findings: Finding[] = [];
  const listed = new Set<string>();
  for (const k of kustomizations) {
    const doc = k.source.documents[0];
    for (const entry of k.entries) {
      if (!entry.path) continue;
      listed.add(entry.path);
      // A file validate read is there and is no directory: nothing to report, no file-system call.
      if (workspace.files.has(entry.path)) continue;
      const absolute = path.join(workspace.root, entry.path);
      const at = () =>
        doc
          ? { file: k.source.file, ...pointerPosition(k.source, doc, entry.pointer) }
          : { file: k.source.file };
      if (!existsSync(absolute)) {
        findings.push(
          finding(
            "references/missing-resource",
            at(),
            `'${entry.entry}' does not exist (${entry.path})`,
            "fix the path or remove the entry",
          ),
        );
      } else if (statSync(absolute).isDirectory()) {
        if (!entry.mayBeDirectory) {
          findings.push(
            finding(
              "references/missing-resource",
              at(),
              `'${entry.entry}' is a directory, not a file`,
              "name a file",
            ),
          );
        } else if (!kustomizationFileNames.some((n) => existsSync(path.join(absolute, n)))) {
          findings.push(
            finding(
              "references/missing-resource",
              at(),
              `directory '${entry.entry}' has no kustomization.yaml`,
              "add a kustomization.yaml to that directory or list its files one by one",
            ),
          );
        }
      }
    }
  }
  for (const file of workspace.files.keys()) {
    const base = path.posix.basename(file);
    if (kustomizationFileNames.includes(base) || knownNonResources.includes(base)) continue;
    if (listed.has(file) || isIgnored(file, config.nonResources)) continue;
    // Files Flux never reads as manifests (a promtool test, a values or data file) hold no
    // Kubernetes object: only a file that would apply something is worth a word.
    const source = workspace.files.get(file);
    if (!source || !looksLikeManifest(source)) continue;
    const owner = owningKustomization(file, owners);
    if (owner === undefined) continue;
    const kfile = kustomizationFileOf(workspace, owner)?.file ?? `${owner}/kustomization.yaml`;
    findings.push(
      finding(
        "references/unlisted-file",
        { file, line: 1, column: 1 },
        `not listed in ${kfile}: Flux would never apply it`,
        `add '${path.posix.relative(owner, file)}' to resources in ${kfile}, or list it under validate.nonResources / validate.ignore in .haos-tasks.yaml`,
      ),
    );
  }
  return findings;
}

/** Whether a file holds at least one document with apiVersion and kind (what Flux would apply). */
function looksLikeManifest(source: { documents: readonly { value: unknown }[] }): boolean {
  return source.documents.some((d) => {
    const v = d.value as Record<string, unknown> | null;
    return !!v && typeof v === "object" && typeof v.apiVersion === "string" && typeof v.kind === "string";
  });
}

interface Ref {
  kind: string;
  name: string;
  namespace: string;
  pointer: string;
  rule: "references/source-ref" | "references/depends-on";
}

function refsOf(subject: Subject): Ref[] {
  const refs: Ref[] = [];
  const own = subject.namespace;
  const add = (value: unknown, pointer: string, defaultKind: string, rule: Ref["rule"]) => {
    const name = field(value, "name");
    if (typeof name !== "string") return;
    const kind = String(field(value, "kind") ?? defaultKind);
    const namespace = String(field(value, "namespace") ?? own);
    refs.push({ kind, name, namespace, pointer, rule });
  };
  const spec = field(subject.object, "spec");
  const dependsOn = field(spec, "dependsOn");
  if (isKind(subject, "kustomize.toolkit.fluxcd.io", "Kustomization")) {
    add(field(spec, "sourceRef"), "/spec/sourceRef/name", "GitRepository", "references/source-ref");
    if (Array.isArray(dependsOn)) {
      dependsOn.forEach((d, i) => {
        add(d, `/spec/dependsOn/${i}/name`, "Kustomization", "references/depends-on");
      });
    }
  }
  if (isKind(subject, "helm.toolkit.fluxcd.io", "HelmRelease")) {
    add(
      field(spec, "chart", "spec", "sourceRef"),
      "/spec/chart/spec/sourceRef/name",
      "HelmRepository",
      "references/source-ref",
    );
    add(field(spec, "chartRef"), "/spec/chartRef/name", "OCIRepository", "references/source-ref");
    if (Array.isArray(dependsOn)) {
      dependsOn.forEach((d, i) => {
        add(d, `/spec/dependsOn/${i}/name`, "HelmRelease", "references/depends-on");
      });
    }
  }
  return refs;
}

/**
 * Comparable form of a git URL: host and path, without scheme, user, port, `.git` or trailing
 * slash, so https://github.com/me/home.git and git@github.com:me/home name one repository.
 */
export function repositoryKey(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i;
  const bare = scheme.test(url)
    ? url
        .replace(scheme, "")
        .replace(/^[^@/]*@/, "")
        .replace(/^([^/:]+):\d+\//, "$1/")
    : url.replace(/^[^@/]*@/, "").replace(/^([^/:]+):(?!\/)/, "$1/");
  return bare
    .trim()
    .replace(/\/+$/, "")
    .replace(/\.git$/, "")
    .toLowerCase();
}

const thisRepositoryRule =
  "checked only when sourceRef is this repository: the GitRepository flux-system (flux bootstrap's own) or one whose spec.url is `git remote get-url origin`";

/**
 * Whether a Flux Kustomization reads this repository, so its spec.path can be looked up here:
 * its sourceRef is the GitRepository `flux-system` (the one `flux bootstrap` creates for the
 * repository it bootstraps) or a GitRepository whose spec.url is the origin remote. Anything else
 * (another repository, an OCI artifact, a bucket, a URL that cannot be compared) is not.
 */
function readsThisRepository(
  kustomization: Subject,
  gitRepositories: readonly ObjectRef[],
  origin: () => string | undefined,
): boolean {
  const sourceRef = field(kustomization.object, "spec", "sourceRef");
  if (String(field(sourceRef, "kind") ?? "GitRepository") !== "GitRepository") return false;
  const name = field(sourceRef, "name");
  if (name === "flux-system") return true;
  const namespace = String(field(sourceRef, "namespace") ?? kustomization.namespace);
  const source = gitRepositories.find(
    (g) => g.name === name && (!g.namespace || !namespace || g.namespace === namespace),
  );
  if (source?.url === undefined) return false;
  const url = origin();
  return url !== undefined && repositoryKey(source.url) === repositoryKey(url);
}

function fluxPathFinding(
  kustomization: Subject,
  root: string,
  base = ".",
  /** Where the path is written: a FluxInstance's sync gives it at `<sync>/path`. */
  pointer = "/spec/path",
  specPath: unknown = field(kustomization.object, "spec", "path"),
): Finding | undefined {
  if (typeof specPath !== "string" || specPath.includes("${")) return undefined;
  const name = pointer === "/spec/path" ? "spec.path" : pointer.slice(1).replace(/\//g, ".");
  const resolved = resolveFluxPath(specPath);
  if (resolved.escapes)
    return finding(
      "references/flux-path",
      at(kustomization, pointer),
      `${name} '${specPath}' leaves the source root: Flux resolves it inside it, as '${resolved.dir}'`,
      "give the path from the repository root (e.g. ./apps/my-app), without `..` above it",
    );
  const absolute = path.join(root, base, resolved.dir);
  if (existsSync(absolute) && statSync(absolute).isDirectory()) return undefined;
  return finding(
    "references/flux-path",
    at(kustomization, pointer),
    base === "."
      ? `${name} '${specPath}' is not a directory of the repository`
      : `${name} '${specPath}' is not a directory of ${base}, the folder of this repository its source holds`,
    base === "."
      ? `give the path from the repository root (e.g. ./apps/my-app); ${thisRepositoryRule}`
      : `give the path inside the artifact (relative to ${base})`,
  );
}

/** What a Kustomization reads: its source, its path and where they are written. */
interface KustomizationReading {
  kind: string;
  name: string;
  namespace: string;
  /** `<name> (<path>)`, as the foreign-source info lists it. */
  label: string;
  /** spec.path, as Flux gets it. */
  path: unknown;
  /** Where the path is written. */
  pointer: string;
  /** Where the sourceRef is written. */
  sourcePointer: string;
}

function readingOf(
  object: Record<string, unknown>,
  namespace: string,
  prefix: string,
  by = "",
): KustomizationReading {
  const sourceRef = field(object, "spec", "sourceRef");
  const specPath = field(object, "spec", "path");
  const name = String(field(object, "metadata", "name") ?? "");
  return {
    kind: String(field(sourceRef, "kind") ?? "GitRepository"),
    name: String(field(sourceRef, "name") ?? ""),
    namespace: String(field(sourceRef, "namespace") ?? namespace),
    label: `${name} (${String(specPath ?? ".")}${by})`,
    path: specPath,
    pointer: `${prefix}/spec/path`,
    sourcePointer: `${prefix}/spec/sourceRef`,
  };
}

/**
 * What a Flux Kustomization reads, or the ones a FluxInstance's sync (named and placed as
 * validate/sources.ts instanceSync says) or a ResourceSet's templates create.
 */
function kustomizationReadings(s: Subject): KustomizationReading[] {
  if (isKind(s, "kustomize.toolkit.fluxcd.io", "Kustomization"))
    return [readingOf({ ...s.object, metadata: { name: s.name } }, s.namespace, "")];
  if (isResourceSet(s)) {
    const expansion = expandResourceSet(s);
    if (!("objects" in expansion)) return [];
    return expansion.objects
      .filter(isFluxKustomization)
      .map((o) =>
        readingOf(
          o.object,
          o.namespace,
          `/spec/resources/${o.index}`,
          `, generated by ResourceSet ${s.name}`,
        ),
      );
  }
  const sync = instanceSync(s);
  if (!sync) return [];
  return [
    {
      kind: sync.kind,
      name: sync.name,
      namespace: sync.namespace,
      label: `${sync.name} (${sync.path ?? "."}, created by ${s.kind} ${s.name})`,
      path: sync.path,
      pointer: `${sync.pointer}/path`,
      sourcePointer: sync.pointer,
    },
  ];
}

/**
 * One info per ResourceSet: what it generates is not a file here, so the objects themselves are
 * not schema-checked (the paths of the Kustomizations it generates are built); or, when they cannot
 * be known offline, why, and that nothing of it is built or checked. Never a silent skip.
 */
function resourceSetFindings(subjects: readonly Subject[], sources: SourceMap): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const s of subjects) {
    if (!isResourceSet(s)) continue;
    const id = `${s.file}\u0000${s.namespace}/${s.name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const expansion = expandResourceSet(s);
    const what = `ResourceSet ${s.namespace ? `${s.namespace}/` : ""}${s.name}`;
    if ("objects" in expansion) {
      if (expansion.objects.length === 0) continue;
      const kinds = new Map<string, number>();
      for (const o of expansion.objects) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
      const list = [...kinds].map(([k, n]) => (n === 1 ? k : `${k} ×${n}`)).join(", ");
      const built = kustomizationReadings(s).some(
        (r) => sources.resolve(r.kind, r.name, r.namespace).reads !== "foreign",
      );
      findings.push(
        finding(
          "flux/resourceset",
          at(s, "/spec/resources"),
          `${what}: the ${expansion.objects.length} object${expansion.objects.length === 1 ? "" : "s"} it generates from its inputs (${list}) are not checked themselves (schema, references)${built ? "; the folders its Kustomizations apply are built and checked" : ""}`,
          "nothing to fix; to have them checked, render the ResourceSet with flux-operator's CLI and validate its output, or write the objects as files",
        ),
      );
    } else {
      findings.push(
        finding(
          "flux/resourceset",
          at(s, "/spec"),
          `${what}: the objects it generates are not known here (${expansion.unknown}): not built or checked`,
          "nothing to fix; static `spec.inputs` and plain `<< inputs.x >>` templates are expanded here",
        ),
      );
    }
  }
  return findings;
}

/** One info per source that is not this checkout, naming the Kustomizations left unchecked. */
function foreignSourceFindings(subjects: readonly Subject[], sources: SourceMap): Finding[] {
  const bySource = new Map<
    string,
    {
      reading: SourceReading & { reads: "foreign" };
      ref: string;
      users: { subject: Subject; list: string; pointer: string }[];
    }
  >();
  const seen = new Set<string>();
  for (const s of subjects) {
    const id = `${s.file}\u0000${s.kind}\u0000${s.namespace}/${s.name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const read of kustomizationReadings(s)) {
      const { kind, name, namespace } = read;
      const reading = sources.resolve(kind, name, namespace);
      if (reading.reads !== "foreign") continue;
      const key = `${kind}/${namespace || "flux-system"}/${name}`;
      const entry = bySource.get(key) ?? {
        reading,
        ref: `${kind} ${namespace ? `${namespace}/` : ""}${name}`,
        users: [],
      };
      entry.users.push({ subject: s, list: read.label, pointer: read.sourcePointer });
      bySource.set(key, entry);
    }
  }
  return [...bySource.values()].map(({ reading, ref, users }) => {
    const d = reading.declaration;
    const where = d
      ? at({ resource: d.resource, file: d.resource.source.file } as Subject, d.pointer)
      : at((users[0] as { subject: Subject }).subject, (users[0] as { pointer: string }).pointer);
    const list = users.map((u) => u.list).join(", ");
    return finding(
      "flux/foreign-source",
      where,
      `${ref}: ${reading.why}; not built or checked here: Kustomization${users.length === 1 ? "" : "s"} ${list}`,
      "validate that repository or artifact where it is built; if it is this repository, push it from a folder here (`flux push artifact … --path=<folder>` in CI) or point the source at this repository's url and branch",
    );
  });
}

/**
 * Flux `spec.path` exists when the Kustomization reads this repository; `sourceRef` and
 * `dependsOn` resolve in the repository or the config.
 */
export function fluxReferences(
  subjects: readonly Subject[],
  root: string,
  config: ValidateConfig,
  elsewhere: readonly ObjectRef[] = [],
  clusters?: Clusters,
  sources?: SourceMap,
): Finding[] {
  const findings: Finding[] = sources
    ? [...foreignSourceFindings(subjects, sources), ...resourceSetFindings(subjects, sources)]
    : [];
  // Namespaces of every known object by kind and name: one lookup per reference instead of a scan
  // of every object (500 Flux Kustomizations × 5,500 objects was seconds).
  const known = new Map<string, { namespace: string; clusters: ReadonlySet<string> }[]>();
  const add = (o: ObjectRef, clusters: ReadonlySet<string>) => {
    const key = `${o.kind}\u0000${o.name}`;
    const list = known.get(key) ?? [];
    list.push({ namespace: o.namespace, clusters });
    known.set(key, list);
  };
  for (const s of subjects) add(s, clustersOf(s, clusters));
  for (const o of [...elsewhere, ...config.external]) add(o, new Set());
  // A reference resolves inside the cluster that applies it: another cluster's object is not there.
  const defined = (kind: string, name: string, namespace: string, from: ReadonlySet<string>) =>
    (known.get(`${kind}\u0000${name}`) ?? []).some(
      (o) => (!namespace || !o.namespace || o.namespace === namespace) && sameCluster(o.clusters, from),
    );
  const gitRepositories = [
    ...subjects
      .filter((s) => isKind(s, "source.toolkit.fluxcd.io", "GitRepository"))
      .map((s): ObjectRef => {
        const url = stringField(s.object, "spec", "url");
        return { kind: s.kind, name: s.name, namespace: s.namespace, ...(url ? { url } : {}) };
      }),
    ...elsewhere.filter((o) => o.kind === "GitRepository"),
  ];
  // git runs only when a Kustomization names another GitRepository than flux-system, and once.
  let remote: { url: string | undefined } | undefined;
  const origin = () => {
    remote ??= { url: originUrl(root) };
    return remote.url;
  };
  for (const subject of subjects) {
    // A Flux Kustomization's path, or the one a FluxInstance's sync applies, is a folder here
    // when its source is this checkout.
    for (const read of kustomizationReadings(subject)) {
      const reading = sources?.resolve(read.kind, read.name, read.namespace);
      const base = sources ? (reading?.reads === "this" ? reading.base : undefined) : undefined;
      const isKustomization = read.pointer === "/spec/path";
      const found =
        base !== undefined
          ? fluxPathFinding(subject, root, base, read.pointer, read.path)
          : !sources && isKustomization && readsThisRepository(subject, gitRepositories, origin)
            ? fluxPathFinding(subject, root)
            : undefined;
      if (found) findings.push(found);
    }
    for (const ref of refsOf(subject)) {
      if (defined(ref.kind, ref.name, ref.namespace, clustersOf(subject, clusters))) continue;
      const what = `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;
      const own = clustersOf(subject, clusters);
      // Defined, but only where another cluster applies it.
      const elsewhereOnly = own.size > 0 && defined(ref.kind, ref.name, ref.namespace, new Set());
      findings.push(
        finding(
          ref.rule,
          at(subject, ref.pointer),
          elsewhereOnly
            ? `${what} is not defined in cluster ${[...own].join(", ")}, only in another cluster of the repository`
            : `${what} is not defined in the repository`,
          `fix the name, add the ${ref.kind}, or declare it under validate.external in .haos-tasks.yaml (with a reason)`,
        ),
      );
    }
  }
  return findings;
}

/** Where an object is applied from: its build, else the directory of its standalone file. */
function unitOf(s: Subject): string {
  return s.build === undefined ? `file:${path.posix.dirname(s.file)}` : `build:${s.build}`;
}

/** The clusters that apply a subject: its own (a per-cluster copy), else its build's. */
function clustersOf(s: Subject, clusters?: Clusters): ReadonlySet<string> {
  return s.clusters ?? clusters?.of(s.build) ?? new Set();
}

/**
 * How two definitions of one object collide: `same` when one unit applies both, `across` when a
 * build is involved, undefined when different clusters apply them (kubernetes/main and
 * kubernetes/utility, clusters/production and clusters/staging), or for standalone files of
 * different directories (a multi-cluster layout no Flux Kustomization in the repository names).
 */
function collision(a: Subject, b: Subject, clusters?: Clusters): "same" | "across" | undefined {
  if (!sameCluster(clustersOf(a, clusters), clustersOf(b, clusters))) return undefined;
  if (unitOf(a) === unitOf(b)) return "same";
  return a.build === undefined && b.build === undefined ? undefined : "across";
}

/** Two objects the cluster would see as one: the same group, kind, namespace and name. */
export function duplicateResources(
  subjects: readonly Subject[],
  clusters: Clusters = findClusters(subjects, new Set(subjects.flatMap((s) => (s.build ? [s.build] : [])))),
): Finding[] {
  const findings: Finding[] = [];
  const seen = new Map<string, Subject[]>();
  // One file's object applied, identical, by several builds (a Flux component holding a shared
  // OCIRepository, applied by every app Kustomization of a namespace): one note per object.
  const shared = new Map<string, { first: Subject; builds: Set<string> }>();
  for (const s of subjects) {
    if (!s.kind || !s.name) continue;
    const key = `${apiGroup(s.apiVersion)}/${s.kind}/${s.namespace}/${s.name}`;
    const earlier = seen.get(key);
    if (earlier) earlier.push(s);
    else {
      seen.set(key, [s]);
      continue;
    }
    // A collision within one unit is certain; report it before a cross-build one.
    const first =
      earlier.find((e) => e !== s && collision(e, s, clusters) === "same") ??
      earlier.find((e) => e !== s && collision(e, s, clusters) === "across");
    if (!first) continue;
    const firstAt = at(first, "/metadata/name");
    const sameBuild = collision(first, s, clusters) === "same";
    if (!sameBuild && sameDefinition(first, s)) {
      const note = shared.get(key) ?? { first, builds: new Set([first.build ?? first.file]) };
      note.builds.add(s.build ?? s.file);
      shared.set(key, note);
      continue;
    }
    findings.push({
      ...finding(
        "references/duplicate-resource",
        at(s, "/metadata/name"),
        `${s.kind} ${s.namespace ? `${s.namespace}/` : ""}${s.name} is also defined at ${firstAt.file}:${firstAt.line}${sameBuild ? "" : ` (applied by ${first.build ?? "a standalone file"} and ${s.build ?? "a standalone file"})`}`,
        "keep one definition; if the two builds belong to different clusters, give each cluster its own flux-system (or FluxInstance) sync so validate tells them apart, or ignore one path in .haos-tasks.yaml",
      ),
      ...(sameBuild ? {} : { severity: "warning" as const }),
    });
  }
  for (const { first, builds } of shared.values()) {
    const named = [...builds];
    findings.push({
      ...finding(
        "references/duplicate-resource",
        at(first, "/metadata/name"),
        `${first.kind} ${first.namespace ? `${first.namespace}/` : ""}${first.name} is applied, identical, by ${named.length} builds (${named.slice(0, 3).join(", ")}${named.length > 3 ? `, … ${named.length - 3} more` : ""}): the cluster gets one object, but its Flux owner labels follow the last apply, and pruning any one of them deletes it for all until the next reconcile`,
        "apply shared objects from one Kustomization the others dependsOn, or leave it if that is accepted",
      ),
      severity: "info" as const,
    });
  }
  return findings;
}

/** The same object from the same file: one definition applied by several builds. */
function sameDefinition(a: Subject, b: Subject): boolean {
  return a.file === b.file && JSON.stringify(a.object) === JSON.stringify(b.object);
}
