import { createHash } from "node:crypto";
import https from "node:https";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import { HintedError } from "../errors.ts";
import type { PhaseEvent } from "../phases.ts";
import { cacheDirs, converterVersion, type EnsuredCatalog } from "./catalog.ts";
import { readCatalogIndex, schemaLocation, writeCatalogDir } from "./catalog-dir.ts";
import { convertCrd } from "./convert/crd.ts";
import type { OriginSchema } from "./convert/source.ts";
import { isRecord } from "./convert/types.ts";

export class ClusterSchemaError extends HintedError {}

export interface FromClusterOptions {
  /** Defaults to `KubeConfig.loadFromDefault()` ($KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeConfig?: KubeConfig;
  cacheRoot?: string;
  /** The edge's environment (KUBECONFIG, HAOS_TASKS_CACHE_DIR). */
  env: NodeJS.ProcessEnv;
  onProgress?: (event: PhaseEvent) => void;
}

/** GETs a JSON path of the API server with the kubeconfig's credentials and CA (raw field names). */
async function getJson(kc: KubeConfig, server: string, apiPath: string): Promise<unknown> {
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const url = new URL(apiPath, server);
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...options, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode !== 200) {
          const hint =
            res.statusCode === 403 || res.statusCode === 401
              ? "the credentials need list on customresourcedefinitions.apiextensions.k8s.io"
              : "check the kubeconfig's server and context";
          reject(
            new ClusterSchemaError(
              `GET ${url.pathname}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`,
              hint,
            ),
          );
          return;
        }
        try {
          resolve(JSON.parse(body));
        } catch (error) {
          reject(
            new ClusterSchemaError(
              `GET ${url.pathname}: the answer is not JSON: ${body.slice(0, 200)}`,
              "check the kubeconfig's server: something other than a Kubernetes API server answers there",
              { cause: error },
            ),
          );
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error("timed out after 30 s")));
    req.on("error", (error) =>
      reject(
        new ClusterSchemaError(
          `cannot reach the API server ${server}: ${error.message}`,
          "check $KUBECONFIG / the current context, or drop --from-cluster to use the pinned sources",
        ),
      ),
    );
  });
}

/** Every CRD of the cluster, raw (the generated client renames `x-kubernetes-*` fields). */
async function listCrds(kc: KubeConfig, server: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let next: string | undefined;
  do {
    const query = `?limit=100${next ? `&continue=${encodeURIComponent(next)}` : ""}`;
    const page = await getJson(kc, server, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions${query}`);
    if (!isRecord(page) || !Array.isArray(page.items)) break;
    for (const item of page.items)
      if (isRecord(item))
        items.push({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", ...item });
    next =
      isRecord(page.metadata) && typeof page.metadata.continue === "string"
        ? page.metadata.continue
        : undefined;
  } while (next);
  return items;
}

/**
 * A catalog of the live cluster's CRDs, converted like the pinned sources and written to
 * `<cacheRoot>/cluster-<hash>/`; the key covers every CRD's name and resourceVersion.
 */
export async function syncFromCluster(options: FromClusterOptions): Promise<EnsuredCatalog> {
  const started = Date.now();
  const emit = (phase: string, status: PhaseEvent["status"], detail: string) =>
    options.onProgress?.({ phase, status, detail, elapsed: Date.now() - started });
  const kc = options.kubeConfig ?? new KubeConfig();
  if (!options.kubeConfig) {
    // The CLI passes its env; loadFromDefault only reads process.env.
    const file = options.env.KUBECONFIG?.split(path.delimiter)[0];
    try {
      if (file) kc.loadFromFile(file);
      else kc.loadFromDefault();
    } catch (error) {
      throw new ClusterSchemaError(
        `cannot read the kubeconfig${file ? ` ${file}` : ""}: ${error instanceof Error ? error.message : String(error)}`,
        "set $KUBECONFIG to a readable kubeconfig, or drop --from-cluster to use the pinned sources",
        { cause: error },
      );
    }
  }
  const server = kc.getCurrentCluster()?.server;
  if (!server) {
    throw new ClusterSchemaError(
      "no current cluster in the kubeconfig",
      "set $KUBECONFIG or `kubectl config use-context`",
    );
  }
  emit("cluster", "running", `listing CustomResourceDefinitions on ${server}`);
  const crds = await listCrds(kc, server);
  const schemas: OriginSchema[] = crds.flatMap((crd) =>
    convertCrd(crd).map((s) => ({ ...s, origin: "crd" as const, source: `cluster:${server}` })),
  );
  emit("cluster", "succeeded", `${crds.length} CRDs, ${schemas.length} served versions`);
  const fingerprint = crds.map((c) =>
    isRecord(c.metadata) ? `${String(c.metadata.name)}@${String(c.metadata.resourceVersion)}` : "",
  );
  const key = `cluster-${createHash("sha256")
    .update(JSON.stringify({ converterVersion, server, fingerprint: fingerprint.sort() }))
    .digest("hex")
    .slice(0, 16)}`;
  const dir = path.join(options.cacheRoot ?? cacheDirs(options.env).catalogRoot, key);
  const existing = await readCatalogIndex(dir);
  if (existing?.key === key) {
    emit("write", "skipped", `catalog ${key} is up to date`);
    const kinds = new Map(Object.entries(existing.kinds).map(([k, rel]) => [k, path.join(dir, rel)]));
    return { dir, location: schemaLocation(dir), kinds, key, synced: false };
  }
  const written = await writeCatalogDir(dir, schemas, { key, sources: [`cluster:${server}`] });
  emit("write", "succeeded", `${written.kinds.size} schemas written to ${dir}`);
  return {
    dir,
    location: schemaLocation(dir),
    kinds: written.kinds,
    key,
    synced: true,
    stats: {
      sourcesVerified: crds.length,
      schemasWritten: written.kinds.size,
      duplicates: written.duplicates,
      notes: [],
    },
  };
}
