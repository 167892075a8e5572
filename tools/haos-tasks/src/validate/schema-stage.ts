import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { configFileName } from "../config/site.ts";
import type { Finding } from "../findings.ts";
import { at, describeSubject, type Subject } from "../lint/platform/subject.ts";
import { finding } from "../lint/rules.ts";
import { apiGroup } from "../manifests/resources.ts";
import { binaryIdentity } from "../tools/paths.ts";
import type { ConfigPosition, KindWithoutSchema, ValidateConfig } from "./config.ts";
import { runKubeconform, type SchemaInput } from "./kubeconform.ts";
import {
  resolveExternalSchemas,
  type SchemaSourceOptions,
  type UnmatchedLocation,
} from "./schema-sources.ts";

/** The part of the schema catalog validate needs (src/schemas/catalog.ts provides it). */
export interface CatalogLike {
  /** Value for kubeconform's -schema-location. */
  location: string;
  /** `<apiVersion>/<Kind>` → schema file. */
  kinds: ReadonlyMap<string, string>;
}

export interface SchemaStageOptions {
  kubeconform: string;
  /** Missing schemas are errors, external roots are closed. */
  strict?: boolean;
  /** Sources beyond the pinned catalog; absent: the pinned catalog only. */
  sources?: SchemaSourceOptions;
  /** Where each kindsWithoutSchema entry sits in .haos-tasks.yaml. */
  positions?: readonly ConfigPosition[];
  /** Called once kubeconform has started (not at all when nothing needs a schema check). */
  onKubeconformStart?: () => void;
  /**
   * Given, locations are handed here instead of reported (a run with several schema groups says
   * a location resolved nothing only when it resolved nothing in all of them).
   */
  onLocations?: (answered: readonly string[], unmatched: readonly UnmatchedLocation[]) => void;
  /** Where kubeconform's answers are kept between runs (see KubeconformCache); none when undefined. */
  kubeconformCache?: string;
}

/**
 * What kubeconform's answers depend on besides the object: its binary, the catalog (its folder is
 * named by its content) and the content of every external schema written for this run (repository
 * CRDs, schema locations, a cluster catalog). Undefined when the binary cannot be looked at.
 */
function schemaSetIdentity(kubeconform: string, catalogLocation: string, externalDir: string | undefined) {
  const binary = binaryIdentity(kubeconform);
  if (!binary) return undefined;
  const hash = createHash("sha256").update(`${binary}\0${catalogLocation}\0`);
  if (externalDir) {
    const files = (readdirSync(externalDir, { recursive: true }) as string[]).sort();
    for (const rel of files) {
      const file = path.join(externalDir, rel);
      if (!statSync(file).isFile()) continue;
      hash.update(`${rel}\0`).update(readFileSync(file)).update("\0");
    }
  }
  return hash.digest("hex");
}

/**
 * Where a location is written: its line in .haos-tasks.yaml (schemas.locations), else nowhere in
 * the repository (a --schema-location flag): no file, never a file that does not exist.
 */
function locationAnchor(location: string, root: string): { file?: string; line?: number; column?: number } {
  const file = path.join(root, configFileName);
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, "utf8").split("\n");
  const index = lines.findIndex((l) => l.includes(location));
  return index < 0
    ? {}
    : { file: configFileName, line: index + 1, column: (lines[index]?.indexOf(location) ?? 0) + 1 };
}

/** The schema/source warning for a location that answered none of the kinds asked of it. */
export function unmatchedLocationFinding(miss: UnmatchedLocation, root: string): Finding {
  const kinds = miss.asked.slice(0, 3).join(", ") + (miss.asked.length > 3 ? ", …" : "");
  return finding(
    "schema/source",
    locationAnchor(miss.location, root),
    `schema location ${miss.location} resolved none of the ${miss.asked.length} kinds asked of it (${kinds})${miss.reason ? `: ${miss.reason}` : ""}`,
    miss.reason
      ? "fix the --schema-location (or schemas.locations) value"
      : "check the location's layout against a kind it should have (e.g. open the file the template names), or drop the location",
  );
}

const isCozystackOwnKind = (subject: Subject) =>
  apiGroup(subject.apiVersion) === "cozystack.io" &&
  subject.renderedBy !== undefined &&
  apiGroup(subject.renderedBy.owner.apiVersion) === "apps.cozystack.io";

/** What the catalog users point kubeconform at; printed in the fix of a missing schema. */
export const communityCatalog =
  "https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json";

/**
 * Whether a kindsWithoutSchema entry covers `<apiVersion>/<Kind>`: a bare Kind, an exact GVK, or a
 * glob over group/version/kind where a shorter pattern covers everything below it
 * (`cilium.io/*` = every version and kind of cilium.io, `*.cert-manager.io/v1` = its v1 kinds).
 */
export function coversKind(pattern: string, gvk: string, kind: string): boolean {
  if (!pattern.includes("/") && !/[*?[]/.test(pattern)) return pattern === kind;
  return [pattern, `${pattern}/*`, `${pattern}/*/*`].some((p) => path.posix.matchesGlob(gvk, p));
}

const gvkOf = (s: Subject) => `${s.apiVersion}/${s.kind}`;

/**
 * A value that the API server drops (null) is not part of the object kubeconform should judge.
 * Values without nulls are returned as they are (not copied): 55,000 objects need no second copy.
 */
export function withoutNulls(value: unknown): unknown {
  // Plain loops, and a copy only from the first change on: 55,000 objects made Object.entries'
  // pairs for every node, about 0.2 s.
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const cleaned = v !== null && typeof v === "object" ? withoutNulls(v) : v;
      if (cleaned !== v) {
        out ??= value.slice();
        out[i] = cleaned;
      }
    }
    return out ?? value;
  }
  if (value && typeof value === "object") {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    let out: Record<string, unknown> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      const v = object[k];
      const c = v !== null && typeof v === "object" ? withoutNulls(v) : v;
      // A "__proto__" key would set the copy's prototype if assigned: it is left out (it makes the copy).
      if (out === undefined && (v === null || c !== v || k === "__proto__")) {
        out = {};
        for (let j = 0; j < i; j++) out[keys[j] as string] = object[keys[j] as string];
      }
      if (out !== undefined && c !== null && k !== "__proto__") out[k] = c;
    }
    return out ?? value;
  }
  return value;
}

/** The value at a JSON pointer. */
function valueAt(object: unknown, pointer: string): unknown {
  let node = object;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * flux-operator extends notification-controller's CRDs it installs: Alert event sources and
 * Receiver resources may name its kinds too, which Flux's own published schemas do not list.
 */
const fluxOperatorKinds = new Set(["FluxInstance", "FluxReport", "ResourceSet", "ResourceSetInputProvider"]);

function fluxOperatorKind(subject: Subject, pointer: string): boolean {
  if (apiGroup(subject.apiVersion) !== "notification.toolkit.fluxcd.io") return false;
  const path =
    subject.kind === "Alert"
      ? /^\/spec\/eventSources\/\d+\/kind$/
      : subject.kind === "Receiver"
        ? /^\/spec\/resources\/\d+\/kind$/
        : undefined;
  if (!path?.test(pointer)) return false;
  const value = valueAt(subject.object, pointer);
  return typeof value === "string" && fluxOperatorKinds.has(value);
}

/** Whether a value (or anything below it) still holds `${NAME…` of an unresolved variable. */
function holdsUnresolved(value: unknown, names: readonly string[]): string | undefined {
  if (typeof value === "string")
    return names.find((n) => new RegExp(`\\$\\{${n}(?![A-Za-z0-9_])`).test(value));
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) {
      const hit = holdsUnresolved(v, names);
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * Validates every subject with the real kubeconform against the pinned catalog and the further
 * sources. A kind no source has a schema for is reported once (count, first place, where to get a
 * schema): a warning, an error under --strict; kindsWithoutSchema entries silence it with a reason.
 */
export async function schemaFindings(
  subjects: readonly Subject[],
  catalog: CatalogLike,
  config: ValidateConfig,
  options: SchemaStageOptions,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  // With CRD files in the repository, the catalog's kinds are asked of them too: the CRD the
  // repository ships (a fork's, a newer one) is the one its cluster runs, and wins.
  const withCrds = (options.sources?.crdFiles.length ?? 0) > 0;
  const candidates = [...new Set(subjects.map(gvkOf))].filter((gvk) => withCrds || !catalog.kinds.has(gvk));
  const tmp = await mkdtemp(path.join(os.tmpdir(), "haos-tasks-schemas-"));
  try {
    const external = options.sources
      ? await resolveExternalSchemas(candidates, tmp, {
          ...options.sources,
          strict: options.strict ?? false,
          catalogKinds: catalog.kinds,
        })
      : undefined;
    for (const failure of external?.failures ?? []) {
      findings.push(
        finding(
          "schema/source",
          // At its line in .haos-tasks.yaml; from the flag, against the configuration (shown for any paths).
          locationAnchor(failure.location, options.sources?.root ?? ".").file
            ? locationAnchor(failure.location, options.sources?.root ?? ".")
            : { file: configFileName, line: 1, column: 1 },
          `schema location ${failure.location} could not be read (${failure.reason}); kinds only it has stay unchecked`,
          "check the network or the path, or point --schema-location at a local copy of the catalog",
        ),
      );
    }
    // A location that answers nothing is said: a missing folder or a folder given without its
    // template otherwise changes nothing, silently.
    if (options.onLocations) options.onLocations(external?.answered ?? [], external?.unmatched ?? []);
    else
      for (const miss of external?.unmatched ?? [])
        findings.push(unmatchedLocationFinding(miss, options.sources?.root ?? "."));
    if (external && external.closedRoots.length > 0) {
      findings.push(
        finding(
          "schema/strict-root",
          { file: configFileName, line: 1, column: 1 },
          `--strict: closed the open root of ${external.closedRoots.length} external schemas (${external.closedRoots.slice(0, 3).join(", ")}${external.closedRoots.length > 3 ? ", …" : ""}) as the pinned catalog's are, so a misspelt top-level key fails`,
          "nothing to fix; without --strict those roots stay as published",
        ),
      );
    }
    const has = (gvk: string) => catalog.kinds.has(gvk) || (external?.sourceOf.has(gvk) ?? false);
    const used = new Set<KindWithoutSchema>();
    const missing = new Map<string, Subject[]>();
    const inputs: SchemaInput[] = [];
    subjects.forEach((subject, id) => {
      const gvk = gvkOf(subject);
      if (!has(gvk)) {
        // CozyStack's own kinds its app charts render (the WorkloadMonitor of every VMDisk and
        // VMInstance) have no published schema the lock could pin; the app itself is checked
        // against its chart's values schema, and its rendered workloads are checked here.
        if (isCozystackOwnKind(subject)) return;
        const entry = config.kindsWithoutSchema.find((k) => coversKind(k.kind, gvk, subject.kind));
        if (entry) used.add(entry);
        else missing.set(gvk, [...(missing.get(gvk) ?? []), subject]);
        return;
      }
      inputs.push({
        id,
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        name: subject.name,
        object: withoutNulls(subject.object) as Record<string, unknown>,
      });
    });
    for (const [gvk, list] of missing) {
      const first = list[0] as Subject;
      const group = apiGroup(first.apiVersion) || "core";
      findings.push({
        ...finding(
          "schema/missing",
          at(first, "/kind"),
          `no schema for ${gvk}: ${list.length} object${list.length === 1 ? "" : "s"} not schema-checked (first here)`,
          `add a schema source: --schema-location '${communityCatalog}' (or schemas.locations in ${configFileName}), the CRD file under schemas.crds, or a catalog from \`haos-tasks schemas sync --from-cluster\`; or list '${group}/*' under validate.kindsWithoutSchema with a reason`,
        ),
        ...(options.strict ? { severity: "error" as const } : {}),
      });
    }
    config.kindsWithoutSchema.forEach((entry, i) => {
      if (used.has(entry)) return;
      const where = options.positions?.find((p) => p.key === "kindsWithoutSchema" && p.index === i);
      findings.push(
        finding(
          "config/unmatched",
          { file: configFileName, line: where?.line ?? 1, column: where?.column ?? 1 },
          `validate.kindsWithoutSchema '${entry.kind}' matches no object without a schema`,
          "remove the entry, or fix the pattern (group/version/Kind globs: 'cilium.io/*', 'monitoring.coreos.com/v1/*')",
        ),
      );
    });
    // The external folder first: it holds the catalog's kinds only where a repository CRD overrides them.
    const locations = [
      ...(external && external.sourceOf.size > 0 ? [external.location] : []),
      catalog.location,
    ];
    const identity = options.kubeconformCache
      ? schemaSetIdentity(options.kubeconform, catalog.location, external ? tmp : undefined)
      : undefined;
    const results = await runKubeconform(inputs, {
      kubeconform: options.kubeconform,
      schemaLocation: locations,
      ...(options.onKubeconformStart ? { onStart: options.onKubeconformStart } : {}),
      ...(options.kubeconformCache && identity ? { cache: { dir: options.kubeconformCache, identity } } : {}),
    });
    const skipped = new Map<string, { subject: Subject; names: Set<string> }>();
    for (const result of results) {
      const subject = subjects[result.id];
      if (!subject) continue;
      const what = describeSubject(subject);
      if (result.errors.length === 0) {
        const rule = /could not find schema/.test(result.message) ? "schema/missing" : "schema/error";
        findings.push(
          finding(rule, at(subject, "/kind"), `${what}: ${result.message}`, "check apiVersion and kind"),
        );
        continue;
      }
      for (const error of result.errors) {
        if (fluxOperatorKind(subject, error.pointer)) continue;
        // A field that still holds a variable Flux resolves from outside the repository cannot be
        // judged offline: it stays unchecked (one info per object), never a false error.
        const unresolved = subject.unresolved?.length
          ? holdsUnresolved(
              valueAt(subject.object, error.additionalProperty === undefined ? error.pointer : ""),
              subject.unresolved,
            )
          : undefined;
        if (unresolved && error.additionalProperty === undefined) {
          const key = `${subject.file}\u0000${subject.apiVersion}\u0000${subject.kind}\u0000${subject.namespace}\u0000${subject.name}`;
          const entry = skipped.get(key) ?? { subject, names: new Set<string>() };
          entry.names.add(unresolved);
          skipped.set(key, entry);
          continue;
        }
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
    for (const { subject, names } of skipped.values()) {
      findings.push(
        finding(
          "flux/unresolved-substitution",
          at(subject, "/metadata/name"),
          `${subject.kind} ${subject.name}: fields using ${[...names].map((n) => `\${${n}}`).join(", ")} not schema-checked: the value comes from postBuild.substituteFrom${subject.substitutedBy ? ` of ${subject.substitutedBy}` : ""} and cannot be resolved offline`,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Flux syntax, printed as is
          "nothing to fix; add the ConfigMap/Secret to the repository (or a default, ${VAR:=value}) to have it checked",
        ),
      );
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return findings;
}
