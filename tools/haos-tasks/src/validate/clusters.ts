import { normaliseFluxPath } from "../lint/platform/flux.ts";
import { field } from "../manifests/resources.ts";
import { isFluxKustomization } from "./flux.ts";
import { instanceSync } from "./sources.ts";

/** A cluster as Flux sees it: the build its flux-system (or FluxInstance) sync applies, and all it reaches. */
export interface Cluster {
  /** The repository folder that names the cluster (kubernetes/main, clusters/production). */
  name: string;
  /** The build at the top of its Kustomization tree (flux-system's spec.path or the sync path). */
  root: string;
  /** Every build the cluster applies, through its Flux Kustomizations. */
  builds: ReadonlySet<string>;
}

export interface Clusters {
  list: readonly Cluster[];
  /** The names of the clusters that apply a build; empty when none does (or none was found). */
  of(build: string | undefined): ReadonlySet<string>;
}

/** What the graph needs of a built object. */
interface Built {
  apiVersion: string;
  kind: string;
  object: Record<string, unknown>;
  build: string | undefined;
}

const none: ReadonlySet<string> = new Set();

/** A literal repository path, or undefined when a variable or nothing gives it. */
function literalPath(value: unknown): string | undefined {
  return typeof value === "string" && !value.includes("${") ? normaliseFluxPath(value) : undefined;
}

/**
 * The sync path a flux-operator FluxInstance (or the flux-instance chart's HelmRelease values,
 * `instance.sync`) gives the Kustomization it creates: the top of a cluster's tree, when its
 * source is this checkout (validate/sources.ts).
 */
export function syncPath(b: Built): string | undefined {
  return literalPath(instanceSync(b)?.path);
}

/** The folder holding a repository path (`.` for a top-level one and for `.` itself). */
function parentFolder(p: string): string {
  const at = p.lastIndexOf("/");
  return at < 0 ? "." : p.slice(0, at);
}

/** The deepest folder holding every path (`.` when they share none). */
function commonFolder(paths: readonly string[]): string {
  if (paths.length === 0) return ".";
  let parts = (paths[0] ?? ".").split("/");
  for (const p of paths.slice(1)) {
    const other = p.split("/");
    let i = 0;
    while (i < parts.length && parts[i] === other[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.length === 0 ? "." : parts.join("/");
}

/**
 * The clusters of a repository, from the Flux Kustomizations its builds render: each Flux
 * Kustomization (and a FluxInstance's sync) links the build holding it to the build of its
 * spec.path. A cluster's root is a build that applies its own path (flux bootstrap's
 * clusters/<name>/flux-system), a FluxInstance's sync path, or a build holding Flux Kustomizations
 * that no other build reaches; a root another root reaches (and that does not reach it back) is
 * part of that cluster. Each cluster is named after the folder holding the builds only it applies
 * (kubernetes/main), else after its root (clusters/production).
 */
export function findClusters(
  built: readonly Built[],
  builds: ReadonlySet<string>,
  /** The folder a Flux Kustomization's spec.path names (its source may be a folder of the repository). */
  pathOf: (b: Built) => string | undefined = (b) => literalPath(field(b.object, "spec", "path") ?? "."),
  /** The folder a FluxInstance's sync applies (undefined when its source is not this checkout). */
  syncOf: (b: Built) => string | undefined = syncPath,
): Clusters {
  const edges = new Map<string, Set<string>>();
  const reached = new Set<string>();
  const roots = new Set<string>();
  for (const b of built) {
    if (b.build === undefined) continue;
    const sync = syncOf(b);
    const target = isFluxKustomization(b) ? pathOf(b) : sync;
    if (target === undefined || !builds.has(target)) continue;
    if (target === b.build || sync !== undefined) roots.add(target);
    if (target === b.build) continue;
    const out = edges.get(b.build) ?? new Set<string>();
    out.add(target);
    edges.set(b.build, out);
    reached.add(target);
  }
  for (const from of edges.keys()) if (!reached.has(from)) roots.add(from);
  const reach = (start: string): Set<string> => {
    const seen = new Set<string>([start]);
    const queue = [start];
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
      for (const to of edges.get(next) ?? []) {
        if (seen.has(to)) continue;
        seen.add(to);
        queue.push(to);
      }
    }
    return seen;
  };
  const reachOf = new Map([...roots].sort().map((r) => [r, reach(r)]));
  // The other roots whose trees reach each root: found by walking each tree once (not every pair
  // of roots: a repository of 5,000 loose Flux Kustomizations has 5,000 roots).
  const reachedBy = new Map<string, string[]>();
  for (const [other, theirs] of reachOf) {
    for (const b of theirs) {
      if (b === other || !reachOf.has(b)) continue;
      const list = reachedBy.get(b) ?? [];
      list.push(other);
      reachedBy.set(b, list);
    }
  }
  // A root under another root (and not above it: a cycle is one cluster) is not a cluster.
  const kept = [...reachOf].filter(
    ([r, own]) => !(reachedBy.get(r) ?? []).some((other) => !own.has(other) || other < r),
  );
  const count = new Map<string, number>();
  for (const [, own] of kept) for (const b of own) count.set(b, (count.get(b) ?? 0) + 1);
  const exclusive = new Map(kept.map(([r, own]) => [r, [...own].filter((b) => count.get(b) === 1)]));
  // Which roots' exclusive builds lie at or under each folder (two are enough to know of a clash).
  const underFolder = new Map<string, string[]>();
  for (const [root, builds] of exclusive) {
    for (const b of builds) {
      for (let folder = b; ; folder = parentFolder(folder)) {
        const owners = underFolder.get(folder) ?? [];
        if (owners.includes(root) || owners.length >= 2) {
          if (folder === ".") break;
          continue;
        }
        owners.push(root);
        underFolder.set(folder, owners);
        if (folder === ".") break;
      }
    }
  }
  const list: Cluster[] = kept.map(([root, own]) => {
    const folder = commonFolder(exclusive.get(root) ?? []);
    const clash = (underFolder.get(folder) ?? []).some((other) => other !== root);
    // A folder that only this cluster's builds are in names it; the root otherwise.
    const name =
      folder !== "." && !clash && (root === folder || root.startsWith(`${folder}/`)) ? folder : root;
    return { name, root, builds: own };
  });
  const byBuild = new Map<string, Set<string>>();
  for (const c of list) {
    for (const b of c.builds) {
      const set = byBuild.get(b) ?? new Set<string>();
      set.add(c.name);
      byBuild.set(b, set);
    }
  }
  return {
    list: list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    of: (build) => (build === undefined ? none : (byBuild.get(build) ?? none)),
  };
}

/** Whether two objects can meet in one cluster: unknown clusters (empty) meet every cluster. */
export function sameCluster(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size === 0 || b.size === 0) return true;
  for (const x of a) if (b.has(x)) return true;
  return false;
}

/**
 * The subjects split by the repository CRD files they see: a CRD file applies in the clusters
 * that apply it (every cluster when none does, or none is known); an object of unknown cluster
 * sees them all. Usually one part: every subject sees every file.
 */
export function crdScopes<T extends { clusters?: ReadonlySet<string> }>(
  subjects: readonly T[],
  crdFiles: readonly string[],
  clustersOfFile: (file: string) => ReadonlySet<string>,
): { subjects: T[]; crdFiles: string[] }[] {
  const scoped = crdFiles.map((file) => ({ file, clusters: clustersOfFile(file) }));
  const parts = new Map<string, { subjects: T[]; crdFiles: string[] }>();
  for (const s of subjects) {
    const seen = scoped.filter((c) => sameCluster(c.clusters, s.clusters ?? new Set())).map((c) => c.file);
    const key = seen.join("\u0000");
    const part = parts.get(key) ?? { subjects: [], crdFiles: seen };
    part.subjects.push(s);
    parts.set(key, part);
  }
  return [...parts.values()];
}
