/** A JSON Schema (draft 4 / OpenAPI v3 subset, with Kubernetes `x-kubernetes-*` extensions). */
export type JsonSchema = Record<string, unknown>;

/** One Kubernetes kind's schema, as a converter read it from an upstream document. */
export interface ConvertedSchema {
  /** API group; `""` for the core group. */
  group: string;
  version: string;
  kind: string;
  schema: JsonSchema;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** `{group: "apps", version: "v1"}` → `apps/v1`; the core group gives `v1`. */
export function apiVersionOf(gvk: { group: string; version: string }): string {
  return gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
}

/** The catalog key of a kind: `<apiVersion>/<Kind>`, e.g. `kubevirt.io/v1/VirtualMachine`, `v1/Service`. */
export function kindKey(gvk: GroupVersionKind): string {
  return `${apiVersionOf(gvk)}/${gvk.kind}`;
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
