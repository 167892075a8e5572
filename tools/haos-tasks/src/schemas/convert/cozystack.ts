import { type ConvertedSchema, isRecord, type JsonSchema } from "./types.ts";

export type CozystackAppKind = "VMDisk" | "VMInstance";

export const cozystackAppsGroup = "apps.cozystack.io";
export const cozystackAppsVersion = "v1alpha1";

const descriptions: Record<CozystackAppKind, string> = {
  VMDisk: "CozyStack vm-disk application (served by cozystack-api; .spec is the chart's values).",
  VMInstance: "CozyStack vm-instance application (served by cozystack-api; .spec is the chart's values).",
};

/**
 * A CozyStack chart's `values.schema.json` as the schema of its `apps.cozystack.io/v1alpha1`
 * application kind: the values schema is the object's `.spec` (an ApplicationDefinition's
 * `spec.application.openAPISchema`); `status` is written by cozystack-api and left open.
 */
export function convertCozystackValues(valuesSchema: unknown, kind: CozystackAppKind): ConvertedSchema {
  if (!isRecord(valuesSchema) || (valuesSchema.type !== undefined && valuesSchema.type !== "object")) {
    throw new Error(`${kind}: values.schema.json must be an object schema`);
  }
  const { title: _title, $schema: _draft, ...spec } = structuredClone(valuesSchema);
  const schema: JsonSchema = {
    description: descriptions[kind],
    type: "object",
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      spec: { ...spec, type: "object" },
      status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    },
  };
  return { group: cozystackAppsGroup, version: cozystackAppsVersion, kind, schema };
}
