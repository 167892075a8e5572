import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPlatform, type Platform } from "../../src/platform/platform.ts";
import { ensureSchemaCatalog, type SchemaCatalog } from "../../src/schemas/catalog.ts";
import { schemaLocation, writeCatalogDir } from "../../src/schemas/catalog-dir.ts";
import { convertCrdYaml } from "../../src/schemas/convert/crd.ts";
import { toolPath, toolsRepoRoot } from "../../src/tools/paths.ts";

interface KubeconformResource {
  kind: string;
  name: string;
  status: string;
  msg: string;
  validationErrors?: { path: string; msg: string }[];
}

/** Runs the real kubeconform -strict over YAML text against a catalog; returns non-valid resources. */
async function kubeconform(catalog: SchemaCatalog, yaml: string): Promise<KubeconformResource[]> {
  const result = await execa(
    toolPath("kubeconform", process.env),
    ["-strict", "-schema-location", catalog.location, "-output", "json", "-"],
    { input: yaml, reject: false },
  );
  expect(result.stderr).toBe("");
  return (JSON.parse(result.stdout) as { resources: KubeconformResource[] }).resources;
}

const errorsOf = (resources: KubeconformResource[]) =>
  resources.flatMap((r) =>
    (r.validationErrors ?? []).map((e) => `${e.path} ${e.msg}`).concat(r.validationErrors ? [] : [r.msg]),
  );

const vmInstance = (spec: string) => `apiVersion: apps.cozystack.io/v1alpha1
kind: VMInstance
metadata:
  name: haos
  namespace: tenant-root
spec:
${spec}`;

describe("strict catalog with the real kubeconform", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "haos-schemas-kc-"));
  let platform: Platform;
  let v1: SchemaCatalog;
  let v0: SchemaCatalog;

  beforeAll(async () => {
    platform = await loadPlatform("apps/haos-enigma", toolsRepoRoot);
    const v1Platform: Platform = { ...platform, versions: { ...platform.versions, cozystack: "v1.6.2" } };
    const v0Platform: Platform = { ...platform, versions: { ...platform.versions, cozystack: "v0.41.11" } };
    v1 = await ensureSchemaCatalog({ env: process.env, platform: v1Platform, cacheRoot: root });
    v0 = await ensureSchemaCatalog({ env: process.env, platform: v0Platform, cacheRoot: root });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("every kind of the catalog compiles in kubeconform (none silently treated as missing)", async () => {
    const probes = [...v1.kinds.keys()].map((key) => {
      const i = key.lastIndexOf("/");
      return `apiVersion: ${key.slice(0, i)}\nkind: ${key.slice(i + 1)}\nmetadata:\n  name: probe\n`;
    });
    expect(probes.length).toBeGreaterThan(200);
    const resources = await kubeconform(v1, probes.join("---\n"));
    const errors = resources.filter((r) => r.status === "statusError").map((r) => `${r.kind}: ${r.msg}`);
    expect(errors).toEqual([]);
  });

  it("covers the kinds a CozyStack Flux app uses", () => {
    for (const key of [
      "v1/Service",
      "v1/Namespace",
      "networking.k8s.io/v1/NetworkPolicy",
      "rbac.authorization.k8s.io/v1/Role",
      "source.toolkit.fluxcd.io/v1/GitRepository",
      "kustomize.toolkit.fluxcd.io/v1/Kustomization",
      "helm.toolkit.fluxcd.io/v2/HelmRelease",
      "kubevirt.io/v1/VirtualMachine",
      "instancetype.kubevirt.io/v1beta1/VirtualMachineClusterPreference",
      "snapshot.kubevirt.io/v1beta1/VirtualMachineSnapshot",
      "cdi.kubevirt.io/v1beta1/DataVolume",
      "kubeovn.io/v1/Subnet",
      "kyverno.io/v1/ClusterPolicy",
      "k8s.cni.cncf.io/v1/NetworkAttachmentDefinition",
      "operator.victoriametrics.com/v1beta1/VMRule",
      "operator.victoriametrics.com/v1beta1/VMServiceScrape",
      "cozystack.io/v1alpha1/ApplicationDefinition",
      "apps.cozystack.io/v1alpha1/VMDisk",
      "apps.cozystack.io/v1alpha1/VMInstance",
    ]) {
      expect(v1.kinds.has(key), key).toBe(true);
    }
  });

  it("a valid VMInstance passes; a misspelt top-level `spce:` fails at the root", async () => {
    expect(await kubeconform(v1, vmInstance("  runStrategy: Always\n  instanceProfile: haos\n"))).toEqual([]);
    const bad = await kubeconform(v1, vmInstance("  runStrategy: Always\n").replace("spec:", "spce:"));
    expect(errorsOf(bad).join("\n")).toMatch(/additional properties 'spce' not allowed/);
  });

  it("closes the root of CRD and core kinds too", async () => {
    const ks = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: { name: haos, namespace: flux-system }
spec: { interval: 10m, prune: true, sourceRef: { kind: GitRepository, name: setup } }
spce: {}
`;
    const svc = `apiVersion: v1
kind: Service
metadata: { name: haos }
spec: { ports: [{ port: 8123 }] }
spce: {}
`;
    const resources = await kubeconform(v1, `${ks}---\n${svc}`);
    expect(resources.map((r) => r.kind).sort()).toEqual(["Kustomization", "Service"]);
    for (const r of resources) expect(errorsOf([r]).join()).toMatch(/'spce' not allowed/);
  });

  it("checks metadata: name format, misspelt fields, label keys and values", async () => {
    const meta = (m: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n${m}data: { a: b }\n`;
    const cases = await Promise.all([
      kubeconform(v1, meta("  name: My_VM\n")),
      kubeconform(v1, meta("  name: ok\n  lables: { a: b }\n")),
      kubeconform(v1, meta("  name: ok\n  labels: { 'bad key': x }\n")),
      kubeconform(v1, meta("  name: ok\n  labels: { app: 'no spaces' }\n")),
      kubeconform(
        v1,
        meta("  name: haos-config\n  labels: { app.kubernetes.io/name: haos }\n  annotations: { a/b: c }\n"),
      ),
    ]);
    expect(errorsOf(cases[0] ?? []).join()).toMatch(/\/metadata\/name/);
    expect(errorsOf(cases[1] ?? []).join()).toMatch(/'lables' not allowed/);
    expect(errorsOf(cases[2] ?? []).join()).toMatch(/\/metadata\/labels/);
    expect(errorsOf(cases[3] ?? []).join()).toMatch(/\/metadata\/labels\/app/);
    expect(cases[4]).toEqual([]);
  });

  it("the declared CozyStack line decides VMInstance fields", async () => {
    const running = vmInstance("  running: true\n");
    const runStrategy = vmInstance("  runStrategy: Always\n  networks: [{ name: haos-underlay }]\n");
    const haosProfile = vmInstance("  instanceProfile: haos\n");
    expect(errorsOf(await kubeconform(v1, running)).join()).toMatch(/'running' not allowed/);
    expect(await kubeconform(v0, running)).toEqual([]);
    expect(await kubeconform(v1, runStrategy)).toEqual([]);
    expect(errorsOf(await kubeconform(v0, runStrategy)).join()).toMatch(
      /'networks', 'runStrategy' not allowed|not allowed/,
    );
    expect(await kubeconform(v1, haosProfile)).toEqual([]);
    expect(errorsOf(await kubeconform(v0, haosProfile)).join()).toMatch(/\/spec\/instanceProfile/);
    expect(v0.key).not.toBe(v1.key);
  });

  it("int-or-string takes both; a boolean fails", async () => {
    const svc = (port: string) =>
      `apiVersion: v1\nkind: Service\nmetadata: { name: haos }\nspec: { ports: [{ port: 8123, targetPort: ${port} }] }\n`;
    expect(await kubeconform(v1, svc("8123"))).toEqual([]);
    expect(await kubeconform(v1, svc("http"))).toEqual([]);
    expect(errorsOf(await kubeconform(v1, svc("true"))).join()).toMatch(/targetPort/);
    const disk = (storage: string) =>
      `apiVersion: apps.cozystack.io/v1alpha1\nkind: VMDisk\nmetadata: { name: haos }\nspec: { storage: ${storage}, source: { http: { url: "https://example.org/haos.qcow2.xz" } } }\n`;
    expect(await kubeconform(v1, disk("32Gi"))).toEqual([]);
    expect(await kubeconform(v1, disk("34359738368"))).toEqual([]);
    expect(errorsOf(await kubeconform(v1, disk("{ size: 1 }"))).join()).toMatch(/\/spec\/storage/);
  });

  it("nullable allows null and nothing else (VMServiceScrape bearerTokenSecret)", async () => {
    const scrape = (value: string) => `apiVersion: operator.victoriametrics.com/v1beta1
kind: VMServiceScrape
metadata: { name: haos, namespace: tenant-root }
spec:
  selector: { matchLabels: { app: haos } }
  endpoints: [{ port: http, bearerTokenSecret: ${value} }]
`;
    expect(await kubeconform(v1, scrape("null"))).toEqual([]);
    expect(errorsOf(await kubeconform(v1, scrape("5"))).join()).toMatch(/bearerTokenSecret/);
  });

  it("preserve-unknown-fields stays open (HelmRelease values) while the fields around it are closed", async () => {
    const hr = (extra: string) => `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: { name: haos, namespace: tenant-root }
spec:
  interval: 5m
  chart: { spec: { chart: vm-instance, sourceRef: { kind: HelmRepository, name: cozystack-apps } } }
  values: { anything: { goes: [1, two] } }
${extra}`;
    expect(await kubeconform(v1, hr(""))).toEqual([]);
    expect(errorsOf(await kubeconform(v1, hr("  valuez: {}\n"))).join()).toMatch(/'valuez' not allowed/);
  });

  it("Flux healthCheckExprs and Kube-OVN excludeIps validate; misspellings fail", async () => {
    const ks = (expr: string) => `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: { name: haos, namespace: flux-system }
spec:
  interval: 10m
  prune: true
  wait: true
  sourceRef: { kind: GitRepository, name: setup }
  healthCheckExprs:
    - { apiVersion: apps.cozystack.io/v1alpha1, kind: VMInstance, ${expr} }
`;
    expect(await kubeconform(v1, ks("current: \"status.conditions.all(c, c.status == 'True')\""))).toEqual(
      [],
    );
    expect(errorsOf(await kubeconform(v1, ks("curent: 'true'"))).join()).toMatch(/curent/);
    const subnet = (field: string) => `apiVersion: kubeovn.io/v1
kind: Subnet
metadata: { name: haos-underlay }
spec: { protocol: IPv4, cidrBlock: 192.168.50.0/25, gateway: 192.168.50.1, ${field}: [192.168.50.1..192.168.50.20] }
`;
    expect(await kubeconform(v1, subnet("excludeIps"))).toEqual([]);
    expect(errorsOf(await kubeconform(v1, subnet("excludeIPs"))).join()).toMatch(/excludeIPs/);
  });
});

/** No pinned source uses x-kubernetes-embedded-resource on a field; this CRD does, as Kubernetes documents it. */
const embeddingCrd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: wrappers.test.haos.dev }
spec:
  group: test.haos.dev
  scope: Namespaced
  names: { kind: Wrapper, plural: wrappers }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                template:
                  type: object
                  x-kubernetes-embedded-resource: true
                  properties:
                    spec: { type: object, properties: { size: { type: integer } } }
                raw:
                  type: object
                  x-kubernetes-embedded-resource: true
                  x-kubernetes-preserve-unknown-fields: true
`;

describe("embedded resources with the real kubeconform", () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), "haos-embedded-")), "catalog");
  afterAll(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

  it("accept apiVersion/kind/metadata and their declared fields; other fields fail unless preserved", async () => {
    const schemas = convertCrdYaml(embeddingCrd).map((s) => ({
      ...s,
      origin: "crd" as const,
      source: "test",
    }));
    const { kinds } = await writeCatalogDir(dir, schemas, { key: "embedded", sources: ["test"] });
    const catalog: SchemaCatalog = {
      dir,
      location: schemaLocation(dir),
      kinds,
      key: "embedded",
      synced: true,
    };
    const wrapper = (template: string, raw = "{ apiVersion: v1, kind: Anything, data: { x: 1 } }") =>
      `apiVersion: test.haos.dev/v1\nkind: Wrapper\nmetadata: { name: w }\nspec:\n  template: ${template}\n  raw: ${raw}\n`;
    expect(
      await kubeconform(
        catalog,
        wrapper("{ apiVersion: v1, kind: Pod, metadata: { name: p }, spec: { size: 1 } }"),
      ),
    ).toEqual([]);
    expect(errorsOf(await kubeconform(catalog, wrapper("{ kind: Pod, extra: 1 }"))).join()).toMatch(
      /'extra' not allowed/,
    );
  });
});
