import { apiVersionOf, type GroupVersionKind, isRecord, type JsonSchema } from "./convert/types.ts";
import { objectMetaSchema } from "./metadata.ts";

/** What a schema came from: CRD schemas are structural, so a property-less object keeps nothing. */
export type SchemaOrigin = "crd" | "openapi-v2" | "cozystack";

export interface StrictKind extends GroupVersionKind {
  origin: SchemaOrigin;
}

const preserves = (node: JsonSchema): boolean => node["x-kubernetes-preserve-unknown-fields"] === true;

const isIntOrString = (node: JsonSchema): boolean =>
  node["x-kubernetes-int-or-string"] === true || node.format === "int-or-string";

/** `anyOf: [{type: integer}, {type: string}]`, the CRD spelling of int-or-string. */
const isIntOrStringPair = (list: unknown): boolean =>
  Array.isArray(list) &&
  list.every(
    (s) => isRecord(s) && Object.keys(s).length === 1 && (s.type === "integer" || s.type === "string"),
  );

function withNull(type: unknown): unknown {
  if (type === undefined) return undefined;
  const types = Array.isArray(type) ? type : [type];
  return types.includes("null") ? types : [...types, "null"];
}

const closeableKeys = ["allOf", "anyOf", "oneOf"] as const;

/** Closes one sub-schema and everything below it. Pure: shared inputs give shared outputs. */
function closeNode(node: unknown, origin: SchemaOrigin, memo: WeakMap<object, JsonSchema>): unknown {
  if (!isRecord(node)) return node;
  const done = memo.get(node);
  if (done) return done;
  const out: JsonSchema = { ...node };
  memo.set(node, out);

  if (isRecord(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([k, v]) => [k, closeNode(v, origin, memo)]),
    );
  }
  if (isRecord(node.patternProperties)) {
    out.patternProperties = Object.fromEntries(
      Object.entries(node.patternProperties).map(([k, v]) => [k, closeNode(v, origin, memo)]),
    );
  }
  if (isRecord(node.additionalProperties)) {
    out.additionalProperties = closeNode(node.additionalProperties, origin, memo);
  }
  if (Array.isArray(node.items)) out.items = node.items.map((s) => closeNode(s, origin, memo));
  else if (isRecord(node.items)) out.items = closeNode(node.items, origin, memo);
  if (isRecord(node.not)) out.not = closeNode(node.not, origin, memo);
  for (const key of closeableKeys) {
    const list = node[key];
    if (Array.isArray(list)) out[key] = list.map((s) => closeNode(s, origin, memo));
  }

  if (isIntOrString(out)) {
    out.type = ["integer", "string"];
    if (out.format === "int-or-string") delete out.format;
    if (isIntOrStringPair(out.anyOf)) delete out.anyOf;
    if (isIntOrStringPair(out.oneOf)) delete out.oneOf;
  }
  if (out.nullable === true) {
    const type = withNull(out.type);
    if (type !== undefined) out.type = type;
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  // Draft 4 (kubeconform's default) rejects empty `required`/`enum`; a schema that does not compile
  // is silently treated as missing by kubeconform.
  if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  if (Array.isArray(out.enum) && out.enum.length === 0) delete out.enum;

  const isObject = out.type === "object" || (out.type === undefined && isRecord(out.properties));
  if (isObject && !preserves(out) && out.additionalProperties === undefined) {
    const properties = isRecord(out.properties) ? out.properties : undefined;
    if (out["x-kubernetes-embedded-resource"] === true) {
      out.properties = {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: { type: "object" },
        ...properties,
      };
      out.additionalProperties = false;
    } else if (properties && Object.keys(properties).length > 0) {
      out.additionalProperties = false;
    } else if (origin === "crd" && out.patternProperties === undefined) {
      // The API server prunes every field of a CRD object declared without properties.
      out.additionalProperties = false;
    }
  }
  return out;
}

const memos: Record<SchemaOrigin, WeakMap<object, JsonSchema>> = {
  crd: new WeakMap(),
  "openapi-v2": new WeakMap(),
  cozystack: new WeakMap(),
};

/**
 * The kubeconform variant of a converted schema: objects closed (`additionalProperties: false`)
 * unless the source preserves unknown fields; `nullable` allows null; int-or-string takes an
 * integer or a string; embedded resources keep apiVersion/kind/metadata. The root is closed too
 * (so `spce:` fails), pins apiVersion and kind, and checks metadata (name format, labels).
 * Open objects of OpenAPI sources (RawExtension) stay open.
 */
export function strictSchema(schema: JsonSchema, kind: StrictKind): JsonSchema {
  const body = closeNode(schema, kind.origin, memos[kind.origin]) as JsonSchema;
  const properties = isRecord(body.properties) ? body.properties : {};
  const required = new Set(Array.isArray(body.required) ? (body.required as string[]) : []);
  for (const field of ["apiVersion", "kind", "metadata"]) required.add(field);
  return {
    $schema: "http://json-schema.org/draft-04/schema#",
    ...body,
    type: "object",
    properties: {
      ...properties,
      apiVersion: { type: "string", enum: [apiVersionOf(kind)] },
      kind: { type: "string", enum: [kind.kind] },
      metadata: objectMetaSchema(kind),
    },
    required: [...required],
    additionalProperties: preserves(schema) ? (body.additionalProperties ?? true) : false,
  };
}
