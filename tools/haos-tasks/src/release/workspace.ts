/**
 * release-please's node-workspace plugin (plugins/node-workspace.ts, workspace.ts): a component
 * whose package.json depends on a workspace package released in the run is released too — a patch
 * over its current version when it has nothing of its own — with its dependency ranges on the
 * released packages updated (prefix kept) and a `### Dependencies` section listing them. The graph
 * is the components' own package.json files (`<path>/package.json`, matched by `name`); its edges
 * are dependencies, devDependencies and optionalDependencies (not peerDependencies, as
 * release-please without `updatePeerDependencies`). Dependents of dependents are released too.
 *
 * A dependency counts as released when its own plan releases (planned on its own first, as
 * linked.ts does), when a dependency of its own does (transitively), or when it was applied earlier
 * in this run (or in a run that stopped): its latest tag lies after this component's latest
 * release with only release commits since, and this component's range on it does not name that
 * version yet.
 */
import { releaseCommitPattern } from "./classify.ts";
import type { ReleaseConfig } from "./config.ts";
import { ReleaseError } from "./errors.ts";
import { planLinked } from "./linked.ts";
import { componentVersionTags } from "./next-version.ts";
import type { PlanInput, ReleasePlan, WorkspaceDependency } from "./planner.ts";
import { bumpSemVer, formatSemVer, parseSemVer, type SemVer } from "./semver.ts";
import {
  type DependencyType,
  dependencyTypes,
  isProtocolRange,
  newVersionWithRange,
} from "./version-files.ts";
import { edgeTypes, type WorkspacePackage, workspacePackageOf } from "./workspace-notes.ts";

interface Resolved {
  version: string;
  /** Why a dependency without changes of its own is released (not set for its own release). */
  via?: string;
}

/**
 * Plans `name` with the node-workspace plugin when its policy lists it (else as linked.ts plans
 * it): the workspace dependencies released in this run decide whether it is released and what its
 * notes and package.json say. A dependency cycle among the packages is an error, as in release-please.
 */
export async function planWorkspace(
  config: ReleaseConfig,
  name: string,
  read: (name: string) => Promise<PlanInput>,
): Promise<ReleasePlan> {
  const inputs = new Map<string, Promise<PlanInput>>();
  const readOnce = (n: string) => {
    let input = inputs.get(n);
    if (!input) {
      input = read(n);
      inputs.set(n, input);
    }
    return input;
  };
  const input = await readOnce(name);
  if (!input.policy.plugins.includes("node-workspace") || !input.workspacePackages)
    return planLinked(config, name, readOnce);

  const packages = new Map<string, WorkspacePackage>();
  for (const [component, file] of Object.entries(input.workspacePackages)) {
    const pkg = workspacePackageOf(component, file.path, file.content);
    if (pkg) packages.set(component, pkg);
  }
  const byName = new Map([...packages.values()].map((p) => [p.name, p]));
  const own = new Map<string, Promise<ReleasePlan>>();
  const ownPlan = (n: string) => {
    let plan = own.get(n);
    if (!plan) {
      plan = planLinked(config, n, readOnce);
      own.set(n, plan);
    }
    return plan;
  };
  const resolved = new Map<string, Promise<Resolved | undefined>>();

  /** The workspace packages `pkg` names in `types`, as components (itself left out). */
  const dependenciesOf = (pkg: WorkspacePackage, types: readonly DependencyType[]) => {
    const names = new Set<string>();
    for (const type of types) for (const dep of Object.keys(pkg.dependencies[type])) names.add(dep);
    return [...names].flatMap((dep) => {
      const p = byName.get(dep);
      return p && p.component !== pkg.component ? [p] : [];
    });
  };

  /** `dep` released after `dependent`'s latest release, its range on it not yet updated. */
  const releasedSince = async (
    dep: WorkspacePackage,
    dependent: WorkspacePackage,
  ): Promise<Resolved | undefined> => {
    const [depInput, dependentInput] = await Promise.all([
      readOnce(dep.component),
      readOnce(dependent.component),
    ]);
    const dependentTag = componentVersionTags(dependentInput.component, dependentInput.tags).find(
      (t) => t.reachable,
    );
    const depTag = componentVersionTags(depInput.component, depInput.tags).find((t) => t.reachable);
    if (!dependentTag || !depTag || depTag.sha === dependentTag.sha) return undefined;
    const at = dependentInput.commits.findIndex((c) => c.sha === depTag.sha);
    if (at < 0) return undefined;
    // In this run (or one that stopped): since the dependency's release only release commits of
    // the components were made. A dependency released on its own before (its dependents not
    // released with it) is not a reason now, as release-please looks only at its own run.
    const patterns = dependentInput.components.map(releaseCommitPattern);
    const releaseOnly = dependentInput.commits
      .slice(0, at + 1)
      .every((c) => patterns.some((p) => p.test(c.message.split("\n", 1)[0] ?? "")));
    if (!releaseOnly) return undefined;
    const version = formatSemVer(depTag.version);
    const ranges = dependencyTypes.flatMap((t) => {
      const range = dependent.dependencies[t][dep.name];
      return range === undefined ? [] : [range];
    });
    if (ranges.every((r) => !isProtocolRange(r) && newVersionWithRange(r, version) === r)) return undefined;
    return { version, via: `${depTag.tag}, after ${dependentTag.tag}` };
  };

  /** The version `component` is released at in this run, and why; undefined when it is not. */
  const resolve = (pkg: WorkspacePackage, stack: readonly string[]): Promise<Resolved | undefined> => {
    // checkCycles ran first: a package on the stack again is a peer's way back; it adds nothing.
    if (stack.includes(pkg.component)) return Promise.resolve(undefined);
    let result = resolved.get(pkg.component);
    if (!result) {
      result = (async () => {
        const plan = await ownPlan(pkg.component);
        if (plan.status === "release" && plan.release) return { version: plan.release.version };
        if (plan.status !== "up-to-date") return undefined;
        const pkgInput = await readOnce(pkg.component);
        if (!pkgInput.policy.plugins.includes("node-workspace")) return undefined;
        const released = await releasedDependencies(pkg, edgeTypes, [...stack, pkg.component]);
        const first = released[0];
        const base = plan.previous?.version ?? plan.baseline.version;
        const current = base ? parseSemVer(base) : undefined;
        if (!first || !current) return undefined;
        return { version: formatSemVer(patchOf(current)), via: describe(released) };
      })();
      resolved.set(pkg.component, result);
    }
    return result;
  };

  const releasedDependencies = async (
    pkg: WorkspacePackage,
    types: readonly DependencyType[],
    stack: readonly string[],
  ): Promise<WorkspaceDependency[]> => {
    const out: WorkspaceDependency[] = [];
    for (const dep of dependenciesOf(pkg, types)) {
      const r = (await resolve(dep, stack)) ?? (await releasedSince(dep, pkg));
      if (r)
        out.push({
          component: dep.component,
          package: dep.name,
          version: r.version,
          ...(r.via ? { via: r.via } : {}),
        });
    }
    return out;
  };

  const target = packages.get(name);
  if (!target) return ownPlan(name);
  checkCycles(target, (pkg) => dependenciesOf(pkg, edgeTypes));
  const plan = await ownPlan(name);
  if (plan.status !== "release" && plan.status !== "up-to-date") return plan;
  // Every released package the notes may name (peerDependencies too); the edges decide the release.
  const named = await releasedDependencies(target, dependencyTypes, [name]);
  const edges = new Set(dependenciesOf(target, edgeTypes).map((p) => p.component));
  const triggering = named.filter((d) => edges.has(d.component));
  if (plan.status === "up-to-date" && triggering.length === 0) return plan;
  if (plan.status === "release" && named.length === 0) return plan;
  const base = plan.previous?.version ?? plan.baseline.version;
  const current = base ? parseSemVer(base) : undefined;
  if (plan.status === "up-to-date" && !current) return plan;
  const version = plan.status === "up-to-date" && current ? formatSemVer(patchOf(current)) : undefined;
  const reason = describe(plan.status === "release" ? named : triggering);
  const workspace: NonNullable<PlanInput["workspace"]> = {
    manifest: target.file,
    dependencies: named,
    ...(version ? { version, reason } : {}),
  };
  const planned = await planLinked(config, name, async (n) =>
    n === name ? { ...(await readOnce(n)), workspace } : readOnce(n),
  );
  if (planned.status === "release" && plan.status === "release" && planned.bump)
    planned.bump = { ...planned.bump, reason: `${planned.bump.reason}; ${reason}` };
  if (planned.status === "release")
    planned.summary = `${name}: release ${planned.release?.version} (${planned.bump?.reason ?? ""})`;
  return planned;
}

/** release-please's forced bump of a dependent: a patch (a prerelease's own stable version). */
const patchOf = (v: SemVer): SemVer =>
  v.prerelease.length > 0 ? { ...v, prerelease: [] } : bumpSemVer(v, "patch");

/** "dependency a released 1.3.0; dependency b released 1.2.1 (dependency c released 2.0.0)". */
export function describe(released: readonly WorkspaceDependency[]): string {
  return released
    .map((d) => `dependency ${d.component} released ${d.version}${d.via ? ` (${d.via})` : ""}`)
    .join("; ");
}

/**
 * release-please stops on a dependency cycle (workspace.ts visitPostOrder, "found cycle in
 * dependency graph"): so does planning a package on a cycle or depending on one.
 */
function checkCycles(
  start: WorkspacePackage,
  dependencies: (pkg: WorkspacePackage) => WorkspacePackage[],
): void {
  const done = new Set<string>();
  const visit = (pkg: WorkspacePackage, stack: readonly string[]) => {
    if (stack.includes(pkg.component)) {
      const cycle = [...stack.slice(stack.indexOf(pkg.component)), pkg.component].join(" → ");
      throw new ReleaseError(
        `node-workspace: the workspace packages depend on each other in a cycle: ${cycle}`,
        "break the cycle (often a devDependency on a package that depends on this one), or remove node-workspace from release.plugins",
        "usage",
      );
    }
    if (done.has(pkg.component)) return;
    for (const dep of dependencies(pkg)) visit(dep, [...stack, pkg.component]);
    done.add(pkg.component);
  };
  visit(start, []);
}
