import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gitOutputSync, originUrl } from "../git/runner.ts";
import { normaliseFluxPath } from "../lint/platform/flux.ts";
import { apiGroup, field, type Resource, resourcesOf } from "../manifests/resources.ts";
import type { Workspace } from "../manifests/workspace.ts";
import { expandResourceSet, isResourceSet } from "./resourcesets.ts";

/** A Flux source declared in the repository (or created by a FluxInstance it declares). */
export interface SourceDeclaration {
  kind: string;
  name: string;
  namespace: string;
  url?: string;
  branch?: string;
  /** The object that declares it (a GitRepository, a FluxInstance, a HelmRelease of the flux-instance chart). */
  resource: Resource;
  /** Where its url (or sync) is written in that object. */
  pointer: string;
}

/** What a Flux Kustomization's sourceRef reads, as far as the repository tells. */
export type SourceReading =
  /** A folder of this checkout (`.` for its root): spec.path is relative to it. */
  | { reads: "this"; base: string }
  /** Another repository, branch or artifact: nothing here to build. */
  | { reads: "foreign"; declaration?: SourceDeclaration; why: string }
  /** Cannot tell (no origin remote to compare with, an undeclared source). */
  | { reads: "unknown" };

/** Comparable form of a git URL (see references.ts repositoryKey, kept in one place there). */
export type KeyOf = (url: string) => string;

interface GitFacts {
  origin: string | undefined;
  /**
   * The branches changes here land on: origin's default branch (origin/HEAD, as a clone has it), a
   * pull request's base, GitLab's default branch. Not the branch checked out: a feature branch is
   * validated for the branch it merges into.
   */
  branches: Set<string>;
}

function gitFacts(root: string, env: NodeJS.ProcessEnv): GitFacts {
  const originHead = gitOutputSync(root, ["symbolic-ref", "--short", "refs/remotes/origin/HEAD"])?.replace(
    /^origin\//,
    "",
  );
  const branches = new Set(
    [originHead, env.GITHUB_BASE_REF, env.CI_DEFAULT_BRANCH].filter(
      (b): b is string => typeof b === "string" && b !== "",
    ),
  );
  const origin = originUrl(root);
  // A clone of a local path (CI's clone of a checkout, a mirror on disk) names no repository a
  // GitRepository could: it says nothing about which one this is.
  const networked =
    origin !== undefined && (/^[a-z][a-z0-9+.-]*:\/\//i.test(origin) || /^[^/\s]+@[^:\s]+:/.test(origin));
  return { origin: networked && !/^file:\/\//i.test(origin ?? "") ? origin : undefined, branches };
}

// next `flux` command); the url may hold CI expressions with spaces (`${{ github.repository_owner }}`).
const pushArtifact =
  /flux\s+push\s+artifact\s+["']?(oci:\/\/(?:\$\{\{[^}]*\}\}|[^\s"'])+)["']?(?:(?!flux\s)[\s\S]){0,400}?--path[= ]+["']?([^\s"']+)["']?/g;

/** `flux push artifact oci://…:tag --path=./dir` in the repository's CI files: url (no tag) → folder. */
export function pushedFolders(
  root: string,
  texts: readonly string[] = [],
): { url: RegExp; folder: string }[] {
  const out: { url: RegExp; folder: string }[] = [];
  const read = (text: string) => {
    if (!text.includes("push")) return;
    for (const m of text.matchAll(pushArtifact)) {
      const url = (m[1] ?? "").replace(/:[^/:]*$/, "");
      // CI expressions (${{ github.repository_owner }}, $IMAGE, ${VAR}) match any path segment.
      const pattern = url
        .split(/(\$\{\{[^}]*\}\}|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*)/)
        .map((part, i) => (i % 2 === 1 ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("");
      out.push({ url: new RegExp(`^${pattern}$`, "i"), folder: normaliseFluxPath(m[2] ?? ".") });
    }
  };
  for (const dir of [".github/workflows", ".gitlab", ".forgejo/workflows", ".gitea/workflows"]) {
    const absolute = path.join(root, dir);
    if (!existsSync(absolute)) continue;
    for (const name of readdirSync(absolute)) {
      if (/\.ya?ml$/.test(name)) read(readFileSync(path.join(absolute, name), "utf8"));
    }
  }
  for (const name of [".gitlab-ci.yml", "Taskfile.yaml", "Taskfile.yml", "Makefile", "justfile"]) {
    const absolute = path.join(root, name);
    if (existsSync(absolute)) read(readFileSync(absolute, "utf8"));
  }
  for (const text of texts) read(text);
  return out;
}

/**
 * The sync a flux-operator FluxInstance (or the flux-instance chart's HelmRelease, from
 * `values.instance`) declares. The operator creates, in the instance's namespace, a source of
 * `sync.kind` and a Kustomization applying `sync.path` of it, both named `sync.name`, else after
 * the namespace (flux-operator's docs: "using the namespace name as the Flux source and
 * Kustomization name", as flux bootstrap names them).
 */
export interface InstanceSync {
  kind: string;
  name: string;
  namespace: string;
  url?: string;
  branch?: string;
  /** sync.path as written (undefined when absent). */
  path?: string;
  /** Where the sync is written in the object (`/spec/sync`, `/spec/values/instance/sync`). */
  pointer: string;
}

export function instanceSync(o: {
  apiVersion: string;
  kind: string;
  namespace?: string;
  object: Record<string, unknown>;
}): InstanceSync | undefined {
  let sync: unknown;
  let pointer = "/spec/sync";
  let namespace = String(field(o.object, "metadata", "namespace") ?? o.namespace ?? "") || "flux-system";
  if (apiGroup(o.apiVersion) === "fluxcd.controlplane.io" && o.kind === "FluxInstance") {
    sync = field(o.object, "spec", "sync");
  } else if (apiGroup(o.apiVersion) === "helm.toolkit.fluxcd.io" && o.kind === "HelmRelease") {
    sync = field(o.object, "spec", "values", "instance", "sync");
    pointer = "/spec/values/instance/sync";
    const target = field(o.object, "spec", "targetNamespace");
    if (typeof target === "string" && target !== "") namespace = target;
  }
  if (!sync || typeof sync !== "object" || Array.isArray(sync)) return undefined;
  const url = field(sync, "url");
  const ref = field(sync, "ref");
  const branch = typeof ref === "string" ? /^refs\/heads\/(.+)$/.exec(ref)?.[1] : undefined;
  const syncPath = field(sync, "path");
  return {
    kind: String(field(sync, "kind") ?? "GitRepository"),
    name: String(field(sync, "name") ?? namespace),
    namespace,
    ...(typeof url === "string" ? { url } : {}),
    ...(branch ? { branch } : {}),
    ...(typeof syncPath === "string" ? { path: syncPath } : {}),
    pointer,
  };
}

const isSourceKind = (r: Resource, kind: string) =>
  apiGroup(r.apiVersion) === "source.toolkit.fluxcd.io" && r.kind === kind;

/**
 * Every source a Flux Kustomization may name, mapped to what it reads: this checkout (the
 * GitRepository flux-system, one whose url is the origin remote on the branch checked out, an OCI
 * artifact CI pushes from a folder, an ExternalArtifact an ArtifactGenerator copies from a folder),
 * or something else — said once, never built as if it were this tree.
 */
export class SourceMap {
  readonly #declarations = new Map<string, SourceDeclaration>();
  /** ExternalArtifact → its alias source and folder (from an ArtifactGenerator). */
  readonly #generated = new Map<
    string,
    { source: { kind: string; name: string; namespace: string }; folder: string } | undefined
  >();
  readonly #root: string;
  readonly #keyOf: KeyOf;
  readonly #env: NodeJS.ProcessEnv;
  #git: GitFacts | undefined;
  #pushed: { url: RegExp; folder: string }[] | undefined;

  constructor(workspace: Workspace, keyOf: KeyOf, env: NodeJS.ProcessEnv) {
    this.#root = workspace.root;
    this.#keyOf = keyOf;
    this.#env = env;
    for (const source of workspace.files.values()) {
      const text = source.text;
      if (!text.includes("fluxcd.io") && !text.includes("fluxcd.controlplane.io") && !text.includes("\\"))
        continue;
      for (const r of resourcesOf(source)) {
        this.#read(r);
        // The sources (and FluxInstances) a ResourceSet generates, placed at its template.
        if (!isResourceSet(r)) continue;
        const expansion = expandResourceSet(r);
        if (!("objects" in expansion)) continue;
        for (const o of expansion.objects)
          this.#read({ ...r, ...o, object: o.object }, { resource: r, prefix: `/spec/resources/${o.index}` });
      }
    }
  }

  #declare(d: SourceDeclaration): void {
    const key = `${d.kind}\u0000${d.namespace}\u0000${d.name}`;
    if (!this.#declarations.has(key)) this.#declarations.set(key, d);
  }

  #read(r: Resource, where: { resource: Resource; prefix: string } = { resource: r, prefix: "" }): void {
    const ns = r.namespace || "flux-system";
    if (isSourceKind(r, "GitRepository") || isSourceKind(r, "OCIRepository") || isSourceKind(r, "Bucket")) {
      const url = field(r.object, "spec", "url") ?? field(r.object, "spec", "bucketName");
      const branch = field(r.object, "spec", "ref", "branch");
      this.#declare({
        kind: r.kind,
        name: r.name,
        namespace: ns,
        ...(typeof url === "string" ? { url } : {}),
        ...(typeof branch === "string" ? { branch } : {}),
        resource: where.resource,
        pointer: `${where.prefix}/spec/url`,
      });
      return;
    }
    if (apiGroup(r.apiVersion) === "source.extensions.fluxcd.io" && r.kind === "ArtifactGenerator") {
      this.#readGenerator(r, ns);
      return;
    }
    // flux-operator: the FluxInstance (or the flux-instance chart's values) creates its sync source.
    const sync = instanceSync(r);
    if (!sync) return;
    this.#declare({
      kind: sync.kind,
      name: sync.name,
      namespace: sync.namespace,
      ...(sync.url !== undefined ? { url: sync.url } : {}),
      ...(sync.branch !== undefined ? { branch: sync.branch } : {}),
      resource: where.resource,
      pointer: `${where.prefix}${sync.pointer}`,
    });
  }

  #readGenerator(r: Resource, ns: string): void {
    const sources = field(r.object, "spec", "sources");
    const artifacts = field(r.object, "spec", "artifacts");
    if (!Array.isArray(artifacts)) return;
    const aliases = new Map<string, { kind: string; name: string; namespace: string }>();
    for (const s of Array.isArray(sources) ? sources : []) {
      const alias = field(s, "alias");
      if (typeof alias !== "string") continue;
      aliases.set(alias, {
        kind: String(field(s, "kind") ?? "GitRepository"),
        name: String(field(s, "name") ?? ""),
        namespace: String(field(s, "namespace") ?? ns),
      });
    }
    for (const a of artifacts) {
      const name = field(a, "name");
      if (typeof name !== "string") continue;
      const copies = field(a, "copy");
      // The folder whose content becomes the artifact's root: `from: "@repo/<dir>/**"`, `to: "@artifact/"`.
      let mapped: { source: { kind: string; name: string; namespace: string }; folder: string } | undefined;
      for (const c of Array.isArray(copies) ? copies : []) {
        const from = field(c, "from");
        const to = field(c, "to");
        const m = typeof from === "string" ? /^@([^/]+)\/(.*?)\/?\*\*$/.exec(from) : null;
        const source = m ? aliases.get(m[1] ?? "") : undefined;
        if (!m || !source || (to !== "@artifact/" && to !== "@artifact")) continue;
        mapped = { source, folder: normaliseFluxPath(m[2] || ".") };
        break;
      }
      this.#generated.set(`${ns}\u0000${name}`, mapped);
    }
  }

  #facts(): GitFacts {
    this.#git ??= gitFacts(this.#root, this.#env);
    return this.#git;
  }

  /** The declaration of a source, if the repository (or a FluxInstance in it) declares it. */
  declaration(kind: string, name: string, namespace: string): SourceDeclaration | undefined {
    return this.#declarations.get(`${kind}\u0000${namespace || "flux-system"}\u0000${name}`);
  }

  resolve(kind: string, name: string, namespace: string, seen = new Set<string>()): SourceReading {
    const ns = namespace || "flux-system";
    const key = `${kind}\u0000${ns}\u0000${name}`;
    if (seen.has(key)) return { reads: "unknown" };
    seen.add(key);
    const declared = this.declaration(kind, name, ns);
    if (kind === "GitRepository") {
      // flux bootstrap's own source is the repository it bootstrapped.
      if (name === "flux-system" && !declared?.url) return { reads: "this", base: "." };
      if (!declared) return name === "flux-system" ? { reads: "this", base: "." } : { reads: "unknown" };
      const { origin, branches } = this.#facts();
      if (!declared.url || !origin)
        return name === "flux-system" ? { reads: "this", base: "." } : { reads: "unknown" };
      if (this.#keyOf(declared.url) !== this.#keyOf(origin))
        return {
          reads: "foreign",
          declaration: declared,
          why: `${declared.url} is not this checkout (origin ${origin})`,
        };
      // The cluster's branch: the one flux-system (or a FluxInstance's Git sync) reads, and the
      // branch changes land on. Unknown: the same url is this tree, whatever its branch.
      const own = new Set(branches);
      for (const d of this.#declarations.values())
        if (d.name === "flux-system" && d.kind === "GitRepository" && d.branch) own.add(d.branch);
      if (name !== "flux-system" && declared.branch && own.size > 0 && !own.has(declared.branch))
        return {
          reads: "foreign",
          declaration: declared,
          why: `it reads branch ${declared.branch} of this repository, the cluster's branch is ${[...own].join(", ")}`,
        };
      return { reads: "this", base: "." };
    }
    if (kind === "OCIRepository") {
      const url = declared?.url;
      this.#pushed ??= pushedFolders(this.#root);
      const pushed = url ? this.#pushed.find((p) => p.url.test(url.replace(/:[^/:]*$/, ""))) : undefined;
      if (pushed) return { reads: "this", base: pushed.folder };
      // A FluxInstance's OCI sync of this repository's manifests (flux-system): its path is a folder here.
      if (name === "flux-system" && declared && declared.resource.kind !== "OCIRepository")
        return { reads: "this", base: "." };
      return {
        reads: "foreign",
        ...(declared ? { declaration: declared } : {}),
        why: url
          ? `no CI file of this repository pushes ${url} (\`flux push artifact … --path=<folder>\`)`
          : "an OCI artifact this repository does not declare",
      };
    }
    if (kind === "ExternalArtifact") {
      const generated = this.#generated.get(`${ns}\u0000${name}`);
      if (generated) {
        const from = this.resolve(
          generated.source.kind,
          generated.source.name,
          generated.source.namespace,
          seen,
        );
        if (from.reads === "this")
          return { reads: "this", base: normaliseFluxPath(path.posix.join(from.base, generated.folder)) };
        return from.reads === "foreign" ? from : { reads: "unknown" };
      }
      return {
        reads: "foreign",
        why: "no ArtifactGenerator in the repository copies a folder of it into this artifact",
      };
    }
    return {
      reads: "foreign",
      ...(declared ? { declaration: declared } : {}),
      why: `a ${kind} holds content from outside this repository`,
    };
  }
}
