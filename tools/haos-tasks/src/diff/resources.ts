import { stringify } from "yaml";

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The key a resource is compared under between base and head. */
export function resourceKey(kind: string, name: string, namespace?: string): string {
  return namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`;
}

const REDACTED = "<redacted>";
const REDACTED_CHANGED = "<redacted, changed>";
/** `kubectl apply` copies the whole object, Secret data included, into this annotation. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

const placeholder = (changed: boolean) => (changed ? REDACTED_CHANGED : REDACTED);

/** The text a base64 `data` value encodes, or undefined when it is not base64 of UTF-8 text. */
function decodeBase64Text(value: string): string | undefined {
  if (value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return undefined;
  const text = Buffer.from(value, "base64").toString("utf8");
  return text.includes("\uFFFD") ? undefined : text;
}

/**
 * Every non-empty way a Secret's values can be spelled when copied into an annotation: as
 * written, base64-decoded (`data`), base64-encoded (`stringData`) and JSON-escaped.
 */
function secretValueForms(objects: readonly (Record<string, unknown> | undefined)[]): string[] {
  const forms = new Set<string>();
  const add = (text: string) => {
    if (text === "") return;
    forms.add(text);
    forms.add(JSON.stringify(text).slice(1, -1));
  };
  for (const object of objects) {
    for (const field of ["data", "stringData"] as const) {
      const values = object?.[field];
      if (!isRecord(values)) continue;
      for (const value of Object.values(values)) {
        if (typeof value !== "string") continue;
        add(value);
        if (field === "stringData") add(Buffer.from(value, "utf8").toString("base64"));
        else add(decodeBase64Text(value) ?? "");
      }
    }
  }
  return [...forms];
}

/** Placeholders for the values of `values` (changed ones marked against `otherValues`). */
function redactValues(
  values: Record<string, unknown>,
  otherValues: Record<string, unknown> | undefined,
  markChanged: boolean,
  redact: (key: string, value: unknown) => boolean = () => true,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => {
      if (!redact(key, value)) return [key, value];
      const changed =
        markChanged && otherValues !== undefined && key in otherValues && otherValues[key] !== value;
      return [key, placeholder(changed)];
    }),
  );
}

/**
 * Replaces every Secret `data`/`stringData` value with a placeholder, on both sides at once so
 * the diff still shows WHICH keys were added, removed or changed without any value (or a hash of
 * one) reaching a PR comment. Annotations that carry the values too (the last-applied
 * configuration, or any annotation containing one of them) are redacted the same way.
 */
export function redactSecretPair(
  base: Record<string, unknown> | undefined,
  head: Record<string, unknown> | undefined,
): { base?: Record<string, unknown>; head?: Record<string, unknown> } {
  // Both sides' values: a stale annotation on one side may still hold the other side's value.
  const forms = secretValueForms([base, head]);
  const embedsSecret = (key: string, value: unknown) =>
    key === LAST_APPLIED || (typeof value === "string" && forms.some((form) => value.includes(form)));
  const redactOne = (
    object: Record<string, unknown>,
    other: Record<string, unknown> | undefined,
    markChanged: boolean,
  ) => {
    const copy: Record<string, unknown> = { ...object };
    for (const field of ["data", "stringData"] as const) {
      const values = object[field];
      if (!isRecord(values)) continue;
      copy[field] = redactValues(
        values,
        other && isRecord(other[field]) ? other[field] : undefined,
        markChanged,
      );
    }
    const { metadata } = object;
    if (isRecord(metadata) && isRecord(metadata.annotations)) {
      const otherMetadata = other?.metadata;
      const otherAnnotations =
        isRecord(otherMetadata) && isRecord(otherMetadata.annotations)
          ? otherMetadata.annotations
          : undefined;
      copy.metadata = {
        ...metadata,
        annotations: redactValues(metadata.annotations, otherAnnotations, markChanged, embedsSecret),
      };
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
