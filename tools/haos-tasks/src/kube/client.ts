import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import {
  connectionReason,
  isConnectionError,
  KubeForbiddenError,
  KubeNotKubernetesError,
  KubeStatusError,
  KubeUnreachableError,
  type RequestRule,
} from "./errors.ts";
import { qualifiedResource, type ResourceKind, resourcePath } from "./resources.ts";

/** A Kubernetes object as the API returns it; phases read it as plain data. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    uid?: string;
  };
  [field: string]: unknown;
}

export interface ObjectList {
  items: KubeObject[];
  resourceVersion: string;
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject & { code?: number; message?: string; reason?: string };
}

/** Counts every request the verifier sends, so the benchmark can report requests per minute. */
export interface RequestStats {
  /** list, get and patch requests. */
  requests: number;
  /** Watch streams opened (each one long-lived). */
  watchStreams: number;
  byVerb: Record<string, number>;
}

export interface ListParams {
  fieldSelector?: string;
  labelSelector?: string;
}

const optionsTtlMs = 60_000;

/** A request still waiting for its connection, TLS handshake or answer. */
interface InFlight {
  destroy(error: Error): void;
  /** How far it got: connecting (TCP), the TLS handshake, or waiting for the answer. */
  stage: Silence;
}

/** What a response reader may do with its request: end it, or ask why it ended early. */
interface ResponseControl {
  destroy(error: Error): void;
  reason(): Error;
}

/** Why a request ended without an answer: refused, no connection in time, or accepted and silent. */
export type Silence = "connect" | "tls" | "answer";

function silenceError(kind: Silence, ms: number): Error {
  const what =
    kind === "connect"
      ? `could not connect within ${ms} ms`
      : kind === "tls"
        ? `the TLS handshake did not complete within ${ms} ms`
        : `the connection was accepted but no answer came within ${ms} ms`;
  return Object.assign(new Error(what), { code: "ETIMEDOUT", silence: kind });
}

/**
 * The one place that talks HTTP to the API server: credentials come from a client-node
 * KubeConfig (tokens, client certs, exec plugins); watch streams use client-node's Watch.
 */
export class KubeClient {
  readonly server: string;
  readonly stats: RequestStats = { requests: 0, watchStreams: 0, byVerb: {} };
  private readonly kubeConfig: KubeConfig;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private cachedOptions: { at: number; options: https.RequestOptions } | undefined;
  private readonly inFlight = new Set<InFlight>();
  /** Epoch ms after which no request may still be running (see setDeadline). */
  private deadline = Number.POSITIVE_INFINITY;
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(
    kubeConfig: KubeConfig,
    options: { requestTimeoutMs?: number; connectTimeoutMs?: number } = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    this.server = cluster.server.replace(/\/$/, "");
    this.kubeConfig = kubeConfig;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  /**
   * Every request (watches included) ends by `epochMs` at the latest: its connect, TLS and answer
   * timeouts are cut to what is left, and abortAll() runs when it passes. A hung API server can
   * then never hold the process past the caller's deadline.
   */
  setDeadline(epochMs: number): void {
    this.deadline = epochMs;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => this.abortAll(), Math.max(0, epochMs - Date.now()));
    this.deadlineTimer.unref();
  }

  /** Ends every request still in flight (watch streams too); their callers see `error`. */
  abortAll(
    error: Error = Object.assign(new Error("aborted: the deadline passed"), { code: "EABORTED" }),
  ): void {
    for (const request of [...this.inFlight]) request.destroy(error);
  }

  /** Ends every request and forgets the deadline's timer (the run is over). */
  close(): void {
    clearTimeout(this.deadlineTimer);
    this.abortAll();
  }

  /** How far the requests still waiting got ("answer" beats "tls" beats "connect"); undefined when none. */
  pendingSilence(): Silence | undefined {
    const order: Silence[] = ["connect", "tls", "answer"];
    let silence: Silence | undefined;
    for (const request of this.inFlight) {
      if (silence === undefined || order.indexOf(request.stage) > order.indexOf(silence))
        silence = request.stage;
    }
    return silence;
  }

  /** Lists a kind in a namespace; the list's resourceVersion is where a watch starts. */
  async list(
    kind: ResourceKind,
    namespace: string | undefined,
    params: ListParams = {},
  ): Promise<ObjectList> {
    const query = new URLSearchParams();
    if (params.fieldSelector) query.set("fieldSelector", params.fieldSelector);
    if (params.labelSelector) query.set("labelSelector", params.labelSelector);
    const path = `${resourcePath(kind, namespace)}${query.size > 0 ? `?${query}` : ""}`;
    const body = (await this.request("GET", path, this.rule("list", kind, namespace))) as {
      items?: KubeObject[] | null;
      metadata?: { resourceVersion?: string };
    };
    // A list has `items` (null when empty, from some servers); anything else is not the API.
    if (!Array.isArray(body.items) && body.items !== null)
      throw new KubeNotKubernetesError(
        this.server,
        this.server + path,
        `the answer to a list is JSON without \`items\`: ${JSON.stringify(body).slice(0, 120)}`,
      );
    return { items: body.items ?? [], resourceVersion: body.metadata?.resourceVersion ?? "" };
  }

  /** Reads one object; undefined when it does not exist. */
  async get(
    kind: ResourceKind,
    namespace: string | undefined,
    name: string,
  ): Promise<KubeObject | undefined> {
    try {
      return (await this.request(
        "GET",
        resourcePath(kind, namespace, name),
        this.rule("get", kind, namespace),
      )) as KubeObject;
    } catch (error) {
      if (error instanceof KubeStatusError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** JSON merge patch of an object (or of its status subresource with `subresource: "status"`). */
  async mergePatch(
    kind: ResourceKind,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    subresource?: "status",
  ): Promise<KubeObject> {
    const path = `${resourcePath(kind, namespace, name)}${subresource ? `/${subresource}` : ""}`;
    return (await this.request("PATCH", path, this.rule("patch", kind, namespace), patch)) as KubeObject;
  }

  /**
   * Opens a watch stream from `resourceVersion`. `onDone` runs once when the stream ends, with the
   * classified error when it failed. Returns, at once, a function that aborts the stream.
   *
   * Not client-node's Watch: it hands out its abort handle only once the response headers
   * arrived (a server that accepts and never answers cannot be stopped) and uses one timer for
   * connecting and for inactivity. Here the headers must come within the request timeout, then
   * the stream may stay quiet up to the server's own timeoutSeconds.
   */
  watch(
    kind: ResourceKind,
    namespace: string | undefined,
    resourceVersion: string,
    params: ListParams,
    onEvent: (event: WatchEvent) => void,
    onDone: (error: Error | undefined) => void,
  ): () => void {
    const rule = this.rule("watch", kind, namespace);
    this.stats.watchStreams += 1;
    const query = new URLSearchParams({
      watch: "true",
      resourceVersion,
      allowWatchBookmarks: "true",
      timeoutSeconds: "300",
    });
    if (params.fieldSelector) query.set("fieldSelector", params.fieldSelector);
    if (params.labelSelector) query.set("labelSelector", params.labelSelector);
    let ended = false;
    let abort: (() => void) | undefined;
    let abortedEarly = false;
    const finish = (error: Error | undefined): void => {
      if (ended) return;
      ended = true;
      onDone(error);
    };
    void this.open("GET", `${resourcePath(kind, namespace)}?${query}`, undefined, undefined, {
      // Quiet streams are normal during a rollout; the server ends them after timeoutSeconds.
      idleMs: 330_000,
      onRequest: (control) => {
        abort = () => control.destroy(Object.assign(new Error("watch aborted"), { code: "EABORTED" }));
        if (abortedEarly) abort();
      },
      onResponse: (res, control) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          collect(res, control).then(
            (text) => finish(this.statusError(status, text, rule)),
            (error: unknown) => finish(this.classify(error, rule)),
          );
          return;
        }
        let buffered = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffered += chunk;
          if (buffered.length > maxResponseBytes) {
            buffered = "";
            control.destroy(
              new KubeNotKubernetesError(
                this.server,
                `${this.server}${resourcePath(kind, namespace)}`,
                `a watch event over ${maxResponseBytes / 1024 / 1024} MiB`,
              ),
            );
            return;
          }
          let newline = buffered.indexOf("\n");
          while (newline >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            newline = buffered.indexOf("\n");
            if (!line) continue;
            try {
              const data = JSON.parse(line) as { type: WatchEvent["type"]; object: WatchEvent["object"] };
              onEvent({ type: data.type, object: data.object });
            } catch {
              // A torn line of a stream cut mid-event: the reconnect re-reads from resourceVersion.
            }
          }
        });
        res.on("end", () => finish(undefined));
        res.on("error", (error) => finish(ended ? undefined : this.classify(error, rule)));
        res.on("close", () => finish(res.complete ? undefined : this.classify(control.reason(), rule)));
      },
    }).catch((error: unknown) => finish(this.classify(error, rule)));
    return () => {
      ended = true;
      if (abort) abort();
      else abortedEarly = true;
    };
  }

  private rule(verb: RequestRule["verb"], kind: ResourceKind, namespace: string | undefined): RequestRule {
    return {
      verb,
      resource: qualifiedResource(kind),
      ...(kind.namespaced && namespace ? { namespace } : {}),
    };
  }

  /** Turns a transport error or a status code into the error the CLI maps to an exit code. */
  classify(error: unknown, rule: RequestRule): Error {
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === "number") {
      if (status === 401 || status === 403) return new KubeForbiddenError(rule, status, "");
      return new KubeStatusError(rule, status, error instanceof Error ? error.message : "");
    }
    if (isConnectionError(error)) return new KubeUnreachableError(this.server, connectionReason(error));
    return error instanceof Error ? error : new Error(String(error));
  }

  private async requestOptions(): Promise<https.RequestOptions> {
    const now = Date.now();
    if (this.cachedOptions && now - this.cachedOptions.at < optionsTtlMs) return this.cachedOptions.options;
    const options: https.RequestOptions = { headers: {} };
    await this.kubeConfig.applyToHTTPSOptions(options);
    this.cachedOptions = { at: now, options };
    return options;
  }

  /** A GET, or a PATCH with a JSON merge patch as `body`. */
  private async request(method: string, path: string, rule: RequestRule, body?: unknown): Promise<unknown> {
    this.stats.requests += 1;
    this.stats.byVerb[rule.verb] = (this.stats.byVerb[rule.verb] ?? 0) + 1;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      accept: "application/json",
      ...(payload
        ? {
            "content-type": "application/merge-patch+json",
            "content-length": String(Buffer.byteLength(payload)),
          }
        : {}),
    };
    const url = this.server + path;
    const { status, text, type } = await this.open(method, path, payload, headers, {
      onResponse: (res, control) =>
        collect(res, control).then((body) => ({
          status: res.statusCode ?? 0,
          text: body,
          type: String(res.headers["content-type"] ?? ""),
        })),
    }).catch((error: unknown) => {
      if (error instanceof ResponseTooLargeError)
        throw new KubeNotKubernetesError(this.server, url, error.message);
      if (isNotHttp(error))
        throw new KubeNotKubernetesError(
          this.server,
          url,
          `the answer is not HTTP (${(error as Error).message})`,
        );
      throw this.classify(error, rule);
    });
    if (status >= 200 && status < 300) return kubernetesJson(this.server, url, status, type, text);
    throw this.statusError(status, text, rule);
  }

  private statusError(status: number, text: string, rule: RequestRule): Error {
    const message = (parseJson(text) as { message?: unknown }).message;
    const serverMessage = typeof message === "string" ? message : text.slice(0, 200);
    if (status === 401 || status === 403) return new KubeForbiddenError(rule, status, serverMessage);
    return new KubeStatusError(rule, status, serverMessage);
  }

  /**
   * Sends one request under three clocks, each cut to the deadline: connecting (TCP and TLS),
   * the answer's headers, and the body (idle for `idleMs`, else the request timeout in total).
   * `onResponse` reads the response; the request stays tracked (abortAll) until it closes.
   */
  private async open<T>(
    method: string,
    path: string,
    payload: string | undefined,
    extraHeaders: Record<string, string> | undefined,
    handlers: {
      idleMs?: number;
      /** Called as soon as the request exists (before any answer): a watch can be aborted from then on. */
      onRequest?: (control: ResponseControl) => void;
      onResponse: (res: http.IncomingMessage, control: ResponseControl) => T | Promise<T>;
    },
  ): Promise<T> {
    if (Date.now() >= this.deadline) {
      throw Object.assign(new Error("aborted: the deadline passed"), { code: "EABORTED" });
    }
    const base = await this.requestOptions();
    const url = new URL(this.server + path);
    const tls = url.protocol !== "http:";
    const transport = tls ? https : http;
    const options: https.RequestOptions = {
      ...base,
      ...(tls ? {} : { agent: undefined }),
      method,
      headers: { ...(base.headers as Record<string, string>), ...extraHeaders },
    };
    return new Promise<T>((resolve, reject) => {
      const req = transport.request(url, options);
      const left = () => Math.max(0, this.deadline - Date.now());
      let timer: NodeJS.Timeout | undefined;
      let failure: Error | undefined;
      const kill = (error: Error): void => {
        failure ??= error;
        req.destroy(error);
      };
      const control: ResponseControl = {
        destroy: kill,
        reason: () => failure ?? Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
      };
      const entry: InFlight = { stage: "connect", destroy: kill };
      this.inFlight.add(entry);
      handlers.onRequest?.(control);
      const arm = (ms: number, error: () => Error): void => {
        clearTimeout(timer);
        timer = setTimeout(() => kill(error()), ms);
      };
      const connectMs = Math.min(this.connectTimeoutMs, left());
      arm(connectMs, () => silenceError("connect", connectMs));
      const answerMs = Math.min(this.requestTimeoutMs, left());
      const connected = (): void => {
        entry.stage = "answer";
        arm(Math.min(answerMs, left()), () => silenceError("answer", answerMs));
      };
      req.on("socket", (socket) => {
        // A reused keep-alive socket is connected (and its TLS session set up) already.
        if (!socket.connecting) return connected();
        if (!tls) return void socket.once("connect", connected);
        socket.once("connect", () => {
          entry.stage = "tls";
          const tlsMs = Math.min(this.connectTimeoutMs, left());
          arm(tlsMs, () => silenceError("tls", tlsMs));
        });
        socket.once("secureConnect", connected);
      });
      req.on("response", (res) => {
        const idleMs = handlers.idleMs;
        // A plain answer's body must follow within what is left of the answer timeout; a stream's
        // idle clock restarts with each chunk (the deadline still ends it).
        if (idleMs !== undefined) {
          const idle = () => arm(Math.min(idleMs, left()), () => silenceError("answer", idleMs));
          idle();
          res.on("data", idle);
        }
        try {
          resolve(handlers.onResponse(res, control));
        } catch (error) {
          reject(error);
        }
      });
      req.on("error", (error) => {
        failure ??= error;
        reject(failure);
      });
      req.on("close", () => {
        clearTimeout(timer);
        this.inFlight.delete(entry);
      });
      req.end(payload);
    });
  }
}

/**
 * The most a single answer (or one watch event) may hold. The lists verify reads (a Flux source,
 * a few Kustomizations, one VM and its disks) are kilobytes; an endless body must end the request,
 * not fill memory until the deadline passes (it grew to 4 GB and overran the deadline by 11 s).
 */
export const maxResponseBytes = 16 * 1024 * 1024;

class ResponseTooLargeError extends Error {}

/** Node's HTTP parser rejected what came back: the port speaks something else. */
function isNotHttp(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("HPE_");
}

/** A 2xx answer as the API server gives it: JSON, an object. Anything else names the URL. */
function kubernetesJson(server: string, url: string, status: number, type: string, text: string): unknown {
  const mediaType = type.split(";")[0]?.trim().toLowerCase() ?? "";
  if (mediaType !== "" && mediaType !== "application/json" && !mediaType.endsWith("+json"))
    throw new KubeNotKubernetesError(
      server,
      url,
      `HTTP ${status} with ${mediaType}${text ? ` (${JSON.stringify(text.slice(0, 80))})` : ""}, not Kubernetes JSON`,
    );
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KubeNotKubernetesError(
      server,
      url,
      `HTTP ${status} with a body that is not JSON (${JSON.stringify(text.slice(0, 80))})`,
    );
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new KubeNotKubernetesError(server, url, `HTTP ${status} with JSON that is no Kubernetes object`);
  return value;
}

function collect(res: http.IncomingMessage, control: ResponseControl): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge: ResponseTooLargeError | undefined;
    res.on("data", (c: Buffer) => {
      if (tooLarge) return;
      size += c.length;
      if (size > maxResponseBytes) {
        // Rejected first: the socket's own "aborted" error must not become the diagnosis.
        tooLarge = new ResponseTooLargeError(
          `the answer is over ${maxResponseBytes / 1024 / 1024} MiB and still going`,
        );
        chunks.length = 0;
        reject(tooLarge);
        control.destroy(tooLarge);
        return;
      }
      chunks.push(c);
    });
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
    res.on("close", () => {
      if (!res.complete) reject(control.reason());
    });
  });
}

function parseJson(text: string): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { message: text.slice(0, 200) };
  }
}
