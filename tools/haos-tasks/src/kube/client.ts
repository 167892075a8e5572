import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import { Watch } from "@kubernetes/client-node/dist/watch.js";
import {
  connectionReason,
  isConnectionError,
  KubeForbiddenError,
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

/**
 * The one place that talks HTTP to the API server: credentials come from a client-node
 * KubeConfig (tokens, client certs, exec plugins); watch streams use client-node's Watch.
 */
export class KubeClient {
  readonly server: string;
  readonly stats: RequestStats = { requests: 0, watchStreams: 0, byVerb: {} };
  private readonly kubeConfig: KubeConfig;
  private readonly requestTimeoutMs: number;
  private cachedOptions: { at: number; options: https.RequestOptions } | undefined;

  constructor(kubeConfig: KubeConfig, options: { requestTimeoutMs?: number } = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    this.server = cluster.server.replace(/\/$/, "");
    this.kubeConfig = kubeConfig;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
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
      items?: KubeObject[];
      metadata?: { resourceVersion?: string };
    };
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

  /** Creates an object (the cluster simulator in tests; verify itself never creates). */
  async create(kind: ResourceKind, namespace: string | undefined, object: unknown): Promise<KubeObject> {
    return (await this.request(
      "POST",
      resourcePath(kind, namespace),
      this.rule("patch", kind, namespace),
      object,
      "application/json",
    )) as KubeObject;
  }

  /** Deletes an object; a missing one is fine. */
  async delete(kind: ResourceKind, namespace: string | undefined, name: string): Promise<void> {
    try {
      await this.request("DELETE", resourcePath(kind, namespace, name), this.rule("patch", kind, namespace));
    } catch (error) {
      if (!(error instanceof KubeStatusError && error.status === 404)) throw error;
    }
  }

  /**
   * Opens a watch stream from `resourceVersion`. `onDone` runs once when the stream ends, with the
   * classified error when it failed. Returns a function that aborts the stream.
   */
  async watch(
    kind: ResourceKind,
    namespace: string | undefined,
    resourceVersion: string,
    params: ListParams,
    onEvent: (event: WatchEvent) => void,
    onDone: (error: Error | undefined) => void,
  ): Promise<() => void> {
    const rule = this.rule("watch", kind, namespace);
    const watcher = new Watch(this.kubeConfig);
    // client-node aborts a stream after 30 s without data; a quiet rollout is normal, so wait
    // for the server's own timeoutSeconds instead (the field is private in the typings only).
    (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 330_000;
    this.stats.watchStreams += 1;
    const query: Record<string, string | boolean | number> = {
      resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
    };
    if (params.fieldSelector) query.fieldSelector = params.fieldSelector;
    if (params.labelSelector) query.labelSelector = params.labelSelector;
    const controller = await watcher.watch(
      resourcePath(kind, namespace),
      query,
      (type: string, object: WatchEvent["object"]) => onEvent({ type: type as WatchEvent["type"], object }),
      (error: unknown) => onDone(error ? this.classify(error, rule) : undefined),
    );
    return () => controller.abort();
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

  private async request(
    method: string,
    path: string,
    rule: RequestRule,
    body?: unknown,
    contentType = "application/merge-patch+json",
  ): Promise<unknown> {
    this.stats.requests += 1;
    this.stats.byVerb[rule.verb] = (this.stats.byVerb[rule.verb] ?? 0) + 1;
    const base = await this.requestOptions();
    const url = new URL(this.server + path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...(base.headers as Record<string, string>),
      accept: "application/json",
      ...(payload
        ? { "content-type": contentType, "content-length": String(Buffer.byteLength(payload)) }
        : {}),
    };
    const transport = url.protocol === "http:" ? http : https;
    const options: https.RequestOptions = {
      ...base,
      ...(url.protocol === "http:" ? { agent: undefined } : {}),
      method,
      headers,
      timeout: this.requestTimeoutMs,
    };
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = transport.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      });
      req.on("timeout", () =>
        req.destroy(Object.assign(new Error("request timed out"), { code: "ETIMEDOUT" })),
      );
      req.on("error", reject);
      req.end(payload);
    }).catch((error: unknown) => {
      throw this.classify(error, rule);
    });
    const parsed = parseJson(text);
    if (status >= 200 && status < 300) return parsed;
    const message = (parsed as { message?: unknown }).message;
    const serverMessage = typeof message === "string" ? message : text.slice(0, 200);
    if (status === 401 || status === 403) throw new KubeForbiddenError(rule, status, serverMessage);
    throw new KubeStatusError(rule, status, serverMessage);
  }
}

function parseJson(text: string): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { message: text.slice(0, 200) };
  }
}
