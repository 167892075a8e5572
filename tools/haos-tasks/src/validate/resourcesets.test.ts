import { describe, expect, it } from "vitest";
import { expandResourceSet } from "./resourcesets.ts";

const resourceSet = (spec: Record<string, unknown>) => ({
  namespace: "flux-system",
  object: { apiVersion: "fluxcd.controlplane.io/v1", kind: "ResourceSet", spec },
});

const kustomization = {
  apiVersion: "kustomize.toolkit.fluxcd.io/v1",
  kind: "Kustomization",
  metadata: { name: "app-<< inputs.app >>" },
  spec: {
    path: "./kubernetes/apps/<< inputs.app | lower >>",
    sourceRef: { kind: "GitRepository", name: "flux-system" },
    targetNamespace: '<< inputs.namespace | default "default" >>',
  },
};

describe("expandResourceSet", () => {
  it("generates each resource once per input, in the ResourceSet's namespace unless it sets one", () => {
    const expansion = expandResourceSet(
      resourceSet({
        inputs: [{ app: "Echo" }, { app: "web", namespace: "web" }],
        resources: [kustomization],
      }),
    );
    expect("objects" in expansion && expansion.objects.map((o) => [o.name, o.namespace, o.index])).toEqual([
      ["app-Echo", "flux-system", 0],
      ["app-web", "flux-system", 0],
    ]);
    expect("objects" in expansion && expansion.objects.map((o) => o.object.spec)).toEqual([
      {
        path: "./kubernetes/apps/echo",
        sourceRef: { kind: "GitRepository", name: "flux-system" },
        targetNamespace: "default",
      },
      {
        path: "./kubernetes/apps/web",
        sourceRef: { kind: "GitRepository", name: "flux-system" },
        targetNamespace: "web",
      },
    ]);
  });

  it("generates the resources once without inputs", () => {
    const expansion = expandResourceSet(
      resourceSet({ resources: [{ ...kustomization, metadata: { name: "fixed", namespace: "apps" } }] }),
    );
    expect("objects" in expansion && expansion.objects.map((o) => `${o.namespace}/${o.name}`)).toEqual([
      "apps/fixed",
    ]);
  });

  it("says why when the objects cannot be known offline", () => {
    const unknown = (spec: Record<string, unknown>) => {
      const e = expandResourceSet(resourceSet(spec));
      return "unknown" in e ? e.unknown : undefined;
    };
    expect(
      unknown({
        inputsFrom: [{ kind: "ResourceSetInputProvider", name: "prs" }],
        resources: [kustomization],
      }),
    ).toBe("its inputs come from ResourceSetInputProviders, known only in the cluster");
    expect(unknown({ resourcesTemplate: "<< range inputs.apps >>…" })).toBe(
      "spec.resourcesTemplate is a Go template validate does not run",
    );
    expect(
      unknown({
        inputs: [{ app: "a" }],
        resources: [{ ...kustomization, metadata: { name: "<< if inputs.app >>x<< end >>" } }],
      }),
    ).toBe("its templates use the template expression << if inputs.app >>");
    expect(
      unknown({
        inputs: [{ app: "a" }],
        resources: [{ ...kustomization, metadata: { name: "<< inputs.id >>" } }],
      }),
    ).toBe("its templates use inputs.id");
    expect(unknown({ inputs: [{ other: "a" }], resources: [kustomization] })).toBe(
      "its templates use inputs.app, which its inputs do not all set",
    );
    expect(
      unknown({
        inputs: [{ app: "a" }],
        resources: [{ ...kustomization, metadata: { name: "<< inputs.app | sha256sum >>" } }],
      }),
    ).toBe("its templates use the template function sha256sum");
  });
});
