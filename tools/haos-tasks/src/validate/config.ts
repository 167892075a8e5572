import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Severity } from "../findings.ts";
import type { DocumentStartPolicy } from "../lint/documents.ts";
import { ruleInfo } from "../lint/rules.ts";
import { parseSourceFile, pointerPosition, toPointer } from "../manifests/yaml-source.ts";

/** A kind validate may not find a schema for, and why that is acceptable. */
export interface KindWithoutSchema {
  /** `<apiVersion>/<Kind>` (e.g. `example.com/v1/Widget`) or a bare `Kind`. */
  kind: string;
  reason: string;
}

/** An object that Flux references but that is created outside this repository. */
export interface ExternalObject {
  kind: string;
  name: string;
  /** Empty matches any namespace. */
  namespace: string;
  reason: string;
}

/** The `validate:` section of .haos-tasks.yaml, with defaults filled in. */
export interface ValidateConfig {
  /** Repo-relative globs validate never reads. */
  ignore: string[];
  /** Repo-relative globs of YAML files that are not Kubernetes objects (besides platform.yaml, moon.yml). */
  nonResources: string[];
  /** Rule id → severity, or `off`. */
  rules: Record<string, Severity | "off">;
  indentation: number;
  documentStart: DocumentStartPolicy;
  kindsWithoutSchema: KindWithoutSchema[];
  external: ExternalObject[];
}

export const configFileName = ".haos-tasks.yaml";

export const defaultValidateConfig: ValidateConfig = {
  ignore: [],
  nonResources: [],
  rules: {},
  indentation: 2,
  documentStart: "allow",
  kindsWithoutSchema: [],
  external: [],
};

export class ConfigError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

const severities = ["error", "warning", "info", "off"];
const knownKeys = [
  "ignore",
  "nonResources",
  "rules",
  "indentation",
  "documentStart",
  "kindsWithoutSchema",
  "external",
];

/** Parses the `validate:` section; errors name the file, line and the key to fix. */
export function parseValidateConfig(text: string, file: string): ValidateConfig {
  const source = parseSourceFile(text, file);
  const doc = source.documents[0];
  const fail = (pointer: string, message: string, hint: string): never => {
    const at = doc ? pointerPosition(source, doc, pointer) : { line: 1 };
    throw new ConfigError(`${file}:${at.line}: ${message}`, hint);
  };
  if (doc && doc.ast.errors.length > 0) fail("", "invalid YAML", `fix the YAML syntax of ${file}`);
  const section = (doc?.value as Record<string, unknown> | null | undefined)?.validate ?? {};
  if (typeof section !== "object" || section === null || Array.isArray(section)) {
    return fail("/validate", "`validate:` must be a mapping", "see the comment above `validate:`");
  }
  const raw = section as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!knownKeys.includes(key))
      fail(`/validate/${key}`, `unknown key validate.${key}`, `known keys: ${knownKeys.join(", ")}`);
  }
  const strings = (key: string): string[] => {
    const value = raw[key] ?? [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      fail(`/validate/${key}`, `validate.${key} must be a list of strings`, "write one glob per list item");
    }
    return value as string[];
  };
  const rules: Record<string, Severity | "off"> = {};
  for (const [id, level] of Object.entries((raw.rules ?? {}) as Record<string, unknown>)) {
    if (!ruleInfo(id))
      fail(
        toPointer(["validate", "rules", id]),
        `unknown rule '${id}'`,
        "see `haos-tasks validate --help` for rule ids",
      );
    if (typeof level !== "string" || !severities.includes(level)) {
      fail(
        toPointer(["validate", "rules", id]),
        `rule '${id}': level must be one of ${severities.join(", ")}`,
        "write error, warning, info or off",
      );
    }
    rules[id] = level as Severity | "off";
  }
  const list = <T>(key: string, fields: string[], build: (item: Record<string, string>) => T): T[] => {
    const value = raw[key] ?? [];
    if (!Array.isArray(value))
      return fail(`/validate/${key}`, `validate.${key} must be a list`, "write a YAML list");
    return value.map((item, i) => {
      for (const f of fields) {
        if (!item || typeof item[f] !== "string" || item[f] === "") {
          fail(
            `/validate/${key}/${i}`,
            `validate.${key}[${i}].${f} is required`,
            `give every entry ${fields.join(" and ")}`,
          );
        }
      }
      return build(item as Record<string, string>);
    });
  };
  const indentation = raw.indentation ?? 2;
  if (typeof indentation !== "number" || !Number.isInteger(indentation) || indentation < 1) {
    fail("/validate/indentation", "validate.indentation must be a positive integer", "write e.g. 2");
  }
  const documentStart = raw.documentStart ?? "allow";
  if (documentStart !== "allow" && documentStart !== "require" && documentStart !== "forbid") {
    fail("/validate/documentStart", "validate.documentStart must be allow, require or forbid", "pick one");
  }
  return {
    ignore: strings("ignore"),
    nonResources: strings("nonResources"),
    rules,
    indentation: indentation as number,
    documentStart: documentStart as DocumentStartPolicy,
    kindsWithoutSchema: list("kindsWithoutSchema", ["kind", "reason"], (i) => ({
      kind: i.kind ?? "",
      reason: i.reason ?? "",
    })),
    external: list("external", ["kind", "name", "reason"], (i) => ({
      kind: i.kind ?? "",
      name: i.name ?? "",
      namespace: i.namespace ?? "",
      reason: i.reason ?? "",
    })),
  };
}

/** Reads `<root>/.haos-tasks.yaml`; no file means the defaults. */
export async function loadValidateConfig(root: string): Promise<{ config: ValidateConfig; file?: string }> {
  const absolute = path.join(root, configFileName);
  if (!existsSync(absolute)) return { config: defaultValidateConfig };
  return {
    config: parseValidateConfig(await readFile(absolute, "utf8"), configFileName),
    file: configFileName,
  };
}
