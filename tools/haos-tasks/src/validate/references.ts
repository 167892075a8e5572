import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { Finding } from "../findings.ts";
import { normaliseFluxPath } from "../lint/platform/flux.ts";
import { at, isKind, type Subject } from "../lint/platform/subject.ts";
import { finding } from "../lint/rules.ts";
import type { Kustomization } from "../manifests/kustomization.ts";
import { apiGroup, field, resourcesOf } from "../manifests/resources.ts";
import {
  isIgnored,
  knownNonResources,
  kustomizationFileNames,
  kustomizationFileOf,
  type ObjectRef,
  type Workspace,
} from "../manifests/workspace.ts";
import { pointerPosition } from "../manifests/yaml-source.ts";
import type { ValidateConfig } from "./config.ts";

/** Where files belong: kustomization directories, and the directories Flux Kustomizations build. */
export interface Owners {
  /** Repo-relative directories that hold a kustomization file. */
  kustomizations: ReadonlySet<string>;
  /** Repo-relative `spec.path` directories of the Flux Kustomizations in the workspace. */
  fluxPaths: ReadonlySet<string>;
}

/** The owners of the workspace's files, for {@link owningKustomization}. */
export function ownersOf(workspace: Workspace, kustomizations: readonly Kustomization[]): Owners {
  const fluxPaths = new Set<string>();
  for (const source of workspace.files.values()) {
    for (const r of resourcesOf(source)) {
      if (apiGroup(r.apiVersion) !== "kustomize.toolkit.fluxcd.io" || r.kind !== "Kustomization") continue;
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
): Finding[] {
  const findings: Finding[] = [];
  const listed = new Set<string>();
  for (const k of kustomizations) {
    const doc = k.source.documents[0];
    for (const entry of k.entries) {
      if (!entry.path) continue;
      listed.add(entry.path);
      const absolute = path.join(workspace.root, entry.path);
      const where = doc
        ? { file: k.source.file, ...pointerPosition(k.source, doc, entry.pointer) }
        : { file: k.source.file };
      if (!existsSync(absolute)) {
        findings.push(
          finding(
            "references/missing-resource",
            where,
            `'${entry.entry}' does not exist (${entry.path})`,
            "fix the path or remove the entry",
          ),
        );
      } else if (statSync(absolute).isDirectory()) {
        if (!entry.mayBeDirectory) {
          findings.push(
            finding(
              "references/missing-resource",
              where,
              `'${entry.entry}' is a directory, not a file`,
              "name a file",
            ),
          );
        } else if (!kustomizationFileNames.some((n) => existsSync(path.join(absolute, n)))) {
          findings.push(
            finding(
              "references/missing-resource",
              where,
              `directory '${entry.entry}' has no kustomization.yaml`,
              "add a kustomization.yaml to that directory or list its files one by one",
            ),
          );
        }
      }
    }
  }
  const owners = ownersOf(workspace, kustomizations);
  for (const file of workspace.files.keys()) {
    const base = path.posix.basename(file);
    if (kustomizationFileNames.includes(base) || knownNonResources.includes(base)) continue;
    if (listed.has(file) || isIgnored(file, config.nonResources)) continue;
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

/** Flux `spec.path` exists; `sourceRef` and `dependsOn` resolve in the repository or the config. */
export function fluxReferences(
  subjects: readonly Subject[],
  root: string,
  config: ValidateConfig,
  elsewhere: readonly ObjectRef[] = [],
): Finding[] {
  const findings: Finding[] = [];
  const matches = (o: ObjectRef, kind: string, name: string, namespace: string) =>
    o.kind === kind && o.name === name && (!namespace || !o.namespace || o.namespace === namespace);
  const defined = (kind: string, name: string, namespace: string) =>
    subjects.some((s) => matches(s, kind, name, namespace)) ||
    elsewhere.some((o) => matches(o, kind, name, namespace)) ||
    config.external.some((e) => matches(e, kind, name, namespace));
  for (const subject of subjects) {
    if (isKind(subject, "kustomize.toolkit.fluxcd.io", "Kustomization")) {
      const specPath = field(subject.object, "spec", "path");
      const rel = normaliseFluxPath(typeof specPath === "string" ? specPath : ".");
      const absolute = path.join(root, rel);
      if (typeof specPath === "string" && (!existsSync(absolute) || !statSync(absolute).isDirectory())) {
        findings.push(
          finding(
            "references/flux-path",
            at(subject, "/spec/path"),
            `spec.path '${specPath}' is not a directory of the repository`,
            "give the path from the repository root (e.g. ./apps/my-app)",
          ),
        );
      }
    }
    for (const ref of refsOf(subject)) {
      if (defined(ref.kind, ref.name, ref.namespace)) continue;
      const what = `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;
      findings.push(
        finding(
          ref.rule,
          at(subject, ref.pointer),
          `${what} is not defined in the repository`,
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

/**
 * How two definitions of one object collide: `same` when one unit applies both, `across` when a
 * build is involved, undefined for standalone files of different directories (a multi-cluster
 * layout: clusters/production and clusters/staging are applied to different clusters).
 */
function collision(a: Subject, b: Subject): "same" | "across" | undefined {
  if (unitOf(a) === unitOf(b)) return "same";
  return a.build === undefined && b.build === undefined ? undefined : "across";
}

/** Two objects the cluster would see as one: the same group, kind, namespace and name. */
export function duplicateResources(subjects: readonly Subject[]): Finding[] {
  const findings: Finding[] = [];
  const seen = new Map<string, Subject[]>();
  for (const s of subjects) {
    if (!s.kind || !s.name) continue;
    const key = `${apiGroup(s.apiVersion)}/${s.kind}/${s.namespace}/${s.name}`;
    const earlier = seen.get(key) ?? [];
    seen.set(key, [...earlier, s]);
    // A collision within one unit is certain; report it before a cross-build one.
    const first =
      earlier.find((e) => collision(e, s) === "same") ?? earlier.find((e) => collision(e, s) === "across");
    if (!first) continue;
    const firstAt = at(first, "/metadata/name");
    const sameBuild = collision(first, s) === "same";
    findings.push({
      ...finding(
        "references/duplicate-resource",
        at(s, "/metadata/name"),
        `${s.kind} ${s.namespace ? `${s.namespace}/` : ""}${s.name} is also defined at ${firstAt.file}:${firstAt.line}${sameBuild ? "" : ` (applied by ${first.build ?? "a standalone file"} and ${s.build ?? "a standalone file"})`}`,
        "keep one definition; if both builds target different clusters, ignore one path in .haos-tasks.yaml",
      ),
      ...(sameBuild ? {} : { severity: "warning" as const }),
    });
  }
  return findings;
}
