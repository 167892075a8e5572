/** One schema violation, as ajv reports it. */
export interface SchemaViolation {
  keyword: string;
  /** JSON pointer of the value in the checked document. */
  instancePath: string;
  /** Where in the schema the failed keyword sits (`#/properties/release/…/type`). */
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** The .haos-tasks.yaml schema, compiled (scripts/build-config-check.ts). */
export interface ConfigSchemaCheck {
  (data: unknown): boolean;
  errors?: SchemaViolation[] | null;
}

export const validate: ConfigSchemaCheck;
export default validate;
