import { describe, expect, it } from "vitest";
import { at, upstreamText } from "../../../test/support/upstream-schemas.ts";
import { CrdError, convertCrd, convertCrdYaml } from "./crd.ts";
import type { ConvertedSchema } from "./types.ts";

const find = (schemas: ConvertedSchema[], kind: string, version: string) =>
  schemas.find((s) => s.kind === kind && s.version === version);

describe("convertCrd on the pinned upstream CRDs", () => {
  it("Flux Kustomization v1 carries healthCheckExprs (kustomize-controller v1.8.5)", async () => {
    const schemas = convertCrdYaml(await upstreamText("kustomize.toolkit.fluxcd.io_kustomizations.yaml"));
    const v1 = find(schemas, "Kustomization", "v1");
    expect(v1?.group).toBe("kustomize.toolkit.fluxcd.io");
    const exprs = v1 && at(v1.schema, "spec.healthCheckExprs.[]");
    expect(exprs?.required).toEqual(expect.arrayContaining(["apiVersion", "kind", "current"]));
  });

  it("GitRepository: exactly the served versions, each with its own schema", async () => {
    const text = await upstreamText("source.toolkit.fluxcd.io_gitrepositories.yaml");
    const schemas = convertCrdYaml(text);
    const crd = (await import("yaml")).parse(text) as {
      spec: { versions: { name: string; served: boolean }[] };
    };
    const served = crd.spec.versions.filter((v) => v.served).map((v) => v.name);
    expect(schemas.map((s) => s.version)).toEqual(served);
    expect(served).toContain("v1");
    expect(at(find(schemas, "GitRepository", "v1")?.schema ?? {}, "spec.url")?.type).toBe("string");
  });

  it("skips versions that are not served", () => {
    const doc = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "widgets.test.dev" },
      spec: {
        group: "test.dev",
        names: { kind: "Widget", plural: "widgets" },
        versions: [
          { name: "v1", served: true, schema: { openAPIV3Schema: { type: "object" } } },
          { name: "v0", served: false, schema: { openAPIV3Schema: { type: "object" } } },
        ],
      },
    };
    expect(convertCrd(doc).map((s) => s.version)).toEqual(["v1"]);
  });

  it("Kube-OVN: every CRD of the multi-document chart template, Subnet with spec.excludeIps", async () => {
    const schemas = convertCrdYaml(await upstreamText("kube-ovn-crd.yaml"));
    expect(schemas.length).toBeGreaterThan(15);
    const subnet = find(schemas, "Subnet", "v1");
    expect(subnet?.group).toBe("kubeovn.io");
    expect(at(subnet?.schema ?? {}, "spec.excludeIps")?.type).toBe("array");
    for (const kind of ["Vlan", "ProviderNetwork"]) expect(find(schemas, kind, "v1")).toBeDefined();
  });

  it("Multus: the CRD of the daemonset file, the DaemonSet and RBAC beside it skipped", async () => {
    const schemas = convertCrdYaml(await upstreamText("multus-daemonset-thick.yml"));
    expect(schemas.map((s) => `${s.group}/${s.version}/${s.kind}`)).toEqual([
      "k8s.cni.cncf.io/v1/NetworkAttachmentDefinition",
    ]);
  });

  it("VictoriaMetrics operator bundle: VMRule and VMServiceScrape; nullable and preserve-unknown kept as written", async () => {
    const schemas = convertCrdYaml(await upstreamText("victoria-metrics-operator/charts/crds/crds/crd.yaml"));
    const scrape = find(schemas, "VMServiceScrape", "v1beta1");
    expect(find(schemas, "VMRule", "v1beta1")?.group).toBe("operator.victoriametrics.com");
    expect(at(scrape?.schema ?? {}, "spec.endpoints.[].bearerTokenSecret")?.nullable).toBe(true);
  });

  it("Kyverno ClusterPolicy and the policies.kyverno.io MutatingPolicy", async () => {
    const cp = convertCrdYaml(await upstreamText("kyverno.io_clusterpolicies.yaml"));
    expect(cp.map((s) => s.version)).toContain("v1");
    const mp = convertCrdYaml(await upstreamText("policies.kyverno.io_mutatingpolicies.yaml"));
    expect(mp.every((s) => s.kind === "MutatingPolicy" && s.group === "policies.kyverno.io")).toBe(true);
  });

  it("HelmRelease v2 values preserve unknown fields in the faithful schema", async () => {
    const schemas = convertCrdYaml(await upstreamText("helm.toolkit.fluxcd.io_helmreleases.yaml"));
    const values = at(find(schemas, "HelmRelease", "v2")?.schema ?? {}, "spec.values");
    expect(values?.["x-kubernetes-preserve-unknown-fields"]).toBe(true);
  });

  it("returns deep copies: converting twice and mutating one leaves the other intact", async () => {
    const text = await upstreamText("source.toolkit.fluxcd.io_ocirepositories.yaml");
    const [a] = convertCrdYaml(text);
    const [b] = convertCrdYaml(text);
    if (!a || !b) throw new Error("no OCIRepository schema");
    a.schema.properties = {};
    expect(Object.keys(b.schema.properties as object)).toContain("spec");
  });

  it("rejects what is not a CRD, and invalid YAML with its line", () => {
    expect(() => convertCrd({ kind: "Deployment" })).toThrow(CrdError);
    expect(() => convertCrdYaml("a: 1\n---\nkind: x\nkind: y\n")).toThrow(/line 4/);
  });
});
