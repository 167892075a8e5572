import { describe, expect, it } from "vitest";
import { at, upstreamJson } from "../../../test/support/upstream-schemas.ts";
import { convertOpenApiV2, OpenApiError, openApiV2Definition, openApiV2Kinds } from "./openapi-v2.ts";
import { kindKey } from "./types.ts";

const kubevirt = () => upstreamJson("kubevirt/kubevirt/v1.8.4/api/openapi-spec/swagger.json");
const cdi = () => upstreamJson("containerized-data-importer/v1.64.0/api/openapi-spec/swagger.json");
const core = () => upstreamJson("python/v34.1.0/kubernetes/swagger.json.unprocessed");

// JSONSchemaProps has a property named `$ref`: look for references, not the name.
const hasRef = (value: unknown): boolean => JSON.stringify(value).includes('"$ref":"#');

describe("OpenAPI v2 conversion on the pinned upstream documents", () => {
  it("KubeVirt: kinds come from the API paths (the document has no GVK extension)", async () => {
    const keys = openApiV2Kinds(await kubevirt()).map(kindKey);
    expect(keys).toEqual(
      expect.arrayContaining([
        "kubevirt.io/v1/VirtualMachine",
        "kubevirt.io/v1/VirtualMachineInstance",
        "instancetype.kubevirt.io/v1beta1/VirtualMachineClusterPreference",
        "instancetype.kubevirt.io/v1beta1/VirtualMachineClusterInstancetype",
        "instancetype.kubevirt.io/v1beta1/VirtualMachinePreference",
        "snapshot.kubevirt.io/v1beta1/VirtualMachineSnapshot",
      ]),
    );
  });

  it("KubeVirt VirtualMachine: self-contained, running and runStrategy, preference firmware", async () => {
    const vm = openApiV2Definition(await kubevirt(), "v1.VirtualMachine");
    expect(hasRef(vm)).toBe(false);
    expect(at(vm, "spec.runStrategy")?.type).toBe("string");
    expect(at(vm, "spec.running")?.type).toBe("boolean");
    expect(at(vm, "spec.template.spec.domain.firmware.bootloader.efi.secureBoot")?.type).toBe("boolean");
    const pref = openApiV2Definition(await kubevirt(), "v1beta1.VirtualMachineClusterPreference");
    expect(at(pref, "spec.firmware.preferredEfi.secureBoot")?.type).toBe("boolean");
  });

  it("KubeVirt Quantity ([string, integer, number]) becomes int-or-string", async () => {
    const vm = openApiV2Definition(await kubevirt(), "v1.VirtualMachine");
    const guest = at(vm, "spec.template.spec.domain.memory.guest");
    expect(guest?.["x-kubernetes-int-or-string"]).toBe(true);
    expect(guest?.anyOf).toEqual([{ type: "integer" }, { type: "string" }]);
  });

  it("nullable is kept as written (KubeVirt status types)", async () => {
    const status = openApiV2Definition(await kubevirt(), "v1.KubeVirtStatus");
    expect(status.nullable).toBe(true);
  });

  it("CDI: DataVolume from the namespaced path with a regex parameter", async () => {
    const kinds = convertOpenApiV2(await cdi());
    const dv = kinds.find((k) => kindKey(k) === "cdi.kubevirt.io/v1beta1/DataVolume");
    expect(dv).toBeDefined();
    expect(at(dv?.schema ?? {}, "spec.source.http.url")?.type).toBe("string");
    expect(hasRef(dv)).toBe(false);
  });

  it("Kubernetes core: one schema per x-kubernetes-group-version-kind, meta types left out", async () => {
    const kinds = convertOpenApiV2(await core());
    const keys = kinds.map(kindKey);
    for (const k of [
      "v1/Service",
      "v1/ConfigMap",
      "v1/Secret",
      "apps/v1/Deployment",
      "rbac.authorization.k8s.io/v1/Role",
    ]) {
      expect(keys).toContain(k);
    }
    expect(keys.some((k) => k.endsWith("/DeleteOptions") || k.endsWith("/WatchEvent"))).toBe(false);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("Kubernetes core: x-kubernetes-* extensions kept, IntOrString normalised", async () => {
    const svc = openApiV2Definition(await core(), "io.k8s.api.core.v1.Service");
    const ports = at(svc, "spec.ports");
    expect(ports?.["x-kubernetes-list-type"]).toBe("map");
    const targetPort = at(svc, "spec.ports.[].targetPort");
    expect(targetPort?.["x-kubernetes-int-or-string"]).toBe(true);
    expect(targetPort?.format).toBeUndefined();
  });

  it("a filter selects kinds before any definition is inlined", async () => {
    const only = convertOpenApiV2(await core(), (gvk) => gvk.group === "" && gvk.kind === "Secret");
    expect(only.map(kindKey)).toEqual(["v1/Secret"]);
  });

  it("recursion is cut with an open object (CRD JSONSchemaProps contains itself)", async () => {
    const crd = openApiV2Definition(
      await core(),
      "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
    );
    expect(hasRef(crd)).toBe(false);
    const props = at(crd, "spec.versions.[].schema.openAPIV3Schema");
    expect(props?.type).toBe("object");
    const nested = props && at(props, "not");
    expect(nested?.["x-kubernetes-preserve-unknown-fields"]).toBe(true);
    expect(() => JSON.stringify(crd)).not.toThrow();
  });

  it("RawExtension stays an open object without properties", async () => {
    const cr = openApiV2Definition(await core(), "io.k8s.api.apps.v1.ControllerRevision");
    const data = at(cr, "data");
    expect(data?.type).toBe("object");
    expect(data?.properties).toBeUndefined();
  });

  it("errors name the missing definition", () => {
    expect(() => openApiV2Definition({ definitions: { a: { $ref: "#/definitions/b" } } }, "a")).toThrow(
      /missing definition 'b'/,
    );
    expect(() => openApiV2Definition({}, "a")).toThrow(OpenApiError);
  });
});
