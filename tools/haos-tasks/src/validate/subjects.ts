import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Subject } from "../lint/platform/subject.ts";
import type { BuiltResource } from "../manifests/kustomize-build.ts";
import { apiGroup, type Resource, resourcesOf } from "../manifests/resources.ts";
import type { Workspace } from "../manifests/workspace.ts";
import { parseSourceFile, type SourceFile } from "../manifests/yaml-source.ts";

/** Parsed files by repo-relative path: the workspace's, plus files outside it read on demand. */
export class SourceFiles {
  private readonly extra = new Map<string, SourceFile | undefined>();
  private readonly resources = new Map<string, Resource[]>();
  private readonly workspace: Workspace;

  constructor(workspace: Workspace) {
    this.workspace = workspace;
  }

  /** Whether the file is one of the workspace's. */
  knows(file: string): boolean {
    return this.workspace.files.has(file);
  }

  async get(file: string): Promise<SourceFile | undefined> {
    const known = this.workspace.files.get(file);
    if (known) return known;
    if (this.extra.has(file)) return this.extra.get(file);
    const absolute = path.join(this.workspace.root, file);
    const source = existsSync(absolute) ? parseSourceFile(await readFile(absolute, "utf8"), file) : undefined;
    this.extra.set(file, source);
    return source;
  }

  async resourcesIn(file: string): Promise<Resource[]> {
    return this.knownResourcesIn(file) ?? this.remember(file, await this.get(file));
  }

  /** The documents of a workspace file, or of one resourcesIn read before, without waiting; else undefined. */
  knownResourcesIn(file: string): Resource[] | undefined {
    const cached = this.resources.get(file);
    if (cached) return cached;
    const known = this.workspace.files.get(file);
    return known ? this.remember(file, known) : undefined;
  }

  private remember(file: string, source: SourceFile | undefined): Resource[] {
    const list = source ? resourcesOf(source) : [];
    this.resources.set(file, list);
    return list;
  }
}

// Of several documents that fit by kind and name, the one in the rendered object's namespace (one
// without a namespace took it from kustomize): objects may share kind and name across namespaces.
function inNamespace(built: BuiltResource, fits: readonly Resource[]): Resource | undefined {
  return fits.find((r) => r.namespace === built.namespace) ?? fits.find((r) => r.namespace === "") ?? fits[0];
}

/**
 * The documents of the rendered object's kind, narrowed to its apiVersion (else its group) when
 * any has it: two groups' `Grafana`, or a HelmRelease v2beta2 beside its v2, may share a name in
 * one file. A version no document has (a patch changed it) keeps every document of the kind.
 */
function ofKind(built: BuiltResource, candidates: readonly Resource[]): Resource[] {
  const sameKind = candidates.filter((r) => r.kind === built.kind);
  const sameVersion = sameKind.filter((r) => r.apiVersion === built.apiVersion);
  if (sameVersion.length > 0) return sameVersion;
  const sameGroup = sameKind.filter((r) => apiGroup(r.apiVersion) === apiGroup(built.apiVersion));
  return sameGroup.length > 0 ? sameGroup : sameKind;
}

/**
 * The source document a rendered object came from: same kind (and apiVersion) in the origin file,
 * matched by name (exactly, else the longest source name inside the rendered one, as
 * namePrefix/nameSuffix do) and then by namespace.
 */
export function traceSource(built: BuiltResource, candidates: readonly Resource[]): Resource | undefined {
  const sameKind = ofKind(built, candidates);
  const exact = sameKind.filter((r) => r.name === built.name);
  if (exact.length > 0) return inNamespace(built, exact);
  const inside = sameKind.filter((r) => r.name !== "" && built.name.includes(r.name));
  const longest = Math.max(...inside.map((r) => r.name.length));
  const best = inside.filter((r) => r.name.length === longest);
  if (best.length > 0) return inNamespace(built, best);
  return sameKind.length === 1 ? sameKind[0] : undefined;
}

/**
 * Subjects for objects kustomize rendered, each traced to its source document. The trace is only
 * for a finding's position, so it waits until one asks (a getter), unless it decides the subject's
 * file: when the origin is outside the workspace (read here) or a generator configured the object.
 */
export async function builtSubjects(built: readonly BuiltResource[], files: SourceFiles): Promise<Subject[]> {
  const subjects: Subject[] = [];
  for (const b of built) {
    const origin = b.origin;
    const deferred = origin !== undefined && b.configuredIn === undefined && files.knows(origin);
    if (origin !== undefined && !deferred) await files.resourcesIn(origin);
    let traced: { resource: Resource | undefined } | undefined;
    const trace = (): Resource | undefined => {
      traced ??= {
        resource: origin === undefined ? undefined : traceSource(b, files.knownResourcesIn(origin) ?? []),
      };
      return traced.resource;
    };
    subjects.push({
      apiVersion: b.apiVersion,
      kind: b.kind,
      name: b.name,
      namespace: b.namespace,
      object: b.object,
      get resource() {
        return trace();
      },
      // A traced document's file is its origin: deferred, the origin is the file.
      file: deferred
        ? origin
        : (trace()?.source.file ?? b.configuredIn ?? origin ?? `${b.build}/kustomization.yaml`),
      build: b.build,
    });
  }
  return subjects;
}

/** A subject for an object read straight from a file (not part of any kustomization). */
export function standaloneSubject(resource: Resource): Subject {
  return {
    apiVersion: resource.apiVersion,
    kind: resource.kind,
    name: resource.name,
    namespace: resource.namespace,
    object: resource.object,
    resource,
    file: resource.source.file,
    build: undefined,
  };
}
