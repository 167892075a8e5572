import { describe, expect, it } from "vitest";
import type { Subject } from "../lint/platform/subject.ts";
import type { Workspace } from "../manifests/workspace.ts";
import { parseSourceFile } from "../manifests/yaml-source.ts";
import { duplicateResources, ownersOf, owningKustomization, repositoryKey } from "./references.ts";

function subject(file: string, build: string | undefined, name = "apps"): Subject {
  return {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    name,
    namespace: "flux-system",
    object: {},
    resource: undefined,
    file,
    build,
  };
}

describe("duplicateResources", () => {
  it("does not pair standalone files of different directories (one cluster each)", () => {
    const found = duplicateResources([
      subject("clusters/production/apps.yaml", undefined),
      subject("clusters/staging/apps.yaml", undefined),
    ]);
    expect(found).toEqual([]);
  });

  it("reports two standalone files of one directory as an error", () => {
    const found = duplicateResources([
      subject("clusters/home/a.yaml", undefined),
      subject("clusters/home/b.yaml", undefined),
    ]);
    expect(found.map((f) => [f.file, f.severity])).toEqual([["clusters/home/b.yaml", "error"]]);
  });

  it("finds the same-directory twin behind a definition of another directory", () => {
    const found = duplicateResources([
      subject("clusters/production/apps.yaml", undefined),
      subject("clusters/staging/apps.yaml", undefined),
      subject("clusters/staging/copy.yaml", undefined),
    ]);
    expect(found.map((f) => [f.file, f.severity, f.message])).toEqual([
      [
        "clusters/staging/copy.yaml",
        "error",
        "Kustomization flux-system/apps is also defined at clusters/staging/apps.yaml:1",
      ],
    ]);
  });

  it("warns when a build and a standalone file or two builds define one object", () => {
    const found = duplicateResources([
      subject("apps/a/ks.yaml", "apps/a"),
      subject("apps/b/ks.yaml", "apps/b"),
      subject("clusters/home/ks.yaml", undefined),
    ]);
    expect(found.map((f) => [f.file, f.severity])).toEqual([
      ["apps/b/ks.yaml", "warning"],
      ["clusters/home/ks.yaml", "warning"],
    ]);
  });

  it("notes once, as info, one file's object applied identical by several builds; warns when a copy differs", () => {
    const shared = (build: string, ref = "4.1.0"): Subject => ({
      ...subject("components/common/ocirepository.yaml", build, "app-template"),
      object: { spec: { ref: { tag: ref } } },
    });
    const found = duplicateResources([
      shared("apps/a"),
      shared("apps/b"),
      shared("apps/c"),
      shared("apps/d", "4.1.1"),
    ]);
    expect(found.map((f) => [f.file, f.severity])).toEqual([
      ["components/common/ocirepository.yaml", "warning"],
      ["components/common/ocirepository.yaml", "info"],
    ]);
    expect(found[0]?.message).toContain("(applied by apps/a and apps/d)");
    expect(found[1]?.message).toContain("is applied, identical, by 3 builds (apps/a, apps/b, apps/c)");
  });

  it("reports two objects of one build as an error", () => {
    const found = duplicateResources([
      subject("apps/a/x.yaml", "apps/a"),
      subject("apps/a/y.yaml", "apps/a"),
    ]);
    expect(found.map((f) => f.severity)).toEqual(["error"]);
  });
});

function workspace(files: Record<string, string>): Workspace {
  return {
    root: "/repo",
    targets: ["."],
    files: new Map(Object.entries(files).map(([file, text]) => [file, parseSourceFile(text, file)])),
    kustomizationDirs: [],
    problems: [],
  };
}

const fluxKustomization = (specPath: string) =>
  [
    "apiVersion: kustomize.toolkit.fluxcd.io/v1",
    "kind: Kustomization",
    "metadata: {name: apps, namespace: flux-system}",
    `spec: {path: ${specPath}, sourceRef: {kind: GitRepository, name: flux-system}}`,
  ].join("\n");

describe("owningKustomization", () => {
  const owners = ownersOf(
    workspace({ "clusters/home/apps.yaml": fluxKustomization("./clusters/home/apps/") }),
    [
      { dir: "clusters/home", source: parseSourceFile("", "clusters/home/kustomization.yaml"), entries: [] },
      { dir: "clusters/home/apps/db", source: parseSourceFile("", "x"), entries: [] },
    ],
  );

  it("finds the nearest kustomization directory", () => {
    expect(owningKustomization("clusters/home/apps.yaml", owners)).toBe("clusters/home");
    expect(owningKustomization("clusters/home/flux-system/x/y.yaml", owners)).toBe("clusters/home");
    expect(owningKustomization("apps/web/cm.yaml", owners)).toBeUndefined();
  });

  it("stops at a Flux Kustomization's spec.path: Flux builds that directory itself", () => {
    expect(owningKustomization("clusters/home/apps/ns.yaml", owners)).toBeUndefined();
    expect(owningKustomization("clusters/home/apps/media/ns.yaml", owners)).toBeUndefined();
    expect(owningKustomization("clusters/home/apps/db/pvc.yaml", owners)).toBe("clusters/home/apps/db");
  });
});

describe("repositoryKey", () => {
  it("names one repository the same in https, ssh and scp form", () => {
    const keys = [
      "https://github.com/Me/Home.git",
      "https://user:token@github.com/me/home/",
      "ssh://git@github.com/me/home",
      "ssh://git@github.com:22/me/home.git",
      "git@github.com:me/home.git",
    ].map(repositoryKey);
    expect(new Set(keys)).toEqual(new Set(["github.com/me/home"]));
    expect(repositoryKey("https://github.com/me/other")).not.toBe(keys[0]);
  });
});
