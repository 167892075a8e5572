import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { keepCacheEntry, readCacheEntry } from "../atomic-file.ts";
import { HintedError } from "../errors.ts";
import { runTool } from "../tools/run.ts";

/** One object to validate; `id` ties kubeconform's answer back to it. */
export interface SchemaInput {
  id: number;
  apiVersion: string;
  kind: string;
  name: string;
  object: Record<string, unknown>;
}

/** One error kubeconform reported at a JSON pointer of an object. */
export interface SchemaError {
  /** JSON pointer into the object; for unknown fields it names the field itself. */
  pointer: string;
  message: string;
  /** The unknown field name, for `additional properties … not allowed`. */
  additionalProperty?: string;
}

export interface SchemaResult {
  id: number;
  status: "invalid" | "error";
  message: string;
  errors: SchemaError[];
}

interface KubeconformResource {
  filename: string;
  kind: string;
  name: string;
  version: string;
  status: string;
  msg: string;
  validationErrors?: { path: string; msg: string }[];
}

export class KubeconformError extends HintedError {}

const additional = /^additional properties (.+) not allowed$/;

// jsonschema quotes like Go's %q, but with single quotes: `'` is escaped, `"` is not.
const goEscapes: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

/** The text inside one of jsonschema's single-quoted strings, unescaped. */
export function unquote(quoted: string): string {
  return quoted.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_, e: string) =>
    e.length > 1 ? String.fromCodePoint(Number.parseInt(e.slice(1), 16)) : (goEscapes[e] ?? e),
  );
}

/** Splits one validation error; an unknown-field error becomes one error per field, at the field. */
export function splitValidationError(pointer: string, message: string): SchemaError[] {
  const match = additional.exec(message);
  if (!match?.[1]) return [{ pointer, message }];
  const names = [...match[1].matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => unquote(m[1] ?? ""));
  return names.map((name) => ({
    pointer: `${pointer}/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`,
    message: `unknown field '${name}'`,
    additionalProperty: name,
  }));
}

interface Cause {
  depth: number;
  pointer: string;
  message: string;
}

// kubeconform's `msg` is jsonschema's whole error tree with newlines turned into spaces: each cause
// is ` <2 spaces per level>- at '<pointer>': <message>`. Quotes inside values are escaped, so the
// marker cannot come from the manifest's own text.
const causeMarker = / ( *)- at '((?:[^'\\]|\\.)*)': /g;

function causesOf(msg: string): Cause[] {
  const marks = [...msg.matchAll(causeMarker)];
  return marks.map((m, i) => ({
    depth: (m[1] ?? "").length / 2,
    pointer: unquote(m[2] ?? ""),
    message: msg.slice((m.index ?? 0) + m[0].length, marks[i + 1]?.index ?? msg.length),
  }));
}

// Only one branch of these has to hold, so their causes are reasons, not separate errors.
const alternatives = /^'(anyOf|oneOf|not)' failed/;

/**
 * Every leaf error of kubeconform's `msg`, at its own pointer. The JSON `validationErrors` holds
 * only the top-level causes ("…/containers/0: validation failed"); the detail is only in `msg`.
 */
export function leafErrors(msg: string): SchemaError[] {
  const causes = causesOf(msg);
  const errors: SchemaError[] = [];
  for (let i = 0; i < causes.length; i++) {
    const cause = causes[i] as Cause;
    let end = i + 1;
    while (end < causes.length && (causes[end] as Cause).depth > cause.depth) end++;
    if (alternatives.test(cause.message)) {
      const reasons = causes
        .slice(i + 1, end)
        .filter((c, j, below) => (below[j + 1]?.depth ?? -1) <= c.depth)
        .map((c) => (c.pointer === cause.pointer ? c.message : `${c.pointer}: ${c.message}`));
      const message = reasons.length > 0 ? `${cause.message}: ${reasons.join("; ")}` : cause.message;
      errors.push({ pointer: cause.pointer, message });
      i = end - 1;
    } else if (end === i + 1) {
      errors.push(...splitValidationError(cause.pointer, cause.message));
    }
  }
  return errors;
}

/**
 * How kubeconform names an object in its report: the name is `metadata.name`, so objects whose
 * name is not a plain string (or that use generateName) get a batch file of their own.
 */
function reportKey(input: SchemaInput): string | undefined {
  const metadata = input.object.metadata as Record<string, unknown> | undefined;
  const name = metadata?.name;
  if (typeof name !== "string" || name === "" || metadata?.generateName !== undefined) return undefined;
  if (typeof input.object.kind !== "string" || typeof input.object.apiVersion !== "string") return undefined;
  return `${String(input.object.kind)}\u0000${String(input.object.apiVersion)}\u0000${name}`;
}

/**
 * Objects in a few batch files: within a file every (kind, apiVersion, name) is unique, so
 * kubeconform's report (file, kind, version, name) names exactly one object. kubeconform reads
 * the files one after another, so 100,000 objects need a handful of open files, not 100,000.
 */
export function batchInputs(inputs: readonly SchemaInput[], batchSize = 2000): SchemaInput[][] {
  const batches: { items: SchemaInput[]; keys: Set<string> }[] = [];
  const singles: SchemaInput[][] = [];
  for (const input of inputs) {
    const key = reportKey(input);
    if (key === undefined) {
      singles.push([input]);
      continue;
    }
    let batch = batches.find((b) => b.items.length < batchSize && !b.keys.has(key));
    if (!batch) {
      batch = { items: [], keys: new Set() };
      batches.push(batch);
    }
    batch.items.push(input);
    batch.keys.add(key);
  }
  return [...batches.map((b) => b.items), ...singles];
}

/**
 * Runs the real `kubeconform -strict -output json` once over every object, written as a few
 * multi-document batch files; each answer is tied back to its object by file, kind, version and
 * name. `schemaLocation` may name several locations, tried in order as kubeconform does.
 */
export async function runKubeconform(
  inputs: readonly SchemaInput[],
  options: {
    kubeconform: string;
    schemaLocation: string | readonly string[];
    concurrency?: number;
    batchSize?: number;
    /** Called once kubeconform has started (the caller may do other work while it checks). */
    onStart?: () => void;
    /** Answers kept from earlier runs with the same schemas (see KubeconformCache). */
    cache?: KubeconformCache;
  },
): Promise<SchemaResult[]> {
  if (inputs.length === 0) return [];
  if (options.cache) return await cachedKubeconform(inputs, { ...options, cache: options.cache });
  const tmp = await mkdtemp(path.join(os.tmpdir(), "haos-tasks-kubeconform-"));
  try {
    const owners = new Map<string, number>();
    const singleFiles = new Map<string, number>();
    const batches = batchInputs(inputs, options.batchSize);
    // One file written at a time: the write itself must not need many descriptors either.
    for (const [i, batch] of batches.entries()) {
      const file = path.join(tmp, `batch-${i}.yaml`);
      for (const input of batch) {
        const key = reportKey(input);
        if (key === undefined) singleFiles.set(file, input.id);
        else owners.set(`${file}\u0000${key}`, input.id);
      }
      await writeFile(file, batch.map((input) => JSON.stringify(input.object)).join("\n---\n"));
    }
    // One kubeconform worker per core (its default is 4 whatever the machine).
    const args = [
      "-strict",
      "-output",
      "json",
      "-n",
      String(options.concurrency ?? os.availableParallelism()),
    ];
    const locations =
      typeof options.schemaLocation === "string" ? [options.schemaLocation] : options.schemaLocation;
    for (const location of locations) args.push("-schema-location", location);
    args.push(tmp);
    const run = await runTool(options.kubeconform, args, {}, options.onStart);
    if (run.exitCode === undefined || run.exitCode > 1) {
      throw new KubeconformError(
        `kubeconform failed (exit ${String(run.exitCode)}): ${String(run.stderr || run.failure?.message).trim()}`,
        "run `npm run bootstrap -- validate` to reinstall the pinned kubeconform",
      );
    }
    let report: { resources?: KubeconformResource[] };
    try {
      report = JSON.parse(String(run.stdout)) as { resources?: KubeconformResource[] };
    } catch {
      throw new KubeconformError(
        `kubeconform printed no JSON report: ${String(run.stdout).slice(0, 200)}`,
        "check the pinned kubeconform version (tools/bootstrap/versions.env)",
      );
    }
    const results: SchemaResult[] = [];
    for (const r of report.resources ?? []) {
      if (r.status !== "statusInvalid" && r.status !== "statusError") continue;
      const id =
        singleFiles.get(r.filename) ??
        owners.get(`${r.filename}\u0000${r.kind}\u0000${r.version}\u0000${r.name}`);
      // Dropping it would pass an invalid object; a report we cannot place is a tool failure.
      if (id === undefined) {
        throw new KubeconformError(
          `kubeconform reported an object validate did not write: ${r.filename} ${r.kind} ${r.name}: ${r.msg}`,
          "check the pinned kubeconform version (tools/bootstrap/versions.env)",
        );
      }
      results.push({
        id,
        status: r.status === "statusInvalid" ? "invalid" : "error",
        message: r.msg,
        errors: errorsOf(r),
      });
    }
    return results;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

// Prefer the leaves of the full tree in `msg`; the top-level causes only if it has none.
function errorsOf(r: KubeconformResource): SchemaError[] {
  const leaves = r.status === "statusInvalid" ? leafErrors(r.msg) : [];
  if (leaves.length > 0) return leaves;
  return (r.validationErrors ?? []).flatMap((e) => splitValidationError(e.path, e.msg));
}

/**
 * kubeconform's answers kept between runs: one file per schema set (`identity`: the kubeconform
 * binary, the catalog location — its folder is named by its content — and the content of every
 * external schema written for the run), mapping each object's digest (its JSON) to its answer
 * (null: valid). Only objects not kept are checked; their answers are added. The file is replaced
 * whole (atomic-file.ts); one that does not read back is empty. A warm run of an
 * unchanged repository starts no kubeconform at all.
 */
export interface KubeconformCache {
  dir: string;
  identity: string;
}

type KeptAnswer = Omit<SchemaResult, "id"> | null;

/** Entries a cache file keeps at most (a repository's objects many times over); beyond, it starts again. */
const maxKeptAnswers = 500_000;

async function cachedKubeconform(
  inputs: readonly SchemaInput[],
  options: Parameters<typeof runKubeconform>[1] & { cache: KubeconformCache },
): Promise<SchemaResult[]> {
  const { cache } = options;
  const file = path.join(cache.dir, `${createHash("sha256").update(cache.identity).digest("hex")}.json`);
  const entry = await readCacheEntry(file);
  let kept: Record<string, KeptAnswer> =
    entry?.identity === cache.identity && entry.answers && typeof entry.answers === "object"
      ? (entry.answers as Record<string, KeptAnswer>)
      : {};
  const keys = inputs.map((input) => createHash("sha256").update(JSON.stringify(input.object)).digest("hex"));
  const missing = inputs.filter((_, i) => !Object.hasOwn(kept, keys[i] as string));
  const { cache: _cache, ...plain } = options;
  // Nothing to check: what waits for kubeconform's start goes on at once.
  if (missing.length === 0) options.onStart?.();
  const fresh = missing.length > 0 ? await runKubeconform(missing, plain) : [];
  const freshIds = new Set(missing.map((m) => m.id));
  if (missing.length > 0) {
    const byId = new Map(fresh.map((r) => [r.id, r]));
    if (Object.keys(kept).length + missing.length > maxKeptAnswers) kept = {};
    inputs.forEach((input, i) => {
      const key = keys[i] as string;
      if (!freshIds.has(input.id)) return;
      const result = byId.get(input.id);
      kept[key] = result ? { status: result.status, message: result.message, errors: result.errors } : null;
    });
    await keepCacheEntry(file, { identity: cache.identity, answers: kept });
  }
  const results: SchemaResult[] = fresh.slice();
  inputs.forEach((input, i) => {
    if (freshIds.has(input.id)) return;
    const answer = kept[keys[i] as string];
    if (answer) results.push({ ...answer, id: input.id });
  });
  return results.sort((a, b) => a.id - b.id);
}
