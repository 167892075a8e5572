import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { HintedError } from "../errors.ts";
import type { Severity } from "../findings.ts";
import type { DocumentStartPolicy } from "../lint/documents.ts";
import { ruleInfo } from "../lint/rules.ts";
import { hasParseErrors, parseSourceFile, pointerPosition, toPointer } from "../manifests/yaml-source.ts";

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
  /** Style rules on SOPS-encrypted files too (they skip them by default: SOPS wrote them). */
  lintEncrypted?: boolean;
  kindsWithoutSchema: KindWithoutSchema[];
  external: ExternalObject[];
  /** Kubernetes minor (e.g. `1.35`) whose OpenAPI checks built-in kinds; overrides platform.yaml. */
  kubernetesVersion?: string;
  /** Schema sources beyond the pinned catalog (the `schemas:` section). */
  schemas: SchemaSourcesConfig;
  /** Where charts come from (the `charts:` section). */
  charts: ChartsConfig;
  /** Where list entries sit in the config file, for findings about them. */
  positions: ConfigPosition[];
}

/** `schemas.crds`, `schemas.locations`, `schemas.catalog` of .haos-tasks.yaml. */
export interface SchemaSourcesConfig {
  /** Repo-relative globs of CRD files converted like the pinned CRDs. */
  crds: string[];
  /** kubeconform-style `-schema-location` values (URL or directory templates, or `default`). */
  locations: string[];
  /** A catalog directory written by `schemas sync --from-cluster`. */
  catalog?: string;
}

/** `charts.mirrors`, `charts.cache`, `charts.apiVersions` of .haos-tasks.yaml. */
export interface ChartsConfig {
  /** Chart origins rewritten to a mirror: an `oci://` prefix or an `https://` repository URL. */
  mirrors: { origin: string; url: string }[];
  /** The chart cache directory (default: under the user cache directory). */
  cache?: string;
  /** More entries for Helm's .Capabilities.APIVersions (`group/version` or `group/version/Kind`). */
  apiVersions: string[];
}

/** `ORIGIN=URL`, as --chart-mirror and charts.mirrors take it. */
export function parseChartMirror(value: string): { origin: string; url: string } | undefined {
  const at = value.indexOf("=");
  if (at <= 0 || at === value.length - 1) return undefined;
  const origin = value.slice(0, at).replace(/\/+$/, "");
  const url = value.slice(at + 1).replace(/\/+$/, "");
  if (!/^(oci|https?):\/\//.test(origin) || !/^(oci|https?):\/\//.test(url)) return undefined;
  return { origin, url };
}

export interface ConfigPosition {
  key: string;
  index: number;
  line: number;
  column: number;
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
  schemas: { crds: [], locations: [] },
  charts: { mirrors: [], apiVersions: [] },
  positions: [],
};

export class ConfigError extends HintedError {}

const severities = ["error", "warning", "info", "off"];
const knownKeys = [
  "ignore",
  "nonResources",
  "rules",
  "indentation",
  "documentStart",
  "kindsWithoutSchema",
  "external",
  "kubernetesVersion",
  "lintEncrypted",
];

const schemaKeys = ["mirror", "crds", "locations", "catalog"];
const chartKeys = ["mirrors", "cache", "apiVersions"];

/** Parses the `validate:` section; errors name the file, line and the key to fix. */
export function parseValidateConfig(text: string, file: string): ValidateConfig {
  const source = parseSourceFile(text, file);
  const doc = source.documents[0];
  const fail = (pointer: string, message: string, hint: string): never => {
    const at = doc ? pointerPosition(source, doc, pointer) : { line: 1 };
    throw new ConfigError(`${file}:${at.line}: ${message}`, hint);
  };
  if (doc && hasParseErrors(doc)) fail("", "invalid YAML", `fix the YAML syntax of ${file}`);
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
  if (raw.lintEncrypted !== undefined && typeof raw.lintEncrypted !== "boolean") {
    fail("/validate/lintEncrypted", "validate.lintEncrypted must be true or false", "write true or false");
  }
  const kubernetesVersion = raw.kubernetesVersion;
  if (
    kubernetesVersion !== undefined &&
    (typeof kubernetesVersion !== "string" || !/^1\.\d+$/.test(kubernetesVersion))
  ) {
    fail(
      "/validate/kubernetesVersion",
      'validate.kubernetesVersion must be a minor like "1.35"',
      'quote it: "1.35"',
    );
  }
  const schemasSection = (doc?.value as Record<string, unknown> | null | undefined)?.schemas ?? {};
  if (typeof schemasSection !== "object" || schemasSection === null || Array.isArray(schemasSection)) {
    return fail("/schemas", "`schemas:` must be a mapping", "see the comment above `schemas:`");
  }
  const schemasRaw = schemasSection as Record<string, unknown>;
  for (const key of Object.keys(schemasRaw)) {
    if (!schemaKeys.includes(key))
      fail(`/schemas/${key}`, `unknown key schemas.${key}`, `known keys: ${schemaKeys.join(", ")}`);
  }
  const schemaStrings = (key: string): string[] => {
    const value = schemasRaw[key] ?? [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v === "")) {
      fail(`/schemas/${key}`, `schemas.${key} must be a list of strings`, "write one entry per list item");
    }
    return value as string[];
  };
  if (schemasRaw.catalog !== undefined && typeof schemasRaw.catalog !== "string") {
    fail(
      "/schemas/catalog",
      "schemas.catalog must be a directory path",
      "name the directory `schemas sync --from-cluster` wrote",
    );
  }
  const chartsSection = (doc?.value as Record<string, unknown> | null | undefined)?.charts ?? {};
  if (typeof chartsSection !== "object" || chartsSection === null || Array.isArray(chartsSection)) {
    return fail("/charts", "`charts:` must be a mapping", "see `haos-tasks validate --help` (charts)");
  }
  const chartsRaw = chartsSection as Record<string, unknown>;
  for (const key of Object.keys(chartsRaw)) {
    if (!chartKeys.includes(key))
      fail(`/charts/${key}`, `unknown key charts.${key}`, `known keys: ${chartKeys.join(", ")}`);
  }
  const mirrors: { origin: string; url: string }[] = [];
  const mirrorList = chartsRaw.mirrors ?? [];
  if (!Array.isArray(mirrorList))
    fail("/charts/mirrors", "charts.mirrors must be a list", "one ORIGIN=URL per item");
  (Array.isArray(mirrorList) ? mirrorList : []).forEach((m, i) => {
    const parsed = typeof m === "string" ? parseChartMirror(m) : undefined;
    if (!parsed)
      fail(
        `/charts/mirrors/${i}`,
        `charts.mirrors entry ${JSON.stringify(m)} is not ORIGIN=URL`,
        "write e.g. oci://ghcr.io/bjw-s-labs=http://127.0.0.1:5000/bjw-s-labs or https://charts.example.com=https://mirror.example.com/charts",
      );
    else mirrors.push(parsed);
  });
  if (chartsRaw.cache !== undefined && typeof chartsRaw.cache !== "string")
    fail(
      "/charts/cache",
      "charts.cache must be a directory path",
      "name a directory (relative to the repository)",
    );
  const apiVersions = chartsRaw.apiVersions ?? [];
  if (!Array.isArray(apiVersions) || apiVersions.some((v) => typeof v !== "string" || v === ""))
    fail(
      "/charts/apiVersions",
      "charts.apiVersions must be a list of strings",
      "e.g. gateway.networking.k8s.io/v1/HTTPRoute",
    );
  const positions: ConfigPosition[] = [];
  const listed = raw.kindsWithoutSchema;
  if (doc && Array.isArray(listed)) {
    listed.forEach((_, index) => {
      const p = pointerPosition(source, doc, `/validate/kindsWithoutSchema/${index}`);
      positions.push({ key: "kindsWithoutSchema", index, line: p.line, column: p.column });
    });
  }
  return {
    ...(kubernetesVersion !== undefined ? { kubernetesVersion: String(kubernetesVersion) } : {}),
    schemas: {
      crds: schemaStrings("crds"),
      locations: schemaStrings("locations"),
      ...(typeof schemasRaw.catalog === "string" ? { catalog: schemasRaw.catalog } : {}),
    },
    charts: {
      mirrors,
      apiVersions: apiVersions as string[],
      ...(typeof chartsRaw.cache === "string" ? { cache: chartsRaw.cache } : {}),
    },
    positions,
    ignore: strings("ignore"),
    nonResources: strings("nonResources"),
    rules,
    indentation: indentation as number,
    documentStart: documentStart as DocumentStartPolicy,
    ...(raw.lintEncrypted === true ? { lintEncrypted: true } : {}),
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
