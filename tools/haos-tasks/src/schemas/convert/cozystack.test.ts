import { describe, expect, it } from "vitest";
import { at, upstreamJson } from "../../../test/support/upstream-schemas.ts";
import { convertCozystackValues } from "./cozystack.ts";
import { cozystackKindOf } from "./source.ts";

const values = (tag: string, chart: string) =>
  upstreamJson(`cozystack/${tag}/packages/apps/${chart}/values.schema.json`);

describe("CozyStack values.schema.json as the .spec of apps.cozystack.io/v1alpha1 kinds", () => {
  it("v1.6.2 VMInstance: runStrategy enum and networks; running is gone; instanceProfile is free", async () => {
    const vm = convertCozystackValues(await values("v1.6.2", "vm-instance"), "VMInstance");
    expect([vm.group, vm.version, vm.kind]).toEqual(["apps.cozystack.io", "v1alpha1", "VMInstance"]);
    expect(at(vm.schema, "spec.runStrategy")?.enum).toEqual([
      "Always",
      "Halted",
      "Manual",
      "RerunOnFailure",
      "Once",
    ]);
    expect(at(vm.schema, "spec.networks.[].name")?.type).toBe("string");
    expect(at(vm.schema, "spec.running")).toBeUndefined();
    expect(at(vm.schema, "spec.instanceProfile")?.enum).toBeUndefined();
  });

  it("v0.41.11 VMInstance: running and subnets; instanceProfile is an enum without haos", async () => {
    const vm = convertCozystackValues(await values("v0.41.11", "vm-instance"), "VMInstance");
    expect(at(vm.schema, "spec.running")?.type).toBe("boolean");
    expect(at(vm.schema, "spec.subnets")?.type).toBe("array");
    expect(at(vm.schema, "spec.runStrategy")).toBeUndefined();
    expect(at(vm.schema, "spec.networks")).toBeUndefined();
    const profiles = at(vm.schema, "spec.instanceProfile")?.enum as string[];
    expect(profiles).toContain("ubuntu");
    expect(profiles).not.toContain("haos");
  });

  it("VMDisk: source alternatives and int-or-string storage kept as written", async () => {
    const disk = convertCozystackValues(await values("v1.6.2", "vm-disk"), "VMDisk");
    expect(Object.keys(at(disk.schema, "spec.source")?.properties as object).sort()).toEqual([
      "disk",
      "http",
      "image",
      "upload",
    ]);
    expect(at(disk.schema, "spec.storage")?.["x-kubernetes-int-or-string"]).toBe(true);
    expect(at(disk.schema, "spec.source.upload")?.properties).toBeUndefined();
  });

  it("the chart's title and $schema do not leak into .spec; status stays open", async () => {
    const disk = convertCozystackValues(await values("v1.6.2", "vm-disk"), "VMDisk");
    expect(at(disk.schema, "spec")?.title).toBeUndefined();
    expect(at(disk.schema, "status")?.["x-kubernetes-preserve-unknown-fields"]).toBe(true);
  });

  it("maps chart URLs to kinds and refuses unknown charts", () => {
    expect(
      cozystackKindOf("https://x/cozystack/cozystack/v1.6.2/packages/apps/vm-disk/values.schema.json"),
    ).toBe("VMDisk");
    expect(() => cozystackKindOf("https://x/packages/apps/postgres/values.schema.json")).toThrow(
      /known: vm-disk/,
    );
    expect(() => convertCozystackValues({ type: "array" }, "VMDisk")).toThrow(/object schema/);
  });
});
