import { describe, expect, it } from "vitest";
import { at } from "../../test/support/upstream-schemas.ts";
import type { JsonSchema } from "./convert/types.ts";
import { dns1035Label, dns1123Label, dns1123Subdomain, labelValue, qualifiedKey } from "./metadata.ts";
import { type StrictKind, strictSchema } from "./strict.ts";

const widget: StrictKind = { group: "test.dev", version: "v1", kind: "Widget", origin: "crd" };
const strictOf = (spec: JsonSchema, kind: StrictKind = widget) =>
  strictSchema({ type: "object", properties: { spec } }, kind);

describe("strictSchema", () => {
  it("closes objects with properties and the root; pins apiVersion and kind", () => {
    const s = strictOf({ type: "object", properties: { size: { type: "integer" } } });
    expect(s.additionalProperties).toBe(false);
    expect(at(s, "spec")?.additionalProperties).toBe(false);
    expect(at(s, "apiVersion")?.enum).toEqual(["test.dev/v1"]);
    expect(at(s, "kind")?.enum).toEqual(["Widget"]);
    expect(s.required).toEqual(expect.arrayContaining(["apiVersion", "kind", "metadata"]));
    expect(s.$schema).toBe("http://json-schema.org/draft-04/schema#");
  });

  it("keeps x-kubernetes-preserve-unknown-fields objects open, but closes what they declare below", () => {
    const s = strictOf({
      type: "object",
      "x-kubernetes-preserve-unknown-fields": true,
      properties: { inner: { type: "object", properties: { a: { type: "string" } } } },
    });
    expect(at(s, "spec")?.additionalProperties).toBeUndefined();
    expect(at(s, "spec.inner")?.additionalProperties).toBe(false);
  });

  it("a root that preserves unknown fields stays open", () => {
    const s = strictSchema({ type: "object", "x-kubernetes-preserve-unknown-fields": true }, widget);
    expect(s.additionalProperties).toBe(true);
  });

  it("nullable adds null to the type and to an enum", () => {
    const s = strictOf({ type: "string", enum: ["a"], nullable: true });
    expect(at(s, "spec")?.type).toEqual(["string", "null"]);
    expect(at(s, "spec")?.enum).toEqual(["a", null]);
  });

  it("int-or-string, both spellings, takes an integer or a string (and null when nullable)", () => {
    const crd = strictOf({
      anyOf: [{ type: "integer" }, { type: "string" }],
      "x-kubernetes-int-or-string": true,
    });
    expect(at(crd, "spec")?.type).toEqual(["integer", "string"]);
    expect(at(crd, "spec")?.anyOf).toBeUndefined();
    const openapi = strictOf({ type: "string", format: "int-or-string", nullable: true });
    expect(at(openapi, "spec")?.type).toEqual(["integer", "string", "null"]);
    expect(at(openapi, "spec")?.format).toBeUndefined();
  });

  it("embedded resources accept apiVersion, kind and metadata beside their own fields", () => {
    const s = strictOf({
      type: "object",
      "x-kubernetes-embedded-resource": true,
      properties: { spec: { type: "object", properties: { x: { type: "string" } } } },
    });
    expect(Object.keys(at(s, "spec")?.properties as object).sort()).toEqual([
      "apiVersion",
      "kind",
      "metadata",
      "spec",
    ]);
    expect(at(s, "spec")?.additionalProperties).toBe(false);
  });

  it("property-less objects: closed for CRDs (the API server prunes them), open for OpenAPI (RawExtension)", () => {
    const free = { type: "object" };
    expect(at(strictOf(free), "spec")?.additionalProperties).toBe(false);
    expect(
      at(strictOf(free, { ...widget, origin: "openapi-v2" }), "spec")?.additionalProperties,
    ).toBeUndefined();
    const map = { type: "object", additionalProperties: { type: "string" } };
    expect(at(strictOf(map), "spec")?.additionalProperties).toEqual({ type: "string" });
  });

  it("drops what draft 4 refuses to compile (empty required / enum)", () => {
    const s = strictOf({ type: "object", required: [], properties: { a: { type: "string", enum: [] } } });
    expect(at(s, "spec")?.required).toBeUndefined();
    expect(at(s, "spec.a")?.enum).toBeUndefined();
  });

  it("is pure: the input schema is unchanged", () => {
    const input: JsonSchema = { type: "object", properties: { spec: { type: "object", properties: {} } } };
    const before = JSON.stringify(input);
    strictSchema(input, widget);
    expect(JSON.stringify(input)).toBe(before);
  });

  it("metadata.name follows the kind: subdomain, Namespace label, Service DNS-1035, RBAC path segment", () => {
    const name = (kind: StrictKind) => at(strictSchema({ type: "object" }, kind), "metadata.name");
    expect(name(widget)).toMatchObject({ pattern: dns1123Subdomain, maxLength: 253 });
    expect(name({ group: "", version: "v1", kind: "Namespace", origin: "openapi-v2" })?.pattern).toBe(
      dns1123Label,
    );
    expect(name({ group: "", version: "v1", kind: "Service", origin: "openapi-v2" })?.pattern).toBe(
      dns1035Label,
    );
    const role = name({
      group: "rbac.authorization.k8s.io",
      version: "v1",
      kind: "ClusterRole",
      origin: "openapi-v2",
    });
    expect(new RegExp(String(role?.pattern)).test("system:aggregate-to-view")).toBe(true);
    expect(new RegExp(String(role?.pattern)).test("a/b")).toBe(false);
    expect(new RegExp(String(role?.pattern)).test("..")).toBe(false);
  });
});

describe("metadata formats", () => {
  const cases: Array<[string, string, boolean, string]> = [
    ["subdomain", "vm-instance-haos", true, dns1123Subdomain],
    ["subdomain", "widgets.test.dev", true, dns1123Subdomain],
    ["subdomain", "My_VM", false, dns1123Subdomain],
    ["subdomain", "-haos", false, dns1123Subdomain],
    ["label", "tenant-root", true, dns1123Label],
    ["label", "a.b", false, dns1123Label],
    ["dns1035", "1svc", false, dns1035Label],
    ["key", "app.kubernetes.io/name", true, qualifiedKey],
    ["key", "policy.cozystack.io/allow-to-apiserver", true, qualifiedKey],
    ["key", "bad key", false, qualifiedKey],
    ["key", "Example.com/x", false, qualifiedKey],
    ["value", "", true, labelValue],
    ["value", "v1.6.2", true, labelValue],
    ["value", "-x", false, labelValue],
  ];
  it.each(cases)("%s '%s' valid: %s", (_name, value, ok, pattern) => {
    expect(new RegExp(pattern).test(value)).toBe(ok);
  });
});
