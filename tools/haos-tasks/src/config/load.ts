import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { closest } from "../closest.ts";
import { type DiffConfig, diffConfigOf, type RawDiffSection } from "../diff/config.ts";
import {
  hasParseErrors,
  parsePointer,
  parseSourceFile,
  pointerPosition,
  pointerSegment,
  positionAt,
} from "../manifests/yaml-source.ts";
import { type RawReleaseSection, type ReleaseConfig, releaseConfigOf } from "../release/config.ts";
import { type RawValidateSections, type ValidateConfig, validateConfigOf } from "../validate/config.ts";
import checkSchema, { type SchemaViolation } from "./haos-tasks.schema.check.js";
import schema from "./haos-tasks.schema.json" with { type: "json" };
import { ConfigError, type ConfigProblem, type ConfigSite, configFileName, dottedPath } from "./site.ts";

/** .haos-tasks.yaml, read once: each capability's typed section, defaults filled in. */
export interface HaosTasksConfig {
  /** The file it was read from (repo-relative); absent when the repository has none. */
  file?: string;
  validate: ValidateConfig;
  release: ReleaseConfig;
  diff: DiffConfig;
}

/** The whole document as the schema admits it. */
type RawConfig = RawValidateSections & {
  release?: RawReleaseSection | null;
  diff?: RawDiffSection | null;
};

/** The schema node a violation's keyword sits in (its `$ref`s are local: `#/definitions/…`). */
function schemaNodeOf(schemaPath: string): SchemaNode {
  const segments = parsePointer(schemaPath.replace(/^#/, "")).slice(0, -1);
  let node: unknown = schema;
  for (const segment of segments) node = (node as Record<string, unknown> | undefined)?.[segment];
  return (node ?? {}) as SchemaNode;
}

/** The value at a JSON pointer of the checked document. */
function valueAt(data: unknown, segments: readonly string[]): unknown {
  let node = data;
  for (const segment of segments) node = (node as Record<string, unknown> | undefined)?.[segment];
  return node;
}

const typeWords: Record<string, string> = {
  boolean: "true or false",
  string: "a string",
  array: "a list",
  object: "a mapping",
  integer: "an integer",
  number: "a number",
  null: "empty",
};

const examples: Record<string, string> = {
  boolean: "true (or false)",
  string: '"<text>"',
  array: "[<item>, …]",
  object: "{<key>: <value>}",
  integer: "2",
};

interface SchemaNode {
  description?: string;
  errorMessage?: string;
  properties?: Record<string, unknown>;
}

/** One schema violation in our words, at its place: unknown keys with the closest known one. */
function problemOf(error: SchemaViolation, data: unknown, site: ConfigSite): ConfigProblem {
  const segments = parsePointer(error.instancePath);
  const where = dottedPath(segments, data);
  const subject = where === "" ? "the configuration" : where;
  const parent = schemaNodeOf(error.schemaPath);
  const at = (pointer: string, message: string, hint: string): ConfigProblem => ({
    file: site.file,
    ...site.position(pointer),
    message,
    hint,
  });
  if (error.keyword === "additionalProperties") {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const known = Object.keys(parent.properties ?? {});
    const guess = closest(key, known);
    return at(
      `${error.instancePath}/${pointerSegment(key)}`,
      `unknown key ${where === "" ? key : `${where}.${key}`}${guess ? `; did you mean ${guess}?` : ""}`,
      `known keys${where === "" ? "" : ` of ${where}`}: ${known.join(", ")}`,
    );
  }
  if (error.keyword === "required") {
    const key = String((error.params as { missingProperty: string }).missingProperty);
    return at(
      error.instancePath,
      `${where === "" ? key : `${where}.${key}`} is required`,
      `add ${key}: to ${subject}`,
    );
  }
  if (parent.errorMessage)
    return at(error.instancePath, `${subject} ${parent.errorMessage}`, parent.description ?? "fix the value");
  if (error.keyword === "type") {
    const types = String((error.params as { type: string }).type).split(",");
    const expected = types.filter((t) => t !== "null");
    return at(
      error.instancePath,
      `${subject} must be ${expected.map((t) => typeWords[t] ?? t).join(" or ")}`,
      `write ${subject} as ${expected.map((t) => examples[t] ?? t).join(" or ")}`,
    );
  }
  if (error.keyword === "enum") {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map(String);
    const value = valueAt(data, segments);
    const got = typeof value === "string" ? value : JSON.stringify(value);
    return at(
      error.instancePath,
      `${subject} must be one of ${allowed.join(", ")} (got '${got}')`,
      `write one of: ${allowed.join(", ")}`,
    );
  }
  if (error.keyword === "minLength")
    return at(
      error.instancePath,
      `${subject} must be a non-empty string`,
      `give ${subject} a value, or remove it`,
    );
  return at(
    error.instancePath,
    `${subject} ${error.message ?? "is not valid"}`,
    parent.description ?? "fix it",
  );
}

/**
 * Parses .haos-tasks.yaml text: checks the whole file against the schema (every violation, each at
 * its line), then hands each capability its typed section. Throws a ConfigError.
 */
export function parseConfig(text: string, file: string = configFileName): HaosTasksConfig {
  const source = parseSourceFile(text, file);
  const doc = source.documents[0];
  const fail = (line: number, column: number, message: string, hint: string): never => {
    throw new ConfigError([{ file, line, column, message, hint }]);
  };
  if (doc && hasParseErrors(doc)) {
    const first = doc.ast.errors[0];
    const at = positionAt(source, first?.pos[0] ?? 0);
    fail(
      at.line,
      at.column,
      `not valid YAML: ${first?.message ?? "unreadable"}`,
      `fix the YAML syntax of ${file}`,
    );
  }
  const site: ConfigSite = {
    file,
    position: (pointer) => (doc ? pointerPosition(source, doc, pointer) : { line: 1, column: 1 }),
    fail(pointer, message, hint) {
      const at = this.position(pointer);
      return fail(at.line, at.column, message, hint);
    },
  };
  const data = doc?.value ?? {};
  if (!checkSchema(data)) {
    const problems = (checkSchema.errors ?? [])
      .map((error) => problemOf(error, data, site))
      .filter((p, i, all) => all.findIndex((q) => q.message === p.message) === i)
      .sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ConfigError(problems);
  }
  const raw = (data ?? {}) as RawConfig;
  return {
    validate: validateConfigOf(raw, site),
    release: releaseConfigOf(raw.release ?? undefined, site),
    diff: diffConfigOf(raw.diff ?? undefined),
  };
}

/** Reads `<root>/.haos-tasks.yaml` once; no file means every section's defaults. */
export async function loadConfig(root: string): Promise<HaosTasksConfig> {
  const absolute = path.join(root, configFileName);
  if (!existsSync(absolute)) return parseConfig("", configFileName);
  return { ...parseConfig(await readFile(absolute, "utf8"), configFileName), file: configFileName };
}
