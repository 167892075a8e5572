import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { resourcesOf } from "../manifests/resources.ts";
import { loadWorkspace } from "../manifests/workspace.ts";
import { lazySourceFile } from "../manifests/yaml-source.ts";
import { buildStage } from "./build-stage.ts";
import { generatedResources, mayHoldFluxKustomization } from "./flux.ts";

const kustomization = (apiVersion: string) =>
  `apiVersion: ${apiVersion}\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n  path: ./apps/app\n`;

describe("mayHoldFluxKustomization (the pre-filter before the build)", () => {
  it("keeps every spelling that parses to the Flux group and drops files that cannot hold one", () => {
    const spellings = [
      "kustomize.toolkit.fluxcd.io/v1",
      '"kustomize.toolkit.fluxcd.io/v1"',
      '"kustomize\\x2etoolkit.fluxcd.io/v1"',
      '"kustomize.toolkit.\\\n  fluxcd.io/v1"',
    ];
    for (const spelling of spellings) {
      const text = kustomization(spelling);
      const [resource] = resourcesOf(lazySourceFile(text, "ks.yaml"));
      expect(resource?.apiVersion).toBe("kustomize.toolkit.fluxcd.io/v1");
      expect(mayHoldFluxKustomization(text)).toBe(true);
    }
    // Folded over a line break, a plain scalar gains a space: it no longer names the group.
    const folded = kustomization("kustomize.toolkit.\n  fluxcd.io/v1");
    expect(resourcesOf(lazySourceFile(folded, "ks.yaml"))[0]?.apiVersion).toBe(
      "kustomize.toolkit. fluxcd.io/v1",
    );
    expect(mayHoldFluxKustomization(kustomization("kustomize.config.k8s.io/v1beta1"))).toBe(false);
  });
});

describe("generatedResources (the kustomization Flux writes for a path without one)", () => {
  it("lists the manifests in the order Go's filepath.Walk visits them (bytes, not the locale)", () => {
    // fluxcd/pkg/kustomize scanManifests walks the path with filepath.Walk, which reads each
    // directory sorted by name as Go compares strings: UTF-8 bytes. The resources keep that order,
    // and so does the build's output.
    const dir = mkdtempSync(path.join(os.tmpdir(), "haos-flux-order-"));
    try {
      for (const name of [
        "b.yaml",
        "B.yaml",
        "a_b.yaml",
        "a.yaml",
        "a-b.yaml",
        "é.yaml",
        "z.yml",
        "notes.txt",
      ])
        writeFileSync(path.join(dir, name), "kind: ConfigMap\n");
      mkdirSync(path.join(dir, "C"));
      writeFileSync(path.join(dir, "C", "x.yaml"), "kind: ConfigMap\n");
      mkdirSync(path.join(dir, "base"));
      writeFileSync(path.join(dir, "base", "kustomization.yaml"), "resources: []\n");
      // localeCompare would give a_b, a-b, a, b, B, base, C/x, é, z: another apply order.
      expect(generatedResources(dir, ".")).toEqual([
        "B.yaml",
        "C/x.yaml",
        "a-b.yaml",
        "a.yaml",
        "a_b.yaml",
        "b.yaml",
        "base",
        "z.yml",
        "é.yaml",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A Flux Kustomization `name` of flux-system applying `./dir`, with more of its spec. */
const fluxKs = (name: string, dir: string, spec: Record<string, unknown> = {}) =>
  stringify({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name, namespace: "flux-system" },
    spec: { path: `./${dir}`, sourceRef: { kind: "GitRepository", name: "flux-system" }, ...spec },
  });

/** validate's build stage (the real kustomize-build helper) over a repository of these files. */
async function buildFiles(prefix: string, files: Record<string, string>) {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), text);
    }
    return await buildStage(await loadWorkspace(["."], { cwd: root, root }), { env: process.env });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe("a Flux Kustomization's namePrefix, nameSuffix and commonMetadata (validate's build)", () => {
  it("are applied as kustomize-controller's generator applies them, replacing the kustomization's own", async () => {
    // Found by test/integration/kustomize-controller-differential.test.ts: validate built these
    // paths without them, so every object (and every reference to it) had another name than the
    // one Flux applies.
    const files: Record<string, string> = {
      "clusters/a.yaml": fluxKs("a", "apps/a", { namePrefix: "pre-", nameSuffix: "-suf" }),
      "clusters/b.yaml": fluxKs("b", "apps/b", { namePrefix: "" }),
      "apps/a/kustomization.yaml": "resources: [cm.yaml, sa.yaml]\nnamePrefix: own-\n",
      "apps/a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
      "apps/a/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\n",
      "apps/b/kustomization.yaml": "resources: [cm.yaml]\nnamePrefix: own-\n",
      "apps/b/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
    };
    const stage = await buildFiles("haos-flux-prefix-", files);
    const names = (owner: string) =>
      stage.objects.filter((o) => o.owner === owner).map((o) => `${o.resource.kind}/${o.resource.name}`);
    expect(names("Kustomization/flux-system/a")).toEqual([
      "ServiceAccount/pre-web-suf",
      "ConfigMap/pre-settings-suf",
    ]);
    // An empty namePrefix in the Flux Kustomization still replaces the kustomization's own.
    expect(names("Kustomization/flux-system/b")).toEqual(["ConfigMap/settings"]);
  });

  it("commonMetadata's labels and annotations are on every object, replacing keys of the same name", async () => {
    // Found by test/integration/kustomize-controller-differential.test.ts: kustomize-controller
    // sets them at apply time (after the substitution), validate checked the objects without them.
    const files: Record<string, string> = {
      "clusters/a.yaml": fluxKs("a", "apps/a", {
        commonMetadata: { labels: { team: "home", tier: "frontend" }, annotations: { owner: "ops" } },
      }),
      "apps/a/kustomization.yaml": "resources: [cm.yaml]\n",
      "apps/a/cm.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, labels: {tier: web, app: a}}\n",
    };
    const stage = await buildFiles("haos-flux-common-", files);
    const cm = stage.objects.find((o) => o.resource.kind === "ConfigMap")?.resource.object;
    expect(cm?.metadata).toEqual({
      name: "settings",
      labels: { tier: "frontend", app: "a", team: "home" },
      annotations: { owner: "ops" },
    });
  });

  it("a component folder that does not exist fails the build unless ignoreMissingComponents, as Flux's build does", async () => {
    const files: Record<string, string> = {
      "clusters/a.yaml": fluxKs("a", "apps/a", { components: ["../components/commn"] }),
      "clusters/b.yaml": fluxKs("b", "apps/b", {
        components: ["../components/commn"],
        ignoreMissingComponents: true,
      }),
      "apps/a/kustomization.yaml": "resources: [cm.yaml]\n",
      "apps/a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
      "apps/b/kustomization.yaml": "resources: [cm.yaml]\n",
      "apps/b/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
    };
    const stage = await buildFiles("haos-flux-component-", files);
    expect(stage.failures.map((f) => f.owner)).toEqual(["Kustomization/flux-system/a"]);
    expect(stage.failures[0]?.message).toContain("commn");
    expect(stage.objects.map((o) => `${o.owner} ${o.resource.name}`)).toEqual([
      "Kustomization/flux-system/b b",
    ]);
  });
});
