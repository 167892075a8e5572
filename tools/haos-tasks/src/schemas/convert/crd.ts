import { parseAllDocuments } from "yaml";
import { HintedError } from "../../errors.ts";
import { type ConvertedSchema, isRecord, type JsonSchema } from "./types.ts";

export class CrdError extends HintedError {}

const openObject = (): JsonSchema => ({ type: "object", "x-kubernetes-preserve-unknown-fields": true });

/** A CRD version without a schema accepts anything (apiextensions v1beta1 allowed that). */
function versionSchema(spec: Record<string, unknown>, version: Record<string, unknown>): JsonSchema {
  const own = isRecord(version.schema) ? version.schema.openAPIV3Schema : undefined;
  const shared = isRecord(spec.validation) ? spec.validation.openAPIV3Schema : undefined;
  const schema = own ?? shared;
  return isRecord(schema) ? structuredClone(schema) : openObject();
}

/** Whether a parsed YAML/JSON document is a CustomResourceDefinition. */
export function isCrd(doc: unknown): doc is Record<string, unknown> {
  return (
    isRecord(doc) &&
    doc.kind === "CustomResourceDefinition" &&
    typeof doc.apiVersion === "string" &&
    doc.apiVersion.startsWith("apiextensions.k8s.io/")
  );
}

/**
 * The schema of every served version of one CRD document (apiextensions v1, or v1beta1 with a
 * top-level `validation`). Schemas are deep copies of the document's, unchanged.
 */
export function convertCrd(doc: unknown): ConvertedSchema[] {
  if (!isCrd(doc)) throw new CrdError("not a CustomResourceDefinition", "pass one CRD document");
  const spec = doc.spec;
  const name = isRecord(doc.metadata) ? String(doc.metadata.name ?? "") : "";
  if (!isRecord(spec) || typeof spec.group !== "string" || !isRecord(spec.names)) {
    throw new CrdError(`CRD ${name}: spec.group or spec.names missing`, "the CRD document is malformed");
  }
  const kind = spec.names.kind;
  if (typeof kind !== "string") {
    throw new CrdError(`CRD ${name}: spec.names.kind missing`, "the CRD document is malformed");
  }
  const versions: Record<string, unknown>[] = Array.isArray(spec.versions)
    ? spec.versions.filter(isRecord)
    : typeof spec.version === "string"
      ? [{ name: spec.version, served: true }]
      : [];
  return versions
    .filter((v) => v.served !== false && typeof v.name === "string")
    .map((v) => ({
      group: spec.group as string,
      version: String(v.name),
      kind,
      schema: versionSchema(spec, v),
    }));
}

/**
 * Every served version of every CRD in a (multi-document) YAML text; documents that are not CRDs
 * (a DaemonSet beside the CRD, empty documents) are skipped.
 */
export function convertCrdYaml(text: string): ConvertedSchema[] {
  const out: ConvertedSchema[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      const err = doc.errors[0];
      throw new CrdError(
        `invalid YAML at line ${err?.linePos?.[0]?.line ?? "?"}: ${err?.message.split("\n")[0]}`,
        "the source document is not valid YAML",
      );
    }
    const value: unknown = doc.toJS({ maxAliasCount: -1 });
    if (isCrd(value)) out.push(...convertCrd(value));
  }
  return out;
}
