import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import os from "node:os";
import { HintedError } from "../errors.ts";
import { ownChild } from "../tools/children.ts";
import { binaryIdentity, MissingToolError, toolPath } from "../tools/paths.ts";

/**
 * Client of tools/bootstrap/go/kustomize-build: kustomize in-process, the library `kubectl
 * kustomize` embeds (sigs.k8s.io/kustomize/api as kubectl 1.34 ships it), with kubectl's options.
 * A few long-lived helper processes (one per core by default; kustomize's global OpenAPI state
 * makes builds within one process sequential) take kustomization roots over stdin and answer with
 * one JSON line per root: every object with its origin, or the error kubectl would print.
 */

/** Where kustomize read an object (paths relative to the root that was built). */
export interface KustomizeOrigin {
  /** The resource file, relative to the root. */
  path?: string;
  /** For a remote base: its repository and ref. */
  repo?: string;
  ref?: string;
  /** For a generated object: the kustomization (or generator file) that configured it. */
  configuredIn?: string;
  configuredBy?: { apiVersion?: string; kind?: string; name?: string; namespace?: string };
}

export interface InProcessObject {
  object: Record<string, unknown>;
  origin?: KustomizeOrigin;
  /** For objects holding `${`: their YAML as kubectl prints it (Flux substitutes in this text). */
  text?: string;
}

/** One root to build, with Flux's additions to plain `kubectl kustomize`. */
export interface BuildRequest {
  dir: string;
  /** Flux's spec.components, relative to `dir`: appended to the root kustomization's components. */
  components?: readonly string[];
  /**
   * For a Flux path without a kustomization file: the resources of the kustomization.yaml Flux
   * generates, relative to `dir` (ignored when `dir` has a kustomization file).
   */
  resources?: readonly string[];
  /** Flux's spec.targetNamespace: becomes the root kustomization's namespace, as Flux sets it. */
  namespace?: string;
  /** Flux's spec.patches / patchesStrategicMerge / patchesJson6902 / images, as written (the helper adds them as kustomize-controller's generator does). */
  patches?: unknown[];
  patchesStrategicMerge?: unknown[];
  patchesJson6902?: unknown[];
  images?: unknown[];
  /** Flux's spec.namePrefix / nameSuffix: replace the root kustomization's own, even when empty (as the generator does). */
  namePrefix?: string;
  nameSuffix?: string;
  /** Absolute files the build must not read, with why (a build reading one fails with it). */
  refuse?: Readonly<Record<string, string>>;
}

export interface InProcessBuild {
  /** The directory as it was requested. */
  dir: string;
  /** The objects in kustomize's output order; empty when the build failed. */
  resources: InProcessObject[];
  /** With `yaml: true`: exactly what `kubectl kustomize <dir>` prints on stdout. */
  yaml?: string;
  /** The build failed: `message` is what kubectl prints after "error: ". */
  error?: { message: string; panic?: boolean };
  /** What kustomize printed on stderr while building this root (deprecation warnings). */
  warnings: string[];
}

export interface BuildRequestOptions {
  /** Also return the YAML text kubectl would print (the differential test compares it). */
  yaml?: boolean;
  /** kubectl's --load-restrictor: "rootOnly" (kubectl's default) or "none" (Flux's). */
  loadRestrictor?: "rootOnly" | "none";
}

export interface KustomizeBuilderOptions {
  /** Helper processes (default: one per core). */
  workers?: number;
  /** Path of the helper (default: the bootstrap's .tools/bin/kustomize-build, then PATH). */
  binary?: string;
  /** Working directory relative dirs are resolved against (default: this process's). */
  cwd?: string;
  /** The helpers' environment, from the edge (the helper is found through it unless `binary` names it). */
  env: NodeJS.ProcessEnv;
}

/** The helper died or answered something that is not its protocol: no build result can be trusted. */
export class KustomizeHelperError extends HintedError {
  constructor(message: string) {
    super(message, "run `npm run bootstrap -- validate` to rebuild .tools/bin/kustomize-build");
  }
}

interface Pending {
  id: number;
  dir: string;
  resolve: (build: InProcessBuild) => void;
  reject: (error: Error) => void;
}

interface RawResponse {
  id?: number;
  dir?: string;
  resources?: InProcessObject[];
  yaml?: string;
  error?: { message: string; panic?: boolean };
  warnings?: string[];
  ready?: boolean;
  api?: string;
}

/** Splits a byte stream into lines without concatenating every chunk into one growing string. */
function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  return (chunk) => {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      parts.push(chunk.subarray(start, nl));
      const line =
        parts.length === 1 ? (parts[0] as Buffer).toString("utf8") : Buffer.concat(parts).toString("utf8");
      parts = [];
      start = nl + 1;
      if (line.trim() !== "") onLine(line);
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  };
}

class Worker {
  readonly child: ChildProcessWithoutNullStreams;
  readonly ready: Promise<RawResponse>;
  readonly pending: Pending[] = [];
  private stderr = "";
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  constructor(binary: string, options: KustomizeBuilderOptions, oneProcessor: boolean) {
    const env = options.env;
    this.child = spawn(binary, [], {
      cwd: options.cwd,
      // Each helper builds one root at a time. With a helper per core, more Go processors than one
      // only run its collector in parallel against the other helpers (two helpers on two cores:
      // about 10% faster with one each). Fewer helpers keep Go's own default (it follows the
      // container's CPU limit); GOMAXPROCS set by the caller wins.
      env: oneProcessor && env.GOMAXPROCS === undefined ? { ...env, GOMAXPROCS: "1" } : env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    // It dies with this process, whatever ends it (src/tools/children.ts).
    ownChild(this.child);
    let readyResolve: (hello: RawResponse) => void = () => {};
    let readyReject: (error: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    let greeted = false;
    this.child.stdout.on(
      "data",
      lineSplitter((line) => {
        let message: RawResponse;
        try {
          message = JSON.parse(line) as RawResponse;
        } catch {
          this.fail(
            new KustomizeHelperError(`kustomize-build wrote a line that is not JSON: ${line.slice(0, 200)}`),
          );
          return;
        }
        if (!greeted) {
          greeted = true;
          if (message.ready) readyResolve(message);
          else readyReject(new KustomizeHelperError(`kustomize-build did not start: ${line.slice(0, 200)}`));
          return;
        }
        const next = this.pending.shift();
        if (!next || message.id !== next.id) {
          this.fail(
            new KustomizeHelperError(
              `kustomize-build answered request ${String(message.id)} while ${String(next?.id)} was expected`,
            ),
          );
          return;
        }
        next.resolve({
          dir: next.dir,
          resources: message.resources ?? [],
          ...(message.yaml !== undefined ? { yaml: message.yaml } : {}),
          ...(message.error ? { error: message.error } : {}),
          warnings: message.warnings ?? [],
        });
      }),
    );
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      this.child.on("error", (error: NodeJS.ErrnoException) => {
        const failure =
          error.code === "ENOENT" || error.code === "EACCES"
            ? new MissingToolError("kustomize-build", binary)
            : new KustomizeHelperError(`cannot run ${binary}: ${error.message}`);
        readyReject(failure);
        this.fail(failure);
        resolve();
      });
      this.child.on("close", (code, signal) => {
        const failure = new KustomizeHelperError(
          `kustomize-build exited (${signal ?? `code ${String(code)}`}) with ${this.pending.length} builds unanswered${this.stderr ? `: ${this.stderr.trim()}` : ""}`,
        );
        readyReject(failure);
        if (this.pending.length > 0) this.fail(failure);
        resolve();
      });
    });
    // A helper that dies mid-write must surface as the failure above, not as an EPIPE crash.
    this.child.stdin.on("error", () => {});
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of this.pending.splice(0)) p.reject(this.failure);
    if (this.child.exitCode === null) this.child.kill();
  }

  send(id: number, root: string | BuildRequest, options: BuildRequestOptions): Promise<InProcessBuild> {
    if (this.failure) return Promise.reject(this.failure);
    const {
      dir,
      components,
      resources,
      namespace,
      refuse,
      patches,
      patchesStrategicMerge,
      patchesJson6902,
      images,
      namePrefix,
      nameSuffix,
    } = typeof root === "string" ? ({ dir: root } as BuildRequest) : root;
    return new Promise((resolve, reject) => {
      this.pending.push({ id, dir, resolve, reject });
      const request: Record<string, unknown> = { id, dir };
      if (components && components.length > 0) request.components = components;
      if (resources) request.resources = resources;
      if (namespace) request.namespace = namespace;
      if (patches) request.patches = patches;
      if (patchesStrategicMerge) request.patchesStrategicMerge = patchesStrategicMerge;
      if (patchesJson6902) request.patchesJson6902 = patchesJson6902;
      if (images) request.images = images;
      if (namePrefix !== undefined) request.namePrefix = namePrefix;
      if (nameSuffix !== undefined) request.nameSuffix = nameSuffix;
      if (refuse) request.refuse = refuse;
      if (options.yaml) request.yaml = true;
      if (options.loadRestrictor) request.loadRestrictor = options.loadRestrictor;
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }
}

/** Resolves the helper binary, with the bootstrap command as the fix when it is missing. */
export function kustomizeBuildBinary(env: NodeJS.ProcessEnv): string {
  return toolPath("kustomize-build", env);
}

/**
 * A pool of kustomize-build helpers. `start` spawns them once; `build`/`buildAll` send roots and
 * resolve per root (a failing root is a result with `error`, never a rejection); `close` ends them.
 * Rejections mean the helper itself is missing (MissingToolError) or broke (KustomizeHelperError).
 */
export class KustomizeBuilder {
  /** sigs.k8s.io/kustomize/api version the helper was built with. */
  readonly apiVersion: string;
  /**
   * What identifies the helper's builds (its path, size, modification time and kustomize version),
   * for the build cache; undefined when the binary cannot be looked at.
   */
  readonly identity: string | undefined;
  private readonly workers: Worker[];
  private nextId = 1;

  private constructor(workers: Worker[], apiVersion: string, binary: string) {
    this.workers = workers;
    this.apiVersion = apiVersion;
    const binaryId = binaryIdentity(binary);
    this.identity = binaryId === undefined ? undefined : `${binaryId}:${apiVersion}`;
  }

  static async start(options: KustomizeBuilderOptions): Promise<KustomizeBuilder> {
    const binary = options.binary ?? kustomizeBuildBinary(options.env);
    const cores = os.availableParallelism();
    const count = Math.max(1, options.workers ?? cores);
    const workers = Array.from({ length: count }, () => new Worker(binary, options, count >= cores));
    try {
      const hellos = await Promise.all(workers.map((w) => w.ready));
      return new KustomizeBuilder(workers, hellos[0]?.api ?? "unknown", binary);
    } catch (error) {
      await Promise.all(workers.map((w) => w.close()));
      throw error;
    }
  }

  /** Process ids of the helpers (for diagnostics and tests). */
  get pids(): number[] {
    return this.workers.flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid]));
  }

  /** The least busy helper, so one slow root does not hold up the roots queued behind it. */
  private pick(): Worker {
    let best = this.workers[0] as Worker;
    for (const w of this.workers) if (w.pending.length < best.pending.length) best = w;
    return best;
  }

  build(root: string | BuildRequest, options: BuildRequestOptions = {}): Promise<InProcessBuild> {
    return this.pick().send(this.nextId++, root, options);
  }

  /**
   * Builds every dir, keeping each helper at most four requests ahead so work spreads by actual
   * cost; results come back in `dirs` order, and `onResult` sees each as soon as it is ready.
   * Four, not two: validate parses files while the helpers build and hands the event loop back
   * only every few milliseconds, and a helper must not run dry in between.
   */
  async buildAll(
    dirs: readonly (string | BuildRequest)[],
    options: BuildRequestOptions = {},
    onResult?: (build: InProcessBuild, index: number) => void,
  ): Promise<InProcessBuild[]> {
    const results: InProcessBuild[] = new Array(dirs.length);
    let next = 0;
    const depth = 4;
    const feed = async (worker: Worker): Promise<void> => {
      const inFlight: Promise<void>[] = [];
      const one = async (): Promise<void> => {
        while (next < dirs.length) {
          const index = next++;
          const build = await worker.send(this.nextId++, dirs[index] as string | BuildRequest, options);
          results[index] = build;
          onResult?.(build, index);
        }
      };
      for (let i = 0; i < depth; i++) inFlight.push(one());
      await Promise.all(inFlight);
    };
    await Promise.all(this.workers.map(feed));
    return results;
  }

  /** Ends every helper (stdin closed, process exit awaited). */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

/** One-shot convenience: start, build every dir, close. */
export async function buildInProcess(
  dirs: readonly (string | BuildRequest)[],
  options: KustomizeBuilderOptions & BuildRequestOptions,
  onResult?: (build: InProcessBuild, index: number) => void,
): Promise<InProcessBuild[]> {
  if (dirs.length === 0) return [];
  const builder = await KustomizeBuilder.start({
    ...options,
    workers: Math.min(options.workers ?? os.availableParallelism(), dirs.length),
  });
  try {
    return await builder.buildAll(
      dirs,
      {
        ...(options.yaml ? { yaml: true } : {}),
        ...(options.loadRestrictor ? { loadRestrictor: options.loadRestrictor } : {}),
      },
      onResult,
    );
  } finally {
    await builder.close();
  }
}
