import { hasParseErrors, type SourceDocument, type SourceFile } from "./yaml-source.ts";

/** A Kubernetes object as written in a source file. */
export interface Resource {
  apiVersion: string;
  kind: string;
  name: string;
  /** Empty for cluster-scoped objects and for namespaced ones that take it from kustomize. */
  namespace: string;
  object: Record<string, unknown>;
  source: SourceFile;
  doc: SourceDocument;
  /** JSON pointer of the object inside its document: `/items/3` for an item of a `kind: List`. */
  base?: string;
}

/** `group` of an apiVersion (`""` for the core group). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** Reads a value at a dotted path of plain data. */
export function field(object: unknown, ...pathSegments: string[]): unknown {
  let current: unknown = object;
  for (const segment of pathSegments) {
    if (!current || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** The string at a path, or undefined. */
export function stringField(object: unknown, ...pathSegments: string[]): string | undefined {
  const value = field(object, ...pathSegments);
  return typeof value === "string" ? value : undefined;
}

/** Turns a parsed document into a Resource when it has apiVersion and kind. */
export function toResource(source: SourceFile, doc: SourceDocument): Resource | undefined {
  const object = doc.value;
  if (!object || typeof object !== "object" || Array.isArray(object)) return undefined;
  const record = object as Record<string, unknown>;
  if (typeof record.apiVersion !== "string" || typeof record.kind !== "string") return undefined;
  return {
    apiVersion: record.apiVersion,
    kind: record.kind,
    name: String(field(record, "metadata", "name") ?? ""),
    namespace: String(field(record, "metadata", "namespace") ?? ""),
    object: record,
    source,
    doc,
  };
}

const objectKeys = /^(api_?version|kind|metadata)$/i;

/**
 * Why a document that looks meant as a Kubernetes object (it has an apiVersion, kind or metadata
 * key in any spelling) cannot be one; undefined for complete objects and for other YAML (a
 * workflow, a values file), which validate leaves alone.
 */
export function objectProblem(doc: SourceDocument): string | undefined {
  if (doc.empty || hasParseErrors(doc)) return undefined;
  const value = doc.value;
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (!Object.keys(record).some((k) => objectKeys.test(k))) return undefined;
  const missing = [
    typeof record.apiVersion === "string" && record.apiVersion !== "" ? undefined : "apiVersion",
    typeof record.kind === "string" && record.kind !== "" ? undefined : "kind",
    typeof field(record, "metadata", "name") === "string" ||
    typeof field(record, "metadata", "generateName") === "string"
      ? undefined
      : "metadata.name",
  ].filter((m): m is string => m !== undefined);
  return missing.length > 0 ? `not a Kubernetes object: no ${missing.join(", no ")}` : undefined;
}

/** The Kubernetes objects of a parsed file. */
export function resourcesOf(source: SourceFile): Resource[] {
  return source.documents.flatMap((doc) => {
    const resource = toResource(source, doc);
    if (!resource) return [];
    return isList(resource) ? listItems(resource) : [resource];
  });
}

/** `v1 List` (and `*List` kinds of v1), which kubectl and kustomize apply as their items. */
function isList(r: Resource): boolean {
  return r.apiVersion === "v1" && /List$/.test(r.kind) && Array.isArray(r.object.items);
}

function listItems(list: Resource): Resource[] {
  return (list.object.items as unknown[]).flatMap((item, i) => {
    if (!item || typeof item !== "object" || Array.isArray(item)) return [];
    const record = item as Record<string, unknown>;
    if (typeof record.apiVersion !== "string" || typeof record.kind !== "string") return [];
    return [
      {
        apiVersion: record.apiVersion,
        kind: record.kind,
        name: String(field(record, "metadata", "name") ?? ""),
        namespace: String(field(record, "metadata", "namespace") ?? ""),
        object: record,
        source: list.source,
        doc: list.doc,
        base: `/items/${i}`,
      },
    ];
  });
}
