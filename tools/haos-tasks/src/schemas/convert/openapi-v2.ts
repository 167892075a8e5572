import { HintedError } from "../../errors.ts";
import { type ConvertedSchema, type GroupVersionKind, isRecord, type JsonSchema } from "./types.ts";

export class OpenApiError extends HintedError {}

type Definitions = Record<string, JsonSchema>;

const definitionPrefix = "#/definitions/";

/** Where recursion is cut (e.g. JSONSchemaProps inside itself) the value stays open, never rejected. */
const recursionCut = (name: string): JsonSchema => ({
  type: "object",
  "x-kubernetes-preserve-unknown-fields": true,
  description: `(recursive ${name}: not expanded further)`,
});

/**
 * IntOrString and Quantity accept a YAML number or a string; the documents spell that three ways
 * (`format: int-or-string`, `type: string` only, `type: [string, integer, number]`). Normalise to
 * the form the API server and CRDs use.
 */
function intOrString(description: unknown): JsonSchema {
  return {
    ...(description === undefined ? {} : { description }),
    anyOf: [{ type: "integer" }, { type: "string" }],
    "x-kubernetes-int-or-string": true,
  };
}

const isIntOrStringName = (name: string): boolean =>
  name.endsWith(".IntOrString") || name.endsWith(".Quantity") || name === "Quantity";

function definitionsOf(swagger: unknown): Definitions {
  if (!isRecord(swagger) || !isRecord(swagger.definitions)) {
    throw new OpenApiError("not an OpenAPI v2 document (no definitions)", "pass a swagger.json");
  }
  return swagger.definitions as Definitions;
}

/** Inlines `$ref`s with a memo per document, so shared definitions are converted once. */
class Inliner {
  readonly definitions: Definitions;
  readonly memo = new Map<string, JsonSchema>();
  readonly stack: string[] = [];
  constructor(definitions: Definitions) {
    this.definitions = definitions;
  }

  definition(name: string): JsonSchema {
    const memoized = this.memo.get(name);
    if (memoized) return memoized;
    if (this.stack.includes(name)) return recursionCut(name);
    const source = this.definitions[name];
    if (!source) {
      throw new OpenApiError(`$ref to missing definition '${name}'`, "the OpenAPI document is incomplete");
    }
    this.stack.push(name);
    const converted = isIntOrStringName(name) ? intOrString(source.description) : this.node(source);
    this.stack.pop();
    this.memo.set(name, converted);
    return converted;
  }

  node(value: unknown): JsonSchema {
    if (!isRecord(value)) return {};
    const ref = value.$ref;
    if (typeof ref === "string") {
      if (!ref.startsWith(definitionPrefix)) {
        throw new OpenApiError(`unsupported $ref '${ref}'`, "only #/definitions/ references are supported");
      }
      const { $ref: _ref, ...siblings } = value;
      const target = this.definition(ref.slice(definitionPrefix.length));
      // Siblings of a $ref (description, default) describe the use site: they win.
      return Object.keys(siblings).length === 0 ? target : { ...target, ...this.plain(siblings) };
    }
    if (value.format === "int-or-string") return intOrString(value.description);
    return this.plain(value);
  }

  plain(value: Record<string, unknown>): JsonSchema {
    const out: JsonSchema = {};
    for (const [key, child] of Object.entries(value)) {
      if (key === "properties" || key === "patternProperties") {
        out[key] = isRecord(child)
          ? Object.fromEntries(Object.entries(child).map(([p, s]) => [p, this.node(s)]))
          : child;
      } else if (key === "items" || key === "additionalProperties" || key === "not") {
        out[key] = isRecord(child) ? this.node(child) : child;
      } else if (key === "allOf" || key === "anyOf" || key === "oneOf") {
        out[key] = Array.isArray(child) ? child.map((s) => this.node(s)) : child;
      } else {
        out[key] = child;
      }
    }
    return out;
  }
}

/**
 * One definition of an OpenAPI v2 document as a self-contained schema: every `$ref` inlined,
 * recursion cut with an open object, `x-kubernetes-*` extensions kept, IntOrString/Quantity as
 * `x-kubernetes-int-or-string`. Sub-schemas may be shared objects: do not mutate the result.
 */
export function openApiV2Definition(swagger: unknown, definitionName: string): JsonSchema {
  return new Inliner(definitionsOf(swagger)).definition(definitionName);
}

const resourcePath = /^\/apis\/([^/]+)\/([^/]+)\/(?:namespaces\/\{namespace[^}]*\}\/)?([^/{}]+)$/;

/** The definition name a `$ref` schema points at, if any. */
function refName(schema: unknown): string | undefined {
  const ref = isRecord(schema) ? schema.$ref : undefined;
  return typeof ref === "string" && ref.startsWith(definitionPrefix)
    ? ref.slice(definitionPrefix.length)
    : undefined;
}

/** The body definition of a collection path's create operation (KubeVirt and CDI have no GVK extension). */
function createdDefinition(item: unknown): string | undefined {
  if (!isRecord(item) || !isRecord(item.post) || !Array.isArray(item.post.parameters)) return undefined;
  const body = item.post.parameters.find((p) => isRecord(p) && p.in === "body");
  return refName(isRecord(body) ? body.schema : undefined);
}

/**
 * Every kind of a document with the definition that describes it: from each definition's
 * `x-kubernetes-group-version-kind`, else from the `/apis/<group>/<version>/…/<plural>` paths.
 */
export function openApiV2Kinds(swagger: unknown): Array<GroupVersionKind & { definition: string }> {
  const definitions = definitionsOf(swagger);
  const found = new Map<string, GroupVersionKind & { definition: string }>();
  const add = (gvk: GroupVersionKind, definition: string): void => {
    const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
    if (!found.has(key)) found.set(key, { ...gvk, definition });
  };
  for (const [name, definition] of Object.entries(definitions)) {
    const gvks = definition["x-kubernetes-group-version-kind"];
    // DeleteOptions, WatchEvent, Status, … carry a GVK per group: meta types, not resources.
    if (!Array.isArray(gvks) || name.startsWith("io.k8s.apimachinery.pkg.apis.meta.")) continue;
    for (const gvk of gvks.filter(isRecord)) {
      add({ group: String(gvk.group ?? ""), version: String(gvk.version), kind: String(gvk.kind) }, name);
    }
  }
  const paths = isRecord(swagger) && isRecord(swagger.paths) ? swagger.paths : {};
  for (const [p, item] of Object.entries(paths)) {
    const m = resourcePath.exec(p);
    const name = createdDefinition(item);
    if (!m?.[1] || !m[2] || !name || !definitions[name]) continue;
    const kind = name.slice(name.lastIndexOf(".") + 1);
    add({ group: m[1], version: m[2], kind }, name);
  }
  return [...found.values()];
}

/**
 * One schema per kind of an OpenAPI v2 document (Kubernetes core, KubeVirt, CDI), optionally
 * filtered. Definitions are inlined once and shared between kinds.
 */
export function convertOpenApiV2(
  swagger: unknown,
  filter?: (gvk: GroupVersionKind) => boolean,
): ConvertedSchema[] {
  const inliner = new Inliner(definitionsOf(swagger));
  return openApiV2Kinds(swagger)
    .filter((k) => !filter || filter({ group: k.group, version: k.version, kind: k.kind }))
    .map((k) => ({
      group: k.group,
      version: k.version,
      kind: k.kind,
      schema: inliner.definition(k.definition),
    }));
}
