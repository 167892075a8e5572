import type { Finding } from "../findings.ts";
import { at, type Subject } from "../lint/platform/subject.ts";
import { finding } from "../lint/rules.ts";
import type { ValidateConfig } from "./config.ts";
import { runKubeconform, type SchemaInput } from "./kubeconform.ts";

/** The part of the schema catalog validate needs (src/schemas/catalog.ts provides it). */
export interface CatalogLike {
  /** Value for kubeconform's -schema-location. */
  location: string;
  /** `<apiVersion>/<Kind>` → schema file. */
  kinds: ReadonlyMap<string, string>;
}

function exempted(subject: Subject, config: ValidateConfig): boolean {
  const gvk = `${subject.apiVersion}/${subject.kind}`;
  return config.kindsWithoutSchema.some((k) => k.kind === gvk || k.kind === subject.kind);
}

/**
 * Validates every subject with the real kubeconform against the catalog. A kind the catalog has
 * no schema for is an error unless the config lists it with a reason: nothing is skipped silently.
 */
export async function schemaFindings(
  subjects: readonly Subject[],
  catalog: CatalogLike,
  config: ValidateConfig,
  kubeconform: string,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const inputs: SchemaInput[] = [];
  subjects.forEach((subject, id) => {
    if (exempted(subject, config)) return;
    const gvk = `${subject.apiVersion}/${subject.kind}`;
    if (!catalog.kinds.has(gvk)) {
      findings.push(
        finding(
          "schema/missing",
          at(subject, "/kind"),
          `no schema for ${gvk}: it cannot be checked`,
          `fix apiVersion/kind, add its CRD to schemas.lock.json, or list '${gvk}' under validate.kindsWithoutSchema with a reason`,
        ),
      );
      return;
    }
    inputs.push({
      id,
      apiVersion: subject.apiVersion,
      kind: subject.kind,
      name: subject.name,
      object: subject.object,
    });
  });
  const results = await runKubeconform(inputs, { kubeconform, schemaLocation: catalog.location });
  for (const result of results) {
    const subject = subjects[result.id];
    if (!subject) continue;
    const what = `${subject.kind} ${subject.name}`;
    if (result.errors.length === 0) {
      const rule = /could not find schema/.test(result.message) ? "schema/missing" : "schema/error";
      findings.push(
        finding(rule, at(subject, "/kind"), `${what}: ${result.message}`, "check apiVersion and kind"),
      );
      continue;
    }
    for (const error of result.errors) {
      const location = error.pointer === "" ? "(root)" : error.pointer;
      findings.push(
        error.additionalProperty !== undefined
          ? finding(
              "schema/additional-property",
              at(subject, error.pointer),
              `${what}: unknown field '${error.additionalProperty}' at ${location}`,
              `remove it or fix the spelling; the ${subject.apiVersion} ${subject.kind} schema has no such field`,
            )
          : finding(
              "schema/invalid",
              at(subject, error.pointer),
              `${what}: ${location}: ${error.message}`,
              "fix the value to match the schema",
            ),
      );
    }
  }
  return findings;
}
