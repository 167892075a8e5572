import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import type { KubeObject } from "../../src/kube/client.ts";
import { type ResourceKind, resourcePath } from "../../src/kube/resources.ts";

/** An answer of the API server outside 2xx to a create or a delete. */
export class KubeWriteError extends Error {
  readonly status: number;
  constructor(method: string, path: string, status: number, serverMessage: string) {
    super(`${method} ${path}: HTTP ${status}${serverMessage ? `: ${serverMessage}` : ""}`);
    this.status = status;
  }
}

/**
 * The verbs the cluster simulators need and verify never uses: create and delete, sent to the test
 * API server with the kubeconfig's credentials (the simulators use the admin's). The product's
 * KubeClient has no such verbs: verify only reads, watches and merge-patches.
 */
export class KubeWriter {
  private readonly server: string;
  private readonly kubeConfig: KubeConfig;
  private readonly timeoutMs: number;

  constructor(kubeConfig: KubeConfig, timeoutMs = 15_000) {
    this.kubeConfig = kubeConfig;
    this.timeoutMs = timeoutMs;
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    this.server = cluster.server.replace(/\/$/, "");
  }

  /** Creates an object (a `metadata.generateName` is honoured, as by the API server). */
  async create(kind: ResourceKind, namespace: string | undefined, object: unknown): Promise<KubeObject> {
    return (await this.send("POST", resourcePath(kind, namespace), object)) as KubeObject;
  }

  /** Deletes an object; a missing one is fine. */
  async delete(kind: ResourceKind, namespace: string | undefined, name: string): Promise<void> {
    try {
      await this.send("DELETE", resourcePath(kind, namespace, name));
    } catch (error) {
      if (!(error instanceof KubeWriteError && error.status === 404)) throw error;
    }
  }

  private async send(method: string, path: string, body?: unknown): Promise<unknown> {
    const options: https.RequestOptions = { headers: {} };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const url = new URL(this.server + path);
    const tls = url.protocol !== "http:";
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request: https.RequestOptions = {
      ...options,
      ...(tls ? {} : { agent: undefined }),
      method,
      timeout: this.timeoutMs,
      headers: {
        ...(options.headers as Record<string, string>),
        accept: "application/json",
        ...(payload
          ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) }
          : {}),
      },
    };
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = (tls ? https : http).request(url, request, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in ${this.timeoutMs} ms`)));
      req.on("error", reject);
      req.end(payload);
    });
    const parsed = parseJson(text);
    if (status >= 200 && status < 300) return parsed;
    const message = (parsed as { message?: unknown } | undefined)?.message;
    throw new KubeWriteError(
      method,
      path,
      status,
      typeof message === "string" ? message : text.slice(0, 200),
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
