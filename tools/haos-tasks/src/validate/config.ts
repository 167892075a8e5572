import type { ConfigSite } from "../config/site.ts";
import type { Severity } from "../findings.ts";
import type { DocumentStartPolicy } from "../lint/documents.ts";
import { ruleInfo } from "../lint/rules.ts";
import { toPointer } from "../manifests/yaml-source.ts";

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

/** The sections validate reads (`validate:`, `schemas:`, `charts:`), as the schema admits them. */
export interface RawValidateSections {
  validate?: {
    ignore?: string[];
    nonResources?: string[];
    rules?: Record<string, Severity | "off">;
    indentation?: number;
    documentStart?: DocumentStartPolicy;
    lintEncrypted?: boolean;
    kindsWithoutSchema?: KindWithoutSchema[];
    external?: (Omit<ExternalObject, "namespace"> & { namespace?: string })[];
    kubernetesVersion?: string;
  } | null;
  schemas?: { mirror?: string; crds?: string[]; locations?: string[]; catalog?: string } | null;
  charts?: { mirrors?: string[]; cache?: string; apiVersions?: string[] } | null;
}

/**
 * validate's typed configuration from the schema-checked sections: defaults, the rule ids the
 * catalog knows, chart mirrors parsed, and where each kindsWithoutSchema entry sits.
 */
export function validateConfigOf(raw: RawValidateSections, site: ConfigSite): ValidateConfig {
  const section = raw.validate ?? {};
  const schemas = raw.schemas ?? {};
  const charts = raw.charts ?? {};
  for (const id of Object.keys(section.rules ?? {})) {
    if (!ruleInfo(id))
      site.fail(
        toPointer(["validate", "rules", id]),
        `unknown rule '${id}'`,
        "see `haos-tasks validate --help` for rule ids",
      );
  }
  const mirrors = (charts.mirrors ?? []).map((m, i) => {
    const parsed = parseChartMirror(m);
    if (parsed) return parsed;
    return site.fail(
      `/charts/mirrors/${i}`,
      `charts.mirrors entry ${JSON.stringify(m)} is not ORIGIN=URL`,
      "write e.g. oci://ghcr.io/bjw-s-labs=http://127.0.0.1:5000/bjw-s-labs or https://charts.example.com=https://mirror.example.com/charts",
    );
  });
  const kindsWithoutSchema = section.kindsWithoutSchema ?? [];
  return {
    ...(section.kubernetesVersion !== undefined ? { kubernetesVersion: section.kubernetesVersion } : {}),
    schemas: {
      crds: schemas.crds ?? [],
      locations: schemas.locations ?? [],
      ...(schemas.catalog !== undefined ? { catalog: schemas.catalog } : {}),
    },
    charts: {
      mirrors,
      apiVersions: charts.apiVersions ?? [],
      ...(charts.cache !== undefined ? { cache: charts.cache } : {}),
    },
    positions: kindsWithoutSchema.map((_, index) => {
      const p = site.position(`/validate/kindsWithoutSchema/${index}`);
      return { key: "kindsWithoutSchema", index, line: p.line, column: p.column };
    }),
    ignore: section.ignore ?? [],
    nonResources: section.nonResources ?? [],
    rules: { ...section.rules },
    indentation: section.indentation ?? 2,
    documentStart: section.documentStart ?? "allow",
    ...(section.lintEncrypted === true ? { lintEncrypted: true } : {}),
    kindsWithoutSchema: kindsWithoutSchema.map((k) => ({ kind: k.kind, reason: k.reason })),
    external: (section.external ?? []).map((e) => ({
      kind: e.kind,
      name: e.name,
      namespace: e.namespace ?? "",
      reason: e.reason,
    })),
  };
}
