import type { GroupVersionKind, JsonSchema } from "./convert/types.ts";

/** DNS-1123 subdomain: what most kinds' metadata.name must be (max 253). */
export const dns1123Subdomain = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/** DNS-1123 label (Namespace names, namespace references; max 63). */
export const dns1123Label = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/** DNS-1035 label (Service names: must start with a letter; max 63). */
export const dns1035Label = "^[a-z]([-a-z0-9]*[a-z0-9])?$";
/** RBAC names are path segments: anything but `/` and `%`, and not `.` or `..` (RE2 has no lookahead). */
const pathSegment = "^([^/%.][^/%]*|\\.[^/%.][^/%]*|\\.\\.[^/%]+)$";
/** A label or annotation key: optional DNS-subdomain prefix and `/`, then a name of up to 63. */
export const qualifiedKey =
  "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
/** A label value: empty, or up to 63 alphanumerics with `-_.` inside. */
export const labelValue = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";

/** How the API server validates `metadata.name` for a kind (apimachinery's name validators). */
function nameSchema(gvk: GroupVersionKind): JsonSchema {
  if (gvk.group === "" && gvk.kind === "Namespace") {
    return { type: "string", maxLength: 63, pattern: dns1123Label };
  }
  if (gvk.group === "" && gvk.kind === "Service") {
    return { type: "string", maxLength: 63, pattern: dns1035Label };
  }
  if (gvk.group === "rbac.authorization.k8s.io") return { type: "string", pattern: pathSegment };
  return { type: "string", maxLength: 253, pattern: dns1123Subdomain };
}

/**
 * The closed `metadata` of a top-level object: the fields of ObjectMeta, with name, namespace,
 * label and annotation formats checked, so `metadata.lables` or `name: My_VM` fail.
 */
export function objectMetaSchema(gvk: GroupVersionKind): JsonSchema {
  const strings = { type: "array", items: { type: "string" } };
  return {
    type: "object",
    description: "ObjectMeta (checked by haos-tasks: name format, label and annotation keys and values)",
    properties: {
      name: nameSchema(gvk),
      generateName: { type: "string" },
      namespace: { type: "string", maxLength: 63, pattern: dns1123Label },
      labels: {
        type: "object",
        patternProperties: { [qualifiedKey]: { type: "string", maxLength: 63, pattern: labelValue } },
        additionalProperties: false,
      },
      annotations: {
        type: "object",
        patternProperties: { [qualifiedKey]: { type: "string" } },
        additionalProperties: false,
      },
      finalizers: strings,
      ownerReferences: { type: "array", items: { type: "object" } },
      uid: { type: "string" },
      resourceVersion: { type: "string" },
      generation: { type: "integer" },
      selfLink: { type: "string" },
      // `kubectl create --dry-run -o yaml` and kustomize emit `creationTimestamp: null`.
      creationTimestamp: { type: ["string", "null"] },
      deletionTimestamp: { type: ["string", "null"] },
      deletionGracePeriodSeconds: { type: "integer" },
      managedFields: { type: "array", items: { type: "object" } },
    },
    additionalProperties: false,
  };
}
