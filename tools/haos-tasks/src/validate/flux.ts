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

/** A Flux Kustomization read from the repository's files (before any build). */
export interface FluxKustomization {
  resource: Resource;
  name: string;
  namespace: string;
  /** Repo-relative spec.path. */
  dir: string;
  components: string[];
  targetNamespace?: string;
  /** spec.patches, patchesStrategicMerge, patchesJson6902 and images, as kustomize-controller adds them. */
  edits?: FluxEdits;
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

/** Every Flux Kustomization in the workspace whose spec.path is a directory of the repository. */
export function fluxKustomizations(workspace: Workspace): FluxKustomization[] {
  const out: FluxKustomization[] = [];
  // A directory the walk found a kustomization file in is one: no file-system call for it.
  const knownDirectories = new Set(workspace.kustomizationDirs);
  for (const source of workspace.files.values()) {
    if (!mayHoldFluxKustomization(source.text)) continue;
    for (const r of resourcesOf(source)) {
      if (!isFluxKustomization(r)) continue;
      const k = fluxKustomizationOf(r, r.object, workspace.root, knownDirectories);
      if (k) out.push(k);
    }
  }
  return out;
}

/** The build-relevant fields of a Flux Kustomization's spec that kustomize-controller's generator writes. */
export interface FluxEdits {
  patches?: unknown[];
  patchesStrategicMerge?: unknown[];
  patchesJson6902?: unknown[];
  images?: unknown[];
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
): FluxKustomization | undefined {
  const specPath = field(object, "spec", "path");
  const raw = typeof specPath === "string" ? specPath : ".";
  if (raw.includes("${")) return undefined; // substituted by a parent: unknown here
  // Built only when it reads this repository: a GitRepository, or flux-system (bootstrap's or
  // a FluxInstance's sync, Git or OCI). An ExternalArtifact or a Bucket holds other content.
  const sourceRef = field(object, "spec", "sourceRef");
  const sourceKind = String(field(sourceRef, "kind") ?? "GitRepository");
  if (sourceKind !== "GitRepository" && field(sourceRef, "name") !== "flux-system") return undefined;
  const dir = normaliseFluxPath(raw);
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
  return {
    resource,
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
 * targetNamespace, patches, images) or substitute differently (postBuild).
 */
export function buildsDifferently(a: FluxKustomization, b: FluxKustomization): boolean {
  const shape = (k: FluxKustomization) =>
    JSON.stringify([k.dir, k.components, k.targetNamespace ?? "", k.edits ?? {}, k.postBuild ?? null]);
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
    const components = k.components.filter((c) => existsSync(path.join(root, c)));
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
 * Applies each Flux Kustomization's postBuild substitution to the objects its build rendered,
 * as kustomize-controller v1.9.0 does — by its own code: the variables are collected here
 * (substituteFrom ConfigMaps/Secrets found among the rendered objects, in the Kustomization's
 * namespace, in order, then `substitute` on top), the substitution itself is fluxcd/pkg/kustomize's
 * SubstituteVariables with fluxcd/pkg/envsubst v1.7.0 and sigs.k8s.io/yaml, run by flux-render
 * (`envsubst`, asked only when some object is substituted: one request for the whole run).
 *
 * A source that is not in the repository, or encrypted, makes the variables it might set unknown:
 * an unknown variable is given its own reference `${NAME}` as value, so the field keeps it (never
 * a guess such as the empty string) and the object is noted as unresolved. Objects labelled or
 * annotated `kustomize.toolkit.fluxcd.io/substitute: disabled` are left as they are.
 */
export async function substitute(
  built: BuiltResource[],
  byDir: ReadonlyMap<string, FluxKustomization>,
  findings: Finding[],
  standalone: readonly {
    apiVersion: string;
    kind: string;
    name: string;
    namespace: string;
    object: Record<string, unknown>;
  }[],
  envsubst: Substituter,
): Promise<Map<BuiltResource, { unresolved: string[]; by: string }>> {
  const notes = new Map<BuiltResource, { unresolved: string[]; by: string }>();
  const configs = [...built, ...standalone].filter(
    (b) => (b.kind === "ConfigMap" || b.kind === "Secret") && b.apiVersion === "v1",
  );
  const jobs: { b: BuiltResource; k: FluxKustomization; unresolved: string[]; by: string }[] = [];
  const items: EnvsubstItem[] = [];
  for (const [dir, k] of byDir) {
    if (!k.postBuild) continue;
    const vars = new Map<string, string>();
    // A source not in the repository may set anything; an encrypted one sets known keys only.
    let someUnknown = false;
    const unknownKeys = new Set<string>();
    for (const ref of k.postBuild.substituteFrom) {
      const found = configs.find(
        (c) => c.kind === ref.kind && c.name === ref.name && (c.namespace || k.namespace) === k.namespace,
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
    if (vars.size === 0 && !someUnknown && unknownKeys.size === 0 && !always) continue;
    const isUnknown = (name: string) => !vars.has(name) && (someUnknown || unknownKeys.has(name));
    const where = at({ resource: k.resource, file: k.resource.source.file } as Subject, "/spec/postBuild");
    for (const b of built) {
      if (b.build !== dir || b.text === undefined || disabled(b.object)) continue;
      const unresolved = [...referencedVariables(b.text)].filter(isUnknown);
      items.push({
        text: b.text,
        vars: {
          ...Object.fromEntries(vars),
          ...Object.fromEntries(unresolved.map((name) => [name, `\${${name}}`])),
        },
        ...(always ? { always } : {}),
      });
      jobs.push({ b, k, unresolved, by: `${where.file}:${where.line}` });
    }
  }
  if (items.length === 0) return notes;
  const results = await envsubst(items);
  for (const [i, { b, k, unresolved, by }] of jobs.entries()) {
    const result = results[i];
    if (!result) continue;
    if (result.error) {
      const position = result.error.line
        ? ` at line ${result.error.line}${result.error.column ? `, column ${result.error.column}` : ""} of the object as Flux substitutes it`
        : "";
      findings.push(
        finding(
          "flux/substitution",
          { file: b.origin ?? k.resource.source.file, line: 1, column: 1 },
          `${b.kind} ${b.name}: Flux's variable substitution fails (${result.error.message}${position}); the Kustomization ${k.name} would not apply`,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Flux syntax, printed as is
          "close every ${…}, or write $${…} for a literal, or annotate the object kustomize.toolkit.fluxcd.io/substitute: disabled",
        ),
      );
      continue;
    }
    if (result.disabled || !result.object || typeof result.object !== "object") continue;
    const parsed = result.object;
    const metadata = (parsed.metadata ?? {}) as Record<string, unknown>;
    const annotations = (metadata.annotations ?? {}) as Record<string, unknown>;
    delete annotations["haos-tasks.dev/build"];
    delete annotations["config.kubernetes.io/origin"];
    if (Object.keys(annotations).length === 0) delete metadata.annotations;
    b.object = parsed;
    b.name = String(field(parsed, "metadata", "name") ?? b.name);
    b.namespace = String(field(parsed, "metadata", "namespace") ?? b.namespace);
    if (unresolved.length > 0) notes.set(b, { unresolved, by });
  }
  return notes;
}

/**
 * Objects Flux creates itself, so references to them resolve: the source and Kustomization a
 * flux-operator FluxInstance creates from `spec.sync` (named after its namespace unless
 * `sync.name`), and the ExternalArtifacts an ArtifactGenerator produces (`spec.artifacts[].name`).
 */
export function fluxCreatedObjects(subjects: readonly Subject[]): ObjectRef[] {
  // flux bootstrap creates (and commits) these; a repository checked out of context may lack them.
  const out: ObjectRef[] = [
    { kind: "GitRepository", name: "flux-system", namespace: "flux-system" },
    { kind: "Kustomization", name: "flux-system", namespace: "flux-system" },
  ];
  for (const s of subjects) {
    if (isKind(s, "fluxcd.controlplane.io", "FluxInstance")) {
      const sync = field(s.object, "spec", "sync");
      if (!sync || typeof sync !== "object") continue;
      const namespace = s.namespace || "flux-system";
      const name = String(field(sync, "name") ?? namespace);
      const url = field(sync, "url");
      out.push(
        {
          kind: String(field(sync, "kind") ?? "GitRepository"),
          name,
          namespace,
          ...(typeof url === "string" ? { url } : {}),
        },
        { kind: "Kustomization", name, namespace },
      );
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
