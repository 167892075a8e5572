import { parseAllDocuments, stringify } from "yaml";

/** One rendered object of a built app, keyed the way reviewers name it. */
export interface RenderedResource {
  /** `Kind/namespace/name`, or `Kind/name` when cluster-scoped. */
  key: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  object: Record<string, unknown>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The key a resource is compared under between base and head. */
export function resourceKey(kind: string, name: string, namespace?: string): string {
  return namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`;
}

/**
 * Splits a multi-document YAML stream (kustomize build output) into resources keyed by
 * kind/namespace/name. Documents without apiVersion/kind/name are not objects and are skipped.
 */
export function parseRendered(yamlText: string): Map<string, RenderedResource> {
  const resources = new Map<string, RenderedResource>();
  for (const doc of parseAllDocuments(yamlText)) {
    if (doc.errors.length > 0) throw new Error(`build output is not valid YAML: ${doc.errors[0]?.message}`);
    const object: unknown = doc.toJS();
    if (!isRecord(object) || !isRecord(object.metadata)) continue;
    const { apiVersion, kind } = object;
    const { name, namespace } = object.metadata;
    if (typeof apiVersion !== "string" || typeof kind !== "string" || typeof name !== "string") continue;
    const ns = typeof namespace === "string" && namespace !== "" ? namespace : undefined;
    const key = resourceKey(kind, name, ns);
    resources.set(key, { key, apiVersion, kind, ...(ns ? { namespace: ns } : {}), name, object });
  }
  return resources;
}

const REDACTED = "<redacted>";
const REDACTED_CHANGED = "<redacted, changed>";

/**
 * Replaces every Secret `data`/`stringData` value with a placeholder, on both sides at once so
 * the diff still shows WHICH keys were added, removed or changed without any value (or a hash of
 * one) reaching a PR comment.
 */
export function redactSecretPair(
  base: Record<string, unknown> | undefined,
  head: Record<string, unknown> | undefined,
): { base?: Record<string, unknown>; head?: Record<string, unknown> } {
  const redactOne = (
    object: Record<string, unknown>,
    other: Record<string, unknown> | undefined,
    markChanged: boolean,
  ) => {
    const copy: Record<string, unknown> = { ...object };
    for (const field of ["data", "stringData"] as const) {
      const values = object[field];
      if (!isRecord(values)) continue;
      const otherValues = other && isRecord(other[field]) ? other[field] : undefined;
      copy[field] = Object.fromEntries(
        Object.entries(values).map(([key, value]) => {
          const changed =
            markChanged && otherValues !== undefined && key in otherValues && otherValues[key] !== value;
          return [key, changed ? REDACTED_CHANGED : REDACTED];
        }),
      );
    }
    return copy;
  };
  return {
    ...(base ? { base: redactOne(base, head, false) } : {}),
    ...(head ? { head: redactOne(head, base, true) } : {}),
  };
}

/** YAML text of one object for diffing (kustomize's key order kept, no line folding). */
export function renderObject(object: Record<string, unknown> | undefined): string {
  return object ? stringify(object, { lineWidth: 0 }) : "";
}
