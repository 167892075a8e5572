import { describe, expect, it } from "vitest";
import { resourcesOf } from "../manifests/resources.ts";
import { lazySourceFile } from "../manifests/yaml-source.ts";
import { mayHoldFluxKustomization } from "./flux.ts";

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
