import { describe, expect, it } from "vitest";
import {
  type DangerCode,
  type KubeObject,
  objectDangers,
  quantityBytes,
  renderFailureDanger,
} from "./dangers.ts";

const obj = (
  apiVersion: string,
  kind: string,
  name: string,
  rest: KubeObject = {},
  namespace = "apps",
): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  ...rest,
});

const deployment = (selector: Record<string, string>, image = "app:1", labels: Record<string, string> = {}) =>
  obj("apps/v1", "Deployment", "web", {
    spec: {
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...selector, ...labels } },
        spec: { containers: [{ name: "app", image }] },
      },
    },
  });
const statefulSet = (spec: Record<string, unknown>) =>
  obj("apps/v1", "StatefulSet", "db", {
    spec: {
      serviceName: "db",
      selector: { matchLabels: { app: "db" } },
      podManagementPolicy: "OrderedReady",
      replicas: 1,
      volumeClaimTemplates: [
        { metadata: { name: "data" }, spec: { resources: { requests: { storage: "1Gi" } } } },
      ],
      ...spec,
    },
  });
const pvc = (spec: Record<string, unknown>) =>
  obj("v1", "PersistentVolumeClaim", "data", {
    spec: {
      storageClassName: "fast",
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "10Gi" } },
      ...spec,
    },
  });
const service = (spec: Record<string, unknown>) =>
  obj("v1", "Service", "web", { spec: { type: "ClusterIP", ...spec } });
const job = (image: string, parallelism = 1) =>
  obj("batch/v1", "Job", "migrate", {
    spec: { parallelism, template: { spec: { containers: [{ name: "m", image }], restartPolicy: "Never" } } },
  });
const vmDisk = (spec: Record<string, unknown>) =>
  obj("apps.cozystack.io/v1alpha1", "VMDisk", "haos", {
    spec: {
      source: { http: { url: "https://example.com/haos-17.0.qcow2.xz" } },
      storage: "32Gi",
      storageClass: "replicated",
      ...spec,
    },
  });
const vmInstance = (spec: Record<string, unknown>) =>
  obj("apps.cozystack.io/v1alpha1", "VMInstance", "haos", {
    spec: {
      runStrategy: "Always",
      instanceType: "u1.medium",
      disks: [{ name: "haos" }],
      externalPorts: [8123],
      ...spec,
    },
  });
const vm = (
  spec: Record<string, unknown>,
  templateMemory = "4Gi",
  templateLabels: Record<string, string> = {},
) =>
  obj("kubevirt.io/v1", "VirtualMachine", "haos", {
    spec: {
      runStrategy: "Always",
      template: {
        metadata: { labels: templateLabels },
        spec: { domain: { memory: { guest: templateMemory } } },
      },
      ...spec,
    },
  });
const role = (rules: unknown[], kind = "Role") =>
  obj("rbac.authorization.k8s.io/v1", kind, "reader", { rules }, kind === "Role" ? "apps" : "");
const binding = (subjects: unknown[], roleName = "reader") =>
  obj("rbac.authorization.k8s.io/v1", "RoleBinding", "reader", {
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roleName },
    subjects,
  });
const fluxKs = (spec: Record<string, unknown>) =>
  obj(
    "kustomize.toolkit.fluxcd.io/v1",
    "Kustomization",
    "apps",
    { spec: { path: "./apps", prune: true, ...spec } },
    "flux-system",
  );

const prunes = { prunes: true, owner: "Kustomization/flux-system/apps" };

/** [name, base, head, expected codes and fields] — each dangerous case is followed by its harmless twin. */
const cases: [string, KubeObject | undefined, KubeObject | undefined, [DangerCode, string][]][] = [
  [
    "Deployment selector",
    deployment({ app: "web" }),
    deployment({ app: "web", tier: "front" }),
    [["immutable-field", "spec.selector"]],
  ],
  [
    "Deployment template label and image (twin)",
    deployment({ app: "web" }),
    deployment({ app: "web" }, "app:2", { tier: "front" }),
    [],
  ],
  [
    "DaemonSet selector",
    { ...deployment({ a: "1" }), kind: "DaemonSet" },
    { ...deployment({ a: "2" }), kind: "DaemonSet" },
    [["immutable-field", "spec.selector"]],
  ],
  [
    "DaemonSet image (twin)",
    { ...deployment({ a: "1" }), kind: "DaemonSet" },
    { ...deployment({ a: "1" }, "app:2"), kind: "DaemonSet" },
    [],
  ],
  [
    "StatefulSet volumeClaimTemplates",
    statefulSet({}),
    statefulSet({
      volumeClaimTemplates: [
        { metadata: { name: "data" }, spec: { resources: { requests: { storage: "2Gi" } } } },
      ],
    }),
    [["immutable-field", "spec.volumeClaimTemplates"]],
  ],
  [
    "StatefulSet serviceName",
    statefulSet({}),
    statefulSet({ serviceName: "db-headless" }),
    [["immutable-field", "spec.serviceName"]],
  ],
  [
    "StatefulSet podManagementPolicy",
    statefulSet({}),
    statefulSet({ podManagementPolicy: "Parallel" }),
    [["immutable-field", "spec.podManagementPolicy"]],
  ],
  ["StatefulSet replicas (twin)", statefulSet({}), statefulSet({ replicas: 3 }), []],
  [
    "PVC storageClassName",
    pvc({}),
    pvc({ storageClassName: "slow" }),
    [["immutable-field", "spec.storageClassName"]],
  ],
  [
    "PVC shrinks",
    pvc({}),
    pvc({ resources: { requests: { storage: "5Gi" } } }),
    [["immutable-field", "spec.resources.requests.storage"]],
  ],
  ["PVC grows (twin)", pvc({}), pvc({ resources: { requests: { storage: "20Gi" } } }), []],
  [
    "PVC accessModes",
    pvc({}),
    pvc({ accessModes: ["ReadWriteMany"] }),
    [["immutable-field", "spec.accessModes"]],
  ],
  [
    "Service clusterIP",
    service({ clusterIP: "10.0.0.10" }),
    service({ clusterIP: "10.0.0.11" }),
    [["immutable-field", "spec.clusterIP"]],
  ],
  [
    "Service type ExternalName",
    service({ clusterIP: "10.0.0.10" }),
    service({ type: "ExternalName", externalName: "x.example.com" }),
    [["immutable-field", "spec.type"]],
  ],
  [
    "Service clusterIP dropped from the manifest (twin)",
    service({ clusterIP: "10.0.0.10" }),
    service({}),
    [],
  ],
  [
    "Service ports (twin)",
    service({ clusterIP: "10.0.0.10", ports: [{ port: 80 }] }),
    service({ clusterIP: "10.0.0.10", ports: [{ port: 8080 }] }),
    [],
  ],
  ["Job template", job("m:1"), job("m:2"), [["immutable-field", "spec.template"]]],
  ["Job parallelism (twin)", job("m:1"), job("m:1", 2), []],
  ["removed PVC, pruning owner", pvc({}), undefined, [["data-loss", ""]]],
  ["removed Namespace", obj("v1", "Namespace", "media", {}, ""), undefined, [["data-loss", ""]]],
  [
    "removed CRD",
    obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com", {}, ""),
    undefined,
    [["data-loss", ""]],
  ],
  ["removed VMDisk", vmDisk({}), undefined, [["data-loss", ""]]],
  [
    "removed PVC with prune disabled (twin)",
    {
      ...pvc({}),
      metadata: {
        name: "data",
        namespace: "apps",
        annotations: { "kustomize.toolkit.fluxcd.io/prune": "disabled" },
      },
    },
    undefined,
    [],
  ],
  ["removed ConfigMap (twin)", obj("v1", "ConfigMap", "settings"), undefined, []],
  [
    "VMDisk source",
    vmDisk({}),
    vmDisk({ source: { http: { url: "https://example.com/haos-17.1.qcow2.xz" } } }),
    [["re-import", "spec.source"]],
  ],
  ["VMDisk grows (twin)", vmDisk({}), vmDisk({ storage: "64Gi" }), []],
  [
    "VMDisk storageClass",
    vmDisk({}),
    vmDisk({ storageClass: "local" }),
    [["immutable-field", "spec.storageClass"]],
  ],
  [
    "VMInstance instanceType",
    vmInstance({}),
    vmInstance({ instanceType: "u1.large" }),
    [["vm-restart", "spec.instanceType"]],
  ],
  [
    "VMInstance runStrategy",
    vmInstance({}),
    vmInstance({ runStrategy: "Halted" }),
    [["vm-restart", "spec.runStrategy"]],
  ],
  ["VMInstance externalPorts (twin)", vmInstance({}), vmInstance({ externalPorts: [8123, 443] }), []],
  [
    "VirtualMachine template memory",
    vm({}),
    vm({}, "8Gi"),
    [["vm-restart", "spec.template.spec.domain.memory.guest"]],
  ],
  [
    "VirtualMachine label outside the template (twin)",
    vm({}),
    { ...vm({}), metadata: { name: "haos", namespace: "apps", labels: { team: "home" } } },
    [],
  ],
  [
    "Role new verb",
    role([{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }]),
    role([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "delete"] }]),
    [["rbac-widened", "rules"]],
  ],
  [
    "Role wildcard",
    role([{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }]),
    role([{ apiGroups: [""], resources: ["*"], verbs: ["get"] }]),
    [["rbac-widened", "rules"]],
  ],
  [
    "new ClusterRole with *",
    undefined,
    role([{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }], "ClusterRole"),
    [["rbac-widened", "rules"]],
  ],
  [
    "Role narrowed (twin)",
    role([{ apiGroups: [""], resources: ["pods", "secrets"], verbs: ["get", "list"] }]),
    role([{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }]),
    [],
  ],
  [
    "new ClusterRole without * (twin)",
    undefined,
    role([{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }], "ClusterRole"),
    [],
  ],
  [
    "RoleBinding new subject",
    binding([{ kind: "ServiceAccount", name: "a", namespace: "apps" }]),
    binding([
      { kind: "ServiceAccount", name: "a", namespace: "apps" },
      { kind: "Group", name: "everyone" },
    ]),
    [["rbac-widened", "subjects"]],
  ],
  [
    "RoleBinding subject removed (twin)",
    binding([
      { kind: "ServiceAccount", name: "a", namespace: "apps" },
      { kind: "Group", name: "g" },
    ]),
    binding([{ kind: "ServiceAccount", name: "a", namespace: "apps" }]),
    [],
  ],
  ["Kustomization prune off", fluxKs({}), fluxKs({ prune: false }), [["flux-policy", "spec.prune"]]],
  ["Kustomization suspend on", fluxKs({}), fluxKs({ suspend: true }), [["flux-policy", "spec.suspend"]]],
  ["Kustomization force on", fluxKs({}), fluxKs({ force: true }), [["flux-policy", "spec.force"]]],
  ["Kustomization interval (twin)", fluxKs({ interval: "10m" }), fluxKs({ interval: "5m" }), []],
];

describe("objectDangers, per kind, each with a harmless twin", () => {
  it.each(cases)("%s", (_name, base, head, expected) => {
    const dangers = objectDangers(base, head, prunes);
    expect(dangers.map((d) => [d.code, d.field])).toEqual(expected);
    for (const d of dangers) {
      expect(d.object).toMatch(/^[A-Za-z]+\//);
      expect(d.message.length).toBeGreaterThan(20);
      expect(d.hint.length).toBeGreaterThan(10);
      expect(d.owner).toBe(prunes.owner);
    }
  });

  it("a removal is no data loss when the owner does not prune", () => {
    expect(objectDangers(pvc({}), undefined, { prunes: false })).toEqual([]);
  });

  it("names the VM's changed field and the render failure's owner", () => {
    const [restart] = objectDangers(vmInstance({}), vmInstance({ instanceType: "u1.large" }), prunes);
    expect(restart?.object).toBe("VMInstance/apps/haos");
    expect(restart?.message).toContain("spec.instanceType");
    const failure = renderFailureDanger("HelmRelease/apps/web", "values don't meet the chart's schema");
    expect(failure).toMatchObject({ code: "render-failure", object: "HelmRelease/apps/web" });
  });

  it("reads Kubernetes quantities", () => {
    expect(quantityBytes("1Gi")).toBe(2 ** 30);
    expect(quantityBytes("1500M")).toBe(1.5e9);
    expect(quantityBytes("2")).toBe(2);
    expect(quantityBytes("lots")).toBeUndefined();
  });
});
