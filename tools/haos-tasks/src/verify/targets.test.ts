import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadPlatform } from "../platform/platform.ts";
import { toolsRepoRoot } from "../tools/paths.ts";
import { resolveTargets, TargetError } from "./targets.ts";

const repo = mkdtempSync(path.join(os.tmpdir(), "haos-targets-"));
afterAll(() => rmSync(repo, { recursive: true, force: true }));

describe("verify's targets from the app's manifests", () => {
  it("names the file of a manifest verify cannot read, with the fix", async () => {
    const app = path.join(repo, "apps", "broken");
    mkdirSync(app, { recursive: true });
    writeFileSync(
      path.join(app, "vminstance.yaml"),
      "apiVersion: apps.cozystack.io/v1alpha1\nkind: VMInstance\nspec: *spec\n",
    );
    const platform = await loadPlatform("apps/haos-enigma", toolsRepoRoot);
    const result = resolveTargets("apps/broken", repo, platform);
    await expect(result).rejects.toBeInstanceOf(TargetError);
    await expect(result).rejects.toThrow(/apps\/broken\/vminstance\.yaml: invalid YAML: Unresolved alias/);
  });

  // Flux's order: spec.targetNamespace, else kustomization.yaml's namespace:, else the manifest's own.
  it.each([
    {
      name: "targetNamespace",
      target: "home2",
      kustomize: "home",
      own: "tenant-root",
      nested: false,
      want: "home2",
    },
    {
      name: "kustomize namespace",
      target: undefined,
      kustomize: "home",
      own: "tenant-root",
      nested: false,
      want: "home",
    },
    {
      name: "outer kustomize namespace",
      target: undefined,
      kustomize: "home",
      own: "tenant-root",
      nested: true,
      want: "home",
    },
    {
      name: "metadata.namespace",
      target: undefined,
      kustomize: undefined,
      own: "tenant-a",
      nested: false,
      want: "tenant-a",
    },
    {
      name: "platform default",
      target: undefined,
      kustomize: undefined,
      own: undefined,
      nested: false,
      want: "tenant-root",
    },
  ])(
    "puts the app's objects where Flux applies them: $name",
    async ({ name, target, kustomize, own, nested, want }) => {
      const appDir = `apps/ns-${name.replace(/\W+/g, "-")}`;
      const app = path.join(repo, appDir);
      const vmDir = nested ? path.join(app, "vm") : app;
      mkdirSync(vmDir, { recursive: true });
      const ns = (n: string | undefined, indent = "") => (n ? `${indent}namespace: ${n}\n` : "");
      writeFileSync(
        path.join(app, "kustomization.yaml"),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${ns(kustomize)}resources: [ks.yaml, ${nested ? "vm" : "vm.yaml"}]\n`,
      );
      if (nested)
        writeFileSync(
          path.join(vmDir, "kustomization.yaml"),
          "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: inner\nresources: [vm.yaml]\n",
        );
      writeFileSync(
        path.join(app, "ks.yaml"),
        `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: ha, namespace: flux-system}\nspec:\n  path: ./${appDir}\n  sourceRef: {kind: GitRepository, name: flux-system}\n${target ? `  targetNamespace: ${target}\n` : ""}`,
      );
      writeFileSync(
        path.join(vmDir, "vm.yaml"),
        `apiVersion: apps.cozystack.io/v1alpha1\nkind: VMInstance\nmetadata:\n  name: haos\n${ns(own, "  ")}spec: {external: true, externalMethod: WholeIP}\n---\napiVersion: apps.cozystack.io/v1alpha1\nkind: VMDisk\nmetadata:\n  name: haos\n${ns(own, "  ")}`,
      );
      const platform = await loadPlatform("apps/haos-enigma", toolsRepoRoot);
      const targets = await resolveTargets(appDir, repo, platform);
      expect(targets.instances.map((t) => t.app.namespace)).toEqual([want]);
      expect(targets.disks.map((t) => t.app.namespace)).toEqual([want]);
      expect(targets.kustomization.namespace).toBe("flux-system");
    },
  );
});
