import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { Finding } from "../findings.ts";
import { normaliseFluxPath } from "../lint/platform/flux.ts";
import { at, isKind, type Subject } from "../lint/platform/subject.ts";
import { finding } from "../lint/rules.ts";
import { envsubst, SubstitutionError } from "../manifests/envsubst.ts";
import type { BuildUnit, BuiltResource } from "../manifests/kustomize-build.ts";
import { apiGroup, field, type Resource, resourcesOf } from "../manifests/resources.ts";
import { byteOrder, kustomizationFileNames, type ObjectRef, type Workspace } from "../manifests/workspace.ts";

/** A Flux Kustomization read from the repository's files (before any build). */
export interface FluxKustomization {
  resource: Resource;
  name: string;
  namespace: string;
  /** Repo-relative spec.path. */
  dir: string;
  components: string[];
  targetNamespace?: string;
  postBuild:
    | {
        substitute: Record<string, string>;
        substituteFrom: { kind: string; name: string; optional: boolean }[];
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
export function fluxKustomizations(workspace: Workspace): FluxKustomization[] {
  const out: FluxKustomization[] = [];
  // A directory the walk found a kustomization file in is one: no file-system call for it.
  const knownDirectories = new Set(workspace.kustomizationDirs);
  for (const source of workspace.files.values()) {
    if (!mayHoldFluxKustomization(source.text)) continue;
    for (const r of resourcesOf(source)) {
      if (!isFluxKustomization(r)) continue;
      const specPath = field(r.object, "spec", "path");
      const raw = typeof specPath === "string" ? specPath : ".";
      if (raw.includes("${")) continue; // substituted by a parent: unknown here
      // Built only when it reads this repository: a GitRepository, or flux-system (bootstrap's or
      // a FluxInstance's sync, Git or OCI). An ExternalArtifact or a Bucket holds other content.
      const sourceRef = field(r.object, "spec", "sourceRef");
      const sourceKind = String(field(sourceRef, "kind") ?? "GitRepository");
      if (sourceKind !== "GitRepository" && field(sourceRef, "name") !== "flux-system") continue;
      const dir = resolveFluxPath(raw).dir;
      const absolute = path.join(workspace.root, dir);
      if (!knownDirectories.has(dir) && (!existsSync(absolute) || !statSync(absolute).isDirectory()))
        continue;
      const components = field(r.object, "spec", "components");
      const postBuild = field(r.object, "spec", "postBuild");
      const targetNamespace = field(r.object, "spec", "targetNamespace");
      const substitute = field(postBuild, "substitute");
      const from = field(postBuild, "substituteFrom");
      out.push({
        resource: r,
        name: r.name,
        namespace: r.namespace,
        dir,
        ...(typeof targetNamespace === "string" && !targetNamespace.includes("${")
          ? { targetNamespace }
          : {}),
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
              }
            : undefined,
      });
    }
  }
  return out;
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

/**
 * Applies each Flux Kustomization's postBuild substitution to the objects its build rendered,
 * as kustomize-controller does: substituteFrom ConfigMaps/Secrets (found among the rendered
 * objects, in the Kustomization's namespace) in order, then `substitute` on top; newlines removed.
 * A source that is not in the repository, or encrypted, makes every variable it might set unknown.
 */
export function substitute(
  built: BuiltResource[],
  byDir: ReadonlyMap<string, FluxKustomization>,
  findings: Finding[],
  standalone: readonly {
    apiVersion: string;
    kind: string;
    name: string;
    namespace: string;
    object: Record<string, unknown>;
  }[] = [],
  /** A repository file's text (to place a substitution error at its line). */
  textOf: (file: string) => string | undefined = () => undefined,
): Map<BuiltResource, { unresolved: string[]; by: string }> {
  const notes = new Map<BuiltResource, { unresolved: string[]; by: string }>();
  const configs = [...built, ...standalone].filter(
    (b) => (b.kind === "ConfigMap" || b.kind === "Secret") && b.apiVersion === "v1",
  );
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
          vars.set(key, value.replaceAll("\n", ""));
        }
      }
    }
    for (const [key, value] of Object.entries(k.postBuild.substitute)) {
      unknownKeys.delete(key);
      vars.set(key, value.replaceAll("\n", ""));
    }
    // Flux substitutes only when it has variables; unknown sources may hold some.
    if (vars.size === 0 && !someUnknown && unknownKeys.size === 0) continue;
    const isUnknown = (name: string) => someUnknown || unknownKeys.has(name);
    const where = at({ resource: k.resource, file: k.resource.source.file } as Subject, "/spec/postBuild");
    for (const b of built) {
      if (b.build !== dir || b.text === undefined || disabled(b.object)) continue;
      try {
        const result = envsubst(b.text, vars, isUnknown);
        const parsed = parse(result.text) as Record<string, unknown> | null;
        if (!parsed || typeof parsed !== "object") continue;
        const metadata = (parsed.metadata ?? {}) as Record<string, unknown>;
        const annotations = (metadata.annotations ?? {}) as Record<string, unknown>;
        delete annotations["haos-tasks.dev/build"];
        delete annotations["config.kubernetes.io/origin"];
        if (Object.keys(annotations).length === 0) delete metadata.annotations;
        b.object = parsed;
        b.name = String(field(parsed, "metadata", "name") ?? b.name);
        b.namespace = String(field(parsed, "metadata", "namespace") ?? b.namespace);
        if (result.unresolved.size > 0)
          notes.set(b, { unresolved: [...result.unresolved], by: `${where.file}:${where.line}` });
      } catch (error) {
        if (!(error instanceof SubstitutionError)) throw error;
        findings.push(
          finding(
            "flux/substitution",
            {
              file: b.origin ?? where.file,
              ...failingLine(b.origin ? textOf(b.origin) : undefined, (line) =>
                envsubst(line, vars, isUnknown),
              ),
            },
            `${b.kind} ${b.name}: Flux's variable substitution fails (${error.message}); the Kustomization ${k.name} would not apply`,
            // biome-ignore lint/suspicious/noTemplateCurlyInString: Flux syntax, printed as is
            "close every ${…}, or write $${…} for a literal, or annotate the object kustomize.toolkit.fluxcd.io/substitute: disabled",
          ),
        );
      }
    }
  }
  return notes;
}

/**
 * The first line of a source file whose own `${…}` fails substitution (kustomize prints the
 * object differently, but an expression stays on one line), else the file's start.
 */
function failingLine(
  text: string | undefined,
  substitute: (line: string) => unknown,
): { line: number; column: number } {
  const lines = text?.split("\n") ?? [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.includes("${")) continue;
    try {
      substitute(line);
    } catch (error) {
      if (error instanceof SubstitutionError) return { line: i + 1, column: line.indexOf("${") + 1 };
    }
  }
  return { line: 1, column: 1 };
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
