import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parse, parseAllDocuments } from "yaml";
import { relativePath } from "./workspace.ts";

/** An object as `kubectl kustomize` rendered it, with the source file it came from. */
export interface BuiltResource {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  /** The rendered object without the annotations validate added to trace it. */
  object: Record<string, unknown>;
  /** Repo-relative kustomization directory whose build produced it. */
  build: string;
  /** Repo-relative file the object was read from (kustomize's origin annotation). */
  origin: string | undefined;
  /** For generated objects: the kustomization file that configured the generator. */
  configuredIn: string | undefined;
  /**
   * The object's YAML as kustomize printed it (scalar styles kept), only when it holds `${`:
   * Flux's postBuild substitution runs on this text, so `replicas: ${N:=1}` becomes a number.
   */
  text?: string;
}

/**
 * What to build: a kustomization directory, optionally with Flux's `spec.components` added, or
 * a Flux path without a kustomization file, built from the files Flux would list in the
 * kustomization it generates. `dir` names the build in results and failures.
 */
export interface BuildUnit {
  /** Repo-relative directory. */
  dir: string;
  /** Repo-relative component directories (a Flux Kustomization's spec.components). */
  components?: readonly string[];
  /** Repo-relative files and kustomization directories: build these instead of `dir`'s kustomization. */
  generated?: readonly string[];
  /** A Flux Kustomization's spec.targetNamespace: set on every namespaced object, as Flux does. */
  namespace?: string;
}

export interface BuildFailure {
  /** Repo-relative kustomization directory. */
  dir: string;
  /** kubectl's error with temporary paths made repo-relative. */
  message: string;
}

export interface BuildResult {
  resources: BuiltResource[];
  failures: BuildFailure[];
}

export interface BuildOptions {
  /** Absolute repository root. */
  root: string;
  kubectl?: string;
  /** kubectl processes at once (default: 2). */
  concurrency?: number;
  /** Kustomizations per kubectl process (default: up to 100). */
  chunkSize?: number;
  onChunk?: (done: number, total: number) => void;
}

const originKey = "config.kubernetes.io/origin";
const buildKey = "haos-tasks.dev/build";

const prefixToken = "h4tsq";
const prefixes = new Map<string, string>();
/** The batch-separating name prefix of a unit (unique per process, never in real manifests). */
function prefixOf(build: string): string {
  let prefix = prefixes.get(build);
  if (!prefix) {
    prefix = `${prefixToken}${prefixes.size}z-`;
    prefixes.set(build, prefix);
  }
  return prefix;
}
const prefixPattern = new RegExp(`${prefixToken}\\d+z-`, "g");

function wrapperKustomization(
  targets: readonly string[],
  build: string,
  components: readonly string[],
  namespace?: string,
): string {
  return [
    "apiVersion: kustomize.config.k8s.io/v1beta1",
    "kind: Kustomization",
    ...(namespace ? [`namespace: ${JSON.stringify(namespace)}`] : []),
    // Units batched into one kustomize run must not collide: two apps may each render
    // `${APP}-data` before Flux substitutes it. A per-unit prefix keeps their ids apart; it is
    // removed from the output again (kustomize prefixes names and the references to them alike).
    `namePrefix: ${JSON.stringify(prefixOf(build))}`,
    "buildMetadata: [originAnnotations]",
    `resources: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
    ...(components.length > 0
      ? [`components: [${components.map((c) => JSON.stringify(c)).join(", ")}]`]
      : []),
    "transformers:",
    "  - |-",
    "    apiVersion: builtin",
    "    kind: AnnotationsTransformer",
    "    metadata: {name: haos-tasks-build}",
    `    annotations: {${JSON.stringify(buildKey)}: ${JSON.stringify(build)}}`,
    "    fieldSpecs: [{path: metadata/annotations, create: true}]",
    "",
  ].join("\n");
}

function toBuilt(
  value: unknown,
  wrapperDirOf: Map<string, string>,
  root: string,
  text?: string,
): BuiltResource | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const object = value as Record<string, unknown>;
  const metadata = (object.metadata ?? {}) as Record<string, unknown>;
  const annotations = (metadata.annotations ?? {}) as Record<string, string>;
  const build = annotations[buildKey] ?? "";
  const originText = annotations[originKey];
  delete annotations[buildKey];
  delete annotations[originKey];
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
  let origin: string | undefined;
  let configuredIn: string | undefined;
  const wrapperDir = wrapperDirOf.get(build);
  if (originText && wrapperDir) {
    const parsed = parse(originText) as { path?: string; configuredIn?: string } | null;
    if (parsed?.path) origin = relativePath(root, path.resolve(wrapperDir, parsed.path));
    if (parsed?.configuredIn)
      configuredIn = relativePath(root, path.resolve(wrapperDir, parsed.configuredIn));
  }
  return {
    apiVersion: String(object.apiVersion ?? ""),
    kind: String(object.kind ?? ""),
    name: String(metadata.name ?? ""),
    namespace: String(metadata.namespace ?? ""),
    object,
    build,
    origin,
    configuredIn,
    ...(text?.includes("${") ? { text } : {}),
  };
}

/** kubectl could not be started at all: no build can run, so this is not a finding per kustomization. */
export class KubectlMissingError extends Error {
  readonly hint =
    "install kubectl >= 1.27 (it has kustomize built in) and put it on PATH: https://kubernetes.io/docs/tasks/tools/";
}

async function kustomize(
  kubectl: string,
  dir: string,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  // Flux builds with LoadRestrictionsNone (fluxcd/pkg kustomize.Build): files outside a
  // kustomization's directory load there, so they must here.
  const result = await execa(kubectl, ["kustomize", "--load-restrictor", "LoadRestrictionsNone", dir], {
    reject: false,
    maxBuffer: 1024 * 1024 * 1024,
  });
  if (result.exitCode === undefined && (result as { code?: string }).code === "ENOENT")
    throw new KubectlMissingError(
      `cannot run ${kubectl}: not found (validate builds every kustomization with it)`,
    );
  return { ok: result.exitCode === 0, stdout: String(result.stdout), stderr: String(result.stderr) };
}

function cleanError(stderr: string, tmp: string, root: string): string {
  const line = stderr
    .split("\n")
    .map((l) => l.replace(/^E\d{4} [\d:.]+\s+\d+ run\.go:\d+\] "command failed" err=/, "").trim())
    .filter(Boolean)
    .join(" ");
  // Wrappers sit at <tmp>/w<i>: kustomize names the app by its path from there.
  const fromWrapper = path.relative(path.join(tmp, "w0"), root);
  return line
    .replaceAll(`${fromWrapper}/`, "")
    .replaceAll(`${root}/`, "")
    .replaceAll(tmp, "<build>")
    .replace(/^"|"$/g, "")
    .replace(/\\"/g, '"');
}

async function runLimited<T>(
  items: T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  });
  await Promise.all(workers);
}

/**
 * Builds kustomizations with `kubectl kustomize`, many per process: each unit gets a wrapper
 * that records origins and tags the build, and wrappers are grouped into chunks. A failing chunk is
 * split in halves until each failure names its kustomization (a few extra builds, not one per unit).
 *
 * Interface (kept stable for an in-process build helper): input units (kustomization roots, with
 * Flux components or a generated file list); output every rendered object with its build, origin
 * file and generator file, or one failure per unit that does not build.
 */
export async function buildKustomizations(
  units: readonly (string | BuildUnit)[],
  options: BuildOptions,
): Promise<BuildResult> {
  const kubectl = options.kubectl ?? "kubectl";
  const concurrency = options.concurrency ?? 2;
  const result: BuildResult = { resources: [], failures: [] };
  if (units.length === 0) return result;
  const list: BuildUnit[] = units.map((u) => (typeof u === "string" ? { dir: u } : u));
  const dirs = list.map((u) => u.dir);
  const chunkSize = options.chunkSize ?? Math.min(100, Math.max(1, Math.ceil(dirs.length / concurrency)));
  const tmp = await mkdtemp(path.join(os.tmpdir(), "haos-tasks-kustomize-"));
  try {
    const wrapperDirOf = new Map<string, string>();
    await Promise.all(
      list.map(async (unit, i) => {
        const wrapperDir = path.join(tmp, `w${i}`);
        wrapperDirOf.set(unit.dir, wrapperDir);
        await mkdir(wrapperDir);
        const rel = (p: string) => path.relative(wrapperDir, path.resolve(options.root, p));
        const targets = unit.generated ? unit.generated.map(rel) : [rel(unit.dir)];
        await writeFile(
          path.join(wrapperDir, "kustomization.yaml"),
          wrapperKustomization(targets, unit.dir, (unit.components ?? []).map(rel), unit.namespace),
        );
      }),
    );
    const chunks: string[][] = [];
    for (let i = 0; i < dirs.length; i += chunkSize) chunks.push(dirs.slice(i, i + chunkSize));
    const collect = (raw: string) => {
      const stdout = raw.replace(prefixPattern, "");
      for (const doc of parseAllDocuments(stdout)) {
        const range = doc.range;
        const built = toBuilt(doc.toJS(), wrapperDirOf, options.root, stdout.slice(range[0], range[2]));
        if (built) result.resources.push(built);
      }
    };
    let chunkDirs = 0;
    const buildChunk = async (chunk: string[]): Promise<void> => {
      let target = wrapperDirOf.get(chunk[0] ?? "") ?? "";
      if (chunk.length > 1) {
        target = path.join(tmp, `chunk${chunkDirs++}`);
        await mkdir(target);
        const entries = chunk.map((dir) =>
          JSON.stringify(path.relative(target, wrapperDirOf.get(dir) ?? "")),
        );
        await writeFile(
          path.join(target, "kustomization.yaml"),
          `buildMetadata: [originAnnotations]\nresources: [${entries.join(", ")}]\n`,
        );
      }
      const run = await kustomize(kubectl, target);
      if (run.ok) collect(run.stdout);
      else if (chunk.length === 1) {
        result.failures.push({
          dir: chunk[0] ?? "",
          message: cleanError(run.stderr.replace(prefixPattern, ""), tmp, options.root),
        });
      } else {
        // Bisect: one broken unit among 100 costs about 2·log2(100) builds, not 100.
        const half = Math.ceil(chunk.length / 2);
        await buildChunk(chunk.slice(0, half));
        await buildChunk(chunk.slice(half));
      }
    };
    let done = 0;
    await runLimited(chunks, concurrency, async (chunk) => {
      await buildChunk(chunk);
      done += 1;
      options.onChunk?.(done, chunks.length);
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return result;
}
