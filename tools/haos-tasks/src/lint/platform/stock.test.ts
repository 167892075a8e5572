import { describe, expect, it } from "vitest";
import { sourceFetch } from "../../../test/support/upstream-schemas.ts";
import { findSource, readSchemaLock, resolveMirror } from "../../schemas/sources.ts";
import { loadStockNames } from "../../validate/stock.ts";
import { objectNamesInTemplate } from "./stock.ts";

describe("objectNamesInTemplate", () => {
  it("reads kind and metadata.name per document, skipping template lines and templated names", () => {
    const text = [
      "{{- if .Values.enabled }}",
      "apiVersion: instancetype.kubevirt.io/v1beta1",
      "kind: VirtualMachineClusterPreference",
      "metadata:",
      "  labels:",
      "    name: not-this",
      '  name: "alpine"',
      "spec: {}",
      "---",
      "kind: VirtualMachineClusterPreference",
      "metadata:",
      "  name: {{ .Values.name }}",
      "---",
      "kind: VirtualMachineClusterInstancetype",
      "metadata:",
      "  name: u1.small",
      "{{- end }}",
    ].join("\n");
    expect(objectNamesInTemplate(text, "VirtualMachineClusterPreference")).toEqual(["alpine"]);
    expect(objectNamesInTemplate(text, "VirtualMachineClusterInstancetype")).toEqual(["u1.small"]);
  });

  it("reads the stock lists CozyStack v1.6.2 ships from the locked chart", async () => {
    const lock = await readSchemaLock();
    findSource(lock, "v1.6.2/packages/system/kubevirt-instancetypes/templates/instancetypes.yaml");
    const mirror = resolveMirror(undefined, process.env);
    const stock = await loadStockNames(lock, "v1.6.2", sourceFetch(mirror));
    expect(stock?.instancetypes.has("u1.medium")).toBe(true);
    expect(stock?.preferences.has("ubuntu")).toBe(true);
    expect(stock?.preferences.has("haos")).toBe(false);
    expect(stock?.instancetypes.size).toBeGreaterThan(50);
  });

  it("has no stock list for a version the lock does not pin", async () => {
    expect(await loadStockNames(await readSchemaLock(), "v9.9.9", sourceFetch(undefined))).toBeUndefined();
  });
});
