import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { parse } from "yaml";

// A read-only OCI distribution registry on 127.0.0.1 serving Helm charts the way ghcr.io serves
// `helm push`ed charts: an image manifest whose config is the chart metadata
// (application/vnd.cncf.helm.config.v1+json) and whose one layer is the chart archive
// (application/vnd.cncf.helm.chart.content.v1.tar+gzip). Enough of the distribution spec for
// Helm's registry client (ORAS): manifest HEAD/GET by tag or digest, blob HEAD/GET by digest.
// It stands in for ghcr.io only, which these machines cannot reach.

const manifestType = "application/vnd.oci.image.manifest.v1+json";
const configType = "application/vnd.cncf.helm.config.v1+json";
const chartType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

interface Blob {
  bytes: Buffer;
  mediaType: string;
}

export interface OciRegistry {
  /** 127.0.0.1:<port> (the host part of an oci:// URL). */
  host: string;
  /** Publishes a packaged chart as `<repository>:<Chart.yaml version>`; returns the manifest digest. */
  pushChart(repository: string, tgzPath: string, chartYaml: string): string;
  /** Every request served, as `METHOD path status`. */
  requests(): string[];
  close(): Promise<void>;
}

const digestOf = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

export async function startOciRegistry(): Promise<OciRegistry> {
  const blobs = new Map<string, Blob>();
  const tags = new Map<string, string>(); // `<repository>:<tag>` → manifest digest
  const log: string[] = [];

  const send = (req: http.IncomingMessage, res: http.ServerResponse, status: number, blob?: Blob) => {
    log.push(`${req.method} ${req.url} ${status}`);
    if (!blob) {
      const body = JSON.stringify({
        errors: [{ code: status === 404 ? "NOT_FOUND" : "UNSUPPORTED", message: req.url }],
      });
      res.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
      });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    res.writeHead(status, {
      "content-type": blob.mediaType,
      "content-length": blob.bytes.length,
      "docker-content-digest": digestOf(blob.bytes),
    });
    res.end(req.method === "HEAD" ? undefined : blob.bytes);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://registry").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") return send(req, res, 405);
    if (url === "/v2/" || url === "/v2") {
      log.push(`${req.method} ${req.url} 200`);
      res.writeHead(200, {
        "content-type": "application/json",
        "docker-distribution-api-version": "registry/2.0",
      });
      return res.end(req.method === "HEAD" ? undefined : "{}");
    }
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url);
    if (manifest) {
      const [, repository, reference] = manifest as unknown as [string, string, string];
      const digest = reference.startsWith("sha256:") ? reference : tags.get(`${repository}:${reference}`);
      const blob = digest ? blobs.get(digest) : undefined;
      return send(
        req,
        res,
        blob?.mediaType === manifestType ? 200 : 404,
        blob?.mediaType === manifestType ? blob : undefined,
      );
    }
    const blobRef = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url);
    if (blobRef) {
      const blob = blobs.get(blobRef[2] as string);
      return send(req, res, blob ? 200 : 404, blob);
    }
    return send(req, res, 404);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  const put = (bytes: Buffer, mediaType: string) => {
    const digest = digestOf(bytes);
    blobs.set(digest, { bytes, mediaType });
    return { mediaType, digest, size: bytes.length };
  };

  return {
    host: `127.0.0.1:${port}`,
    pushChart(repository, tgzPath, chartYaml) {
      const metadata = parse(chartYaml) as { version: string };
      const config = put(Buffer.from(JSON.stringify(metadata)), configType);
      const layer = put(readFileSync(tgzPath), chartType);
      const manifest = put(
        Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: manifestType, config, layers: [layer] })),
        manifestType,
      );
      tags.set(`${repository}:${metadata.version}`, manifest.digest);
      return manifest.digest;
    },
    requests: () => [...log],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
