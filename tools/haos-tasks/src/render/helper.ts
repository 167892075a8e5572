import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { HintedError } from "../errors.ts";
import { MissingToolError, toolPath } from "../tools/paths.ts";

/**
 * Client of tools/bootstrap/go/flux-render (protocol: its README.md): HelmReleases rendered as
 * helm-controller v1.6.4 renders them and Flux's postBuild substitution as kustomize-controller
 * v1.9.0 applies it, by the controllers' own Go libraries, in one long-lived process. Requests are
 * JSON lines answered in order; renders run one at a time in the process (start more renderers for
 * parallelism).
 *
 * The process never outlives this one: its stdin is a pipe from here, and flux-render exits on EOF,
 * which the kernel delivers however this process ends (even SIGKILL); on Linux it also asks for
 * SIGKILL when its parent dies (PR_SET_PDEATHSIG), for the case where it is busy rendering; and an
 * exit hook here kills it on a normal exit.
 */

/** A HelmRelease's chart, as the source that serves it. */
export type ChartSource = (
  | { type: "oci"; url: string; tag?: string; semver?: string; digest?: string }
  | { type: "http"; url: string; name: string; version?: string }
  /** contentDigest: the caller vouches for the files (a staged pinned chart): the render cache is answered without reading them. */
  | { type: "dir"; path: string; contentDigest?: string }
) & {
  /** OCIRepository/ExternalArtifact chartRef: the version gets "+<first 12 hex of the digest>". */
  digestTracking?: boolean;
  /** Sets the chart's metadata version (CozyStack's artifacts carry their own). */
  versionOverride?: string;
};

export interface ValuesSource {
  kind: "ConfigMap" | "Secret";
  namespace: string;
  name: string;
  /** Secret data already base64-decoded, stringData merged. */
  data: Record<string, string>;
}

export interface ChartMirror {
  /** An `oci://` prefix or an `https://` repository URL as releases declare it. */
  origin: string;
  /** `oci://host[:port]/path` (TLS), `http://host:port/path` (plain HTTP) or a repository URL. */
  url: string;
}

export interface HelmRenderRequest {
  /** The HelmRelease object (helm.toolkit.fluxcd.io/v2). */
  release: Record<string, unknown>;
  chart: ChartSource;
  valuesSources?: ValuesSource[];
  /** Capabilities.KubeVersion, e.g. "v1.34.0". */
  kubeVersion?: string;
  /** Added to Helm's default Capabilities.APIVersions ("group/version" and "group/version/Kind"). */
  apiVersions?: string[];
  /** Objects the chart may `lookup`. */
  lookup?: Record<string, unknown>[];
  cacheDir?: string;
  offline?: boolean;
  mirrors?: ChartMirror[];
  timeoutSeconds?: number;
  /**
   * values.schema.json `$ref` URL → local file (e.g. the copies schemas.lock.json pins): bjw-s
   * common's schemas/*.json are not in its packaged chart, Helm fetches them.
   */
  schemaFiles?: Record<string, string>;
  /** Directories where the file for a `$ref` URL is the directory plus the URL's path. */
  schemaMirrors?: string[];
  /**
   * Answer from flux-render's render cache under `cacheDir` and keep the answer there (content-
   * addressed by the helper's build, the chart's content and the whole request).
   */
  renderCache?: boolean;
}

export type RenderErrorCode =
  | "chart-unavailable"
  | "values-from"
  | "values-schema"
  | "render"
  | "post-render"
  | "bad-request"
  | "panic";

export interface RenderError {
  code: RenderErrorCode;
  message: string;
  hint?: string;
  /** values-schema: JSON pointers into the merged values. */
  schemaErrors?: { path: string; message: string }[];
  /** render: the (innermost) template position Helm's error names. */
  template?: string;
  line?: number;
  column?: number;
}

export interface RenderedResource {
  /** The chart template the object came from ("app-template/templates/common.yaml"). */
  template: string;
  object: Record<string, unknown>;
  /** A CRD from the chart's crds/ (install.crds Create/CreateReplace). */
  crd?: boolean;
  /** A Helm hook, with its events; hooks are not part of Helm's release manifest. */
  hook?: string[];
}

export interface RenderedChart {
  name: string;
  version: string;
  appVersion?: string;
  digest?: string;
  manifestDigest?: string;
  origin: string;
  cached: boolean;
  /** Bytes of the chart archive (absent for a chart directory): downloaded when not cached. */
  size?: number;
  fetchMs: number;
  renderMs: number;
  /** Answered from the render cache: nothing was rendered. */
  renderCached?: boolean;
}

export type HelmRenderResult =
  | {
      releaseName: string;
      namespace: string;
      chart: RenderedChart;
      resources: RenderedResource[];
      notes?: string;
      warnings: string[];
      error?: undefined;
    }
  | {
      releaseName?: string;
      namespace?: string;
      chart?: RenderedChart;
      resources: [];
      warnings: string[];
      error: RenderError;
    };

export interface EnvsubstItem {
  /** One object's YAML. */
  text: string;
  vars: Record<string, string>;
  /** kustomize-controller's --feature-gates StrictPostBuildSubstitutions. */
  strict?: boolean;
  /** spec.postBuild.substituteStrategy Always. */
  always?: boolean;
}

export type EnvsubstResult =
  | { object: Record<string, unknown>; disabled?: boolean; error?: undefined }
  | { object?: undefined; error: { message: string; line?: number; column?: number } };

export interface KustomizeRequest {
  /** The source root (absolute). */
  root: string;
  /** The Kustomization's spec.path, relative to root. */
  path: string;
  /** The Kustomization's spec (targetNamespace, namePrefix, components, patches, images, ...). */
  spec?: Record<string, unknown>;
}

export interface KustomizeObject {
  object: Record<string, unknown>;
  origin?: { path?: string; repo?: string; ref?: string; configuredIn?: string; configuredBy?: unknown };
  /** For objects holding `${`: their YAML as kustomize-controller substitutes it. */
  text?: string;
}

export type KustomizeResult =
  | { resources: KustomizeObject[]; kustomization?: "created"; error?: undefined }
  | {
      resources: [];
      kustomization?: undefined;
      error: { code: "build" | "bad-request" | "panic"; message: string };
    };

export interface RendererVersions {
  helm: string;
  chartutil: string;
  helmControllerApi: string;
  kustomize: string;
  envsubst: string;
  kustomizeApi: string;
}

export interface Renderer {
  readonly versions: RendererVersions;
  readonly pid: number | undefined;
  helm(request: HelmRenderRequest): Promise<HelmRenderResult>;
  envsubst(items: readonly EnvsubstItem[]): Promise<EnvsubstResult[]>;
  /** A Flux Kustomization built as kustomize-controller builds it (never writes into `root`). */
  kustomize(request: KustomizeRequest): Promise<KustomizeResult>;
  /** Closes stdin and waits for the process to exit. */
  close(): Promise<void>;
}

export interface RendererOptions {
  /** Path of flux-render (default: .tools/bin/flux-render, then PATH). */
  binary?: string;
  /** The helper's environment, from the edge (flux-render is found through it unless `binary` names it). */
  env: NodeJS.ProcessEnv;
}

/** flux-render died or broke its protocol: no answer from it can be trusted. */
export class RendererError extends HintedError {
  constructor(message: string) {
    super(message, "run `npm run bootstrap -- validate` to rebuild .tools/bin/flux-render");
  }
}

interface Pending {
  id: number;
  resolve: (message: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  return (chunk) => {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      parts.push(chunk.subarray(start, nl));
      const line = Buffer.concat(parts).toString("utf8");
      parts = [];
      start = nl + 1;
      if (line.trim() !== "") onLine(line);
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  };
}

/** Live flux-render processes, killed if this process exits without closing them. */
const live = new Set<ChildProcessWithoutNullStreams>();
let exitHook = false;
function track(child: ChildProcessWithoutNullStreams): void {
  live.add(child);
  child.on("close", () => live.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
}

export async function startRenderer(options: RendererOptions): Promise<Renderer> {
  const binary = options.binary ?? toolPath("flux-render", options.env);
  const child = spawn(binary, [], { env: options.env, stdio: ["pipe", "pipe", "pipe"] });
  track(child);
  const pending: Pending[] = [];
  let failure: Error | undefined;
  let stderr = "";
  let nextId = 1;
  let greeted = false;
  let readyResolve: (hello: Record<string, unknown>) => void = () => {};
  let readyReject: (error: Error) => void = () => {};
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  const fail = (error: Error): void => {
    failure ??= error;
    readyReject(failure);
    for (const p of pending.splice(0)) p.reject(failure);
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  child.stdout.on(
    "data",
    lineSplitter((line) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        fail(new RendererError(`flux-render wrote a line that is not JSON: ${line.slice(0, 200)}`));
        return;
      }
      if (!greeted) {
        greeted = true;
        if (message.ready === true) readyResolve(message);
        else fail(new RendererError(`flux-render did not start: ${line.slice(0, 200)}`));
        return;
      }
      const next = pending.shift();
      if (!next || message.id !== next.id) {
        fail(
          new RendererError(
            `flux-render answered request ${String(message.id)} while ${String(next?.id)} was expected`,
          ),
        );
        return;
      }
      next.resolve(message);
    }),
  );
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => {
    child.on("error", (error: NodeJS.ErrnoException) => {
      fail(
        error.code === "ENOENT" || error.code === "EACCES"
          ? new MissingToolError("flux-render", binary)
          : new RendererError(`cannot run ${binary}: ${error.message}`),
      );
      resolve();
    });
    child.on("close", (code, signal) => {
      const error = new RendererError(
        `flux-render exited (${signal ?? `code ${String(code)}`}) with ${pending.length} requests unanswered${stderr ? `: ${stderr.trim()}` : ""}`,
      );
      readyReject(error);
      if (pending.length > 0) fail(error);
      resolve();
    });
  });
  child.stdin.on("error", () => {});

  const send = (request: Record<string, unknown>): Promise<Record<string, unknown>> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.push({ id, resolve, reject });
      child.stdin.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  };

  let hello: Record<string, unknown>;
  try {
    hello = await ready;
  } catch (error) {
    child.stdin.end();
    await exited;
    throw error;
  }
  const str = (v: unknown): string => (typeof v === "string" ? v : "unknown");
  return {
    versions: {
      helm: str(hello.helm),
      chartutil: str(hello.chartutil),
      helmControllerApi: str(hello.helmControllerApi),
      kustomize: str(hello.kustomize),
      envsubst: str(hello.envsubst),
      kustomizeApi: str(hello.kustomizeApi),
    },
    pid: child.pid,
    async helm(request) {
      const message = await send({ op: "helm", ...request });
      const warnings = (message.warnings as string[] | undefined) ?? [];
      if (message.error) {
        return {
          ...(message.releaseName ? { releaseName: message.releaseName as string } : {}),
          ...(message.namespace ? { namespace: message.namespace as string } : {}),
          ...(message.chart ? { chart: message.chart as RenderedChart } : {}),
          resources: [],
          warnings,
          error: message.error as RenderError,
        };
      }
      return {
        releaseName: message.releaseName as string,
        namespace: message.namespace as string,
        chart: message.chart as RenderedChart,
        resources: (message.resources as RenderedResource[] | undefined) ?? [],
        ...(message.notes ? { notes: message.notes as string } : {}),
        warnings,
      };
    },
    async envsubst(items) {
      if (items.length === 0) return [];
      const message = await send({ op: "envsubst", items });
      if (message.error) throw new RendererError(`flux-render envsubst: ${JSON.stringify(message.error)}`);
      return message.items as EnvsubstResult[];
    },
    async kustomize(request) {
      const message = await send({ op: "kustomize", ...request });
      if (message.error) return { resources: [], error: message.error as { code: "build"; message: string } };
      return {
        resources: (message.resources as KustomizeObject[] | undefined) ?? [],
        ...(message.kustomization === "created" ? { kustomization: "created" as const } : {}),
      };
    },
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}
