import { describe, expect, it } from "vitest";
import { findClusters } from "./clusters.ts";

const ks = (build: string, path: string) => ({
  apiVersion: "kustomize.toolkit.fluxcd.io/v1",
  kind: "Kustomization",
  object: { spec: { path } },
  build,
});
const instance = (build: string, path: string) => ({
  apiVersion: "fluxcd.controlplane.io/v1",
  kind: "FluxInstance",
  object: { spec: { sync: { kind: "GitRepository", path } } },
  build,
});

describe("findClusters", () => {
  it("names each cluster after the folder only its builds are in; a shared folder is in both", () => {
    const built = ["main", "utility"].flatMap((c) => [
      ks(`kubernetes/${c}/flux/cluster`, `./kubernetes/${c}/apps`),
      ks(`kubernetes/${c}/apps`, "./kubernetes/shared/app"),
      // The flux-instance HelmRelease's cluster points back at the root: a cycle, one cluster.
      instance(`kubernetes/${c}/apps`, `kubernetes/${c}/flux/cluster`),
    ]);
    const builds = new Set(built.map((b) => b.build).concat("kubernetes/shared/app"));
    const clusters = findClusters(built, builds);
    expect(clusters.list.map((c) => [c.name, c.root])).toEqual([
      ["kubernetes/main", "kubernetes/main/flux/cluster"],
      ["kubernetes/utility", "kubernetes/utility/flux/cluster"],
    ]);
    expect([...clusters.of("kubernetes/shared/app")].sort()).toEqual([
      "kubernetes/main",
      "kubernetes/utility",
    ]);
    expect([...clusters.of("kubernetes/main/apps")]).toEqual(["kubernetes/main"]);
    expect(clusters.of("somewhere/else").size).toBe(0);
  });

  it("takes a FluxInstance's sync path as a root only where its source is this checkout", () => {
    const built = [instance("bootstrap", "clusters/edge")];
    const builds = new Set(["bootstrap", "clusters/edge"]);
    expect(findClusters(built, builds).of("clusters/edge").size).toBe(1);
    // Another repository's sync: clusters/edge here is not what the instance applies.
    const foreign = findClusters(built, builds, undefined, () => undefined);
    expect(foreign.list).toEqual([]);
    expect(foreign.of("clusters/edge").size).toBe(0);
  });

  it("names a cluster after its root when its builds share no folder of their own (clusters/<name>)", () => {
    const built = ["production", "staging"].flatMap((c) => [
      ks(`clusters/${c}`, `./clusters/${c}`),
      ks(`clusters/${c}`, `./apps/${c}`),
      ks(`clusters/${c}`, `./infrastructure/${c}`),
    ]);
    const builds = new Set(
      ["production", "staging"].flatMap((c) => [`clusters/${c}`, `apps/${c}`, `infrastructure/${c}`]),
    );
    expect(findClusters(built, builds).list.map((c) => c.name)).toEqual([
      "clusters/production",
      "clusters/staging",
    ]);
  });

  it("a top reached by another top is part of that cluster, not a second one", () => {
    const built = [ks("bootstrap", "./kubernetes/flux"), ks("kubernetes/flux", "./kubernetes/apps")];
    const clusters = findClusters(built, new Set(["bootstrap", "kubernetes/flux", "kubernetes/apps"]));
    expect(clusters.list.map((c) => c.root)).toEqual(["bootstrap"]);
    // A spec.path a variable gives links nothing.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Flux syntax
    expect(findClusters([ks("a", "./${PATH}")], new Set(["a"])).list).toEqual([]);
  });
});
