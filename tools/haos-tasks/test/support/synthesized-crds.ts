import { type CozystackAppKind, convertCozystackValues } from "../../src/schemas/convert/cozystack.ts";
import { openApiV2Definition } from "../../src/schemas/convert/openapi-v2.ts";
import { isRecord, type JsonSchema } from "../../src/schemas/convert/types.ts";
import { fetchSource, findSource, readSchemaLock, resolveMirror } from "../../src/schemas/sources.ts";
import { sourceFetch } from "./upstream-schemas.ts";

/**
 * CRDs for kinds that have no published CRD, so a real kube-apiserver can validate them:
 * CozyStack's apps.cozystack.io kinds (served by cozystack-api from the chart's values schema) and
 * KubeVirt kinds (whose operator generates its CRDs at run time; the published contract is the
 * OpenAPI v2 document). The converters give open, faithful JSON schemas; this module turns them into
 * apiextensions.k8s.io/v1 structural schemas, loosening only what a CRD cannot express.
 */

export interface SynthesizedKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
  scope: "Namespaced" | "Cluster";
  schema: JsonSchema;
}

/** JSONSchemaProps fields a CRD accepts (everything else is dropped). */
const crdKeys = new Set([
  "type",
  "format",
  "default",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "multipleOf",
  "enum",
  "maxProperties",
  "minProperties",
  "required",
  "nullable",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-list-type",
  "x-kubernetes-map-type",
  "x-kubernetes-validations",
]);

const open = (): JsonSchema => ({ "x-kubernetes-preserve-unknown-fields": true });

function typeMatches(type: unknown, value: unknown): boolean {
  switch (type) {
    case "object":
      return isRecord(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    default:
      return true;
  }
}

/** A default the API server would reject (wrong type, outside the enum, missing required keys). */
function defaultIsValid(node: JsonSchema, value: unknown): boolean {
  if (node["x-kubernetes-int-or-string"] === true)
    return typeof value === "string" || Number.isInteger(value);
  if (!typeMatches(node.type, value)) return false;
  if (Array.isArray(node.enum) && !node.enum.includes(value)) return false;
  if (typeof value === "string" && typeof node.pattern === "string" && !new RegExp(node.pattern).test(value))
    return false;
  if (isRecord(value) && Array.isArray(node.required)) {
    if (!node.required.every((k) => typeof k === "string" && k in value)) return false;
  }
  return true;
}

/** Normalises `type: [x, "null"]` (JSON schema) to `type: x, nullable: true`. */
function normaliseType(out: JsonSchema): void {
  if (!Array.isArray(out.type)) return;
  const types = out.type.filter((t) => t !== "null");
  if (types.length < out.type.length) out.nullable = true;
  if (types.length === 1) out.type = types[0];
  else if (types.every((t) => t === "integer" || t === "number" || t === "string")) {
    delete out.type;
    out["x-kubernetes-int-or-string"] = true;
  } else {
    delete out.type;
    out["x-kubernetes-preserve-unknown-fields"] = true;
  }
}

/**
 * One node of a JSON schema as an apiextensions v1 structural schema: `$schema`/`$ref`/`title`/
 * descriptions and unknown keywords dropped; `additionalProperties: false|true` dropped (pruning and
 * strict field validation already reject undeclared fields); junctors kept only in the int-or-string
 * form CRDs allow; arrays get `items`; untyped nodes become open; defaults the API server would
 * reject are dropped; list-map keys that are neither required nor defaulted fall back to atomic lists.
 */
export function structuralSchema(node: unknown): JsonSchema {
  if (!isRecord(node)) return open();
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) if (crdKeys.has(key)) out[key] = structuredClone(value);
  normaliseType(out);
  if (isRecord(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([name, child]) => [name, structuralSchema(child)]),
    );
  } else if (isRecord(node.additionalProperties)) {
    out.additionalProperties = structuralSchema(node.additionalProperties);
  } else if (node.additionalProperties === true && out.type === "object") {
    out["x-kubernetes-preserve-unknown-fields"] = true;
  }
  if (isRecord(node.items)) out.items = structuralSchema(node.items);
  if (out["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (out.type === undefined && out["x-kubernetes-int-or-string"] !== true) {
    if (out.properties || out.additionalProperties) out.type = "object";
    else if (out.items) out.type = "array";
    else out["x-kubernetes-preserve-unknown-fields"] = true;
  }
  if (out.type === "array" && !out.items) out.items = open();
  if (out.type === "object" && !out.properties && !out.additionalProperties) {
    out["x-kubernetes-preserve-unknown-fields"] = true;
  }
  if (out.uniqueItems === true) delete out.uniqueItems;
  if (out["x-kubernetes-list-type"] === "map") {
    const items = isRecord(out.items) ? out.items : {};
    const required = Array.isArray(items.required) ? items.required : [];
    const props = isRecord(items.properties) ? items.properties : {};
    const keys = Array.isArray(out["x-kubernetes-list-map-keys"]) ? out["x-kubernetes-list-map-keys"] : [];
    const keyed = keys.every(
      (k) => typeof k === "string" && (required.includes(k) || (isRecord(props[k]) && "default" in props[k])),
    );
    if (!keyed || keys.length === 0) {
      out["x-kubernetes-list-type"] = "atomic";
      delete out["x-kubernetes-list-map-keys"];
    }
  }
  if (out["x-kubernetes-list-type"] === "set" && isRecord(out.items) && out.items.type === "object") {
    out["x-kubernetes-list-type"] = "atomic";
  }
  if ("default" in out && !defaultIsValid(out, out.default)) delete out.default;
  return out;
}

/** The CRD for a synthesized kind, with a status subresource (controllers write status). */
export function crdFor(kind: SynthesizedKind): JsonSchema {
  const root = structuralSchema(kind.schema);
  const properties = isRecord(root.properties) ? root.properties : {};
  root.type = "object";
  delete root.default;
  delete root.nullable;
  root.properties = {
    ...properties,
    apiVersion: { type: "string" },
    kind: { type: "string" },
    // The API server owns metadata's schema at the root.
    metadata: { type: "object" },
  };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${kind.plural}.${kind.group}`,
      annotations: { "haos-tasks.dev/synthesized": "test fixture: no published CRD exists for this kind" },
    },
    spec: {
      group: kind.group,
      scope: kind.scope,
      names: {
        plural: kind.plural,
        singular: kind.kind.toLowerCase(),
        kind: kind.kind,
        listKind: `${kind.kind}List`,
      },
      versions: [
        {
          name: kind.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: root },
        },
      ],
    },
  };
}

/** KubeVirt kinds the app or its runbooks create, by swagger definition. */
const kubevirtKinds = [
  {
    group: "instancetype.kubevirt.io",
    version: "v1beta1",
    kind: "VirtualMachineClusterPreference",
    plural: "virtualmachineclusterpreferences",
    scope: "Cluster",
    definition: "v1beta1.VirtualMachineClusterPreference",
  },
  {
    group: "snapshot.kubevirt.io",
    version: "v1beta1",
    kind: "VirtualMachineSnapshot",
    plural: "virtualmachinesnapshots",
    scope: "Namespaced",
    definition: "v1beta1.VirtualMachineSnapshot",
  },
  {
    group: "snapshot.kubevirt.io",
    version: "v1beta1",
    kind: "VirtualMachineRestore",
    plural: "virtualmachinerestores",
    scope: "Namespaced",
    definition: "v1beta1.VirtualMachineRestore",
  },
  {
    group: "kubevirt.io",
    version: "v1",
    kind: "VirtualMachine",
    plural: "virtualmachines",
    scope: "Namespaced",
    definition: "v1.VirtualMachine",
  },
] as const;

/**
 * Kinds only the real-Flux tests need (the charts render or look them up, the simulated platform
 * writes their status): they follow the same swagger documents.
 */
const runtimeKinds = [
  {
    group: "kubevirt.io",
    version: "v1",
    kind: "VirtualMachineInstance",
    plural: "virtualmachineinstances",
    scope: "Namespaced",
    definition: "v1.VirtualMachineInstance",
    swagger: "kubevirt",
  },
  {
    group: "instancetype.kubevirt.io",
    version: "v1beta1",
    kind: "VirtualMachineClusterInstancetype",
    plural: "virtualmachineclusterinstancetypes",
    scope: "Cluster",
    definition: "v1beta1.VirtualMachineClusterInstancetype",
    swagger: "kubevirt",
  },
  {
    group: "cdi.kubevirt.io",
    version: "v1beta1",
    kind: "DataVolume",
    plural: "datavolumes",
    scope: "Namespaced",
    definition: "v1beta1.DataVolume",
    swagger: "cdi",
  },
] as const;

const cozystackKinds: Array<{ kind: CozystackAppKind; chart: string; plural: string }> = [
  { kind: "VMDisk", chart: "vm-disk", plural: "vmdisks" },
  { kind: "VMInstance", chart: "vm-instance", plural: "vminstances" },
];

/** Versions the synthesized kinds follow: the app's platform declaration. */
export interface SynthesisVersions {
  cozystack: string;
  kubevirt: string;
  /** With a CDI version: also VirtualMachineInstance, VirtualMachineClusterInstancetype, DataVolume. */
  cdi?: string;
}

/**
 * The synthesized kinds for the declared platform: CozyStack VMDisk/VMInstance from the declared
 * line's values.schema.json, KubeVirt kinds from the declared KubeVirt's swagger.json — both read
 * through schemas.lock.json (mirror or network, sha256-checked).
 */
export async function synthesizedKinds(versions: SynthesisVersions): Promise<SynthesizedKind[]> {
  const lock = await readSchemaLock();
  const mirror = resolveMirror(undefined, process.env);
  const read = async (suffix: string): Promise<unknown> =>
    JSON.parse((await fetchSource(findSource(lock, suffix), sourceFetch(mirror))).toString("utf8"));
  const kinds: SynthesizedKind[] = [];
  for (const app of cozystackKinds) {
    const values = await read(
      `cozystack/${versions.cozystack}/packages/apps/${app.chart}/values.schema.json`,
    );
    const converted = convertCozystackValues(values, app.kind);
    kinds.push({ ...converted, plural: app.plural, scope: "Namespaced" });
  }
  const swagger = await read(`kubevirt/${versions.kubevirt}/api/openapi-spec/swagger.json`);
  const fromSwagger = (
    k: {
      group: string;
      version: string;
      kind: string;
      plural: string;
      scope: "Namespaced" | "Cluster";
      definition: string;
    },
    from: typeof swagger,
  ) => ({
    group: k.group,
    version: k.version,
    kind: k.kind,
    plural: k.plural,
    scope: k.scope,
    schema: openApiV2Definition(from, k.definition),
  });
  for (const k of kubevirtKinds) kinds.push(fromSwagger(k, swagger));
  if (versions.cdi) {
    const cdi = await read(`containerized-data-importer/${versions.cdi}/api/openapi-spec/swagger.json`);
    for (const k of runtimeKinds) kinds.push(fromSwagger(k, k.swagger === "cdi" ? cdi : swagger));
  }
  return kinds;
}

/** The synthesized CRDs as JSON documents ready for `installCrds`. */
export async function synthesizedCrds(versions: SynthesisVersions): Promise<string[]> {
  return (await synthesizedKinds(versions)).map((k) => `${JSON.stringify(crdFor(k), null, 1)}\n`);
}
