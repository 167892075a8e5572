import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { pinnedCharts, stagePinnedChart } from "../../src/render/pinned-charts.ts";
import { mirrorPathFor, readSchemaLock, resolveMirror } from "../../src/schemas/sources.ts";
import type { TestApiServer } from "../support/apiserver.ts";
import { pushChart, type Registry } from "../support/charts.ts";
import { sourceFetch } from "../support/upstream-schemas.ts";
import { buildApp, get, type Json, type K8sObject, verifyRunnerDir } from "./runner-manifests.ts";

// What the tests that install apps/verify-runner's ARC charts on the real helm-controller share
// (runner-helm.test.ts, render-differential.test.ts): the pinned charts pushed to a real OCI
// registry, the app as Flux applies it with its HelmRepository pointed at that registry, a
// stand-in for the deployment controller, and Helm's stored release record.

/** Where schemas.lock.json pins ARC's two charts (under the upstream repository's URL). */
export const arcChartsPath = "actions/actions-runner-controller/gha-runner-scale-set-0.14.2/charts/";
/** The OCI repository the HelmRepository names (oci://ghcr.io/<this>), mirrored in the local registry. */
export const arcOciRepository = "actions/actions-runner-controller-charts";
export const arcCharts = ["gha-runner-scale-set-controller", "gha-runner-scale-set"] as const;

/**
 * An ARC chart pinned in schemas.lock.json (sha256-verified), staged as a chart directory; with
 * the chart's files as the lock lists them and as the mirror holds them (empty without a mirror).
 */
export async function lockedArcChart(
  chart: string,
): Promise<{ dir: string; chartYaml: string; files: string[]; mirrorFiles: string[] }> {
  const lock = await readSchemaLock();
  const mirror = resolveMirror(undefined, process.env);
  const pinned = pinnedCharts(lock).find((c) => c.origin.endsWith(`/${arcChartsPath}${chart}/`));
  if (!pinned) throw new Error(`${chart} is not pinned in schemas.lock.json`);
  const dir = await stagePinnedChart(pinned, sourceFetch(mirror));
  const mirrorFiles: string[] = [];
  if (mirror) {
    const root = path.dirname(mirrorPathFor(mirror, `${pinned.origin}Chart.yaml`));
    const walk = (d: string, prefix: string) => {
      for (const name of readdirSync(d)) {
        const full = path.join(d, name);
        if (statSync(full).isDirectory()) walk(full, `${prefix}${name}/`);
        else mirrorFiles.push(`${prefix}${name}`);
      }
    };
    walk(root, "");
  }
  return {
    dir,
    chartYaml: readFileSync(path.join(dir, "Chart.yaml"), "utf8"),
    files: pinned.files.map((f) => f.path).sort(),
    mirrorFiles: mirrorFiles.sort(),
  };
}

/** Both ARC charts, packaged and pushed by Helm's own CLI to `registry` under arcOciRepository. */
export async function pushArcCharts(registry: Registry): Promise<void> {
  for (const chart of arcCharts)
    await pushChart(registry, (await lockedArcChart(chart)).dir, arcOciRepository);
}

/**
 * apps/verify-runner as Flux's Kustomization applies it (`shipped`), minus the two objects that only
 * tell Flux where to read the folder from (no kustomize-controller and no GitHub here); and the
 * same with the one substitution the tests make (`applied`): ghcr.io is unreachable, so the
 * HelmRepository points at the local registry (plain HTTP, hence `insecure: true`).
 */
export async function verifyRunnerObjects(
  registryHost: string,
): Promise<{ shipped: K8sObject[]; applied: K8sObject[] }> {
  const shipped = (await buildApp(verifyRunnerDir)).filter(
    (o) => !(o.kind === "Kustomization" || o.kind === "GitRepository"),
  );
  const applied = shipped.map((o) =>
    o.kind === "HelmRepository"
      ? {
          ...o,
          spec: { ...(o.spec as Json), url: `oci://${registryHost}/${arcOciRepository}`, insecure: true },
        }
      : o,
  );
  return { shipped, applied };
}

/**
 * Stand-in for the deployment controller + kubelet (no kubelet or container runtime on these
 * machines): once a Deployment exists, write the status the deployment controller writes when its
 * pods are available (observedGeneration, replica counts, Available/MinimumReplicasAvailable,
 * Progressing/NewReplicaSetAvailable), so Helm's wait and dependsOn can finish. Returns its stop.
 */
export function startDeploymentStandIn(server: TestApiServer): () => void {
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const list = await server.kubectl(["get", "deployments", "-A", "-o", "json"]);
      if (list.exitCode === 0) {
        for (const d of (JSON.parse(list.stdout) as { items: Json[] }).items) {
          const generation = get(d, "metadata", "generation") as number;
          if (get(d, "status", "observedGeneration") === generation) continue;
          const replicas = (get(d, "spec", "replicas") as number | undefined) ?? 1;
          const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
          const condition = (type: string, reason: string, message: string) => ({
            type,
            status: "True",
            reason,
            message,
            lastUpdateTime: now,
            lastTransitionTime: now,
          });
          const status = {
            observedGeneration: generation,
            replicas,
            updatedReplicas: replicas,
            readyReplicas: replicas,
            availableReplicas: replicas,
            conditions: [
              condition("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
              condition("Progressing", "NewReplicaSetAvailable", "ReplicaSet has successfully progressed."),
            ],
          };
          await server.kubectl([
            "patch",
            "deployment",
            String(get(d, "metadata", "name")),
            "-n",
            String(get(d, "metadata", "namespace")),
            "--subresource=status",
            "--type=merge",
            "-p",
            JSON.stringify({ status }),
          ]);
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return () => {
    stopped = true;
  };
}

/** Helm's release record as helm-controller stores it (storage namespace = release namespace). */
export interface StoredRelease {
  manifest: string;
  chart: { metadata: { name: string; version: string } };
}

/**
 * The first revision's release record of `namespace/name`: Secret `sh.helm.release.v1.<name>.v1`,
 * data.release = base64(gzip(JSON)). Waits up to `deadlineMs` for it; on timeout the error carries
 * `diagnose()`'s text.
 */
export async function storedRelease(
  server: TestApiServer,
  namespace: string,
  name: string,
  options: { deadlineMs?: number; diagnose?: () => Promise<string> | string } = {},
): Promise<StoredRelease> {
  const deadlineMs = options.deadlineMs ?? 180_000;
  const until = Date.now() + deadlineMs;
  for (;;) {
    const got = await server.kubectl([
      "get",
      "secret",
      `sh.helm.release.v1.${name}.v1`,
      "-n",
      namespace,
      "-o",
      "json",
    ]);
    if (got.exitCode === 0) {
      const secret = JSON.parse(got.stdout) as Json;
      return JSON.parse(
        gunzipSync(
          Buffer.from(
            Buffer.from(String(get(secret, "data", "release")), "base64").toString("utf8"),
            "base64",
          ),
        ).toString("utf8"),
      ) as StoredRelease;
    }
    if (Date.now() > until)
      throw new Error(
        `no release Secret for ${namespace}/${name} after ${deadlineMs} ms\n${(await options.diagnose?.()) ?? ""}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}
