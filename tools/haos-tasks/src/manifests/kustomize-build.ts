import { existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { HintedError } from "../errors.ts";
import { MissingToolError } from "../tools/paths.ts";
import { runTool } from "../tools/run.ts";
import { readKustomization } from "./kustomization.ts";
import {
  type BuildRequest,
  buildInProcess,
  type InProcessBuild,
  KustomizeBuilder,
} from "./kustomize-inprocess.ts";
import { kustomizationFileNames, readYamlFile, relativePath } from "./workspace.ts";
import { parseSourceFile } from "./yaml-source.ts";

/** An object as kustomize rendered it (as `kubectl kustomize` would), with the source file it came from. */
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
  /** A Flux Kustomization's spec.patches, patchesStrategicMerge, patchesJson6902, images, namePrefix and nameSuffix. */
  flux?: {
    patches?: unknown[];
    patchesStrategicMerge?: unknown[];
    patchesJson6902?: unknown[];
    images?: unknown[];
    namePrefix?: string;
    nameSuffix?: string;
  };
}

export interface BuildFailure {
  /** Repo-relative kustomization directory. */
  dir: string;
  /** kustomize's error (what `kubectl kustomize` prints) with paths made repo-relative. */
  message: string;
}

export interface BuildResult {
  resources: BuiltResource[];
  failures: BuildFailure[];
  /**
   * Failures not reported because a kustomization they include failed too (reported there,
   * validate/build-stage.ts): nothing of theirs was built, so their own files are checked one by one.
   */
  superseded?: BuildFailure[];
}

export interface BuildOptions {
  /** Absolute repository root. */
  root: string;
  /**
   * Build with this `kubectl kustomize` instead of the in-process helper (also chosen by
   * HAOS_TASKS_KUSTOMIZE=kubectl; see `kustomizeEngine`).
   */
  kubectl?: string;
  /** Helper processes (default: one per core), or kubectl processes at once (default: 2). */
  concurrency?: number;
  /** kubectl only: kustomizations per kubectl process (default: up to 100). */
  chunkSize?: number;
  /** Progress: builds (in-process) or build batches (kubectl) done of total. */
  onChunk?: (done: number, total: number) => void;
  /** The environment of the helpers and kubectl, from the edge (the helper is found through it). */
  env: NodeJS.ProcessEnv;
  /** The in-process helper binary (default: .tools/bin/kustomize-build, then PATH). */
  helper?: string;
  /**
   * In-process helpers already started (`startHelpers`): the builds use them instead of starting
   * their own, and the caller closes them. validate starts them before it reads the repository,
   * so their start overlaps the reading.
   */
  helpers?: Promise<KustomizeBuilder>;
  /**
   * Files no build may read, absolute path → why (workspace.ts refusedFiles: over an input
   * limit). A build that reads one fails naming it: the in-process helper refuses to open it,
   * and a unit whose kustomizations list one is never handed to kubectl (refusedRead).
   */
  refuse?: ReadonlyMap<string, string>;
}

/**
 * In-process helpers started ahead of the builds (one per core). A missing helper rejects; the
 * build that awaits them reports it as any build does (KustomizeHelperMissingError).
 */
export function startHelpers(options: Pick<BuildOptions, "env" | "helper">): Promise<KustomizeBuilder> {
  return KustomizeBuilder.start({
    env: options.env,
    ...(options.helper ? { binary: options.helper } : {}),
  });
}

/**
 * Which kustomize builds: the in-process helper (tools/bootstrap/go/kustomize-build, the library
 * kubectl 1.34 embeds, byte-identical output — test/integration/kustomize-differential.test.ts),
 * or `kubectl kustomize`, kept as a fallback for one reason: a machine that cannot build the
 * helper (it needs Go, e.g. a CI runner without actions/setup-go) still has kubectl, which
 * GitHub's hosted runners ship. Chosen by an explicit `kubectl` option or HAOS_TASKS_KUSTOMIZE=kubectl.
 */
export function kustomizeEngine(
  options: Pick<BuildOptions, "kubectl" | "env"> & { kustomize?: "in-process" | "kubectl" },
): "in-process" | "kubectl" {
  if (options.kubectl) return "kubectl";
  if (options.kustomize) return options.kustomize;
  return options.env?.HAOS_TASKS_KUSTOMIZE === "kubectl" ? "kubectl" : "in-process";
}

/** The in-process helper is not installed: the fix names the bootstrap and the kubectl fallback. */
export class KustomizeHelperMissingError extends HintedError {
  readonly tool = "kustomize-build";
  constructor(cause: MissingToolError) {
    super(
      cause.message,
      `${cause.hint}; or set HAOS_TASKS_KUSTOMIZE=kubectl to build with \`kubectl kustomize\` (slower)`,
      { cause },
    );
  }
}

/** Flux builds with LoadRestrictionsNone (fluxcd/pkg kustomize.Build). */
export const fluxLoadRestrictor = "none";

/** A unit as the helper takes it: components and generated resources relative to its directory. */
export function helperRequest(
  unit: BuildUnit,
  root: string,
  refuse?: ReadonlyMap<string, string>,
): BuildRequest {
  const dir = path.resolve(root, unit.dir);
  const rel = (p: string) => path.relative(dir, path.resolve(root, p)) || ".";
  return {
    dir,
    ...(refuse && refuse.size > 0 ? { refuse: Object.fromEntries(refuse) } : {}),
    ...(unit.components && unit.components.length > 0 ? { components: unit.components.map(rel) } : {}),
    ...(unit.generated ? { resources: unit.generated.map(rel) } : {}),
    ...(unit.namespace ? { namespace: unit.namespace } : {}),
    ...unit.flux,
  };
}

/** A build failure's message for a refused file (`why` as BuildOptions.refuse gives it). */
const refusedMessage = (why: string) => `not built: it reads ${why.replace(/: not built or checked$/, "")}`;

/**
 * Why a unit's build would read a refused file (BuildOptions.refuse), found by following its
 * kustomization files on disk — resources, components, patches, generators' files, through the
 * kustomizations they include — from the unit's directory (or generated entries) and components;
 * undefined when it reads none. The in-process helper learns it when kustomize opens the file;
 * `kubectl kustomize` cannot be told, so such a unit is not handed to it.
 */
export function refusedRead(
  unit: BuildUnit,
  root: string,
  refuse: ReadonlyMap<string, string>,
): string | undefined {
  const seen = new Set<string>();
  const visit = (absolute: string): string | undefined => {
    if (seen.has(absolute)) return undefined;
    seen.add(absolute);
    const why = refuse.get(absolute);
    if (why !== undefined) return why;
    let directory = false;
    try {
      directory = statSync(absolute).isDirectory();
    } catch {
      return undefined;
    }
    if (!directory) return undefined;
    const file = kustomizationFileNames.map((n) => path.join(absolute, n)).find((f) => existsSync(f));
    if (file === undefined) return undefined;
    const own = refuse.get(file);
    if (own !== undefined) return own;
    const read = readYamlFile(file);
    if (!("text" in read)) return undefined;
    const kustomization = readKustomization(
      parseSourceFile(read.text, relativePath(root, file)),
      relativePath(root, absolute),
    );
    for (const entry of kustomization.entries) {
      const found = entry.path === undefined ? undefined : visit(path.resolve(root, entry.path));
      if (found !== undefined) return found;
    }
    return undefined;
  };
  for (const start of [...(unit.generated ?? [unit.dir]), ...(unit.components ?? [])]) {
    const found = visit(path.resolve(root, start));
    if (found !== undefined) return found;
  }
  return undefined;
}

function fromInProcess(unit: BuildUnit, build: InProcessBuild, root: string, result: BuildResult): void {
  if (build.error) {
    // A file over an input limit (BuildOptions.refuse): the reason, not kustomize's retry as a directory.
    const refused = /: not read: ([^']*)/.exec(build.error.message)?.[1];
    const message = refused ? refusedMessage(refused) : build.error.message.replaceAll(`${root}/`, "");
    result.failures.push({ dir: unit.dir, message });
    return;
  }
  const dir = path.resolve(root, unit.dir);
  const local = (p: string | undefined, repo: string | undefined) =>
    p && !repo ? relativePath(root, path.resolve(dir, p)) : undefined;
  for (const r of build.resources) {
    const metadata = (r.object.metadata ?? {}) as Record<string, unknown>;
    result.resources.push({
      apiVersion: String(r.object.apiVersion ?? ""),
      kind: String(r.object.kind ?? ""),
      name: String(metadata.name ?? ""),
      namespace: String(metadata.namespace ?? ""),
      object: r.object,
      build: unit.dir,
      origin: local(r.origin?.path, r.origin?.repo),
      configuredIn: local(r.origin?.configuredIn, r.origin?.repo),
      ...(r.text ? { text: r.text } : {}),
    });
  }
}

/**
 * Builds kustomizations in-process (see `kustomizeEngine`): every unit is its own build in one of
 * a few long-lived helpers, with Flux's load restrictor (none) and its spec.components and
 * generated kustomizations; each object comes back with its origin file, each failure with its unit.
 */
async function buildInProcessUnits(units: readonly BuildUnit[], options: BuildOptions): Promise<BuildResult> {
  const result: BuildResult = { resources: [], failures: [] };
  let done = 0;
  let builds: InProcessBuild[];
  const requests = units.map((u) => helperRequest(u, options.root, options.refuse));
  const onResult = () => options.onChunk?.(++done, units.length);
  const loadRestrictor = fluxLoadRestrictor;
  try {
    builds = options.helpers
      ? await (await options.helpers).buildAll(requests, { loadRestrictor }, onResult)
      : await buildInProcess(
          requests,
          {
            loadRestrictor,
            ...(options.concurrency ? { workers: options.concurrency } : {}),
            env: options.env,
            ...(options.helper ? { binary: options.helper } : {}),
          },
          onResult,
        );
  } catch (error) {
    if (error instanceof MissingToolError) throw new KustomizeHelperMissingError(error);
    throw error;
  }
  units.forEach((unit, i) => {
    fromInProcess(unit, builds[i] as InProcessBuild, options.root, result);
  });
  return result;
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
export class KubectlMissingError extends HintedError {
  constructor(message: string) {
    super(
      message,
      "install kubectl >= 1.27 (it has kustomize built in) and put it on PATH: https://kubernetes.io/docs/tasks/tools/",
    );
  }
}

async function kustomize(
  kubectl: string,
  dir: string,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  // Flux builds with LoadRestrictionsNone (fluxcd/pkg kustomize.Build): files outside a
  // kustomization's directory load there, so they must here.
  const result = await runTool(kubectl, ["kustomize", "--load-restrictor", "LoadRestrictionsNone", dir]);
  if (result.failure?.code === "ENOENT")
    throw new KubectlMissingError(
      `cannot run ${kubectl}: not found (validate builds every kustomization with it)`,
    );
  return {
    ok: result.exitCode === 0,
    stdout: result.stdout,
    stderr: result.stderr || (result.failure?.message ?? ""),
  };
}

function cleanError(stderr: string, tmp: string, root: string): string {
  const line = stderr
    .split("\n")
    .map((l) => l.replace(/^E\d{4} [\d:.]+\s+\d+ run\.go:\d+\] "command failed" err=/, "").trim())
    // klog's multi-line value: `err=<`, the message's lines indented, then `>` alone.
    .filter((l) => l !== "" && l !== "<" && l !== ">")
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
 * Builds kustomizations: input units (kustomization roots, with Flux components or a generated
 * file list); output every rendered object with its build, origin file and generator file, or one
 * failure per unit that does not build. In-process by default, `kubectl kustomize` as the fallback
 * (`kustomizeEngine`).
 */
export async function buildKustomizations(
  units: readonly (string | BuildUnit)[],
  options: BuildOptions,
): Promise<BuildResult> {
  const list: BuildUnit[] = units.map((u) => (typeof u === "string" ? { dir: u } : u));
  if (list.length === 0) return { resources: [], failures: [] };
  return kustomizeEngine(options) === "kubectl"
    ? await buildWithKubectl(list, options)
    : await buildInProcessUnits(list, options);
}

/**
 * The fallback: `kubectl kustomize`, many per process: each unit gets a wrapper that records
 * origins and tags the build, and wrappers are grouped into chunks. A failing chunk is split in
 * halves until each failure names its kustomization (a few extra builds, not one per unit).
 */
async function buildWithKubectl(units: readonly BuildUnit[], options: BuildOptions): Promise<BuildResult> {
  const kubectl = options.kubectl ?? "kubectl";
  const concurrency = options.concurrency ?? 2;
  const result: BuildResult = { resources: [], failures: [] };
  // A unit that would read a refused file (an alias bomb, a 10,000-deep document) fails naming it,
  // as in-process; kubectl never sees it.
  const list: BuildUnit[] = [];
  for (const unit of units) {
    const refused =
      options.refuse && options.refuse.size > 0 ? refusedRead(unit, options.root, options.refuse) : undefined;
    if (refused === undefined) list.push(unit);
    else result.failures.push({ dir: unit.dir, message: refusedMessage(refused) });
  }
  if (list.length === 0) return result;
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
