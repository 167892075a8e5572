import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

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

export class KubeconformError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

const additional = /^additional properties (.+) not allowed$/;

/** Splits one validation error; an unknown-field error becomes one error per field, at the field. */
export function splitValidationError(pointer: string, message: string): SchemaError[] {
  const match = additional.exec(message);
  if (!match?.[1]) return [{ pointer, message }];
  const names = [...match[1].matchAll(/'([^']*)'/g)].map((m) => m[1] ?? "");
  return names.map((name) => ({
    pointer: `${pointer}/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`,
    message: `unknown field '${name}'`,
    additionalProperty: name,
  }));
}

const identity = (version: string, kind: string, name: string) => `${version}\u0000${kind}\u0000${name}`;

/**
 * Runs the real `kubeconform -strict -output json` once over every object. Objects are written as
 * JSON documents into a few files, each file holding at most one object per apiVersion/kind/name,
 * because kubeconform reports only the file and that triple (in no fixed order).
 */
export async function runKubeconform(
  inputs: readonly SchemaInput[],
  options: { kubeconform: string; schemaLocation: string; concurrency?: number },
): Promise<SchemaResult[]> {
  if (inputs.length === 0) return [];
  const tmp = await mkdtemp(path.join(os.tmpdir(), "haos-tasks-kubeconform-"));
  try {
    const files: { path: string; ids: Map<string, number>; docs: string[] }[] = [];
    const target = Math.max(1, Math.ceil(inputs.length / (options.concurrency ?? 2)));
    for (const input of inputs) {
      const key = identity(input.apiVersion, input.kind, input.name);
      let file = files.find((f) => f.docs.length < target && !f.ids.has(key));
      if (!file) {
        file = { path: path.join(tmp, `objects-${files.length}.yaml`), ids: new Map(), docs: [] };
        files.push(file);
      }
      file.ids.set(key, input.id);
      file.docs.push(JSON.stringify(input.object));
    }
    await Promise.all(files.map((f) => writeFile(f.path, `${f.docs.join("\n---\n")}\n`)));
    const args = ["-strict", "-output", "json", "-n", String(options.concurrency ?? 2)];
    args.push("-schema-location", options.schemaLocation, ...files.map((f) => f.path));
    const run = await execa(options.kubeconform, args, { reject: false, maxBuffer: 1024 * 1024 * 1024 });
    if (run.exitCode === undefined || run.exitCode > 1) {
      throw new KubeconformError(
        `kubeconform failed (exit ${String(run.exitCode)}): ${String(run.stderr || run.message).trim()}`,
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
    const byPath = new Map(files.map((f) => [f.path, f]));
    const results: SchemaResult[] = [];
    for (const r of report.resources ?? []) {
      if (r.status !== "statusInvalid" && r.status !== "statusError") continue;
      const id = byPath.get(r.filename)?.ids.get(identity(r.version, r.kind, r.name));
      if (id === undefined) continue;
      results.push({
        id,
        status: r.status === "statusInvalid" ? "invalid" : "error",
        message: r.msg,
        errors: (r.validationErrors ?? []).flatMap((e) => splitValidationError(e.path, e.msg)),
      });
    }
    return results;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
