import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import {
  type HelmRenderRequest,
  type Renderer,
  startRenderer,
  type ValuesSource,
} from "../../src/render/helper.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { startTestApiServer, type TestApiServer } from "../support/apiserver.ts";
import { pushChart, type Registry, startRegistry } from "../support/charts.ts";
import {
  cozystackChartVersion,
  cozystackInstancetype,
  stageCozystackChart,
  startCozystackApi,
} from "../support/cozystack.ts";
import {
  type ArtifactServer,
  type FluxControllers,
  startArtifactServer,
  startFluxControllers,
} from "../support/flux.ts";
import { appRel, installAppCrds } from "../support/real-flux-app.ts";
import {
  arcOciRepository,
  pushArcCharts,
  type StoredRelease,
  startDeploymentStandIn,
  storedRelease,
  verifyRunnerObjects,
} from "./runner-helm-harness.ts";
import { get, type Json } from "./runner-manifests.ts";

// Differential test (issue 22 item 6): every HelmRelease is installed by the REAL helm-controller
// (v1.6.4, with source-controller v1.8.5) on a real kube-apiserver, and the manifest Helm stored in
// the release Secret is compared, object by object and in order, with what flux-render's helm op
// renders for the same HelmRelease object (as the API server holds it), the same chart and the same
// values sources. They must be identical.
//
// Releases: CozyStack v1.6.2's vm-disk and vm-instance (served as ExternalArtifacts exactly as the
// cozystack-api stand-in serves them, the HelmReleases the stand-in creates for the app's VMDisk and
// VMInstance), the two ARC charts of apps/verify-runner (pulled over OCI from a real registry, as in
// runner-helm.test.ts) and the fixture chart test/fixtures/render-differential/echo (OCIRepository
// chartRef: digest tracking; valuesFrom ConfigMap + Secret with targetPath and optional;
// postRenderers with a strategic-merge patch, a JSON6902 patch and an images entry; commonMetadata).

const fixtureDir = path.join(toolsRepoRoot, "tools", "haos-tasks", "test", "fixtures", "render-differential");
/** The API server's version: helm-controller's Capabilities.KubeVersion comes from its discovery. */
let kubeVersion: string;

let server: TestApiServer;
let flux: FluxControllers;
let registry: Registry;
let artifacts: ArtifactServer;
let renderer: Renderer;
const stopStandIns: Array<() => Promise<void> | void> = [];

async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await server.kubectl(args, input === undefined ? {} : { input });
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}
const kubectlJson = async (args: string[]): Promise<Json> =>
  JSON.parse(await kubectl([...args, "-o", "json"])) as Json;
const apply = (objects: unknown[]) =>
  kubectl(
    ["apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-"],
    objects.map((o) => stringify(o)).join("---\n"),
  );

interface Compared {
  source: string;
  object: unknown;
}

/**
 * The stored manifest as objects in order, each with the template its `# Source:` comment names.
 * Normalisations: (1) the manifest is YAML text and flux-render answers JSON, so both are compared
 * as decoded data — decoded as sigs.k8s.io/yaml decodes (YAML 1.1, flux-render's decoder and the
 * API server's), which makes key order and quoting style irrelevant and nothing else; (2) nothing
 * else is normalised.
 */
function manifestObjects(manifest: string): Compared[] {
  const out: Compared[] = [];
  // Helm writes each object as `---\n# Source: <template>\n<yaml>`.
  for (const chunk of manifest.split(/^---$/m)) {
    const object = parseAllDocuments(chunk, { version: "1.1" })[0]?.toJS() as unknown;
    if (object === null || object === undefined) continue;
    const source = /^# Source: (.+)$/m.exec(chunk)?.[1]?.trim() ?? "?";
    out.push({ source, object });
  }
  return out;
}

/** What a missing release Secret's error shows: every HelmRelease and the controllers' last logs. */
async function diagnose(): Promise<string> {
  const hr = await server.kubectl(["get", "helmrelease", "-A", "-o", "yaml"]);
  return `${hr.stdout}\n${flux.logs(40)}`;
}

async function valuesSource(kind: "ConfigMap" | "Secret", namespace: string, name: string) {
  const object = await kubectlJson(["get", kind.toLowerCase(), name, "-n", namespace]);
  const data = (object.data ?? {}) as Record<string, string>;
  return {
    kind,
    namespace,
    name,
    data:
      kind === "Secret"
        ? Object.fromEntries(
            Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
          )
        : data,
  };
}

/** Renders the live HelmRelease with flux-render and compares with the stored release. */
async function differential(
  namespace: string,
  name: string,
  chart: HelmRenderRequest["chart"],
  extra: Partial<HelmRenderRequest> = {},
): Promise<{ stored: StoredRelease; rendered: Compared[]; crds: Json[] }> {
  const stored = await storedRelease(server, namespace, name, { diagnose });
  const release = await kubectlJson(["get", "helmrelease", name, "-n", namespace]);
  const sources: ValuesSource[] = [];
  for (const ref of (get(release, "spec", "valuesFrom") ?? []) as Json[]) {
    const kind = ref.kind as "ConfigMap" | "Secret";
    const got = await server.kubectl(["get", kind.toLowerCase(), String(ref.name), "-n", namespace]);
    const listed = sources.some((s) => s.kind === kind && s.name === ref.name);
    if (got.exitCode === 0 && !listed) sources.push(await valuesSource(kind, namespace, String(ref.name)));
  }
  const response = await renderer.helm({
    release,
    chart,
    valuesSources: sources,
    kubeVersion,
    mirrors: [{ origin: `oci://${registry.host}`, url: `http://${registry.host}` }],
    ...extra,
  });
  expect(response.error, JSON.stringify(response.error)).toBeUndefined();
  const rendered = response.resources
    .filter((r) => !r.crd && !r.hook)
    .map((r) => ({ source: r.template, object: r.object }));
  expect(response.chart?.version).toBe(stored.chart.metadata.version);
  const crds = response.resources.filter((r) => r.crd).map((r) => r.object as Json);
  return { stored, rendered, crds };
}

function expectIdentical(stored: StoredRelease, rendered: Compared[]): void {
  const want = manifestObjects(stored.manifest);
  const key = (c: Compared) => {
    const o = c.object as Json;
    return `${c.source} ${String(o.kind)}/${String(get(o, "metadata", "name"))}`;
  };
  // Same objects, same order (Helm's install order), same template.
  expect(rendered.map(key)).toEqual(want.map(key));
  for (const [i, w] of want.entries()) expect(rendered[i]?.object, key(w)).toEqual(w.object);
}

beforeAll(async () => {
  server = await startTestApiServer();
  // Flux's CRDs, the app's published CRDs (Kube-OVN: the vm-instance chart looks up IPs) and the
  // KubeVirt/CDI/instancetype/CozyStack kinds synthesized from their pinned OpenAPI.
  await installAppCrds(server);
  kubeVersion = String(
    get(JSON.parse(await kubectl(["version", "-o", "json"])) as Json, "serverVersion", "gitVersion"),
  );
  registry = await startRegistry();
  await pushArcCharts(registry);
  await pushChart(registry, path.join(fixtureDir, "echo"), "fixtures");
  flux = await startFluxControllers(server, {
    controllers: ["source-controller", "helm-controller"],
    extraArgs: { "helm-controller": ["--requeue-dependency=2s"] },
  });
  artifacts = await startArtifactServer();
  for (const ns of ["tenant-root", "apps"]) await kubectl(["create", "namespace", ns]);
  // The objects the vm-instance chart `lookup`s: the instancetype and the preference it names.
  await kubectl(["apply", "-f", "-"], await cozystackInstancetype("u1.medium"));
  await kubectl(["apply", "-f", path.join(toolsRepoRoot, appRel, "vmclusterpreference-haos.yaml")]);
  // The cozystack-api stand-in: chart artifacts, the values Secret; its HelmReleases are created
  // below from the app's VMDisk and VMInstance exactly as releaseFor() writes them.
  const standIn = await startCozystackApi(server, artifacts, { tenants: ["tenant-root"] });
  stopStandIns.push(() => standIn.stop());
  stopStandIns.push(startDeploymentStandIn(server));
  // apps/verify-runner as Flux applies it, the HelmRepository pointed at the local registry.
  const { applied: verifyRunner } = await verifyRunnerObjects(registry.host);
  await apply(verifyRunner);
  const fixture = readFileSync(path.join(fixtureDir, "flux.yaml"), "utf8").replaceAll(
    "REGISTRY",
    registry.host,
  );
  await kubectl(["apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-"], fixture);
  // The VMDisk first: vm-instance `fail`s unless the disk's DataVolume exists (its lookup).
  await apply([readApp("vmdisk-haos.yaml")]);
  await storedRelease(server, "tenant-root", "vm-disk-haos", { diagnose });
  await apply([readApp("vminstance-haos.yaml")]);
  renderer = await startRenderer({ env: process.env });
}, 400_000);

function readApp(file: string): Json {
  return parseAllDocuments(readFileSync(path.join(toolsRepoRoot, appRel, file), "utf8"))[0]?.toJS() as Json;
}

afterAll(async () => {
  for (const stop of stopStandIns.reverse()) await stop();
  await renderer?.close();
  await flux?.stop();
  await artifacts?.close();
  await registry?.close();
  await server?.stop();
}, 60_000);

describe("flux-render's helm op against the real helm-controller's stored release", () => {
  it("CozyStack vm-disk: identical", async () => {
    const { stored, rendered } = await differential("tenant-root", "vm-disk-haos", {
      type: "dir",
      path: await stageCozystackChart("vm-disk"),
      versionOverride: cozystackChartVersion,
    });
    expectIdentical(stored, rendered);
  });

  it("CozyStack vm-instance (lookups of the instancetype, preference and DataVolume): identical", async () => {
    const lookup = [
      await kubectlJson(["get", "virtualmachineclusterinstancetype", "u1.medium"]),
      await kubectlJson(["get", "virtualmachineclusterpreference", "haos"]),
      await kubectlJson(["get", "datavolume", "vm-disk-haos", "-n", "tenant-root"]),
    ];
    const { stored, rendered } = await differential(
      "tenant-root",
      "vm-instance-haos",
      { type: "dir", path: await stageCozystackChart("vm-instance"), versionOverride: cozystackChartVersion },
      { lookup },
    );
    expectIdentical(stored, rendered);
    // The lookups mattered: without the DataVolume the chart fails ("Specified disk not exists").
    const without = await renderer.helm({
      release: await kubectlJson(["get", "helmrelease", "vm-instance-haos", "-n", "tenant-root"]),
      chart: {
        type: "dir",
        path: await stageCozystackChart("vm-instance"),
        versionOverride: cozystackChartVersion,
      },
      valuesSources: [await valuesSource("Secret", "tenant-root", "cozystack-values")],
      kubeVersion,
      lookup: lookup.slice(0, 2),
    });
    expect(without.error?.code).toBe("render");
  });

  it("ARC gha-runner-scale-set-controller (crds CreateReplace): identical", async () => {
    const { stored, rendered, crds } = await differential("arc-systems", "gha-rs-controller", {
      type: "oci",
      url: `oci://${registry.host}/${arcOciRepository}/gha-runner-scale-set-controller`,
      tag: "0.14.2",
    });
    expectIdentical(stored, rendered);
    // The chart's crds/ are not in Helm's manifest: helm-controller applies them itself (with its
    // origin labels). Compared with the live CRDs — normalised to what the API server cannot add
    // to: the name, the labels and spec.versions (it defaults other spec fields and adds status).
    expect(crds.map((c) => get(c, "metadata", "name")).sort()).toEqual([
      "autoscalinglisteners.actions.github.com",
      "autoscalingrunnersets.actions.github.com",
      "ephemeralrunners.actions.github.com",
      "ephemeralrunnersets.actions.github.com",
    ]);
    for (const crd of crds) {
      const name = String(get(crd, "metadata", "name"));
      const live = await kubectlJson(["get", "crd", name]);
      expect(get(live, "metadata", "labels"), name).toEqual(get(crd, "metadata", "labels"));
      expect(get(live, "spec", "versions"), name).toEqual(get(crd, "spec", "versions"));
    }
  });

  it("ARC gha-runner-scale-set (dependsOn the controller): identical", async () => {
    const { stored, rendered } = await differential(
      "tenant-root",
      "verify-runner",
      {
        type: "oci",
        url: `oci://${registry.host}/${arcOciRepository}/gha-runner-scale-set`,
        tag: "0.14.2",
      },
      // The chart lists every Deployment (lookup without namespace and name) to find its controller's.
      { lookup: (await kubectlJson(["get", "deployments", "-A"])).items as Json[] },
    );
    expectIdentical(stored, rendered);
  });

  it("fixture echo (valuesFrom + targetPath, postRenderers, commonMetadata, digest tracking): identical", async () => {
    const { stored, rendered } = await differential("apps", "echo", {
      type: "oci",
      url: `oci://${registry.host}/fixtures/echo`,
      tag: "0.1.0",
      digestTracking: true,
    });
    expectIdentical(stored, rendered);
    // The features are live in this fixture: the stored render shows each of them.
    const objects = manifestObjects(stored.manifest).map((c) => c.object as Json);
    const deployment = objects.find((o) => o.kind === "Deployment") as Json;
    const container = (get(deployment, "spec", "template", "spec", "containers") as Json[])[0] as Json;
    expect(container.image).toBe("registry.example.com/nginx:1.27.1");
    expect(container.env).toContainEqual({ name: "PATCHED", value: "yes" });
    expect(get(deployment, "metadata", "labels", "team")).toBe("home");
    expect(get(deployment, "metadata", "annotations", "owner")).toBe("ops");
    const config = objects.find((o) => o.kind === "ConfigMap") as Json;
    expect(get(config, "data", "port")).toBe("8080");
    expect(get(config, "data", "greeting")).toBe("from-spec");
    expect(stored.chart.metadata.version).toMatch(/^0\.1\.0\+[0-9a-f]{12}$/);
  });
});
