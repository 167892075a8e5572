import { parseAllDocuments, stringify } from "yaml";
import { KubeClient, type KubeObject } from "../../src/kube/client.ts";
import type { ResourceKind } from "../../src/kube/resources.ts";
import { cozystackChartVersions, pinnedChart, stagePinnedChart } from "../../src/render/pinned-charts.ts";
import { readSchemaLock, resolveMirror } from "../../src/schemas/sources.ts";
import type { TestApiServer } from "./apiserver.ts";
import { type ArtifactServer, pinnedText, serveChartAsExternalArtifact } from "./flux.ts";
import { KubeWriter } from "./kube-writer.ts";
import { sourceFetch } from "./upstream-schemas.ts";

/**
 * A stand-in for cozystack-api (the aggregated API server serving apps.cozystack.io), which
 * cannot be built here: its Go module is not served. It does what PLATFORM.md ("What cozystack-api
 * does for VMDisk / VMInstance") records, and nothing else:
 * - VMDisk/VMInstance are CRDs with a status subresource (synthesized from the charts' values schema);
 * - for each app object, a HelmRelease `vm-disk-<name>` / `vm-instance-<name>` in its namespace with
 *   the application labels, `chartRef` to the ExternalArtifact of the real v1.6.2 chart, the app's
 *   `.spec` as values, `valuesFrom` Secret `cozystack-values`, RetryOnFailure install and upgrade;
 * - the app object's status computed from that HelmRelease (Ready, Released copied) plus
 *   WorkloadsReady from the release's WorkloadMonitors; no generation-based observedGeneration;
 * - an app object deleted → its HelmRelease deleted (helm-controller then uninstalls the chart).
 * The charts are the real vm-disk and vm-instance charts with cozy-lib, read from the mirror and
 * packaged the way CozyStack's build does (cozy-lib under charts/, the version set in Chart.yaml).
 */

export const cozystackVersion = "v1.6.2";
/** The chart version cozystack-api's artifacts carry on v1.6.2 (Chart.yaml says 0.0.0 until built). */
export const cozystackChartVersion = cozystackChartVersions[cozystackVersion] as string;

const helmRelease: ResourceKind = {
  group: "helm.toolkit.fluxcd.io",
  version: "v2",
  plural: "helmreleases",
  kind: "HelmRelease",
  namespaced: true,
};
const appKinds = {
  VMDisk: {
    resource: {
      group: "apps.cozystack.io",
      version: "v1alpha1",
      plural: "vmdisks",
      kind: "VMDisk",
      namespaced: true,
    } satisfies ResourceKind,
    prefix: "vm-disk-",
    chart: "vm-disk",
    artifact: "cozystack-vm-disk-application-kubevirt-vm-disk",
  },
  VMInstance: {
    resource: {
      group: "apps.cozystack.io",
      version: "v1alpha1",
      plural: "vminstances",
      kind: "VMInstance",
      namespaced: true,
    } satisfies ResourceKind,
    prefix: "vm-instance-",
    chart: "vm-instance",
    artifact: "cozystack-vm-instance-application-kubevirt-vm-instance",
  },
} as const;
type AppKind = keyof typeof appKinds;
export const workloadMonitorKind: ResourceKind = {
  group: "cozystack.io",
  version: "v1alpha1",
  plural: "workloadmonitors",
  kind: "WorkloadMonitor",
  namespaced: true,
};

/**
 * WorkloadMonitor has no published CRD in the mirror (cozystack-controller generates it): an open
 * schema with a status subresource, enough for the chart's objects and `status.operational`.
 */
export const workloadMonitorCrd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: workloadmonitors.cozystack.io
  annotations:
    haos-tasks.dev/synthesized: "test fixture: cozystack-controller's CRD is not in the mirror"
spec:
  group: cozystack.io
  scope: Namespaced
  names: { plural: workloadmonitors, singular: workloadmonitor, kind: WorkloadMonitor, listKind: WorkloadMonitorList }
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, x-kubernetes-preserve-unknown-fields: true }
            status: { type: object, x-kubernetes-preserve-unknown-fields: true }
`;

/**
 * The real chart with cozy-lib under charts/, from the mirror, as cozystack-api's artifacts carry it
 * (src/render/pinned-charts.ts; a shared, content-addressed directory: read it, do not modify it).
 */
export async function stageCozystackChart(chart: "vm-disk" | "vm-instance"): Promise<string> {
  const lock = await readSchemaLock();
  const mirror = resolveMirror(undefined, process.env);
  return await stagePinnedChart(pinnedChart(lock, chart, cozystackChartVersion), sourceFetch(mirror));
}

export interface CozystackOptions {
  /** Tenant namespaces that get the `cozystack-values` Secret. */
  tenants: string[];
  /** RetryOnFailure's retryInterval (CozyStack: 30s; tests may shorten it and say so). */
  retryInterval?: string;
  /** How often the stand-in reconciles (it polls; cozystack-api computes status on every read). */
  pollMs?: number;
  /**
   * Delays creating a vm-disk HelmRelease after its VMDisk appears: forces the vm-instance chart's
   * "Specified disk not exists" race (its lookup of the DataVolume) that happens on real clusters.
   */
  diskReleaseDelayMs?: number;
}

export interface CozystackStandIn {
  /** Every app status write, for the tests' timing. */
  lastStatusWriteAt(): number;
  stop(): Promise<void>;
}

type Cond = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string };

/**
 * Installs what the stand-in needs (CRDs, chart artifacts, values Secret) and starts it.
 * `artifacts` serves the packaged charts to helm-controller.
 */
export async function startCozystackApi(
  server: TestApiServer,
  artifacts: ArtifactServer,
  options: CozystackOptions,
): Promise<CozystackStandIn> {
  await server.installCrds([workloadMonitorCrd]);
  for (const kind of Object.values(appKinds)) {
    const dir = await stageCozystackChart(kind.chart);
    await serveChartAsExternalArtifact(server, artifacts, {
      chartDir: dir,
      chartName: kind.chart,
      version: cozystackChartVersion,
      name: kind.artifact,
      namespace: "cozy-system",
    });
  }
  for (const ns of options.tenants) {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "cozystack-values", namespace: ns },
      stringData: { "values.yaml": stringify({ _cluster: {}, _namespace: {} }) },
    };
    const applied = await server.kubectl(["apply", "-f", "-"], { input: JSON.stringify(secret) });
    if (applied.exitCode !== 0) throw new Error(`cozystack-values in ${ns}: ${applied.stderr}`);
  }

  const client = new KubeClient(server.adminKubeConfig());
  const writer = new KubeWriter(server.adminKubeConfig());
  const retryInterval = options.retryInterval ?? "30s";
  const firstSeen = new Map<string, number>();
  let lastWrite = 0;
  let stopped = false;
  const lastStatus = new Map<string, string>();

  const releaseFor = (kind: AppKind, app: KubeObject) => {
    const k = appKinds[kind];
    return {
      apiVersion: "helm.toolkit.fluxcd.io/v2",
      kind: "HelmRelease",
      metadata: {
        name: `${k.prefix}${app.metadata.name}`,
        namespace: app.metadata.namespace,
        labels: {
          "apps.cozystack.io/application.group": "apps.cozystack.io",
          "apps.cozystack.io/application.kind": kind,
          "apps.cozystack.io/application.name": app.metadata.name,
          "sharding.fluxcd.io/key": "tenants",
        },
      },
      spec: {
        chartRef: { kind: "ExternalArtifact", name: k.artifact, namespace: "cozy-system" },
        interval: "5m0s",
        maxHistory: 5,
        install: { strategy: { name: "RetryOnFailure", retryInterval }, timeout: "10m0s" },
        upgrade: { strategy: { name: "RetryOnFailure", retryInterval }, timeout: "10m0s" },
        values: (app as { spec?: unknown }).spec ?? {},
        valuesFrom: [{ kind: "Secret", name: "cozystack-values" }],
      },
    };
  };

  const appStatus = (release: KubeObject | undefined, monitors: KubeObject[]): Record<string, unknown> => {
    const conditions = ((release?.status as { conditions?: Cond[] } | undefined)?.conditions ?? []).filter(
      (c) => c.type === "Ready" || c.type === "Released",
    );
    const ops = monitors.map((m) => (m.status as { operational?: unknown } | undefined)?.operational);
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const workloads: Cond =
      monitors.length > 0 && ops.every((o) => o === true)
        ? {
            type: "WorkloadsReady",
            status: "True",
            reason: "WorkloadMonitorCheck",
            message: "All workloads are operational",
          }
        : ops.some((o) => o === false)
          ? {
              type: "WorkloadsReady",
              status: "False",
              reason: "WorkloadMonitorCheck",
              message: "One or more workloads are not operational",
            }
          : {
              type: "WorkloadsReady",
              status: "Unknown",
              reason: "Pending",
              message: "One or more workloads have not been reconciled yet",
            };
    const history = (release?.status as { history?: Array<{ chartVersion?: string }> } | undefined)?.history;
    return {
      ...(history?.[0]?.chartVersion ? { version: history[0].chartVersion } : {}),
      conditions: release
        ? [...conditions.map((c) => ({ ...c })), { ...workloads, lastTransitionTime: now }]
        : [],
    };
  };

  const reconcile = async (): Promise<void> => {
    const releases = (await client.list(helmRelease, undefined)).items;
    const monitors = (await client.list(workloadMonitorKind, undefined)).items;
    const seen = new Set<string>();
    for (const kind of Object.keys(appKinds) as AppKind[]) {
      const k = appKinds[kind];
      for (const app of (await client.list(k.resource, undefined)).items) {
        const ns = app.metadata.namespace ?? "";
        const name = `${k.prefix}${app.metadata.name}`;
        seen.add(`${ns}/${name}`);
        if ((app.metadata as { deletionTimestamp?: string }).deletionTimestamp) continue;
        const want = releaseFor(kind, app);
        const have = releases.find((r) => r.metadata.namespace === ns && r.metadata.name === name);
        if (!have) {
          const uid = app.metadata.uid ?? name;
          const first = firstSeen.get(uid) ?? Date.now();
          firstSeen.set(uid, first);
          if (kind === "VMDisk" && Date.now() - first < (options.diskReleaseDelayMs ?? 0)) continue;
          await writer.create(helmRelease, ns, want);
          continue;
        }
        if (
          JSON.stringify((have.spec as { values?: unknown }).values ?? {}) !==
          JSON.stringify(want.spec.values)
        ) {
          await client.mergePatch(helmRelease, ns, name, { spec: { values: want.spec.values } });
        }
        const mine = monitors.filter(
          (m) =>
            m.metadata.namespace === ns && m.metadata.annotations?.["meta.helm.sh/release-name"] === name,
        );
        const status = appStatus(have, mine);
        // Same conditions → no write (cozystack-api computes on read; a write per poll would only
        // bump resourceVersion). lastTransitionTime of WorkloadsReady is excluded from the key.
        const key = JSON.stringify({
          ...status,
          conditions: (status.conditions as Cond[]).map(({ lastTransitionTime: _t, ...c }) => c),
        });
        if (lastStatus.get(`${kind}/${ns}/${app.metadata.name}`) === key) continue;
        await client.mergePatch(k.resource, ns, app.metadata.name, { status }, "status");
        lastStatus.set(`${kind}/${ns}/${app.metadata.name}`, key);
        lastWrite = Date.now();
      }
    }
    // An app object that is gone takes its HelmRelease with it.
    for (const release of releases) {
      const kind = release.metadata.labels?.["apps.cozystack.io/application.kind"];
      if (kind !== "VMDisk" && kind !== "VMInstance") continue;
      const key = `${release.metadata.namespace}/${release.metadata.name}`;
      if (!seen.has(key) && !(release.metadata as { deletionTimestamp?: string }).deletionTimestamp)
        await writer.delete(helmRelease, release.metadata.namespace, release.metadata.name);
    }
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        await reconcile();
      } catch {
        // the API server restarts in some scenarios: try again on the next poll
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
    }
  })();
  return {
    lastStatusWriteAt: () => lastWrite,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** VirtualMachineClusterInstancetype `name` from CozyStack's kubevirt-instancetypes (u1.medium). */
export async function cozystackInstancetype(name: string): Promise<string> {
  const text = await pinnedText(
    `cozystack/${cozystackVersion}/packages/system/kubevirt-instancetypes/templates/instancetypes.yaml`,
  );
  const doc = parseAllDocuments(text)
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null)
    .find((d) => d?.kind === "VirtualMachineClusterInstancetype" && d.metadata?.name === name);
  if (!doc) throw new Error(`no VirtualMachineClusterInstancetype ${name} in CozyStack's instancetypes.yaml`);
  return stringify(doc);
}
