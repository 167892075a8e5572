import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { readCatalogIndex, schemaFile, schemaLocation } from "../schemas/catalog-dir.ts";
import { convertCrd, isCrd } from "../schemas/convert/crd.ts";
import { isRecord, type JsonSchema, kindKey } from "../schemas/convert/types.ts";
import { isUrl, type LocationReader, normaliseLocation } from "../schemas/locations.ts";
import { strictSchema } from "../schemas/strict.ts";

/**
 * Where schemas come from, tried in this order for every kind (documented in `validate --help`):
 *   1. the pinned catalog (schemas.lock.json, converted and closed by us);
 *   2. the repository's own CRD files (`schemas.crds` globs), converted like the pinned CRDs;
 *   3. kubeconform-style locations (`--schema-location`, then `schemas.locations`);
 *   4. the catalog `schemas sync --from-cluster` wrote (`--catalog` / `schemas.catalog`).
 */
export interface SchemaSourceOptions {
  /** Absolute repository root; relative globs and directories resolve against it. */
  root: string;
  crdFiles: readonly string[];
  locations: readonly string[];
  clusterCatalog?: string;
  kubernetesVersion: string;
  /** Close the open root of external schemas (they leave misspelt top-level keys passing). */
  strict: boolean;
  reader: LocationReader;
  /** Kinds the pinned catalog has: only a repository CRD overrides them, no location is asked. */
  catalogKinds?: ReadonlyMap<string, string>;
}

export interface ExternalSchemas {
  /** kubeconform location of the directory the external schemas were written to. */
  location: string;
  /** `<apiVersion>/<Kind>` → which source answered (for messages). */
  sourceOf: Map<string, string>;
  /** External kinds whose open root was closed (strict mode). */
  closedRoots: string[];
  /** Locations that could not be read at all (e.g. no network), once each. */
  failures: { location: string; reason: string }[];
  /** Locations asked for kinds that answered none of them, and why that may be (a misconfiguration). */
  unmatched: UnmatchedLocation[];
  /** Locations that answered at least one kind. */
  answered: string[];
}

export interface UnmatchedLocation {
  location: string;
  asked: string[];
  reason?: string;
}

/**
 * Why a local location may answer nothing: its folder does not exist, or it is a folder given
 * without a `{{…}}` template, which kubeconform (and validate) read as the
 * `<version>-standalone/<kind>.json` layout — while the catalog inside is laid out differently.
 */
export function locationProblem(location: string, root: string): string | undefined {
  if (location === "default" || isUrl(location)) return undefined;
  const templated = location.includes("{{");
  // The folder part: up to the last `/` before the first template variable.
  const folder = path.resolve(
    root,
    templated ? path.dirname(`${location.slice(0, location.indexOf("{{"))}x`) : location,
  );
  if (!existsSync(folder)) return `the folder ${folder} does not exist`;
  if (templated || location.endsWith("json") || !statSync(folder).isDirectory()) return undefined;
  const groups = readdirSync(folder, { withFileTypes: true }).some(
    (e) => e.isDirectory() && e.name.includes("."),
  );
  return groups
    ? `a folder without a {{…}} template is read as <version>-standalone/<kind>.json; this one holds API groups: give ${location.replace(/\/+$/, "")}/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`
    : "a folder without a {{…}} template is read as <version>-standalone[-strict]/<kind>-<group>-<version>.json, which it does not hold";
}

const splitGvk = (gvk: string): { apiVersion: string; kind: string } => {
  const cut = gvk.lastIndexOf("/");
  return { apiVersion: gvk.slice(0, cut), kind: gvk.slice(cut + 1) };
};

const groupVersion = (apiVersion: string): { group: string; version: string } => {
  const parts = apiVersion.split("/");
  return parts.length > 1
    ? { group: parts[0] ?? "", version: parts[1] ?? "" }
    : { group: "", version: parts[0] ?? "" };
};

/** A root left open (no `additionalProperties`) closed like our own: apiVersion/kind/metadata kept. */
export function closeRoot(schema: JsonSchema): { schema: JsonSchema; closed: boolean } {
  if (schema.additionalProperties !== undefined || !isRecord(schema.properties)) {
    return { schema, closed: false };
  }
  return {
    schema: {
      ...schema,
      properties: {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: { type: "object" },
        ...schema.properties,
      },
      additionalProperties: false,
    },
    closed: true,
  };
}

/** The repository's CRD files, converted like the pinned CRDs (strict). */
async function crdSchemas(
  files: readonly string[],
): Promise<Map<string, { schema: JsonSchema; file: string }>> {
  const out = new Map<string, { schema: JsonSchema; file: string }>();
  for (const file of files) {
    const text = await readFile(file, "utf8");
    for (const doc of parseAllDocuments(text)) {
      const value = doc.toJS() as unknown;
      if (!isCrd(value)) continue;
      for (const converted of convertCrd(value)) {
        const key = kindKey(converted);
        if (!out.has(key))
          out.set(key, { schema: strictSchema(converted.schema, { ...converted, origin: "crd" }), file });
      }
    }
  }
  return out;
}

/**
 * Finds schemas for the kinds the pinned catalog lacks and writes them to `outDir` in the catalog
 * layout, so kubeconform reads them as its second location.
 */
export async function resolveExternalSchemas(
  missing: readonly string[],
  outDir: string,
  options: SchemaSourceOptions,
): Promise<ExternalSchemas> {
  const result: ExternalSchemas = {
    location: schemaLocation(outDir),
    sourceOf: new Map(),
    closedRoots: [],
    failures: [],
    unmatched: [],
    answered: [],
  };
  if (missing.length === 0) return result;
  const write = async (gvk: string, schema: JsonSchema | string, from: string) => {
    const { apiVersion, kind } = splitGvk(gvk);
    const file = schemaFile(outDir, { ...groupVersion(apiVersion), kind });
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, typeof schema === "string" ? schema : JSON.stringify(schema));
    result.sourceOf.set(gvk, from);
  };
  const crds = options.crdFiles.length > 0 ? await crdSchemas(options.crdFiles) : new Map();
  const cluster = options.clusterCatalog ? await readCatalogIndex(options.clusterCatalog) : undefined;
  const failed = new Set<string>();
  const asked = new Map<string, string[]>();
  const answered = new Set<string>();
  for (const gvk of missing) {
    const crd = crds.get(gvk);
    if (crd) {
      await write(gvk, crd.schema, path.relative(options.root, crd.file));
      continue;
    }
    if (options.catalogKinds?.has(gvk)) continue;
    let found = false;
    for (const location of options.locations) {
      if (failed.has(location)) continue;
      const lookup = await options.reader.read(
        location,
        { ...splitGvk(gvk), kubernetesVersion: options.kubernetesVersion, strict: true },
        options.root,
      );
      if (lookup.failure) {
        failed.add(location);
        result.failures.push({ location: normaliseLocation(location), reason: lookup.failure });
        continue;
      }
      asked.set(location, [...(asked.get(location) ?? []), gvk]);
      if (lookup.text === undefined) continue;
      answered.add(location);
      let schema: JsonSchema | string = lookup.text;
      if (options.strict) {
        try {
          const parsed = JSON.parse(lookup.text) as JsonSchema;
          const closed = closeRoot(parsed);
          if (closed.closed) result.closedRoots.push(gvk);
          schema = closed.schema;
        } catch {
          // Not JSON: kubeconform reports it as a schema error for the objects of this kind.
        }
      }
      await write(gvk, schema, location);
      found = true;
      break;
    }
    if (found || !cluster || !options.clusterCatalog) continue;
    const rel = cluster.kinds[gvk];
    if (rel) {
      await write(
        gvk,
        await readFile(path.join(options.clusterCatalog, rel), "utf8"),
        options.clusterCatalog,
      );
    }
  }
  result.answered = [...answered];
  for (const [location, kinds] of asked) {
    if (answered.has(location) || failed.has(location)) continue;
    const reason = locationProblem(location, options.root);
    result.unmatched.push({ location, asked: kinds, ...(reason ? { reason } : {}) });
  }
  return result;
}
