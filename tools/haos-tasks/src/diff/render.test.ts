import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createScratchRepo, type ScratchRepo } from "../../test/support/scratch-repo.ts";
import type { BuiltResource } from "../manifests/kustomize-build.ts";
import type { Workspace } from "../manifests/workspace.ts";
import { toolsRepoRoot } from "../tools/paths.ts";
import { type BuildStageOptions, buildStage } from "../validate/build-stage.ts";
import { chartOf, diffApps } from "./diff.ts";
import { diffJson } from "./formats.ts";
import { DEFAULT_MAX_CHARS, DIFF_MARKER, renderDiffMarkdown } from "./markdown.ts";

// Generated fixtures in real git repositories, rendered by validate's build stage (in-process
// kustomize) at both commits.
let repo: ScratchRepo | undefined;
afterEach(() => repo?.remove());

const fluxKs = (name: string, extra = "") =>
  `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/${name}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n${extra}`;

/** One app's objects; `head` makes the dangerous (or, for the twin, harmless) change. */
function app(ns: string, variant: "base" | "danger" | "twin"): Record<string, string> {
  const d = variant === "danger";
  const t = variant === "twin";
  const files: Record<string, string> = {
    "deploy.yaml": `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web${d ? "\n      tier: front" : ""}\n  template:\n    metadata:\n      labels:\n        app: web${d ? "\n        tier: front" : ""}\n    spec:\n      containers:\n        - name: web\n          image: web:${t ? "2" : "1"}\n`,
    "sts.yaml": `apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: db\n  replicas: ${t ? 3 : 1}\n  selector:\n    matchLabels:\n      app: db\n  template:\n    metadata:\n      labels:\n        app: db\n    spec:\n      containers:\n        - name: db\n          image: db:1\n  volumeClaimTemplates:\n    - metadata:\n        name: data\n      spec:\n        accessModes: [ReadWriteOnce]\n        resources:\n          requests:\n            storage: ${d ? "2Gi" : "1Gi"}\n`,
    "pvc.yaml": `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  storageClassName: ${d ? "slow" : "fast"}\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: ${t ? "20Gi" : "10Gi"}\n`,
    "svc.yaml": `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  clusterIP: ${d ? "10.0.0.11" : "10.0.0.10"}\n  ports:\n    - port: ${t ? 8080 : 80}\n`,
    "job.yaml": `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  parallelism: ${t ? 2 : 1}\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: m\n          image: m:${d ? "2" : "1"}\n`,
    "vmdisk.yaml": `apiVersion: apps.cozystack.io/v1alpha1\nkind: VMDisk\nmetadata:\n  name: haos\nspec:\n  source:\n    http:\n      url: https://example.com/haos-${d ? "17.1" : "17.0"}.qcow2.xz\n  storage: ${t ? "64Gi" : "32Gi"}\n  storageClass: replicated\n`,
    "vminstance.yaml": `apiVersion: apps.cozystack.io/v1alpha1\nkind: VMInstance\nmetadata:\n  name: haos\nspec:\n  runStrategy: Always\n  instanceType: ${d ? "u1.large" : "u1.medium"}\n  disks:\n    - name: haos\n  externalPorts: [8123${t ? ", 443" : ""}]\n`,
    "role.yaml": `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\nrules:\n  - apiGroups: [""]\n    resources: [pods${t ? "" : ", secrets"}]\n    verbs: [get${d ? ", delete" : ""}]\n`,
  };
  const removable = `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: old\nspec:\n  resources:\n    requests:\n      storage: 1Gi\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: scratch-${ns}\n`;
  const harmless = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: '1'\n";
  if (variant === "base") files["removable.yaml"] = ns === "twin" ? harmless : removable;
  const names = Object.keys(files)
    .sort()
    .map((f) => `  - ${f}`)
    .join("\n");
  return {
    ...Object.fromEntries(Object.entries(files).map(([f, text]) => [`apps/${ns}/${f}`, text])),
    [`apps/${ns}/kustomization.yaml`]: `namespace: ${ns}\nresources:\n${names}\n`,
  };
}

describe("danger notes on rendered objects, in a real git repository", () => {
  it("reports each danger kind for its fixture and none for the harmless twin", async () => {
    repo = createScratchRepo();
    repo.write({
      "clusters/main/kustomization.yaml": "resources:\n  - apps.yaml\n",
      "clusters/main/apps.yaml": `${fluxKs("danger")}---\n${fluxKs("twin", "  timeout: 5m\n")}`,
      ...app("danger", "base"),
      ...app("twin", "base"),
    });
    const base = repo.commit("feat: apps");
    repo.write({
      "apps/danger/removable.yaml": null,
      "apps/twin/removable.yaml": null,
      ...app("danger", "danger"),
      ...app("twin", "twin"),
      "clusters/main/apps.yaml": `${fluxKs("danger", "  force: true\n")}---\n${fluxKs("twin", "  timeout: 6m\n")}`,
    });
    repo.commit("feat: change both");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    const found = result.dangers.map((d) => `${d.code} ${d.object} ${d.field}`).sort();
    expect(found).toEqual(
      [
        // kustomize's namespace transformer renames a Namespace object to the kustomization's.
        "data-loss Namespace/danger ",
        "data-loss PersistentVolumeClaim/danger/old ",
        "flux-policy Kustomization/flux-system/danger spec.force",
        "immutable-field Deployment/danger/web spec.selector",
        "immutable-field Job/danger/migrate spec.template",
        "immutable-field PersistentVolumeClaim/danger/data spec.storageClassName",
        "immutable-field Service/danger/web spec.clusterIP",
        "immutable-field StatefulSet/danger/db spec.volumeClaimTemplates",
        "re-import VMDisk/danger/haos spec.source",
        "rbac-widened Role/danger/reader rules",
        "vm-restart VMInstance/danger/haos spec.instanceType",
      ].sort(),
    );
    // The twin changed as much, harmlessly: its objects are in the diff, without a note.
    const twin = result.apps.find((a) => a.owner.id === "Kustomization/flux-system/twin");
    expect(twin?.resources.map((r) => `${r.change} ${r.key}`).sort()).toEqual([
      "changed Deployment/twin/web",
      "changed Job/twin/migrate",
      "changed PersistentVolumeClaim/twin/data",
      "changed Role/twin/reader",
      "changed Service/twin/web",
      "changed StatefulSet/twin/db",
      "changed VMDisk/twin/haos",
      "changed VMInstance/twin/haos",
      "removed ConfigMap/twin/settings",
    ]);
    expect(result.routine).toBe(false);
    const markdown = renderDiffMarkdown(result);
    // Dangers first, as GitHub alerts, before the table and the per-kind blocks.
    expect(markdown.indexOf("> [!CAUTION]\n> **immutable-field**")).toBeGreaterThan(0);
    expect(markdown.indexOf("> [!CAUTION]")).toBeLessThan(markdown.indexOf("| owner |"));
    expect(markdown).toContain("<details><summary><b>Deployment</b>: ~2 changed</summary>");
    const json = diffJson(result) as {
      dangers: { code: string; hint: string }[];
      changes: { paths: string[]; owner: string; name: string; kind: string }[];
    };
    expect(json.dangers).toHaveLength(11);
    expect(json.changes.find((c) => c.kind === "Deployment" && c.owner.endsWith("/twin"))?.paths).toEqual([
      "spec.template.spec.containers[name=web].image",
    ]);
  });

  it("a path removed under a Flux Kustomization that stays is a render failure, not a deletion", async () => {
    repo = createScratchRepo();
    repo.write({
      "clusters/main/kustomization.yaml": "resources:\n  - apps.yaml\n",
      "clusters/main/apps.yaml": fluxKs("danger"),
      ...app("danger", "base"),
    });
    const base = repo.commit("feat: app");
    repo.write({ "apps/danger": null });
    repo.commit("chore: drop the folder");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    expect(result.apps.map((a) => [a.owner.id, a.status, a.resources.length])).toEqual([
      ["Kustomization/flux-system/danger", "error", 0],
    ]);
    expect(result.dangers.map((d) => `${d.code} ${d.object}`)).toEqual([
      "render-failure Kustomization/flux-system/danger",
    ]);
  });

  it("a Flux Kustomization no build renders still has its suspend flip noted", async () => {
    repo = createScratchRepo();
    repo.write({ "clusters/main/apps.yaml": fluxKs("twin"), ...app("twin", "base") });
    const base = repo.commit("feat: app");
    repo.write({ "clusters/main/apps.yaml": fluxKs("twin", "  suspend: true\n") });
    repo.commit("chore: suspend");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    expect(result.apps.map((a) => [a.owner.id, a.status])).toEqual([
      ["Kustomization/flux-system/twin", "unchanged"],
    ]);
    expect(result.dangers.map((d) => `${d.code} ${d.object} ${d.field}`)).toEqual([
      "flux-policy Kustomization/flux-system/twin spec.suspend",
    ]);
  });

  it("a head that does not render is one render failure, not every object removed", async () => {
    repo = createScratchRepo();
    repo.write({ "clusters/main/apps.yaml": fluxKs("danger"), ...app("danger", "base") });
    const base = repo.commit("feat: app");
    repo.write({
      "apps/danger/kustomization.yaml": "namespace: danger\nresources:\n  - deploy.yaml\n  - gone.yaml\n",
    });
    repo.commit("fix: broken");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    expect(result.apps).toMatchObject([
      { owner: { id: "Kustomization/flux-system/danger" }, status: "error", resources: [] },
    ]);
    expect(result.totals).toEqual({ added: 0, changed: 0, removed: 0 });
    expect(result.dangers.map((d) => `${d.code} ${d.object}`)).toEqual([
      "render-failure Kustomization/flux-system/danger",
    ]);
    expect(result.dangers[0]?.message).toContain("gone.yaml");
  });
});

describe("a chart bump through a shared component", () => {
  const release = (ns: string) =>
    `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${ns}\nspec:\n  interval: 1h\n  chartRef:\n    kind: OCIRepository\n    name: app-template\n  values:\n    controllers:\n      main:\n        containers:\n          app:\n            image:\n              repository: ghcr.io/example/${ns}\n              tag: 1.0.0\n`;
  const oci = (tag: string) =>
    `apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: app-template\nspec:\n  interval: 1h\n  url: oci://ghcr.io/bjw-s-labs/helm/app-template\n  ref:\n    tag: ${tag}\n`;
  const deployment = (chart: string, checksum: string) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  labels:\n    app: a\n    helm.sh/chart: app-template-${chart}\n    app.kubernetes.io/version: ${chart}\nspec:\n  selector:\n    matchLabels:\n      app: a\n  template:\n    metadata:\n      labels:\n        app: a\n      annotations:\n        checksum/config: ${checksum}\n    spec:\n      containers:\n        - name: a\n          image: a:1\n`;
  const files = (tag: string, checksum: string) => ({
    "components/app-template/kustomization.yaml":
      "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ocirepository.yaml\n",
    "components/app-template/ocirepository.yaml": oci(tag),
    "apps/a/kustomization.yaml":
      "namespace: a\nresources:\n  - helmrelease.yaml\n  - deploy.yaml\ncomponents:\n  - ../../components/app-template/\n",
    "apps/a/helmrelease.yaml": release("a"),
    "apps/a/deploy.yaml": deployment(tag, checksum),
    "apps/b/kustomization.yaml":
      "namespace: b\nresources:\n  - helmrelease.yaml\ncomponents:\n  - ../../components/app-template\n",
    "apps/b/helmrelease.yaml": release("b"),
  });

  it("is attributed to every app using the component, one line per HelmRelease, routine, noise left out", async () => {
    repo = createScratchRepo();
    repo.write(files("4.1.0", "aaa"));
    const base = repo.commit("feat: apps");
    repo.write(files("4.1.1", "bbb"));
    repo.commit("fix(deps): update app-template to 4.1.1");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    expect(result.apps.map((a) => [a.owner.id, a.status])).toEqual([
      ["apps/a", "changed"],
      ["apps/b", "changed"],
    ]);
    // The chart label, version label and checksum moved on the Deployment: noise, not shown.
    expect(result.apps.flatMap((a) => a.resources.map((r) => `${r.key} ${r.paths.join(",")}`))).toEqual([
      "OCIRepository/a/app-template spec.ref.tag",
      "OCIRepository/b/app-template spec.ref.tag",
    ]);
    expect(result.helmReleases.map((h) => `${h.release}: ${h.line}`)).toEqual([
      // Rendered by the engine (the lock pins both versions): 4.1.1 changes nothing these values
      // render once the chart-version labels are left out as noise.
      "HelmRelease/a/a: app-template 4.1.0 → 4.1.1: 0 objects changed, 0 added, 0 removed",
      "HelmRelease/b/b: app-template 4.1.0 → 4.1.1: 0 objects changed, 0 added, 0 removed",
    ]);
    expect(result.routine).toBe(true);
    expect(renderDiffMarkdown(result)).toContain("✅ routine: only image and chart versions move");
    expect(renderDiffMarkdown(result)).toContain("- `HelmRelease/a/a`: app-template 4.1.0 → 4.1.1");

    // diff.noise: [] in .haos-tasks.yaml shows every label and annotation.
    repo.write({ ".haos-tasks.yaml": "diff:\n  noise: []\n" });
    repo.commit("chore: show noise");
    const noisy = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    // The Deployment written in the repository (the chart renders one of its own too).
    const deploy = noisy.apps
      .filter((a) => a.owner.kind !== "HelmRelease")
      .flatMap((a) => a.resources)
      .find((r) => r.kind === "Deployment");
    expect(deploy?.paths.slice().sort()).toEqual([
      'metadata.labels["app.kubernetes.io/version"]',
      'metadata.labels["helm.sh/chart"]',
      'spec.template.metadata.annotations["checksum/config"]',
    ]);
    expect(noisy.routine).toBe(false);
    repo.write({ ".haos-tasks.yaml": "diff:\n  noise: helm.sh/chart\n" });
    repo.commit("chore: bad config");
    await expect(
      diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] }),
    ).rejects.toThrow(".haos-tasks.yaml:2:3: diff.noise must be a list");
  });
});

describe("only what a change affects is rendered", () => {
  const release = (ns: string, port: number, valuesFrom = "") =>
    `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${ns}\nspec:\n  interval: 1h\n  chartRef:\n    kind: OCIRepository\n    name: app-template\n${valuesFrom}  values:\n    controllers:\n      main:\n        containers:\n          app:\n            image:\n              repository: ghcr.io/example/${ns}\n              tag: 1.0.0\n    service:\n      main:\n        controller: main\n        ports:\n          http:\n            port: ${port}\n`;
  const fromValues =
    "  valuesFrom:\n    - kind: ConfigMap\n      name: c-values\n      valuesKey: values.yaml\n";
  const oci =
    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: app-template\nspec:\n  interval: 1h\n  url: oci://ghcr.io/bjw-s-labs/helm/app-template\n  ref:\n    tag: 4.1.0\n";
  const app = (ns: string, extra: Record<string, string> = {}) => ({
    [`apps/${ns}/kustomization.yaml`]: `namespace: ${ns}\nresources:\n${["oci.yaml", "helmrelease.yaml", ...Object.keys(extra)].map((f) => `  - ${f}\n`).join("")}`,
    [`apps/${ns}/oci.yaml`]: oci,
    ...Object.fromEntries(Object.entries(extra).map(([f, t]) => [`apps/${ns}/${f}`, t])),
  });
  const values = (user: number) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c-values\ndata:\n  values.yaml: |\n    defaultPodOptions:\n      securityContext:\n        runAsUser: ${user}\n`;
  const plain = (v: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  v: "${v}"\n`;
  const files = (a: number, c: number, d: string) => ({
    ...app("a"),
    "apps/a/helmrelease.yaml": release("a", a),
    ...app("b"),
    "apps/b/helmrelease.yaml": release("b", 8080),
    ...app("c", { "values.yaml": values(c) }),
    "apps/c/helmrelease.yaml": release("c", 8080, fromValues),
    ...app("d", { "plain.yaml": plain(d) }),
    "apps/d/helmrelease.yaml": release("d", 8080),
  });

  it("a values change, a valuesFrom change and an unrelated change: the same result as rendering everything", async () => {
    repo = createScratchRepo();
    repo.write(files(8080, 1000, "x"));
    const base = repo.commit("feat: apps");
    repo.write(files(9090, 2000, "y"));
    repo.commit("feat: a's port, c's values, d's plain ConfigMap");
    const affected = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    const all = await diffApps({
      env: process.env,
      repo: repo.dir,
      base,
      head: "HEAD",
      paths: [],
      renderAll: true,
    });
    expect(affected).toEqual(all);
    expect(affected.helmReleases.map((h) => `${h.release}: ${h.line}`)).toEqual([
      "HelmRelease/a/a: app-template 4.1.0: 1 object changed, 0 added, 0 removed",
      "HelmRelease/c/c: app-template 4.1.0: 1 object changed, 0 added, 0 removed",
    ]);
    expect(affected.apps.map((a) => a.owner.id)).toEqual([
      "HelmRelease/a/a",
      "HelmRelease/c/c",
      "apps/a",
      "apps/c",
      "apps/d",
    ]);
  });
});

describe("attribution to what Flux re-applies", () => {
  it("a Flux Kustomization's spec.components and a HelmRelease's valuesFrom ConfigMap", async () => {
    repo = createScratchRepo();
    const values = (mode: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c-values\ndata:\n  values.yaml: |\n    mode: ${mode}\n`;
    const shared = (level: string) =>
      `apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels:\n  - pairs:\n      level: "${level}"\n`;
    repo.write({
      "clusters/main/c.yaml": fluxKs(
        "c",
        "  targetNamespace: c\n  components:\n    - ../../components/shared\n",
      ),
      "components/shared/kustomization.yaml": shared("1"),
      "apps/c/kustomization.yaml": "resources:\n  - helmrelease.yaml\n  - values.yaml\n",
      "apps/c/values.yaml": values("a"),
      "apps/c/helmrelease.yaml":
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: c\nspec:\n  chart:\n    spec:\n      chart: podinfo\n      version: 6.9.0\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n  valuesFrom:\n    - kind: ConfigMap\n      name: c-values\n",
    });
    const base = repo.commit("feat: c");
    repo.write({ "components/shared/kustomization.yaml": shared("2") });
    const component = repo.commit("feat: level 2");
    const viaComponent = await diffApps({
      env: process.env,
      repo: repo.dir,
      base,
      head: component,
      paths: [],
    });
    // The component is Flux's (spec.components), not the kustomization's: Flux's semantics apply it.
    expect(viaComponent.apps.map((a) => [a.owner.id, a.status])).toEqual([
      ["Kustomization/flux-system/c", "changed"],
    ]);
    expect(viaComponent.apps[0]?.resources.map((r) => r.key)).toEqual([
      "ConfigMap/c/c-values",
      "HelmRelease/c/c",
    ]);

    repo.write({ "apps/c/values.yaml": values("b") });
    repo.commit("feat: mode b");
    const viaValues = await diffApps({
      env: process.env,
      repo: repo.dir,
      base: component,
      head: "HEAD",
      paths: [],
    });
    expect(viaValues.apps[0]?.resources.map((r) => `${r.key} ${r.paths.join(",")}`)).toEqual([
      'ConfigMap/c/c-values data["values.yaml"]',
    ]);
    expect(viaValues.helmReleases.map((h) => `${h.release}: ${h.line}`)).toEqual([
      "HelmRelease/c/c: podinfo 6.9.0: valuesFrom sources changed (chart objects not rendered)",
    ]);
  });
});

/**
 * Stands in for the chart engine (issue 22) the way it will plug in: buildStage's output plus, per
 * HelmRelease, an owner `HelmRelease/<ns>/<name>` (parent: the owner that applies it, path: the
 * parent's) whose objects the chart renders, or a failure of that owner. The "chart" here renders
 * a Deployment, a Service and a ConfigMap from spec.values; `fail: true` fails its render.
 */
async function withCharts(workspace: Workspace, options: BuildStageOptions) {
  const stage = await buildStage(workspace, options);
  for (const { owner, resource } of [...stage.objects]) {
    if (resource.kind !== "HelmRelease") continue;
    const id = `HelmRelease/${resource.namespace}/${resource.name}`;
    const parent = stage.owners.get(owner);
    stage.owners.set(id, {
      id,
      kind: "HelmRelease",
      name: resource.name,
      namespace: resource.namespace,
      path: parent?.path ?? ".",
      parent: owner,
    });
    const values = (resource.object.spec as { values?: Record<string, unknown> }).values ?? {};
    if (values.fail === true) {
      stage.failures.push({
        owner: id,
        dir: parent?.path ?? ".",
        message: "values don't meet the specifications of the schema",
      });
      continue;
    }
    const chart = chartOf(resource.object, stage.built.resources);
    const labels = {
      "app.kubernetes.io/name": resource.name,
      "helm.sh/chart": `${chart?.name}-${chart?.version}`,
      "app.kubernetes.io/version": String(chart?.version),
    };
    const rendered = (kind: string, apiVersion: string, rest: Record<string, unknown>): BuiltResource => ({
      apiVersion,
      kind,
      name: resource.name,
      namespace: resource.namespace,
      object: {
        apiVersion,
        kind,
        metadata: { name: resource.name, namespace: resource.namespace, labels },
        ...rest,
      },
      build: parent?.path ?? ".",
      origin: undefined,
      configuredIn: undefined,
    });
    for (const r of [
      rendered("Deployment", "apps/v1", {
        spec: {
          selector: { matchLabels: { app: resource.name } },
          template: { spec: { containers: [{ name: "app", image: `app:${String(values.tag)}` }] } },
        },
      }),
      rendered("Service", "v1", { spec: { ports: [{ port: Number(values.port ?? 80) }] } }),
      rendered("ConfigMap", "v1", { data: { mode: String(values.mode ?? "a") } }),
    ])
      stage.objects.push({ owner: id, resource: r });
  }
  return stage;
}

describe("HelmRelease owners, as the chart engine renders them", () => {
  const release = (ns: string, values: string) =>
    `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${ns}\n  namespace: ${ns}\nspec:\n  chartRef:\n    kind: OCIRepository\n    name: app-template\n  values:\n${values}`;
  const oci = (ns: string, tag: string) =>
    `apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: app-template\n  namespace: ${ns}\nspec:\n  url: oci://ghcr.io/bjw-s-labs/helm/app-template\n  ref:\n    tag: ${tag}\n`;
  const files = (tag: string, a: string, c: string) => ({
    "apps/kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\n  - c.yaml\n",
    "apps/a.yaml": `${release("a", a)}---\n${oci("a", tag)}`,
    "apps/b.yaml": `${release("b", "    tag: 1\n")}---\n${oci("b", tag)}`,
    "apps/c.yaml": `${release("c", c)}---\n${oci("c", tag)}`,
  });

  it("one line per HelmRelease with its rendered counts; a head render failure is one failure", async () => {
    repo = createScratchRepo();
    repo.write(files("4.1.0", "    tag: 1\n    port: 80\n", "    tag: 1\n"));
    const base = repo.commit("feat: apps");
    repo.write(files("4.1.1", "    tag: 2\n    port: 8080\n    mode: b\n", "    tag: 1\n    fail: true\n"));
    repo.commit("fix(deps): app-template 4.1.1");
    const result = await diffApps({
      env: process.env,
      repo: repo.dir,
      base,
      head: "HEAD",
      paths: [],
      render: withCharts,
    });
    expect(result.helmReleases.map((h) => `${h.release}: ${h.line}`)).toEqual([
      "HelmRelease/a/a: app-template 4.1.0 → 4.1.1: 3 objects changed, 0 added, 0 removed",
      // Only the chart's labels moved: noise.
      "HelmRelease/b/b: app-template 4.1.0 → 4.1.1: 0 objects changed, 0 added, 0 removed",
      "HelmRelease/c/c: app-template 4.1.0 → 4.1.1: does not render at head",
    ]);
    const byOwner = Object.fromEntries(result.apps.map((a) => [a.owner.id, a]));
    expect(byOwner["HelmRelease/a/a"]?.resources.map((r) => `${r.key} ${r.paths.join(",")}`)).toEqual([
      "ConfigMap/a/a data.mode",
      "Deployment/a/a spec.template.spec.containers[name=app].image",
      "Service/a/a spec.ports[0].port",
    ]);
    expect(byOwner["HelmRelease/a/a"]?.owner).toMatchObject({
      kind: "HelmRelease",
      parent: "apps",
      path: "apps",
    });
    // c fails at head: one render failure, none of its three objects removed.
    expect(byOwner["HelmRelease/c/c"]).toMatchObject({ status: "error", resources: [] });
    expect(result.totals.removed).toBe(0);
    expect(result.dangers.map((d) => `${d.code} ${d.object}`)).toEqual(["render-failure HelmRelease/c/c"]);
    expect(result.dangers[0]?.message).toContain("values don't meet the specifications of the schema");
  });
});

describe("the comment budget", () => {
  it("turns a 200k-character diff into a comment under the limit that says what it cut", async () => {
    repo = createScratchRepo();
    const maps = (value: string) =>
      Array.from(
        { length: 60 },
        (_, i) =>
          `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n${Array.from({ length: 40 }, (_, j) => `  k${j}: "${value.repeat(40)}"`).join("\n")}\n`,
      ).join("---\n");
    repo.write({
      "apps/big/kustomization.yaml": "resources:\n  - cms.yaml\n",
      "apps/big/cms.yaml": maps("a"),
    });
    const base = repo.commit("feat: big");
    repo.write({ "apps/big/cms.yaml": maps("b") });
    repo.commit("feat: bigger");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: "HEAD", paths: [] });
    const full = renderDiffMarkdown(result, { maxChars: 10_000_000 });
    expect(full.length).toBeGreaterThan(200_000);
    const comment = renderDiffMarkdown(result, {
      fullDiff: "the job summary and the `haos-tasks-diff` artifact",
    });
    expect(comment.length).toBeLessThanOrEqual(DEFAULT_MAX_CHARS);
    expect(comment.startsWith(DIFF_MARKER)).toBe(true);
    expect(comment).toMatch(
      /Output capped at 60,000 characters: \d+ object diffs not shown \(apps\/big: ConfigMap\/cm-/,
    );
    expect(comment).toContain("Full diff: the job summary and the `haos-tasks-diff` artifact");
    // The summary line still counts everything.
    expect(comment).toContain("**+0 added · ~60 changed · −0 removed**");
  });
});

describe("this repository's HAOS app", () => {
  const copyApp = (): Record<string, string> => {
    const out: Record<string, string> = {};
    const walk = (rel: string) => {
      for (const name of readdirSync(path.join(toolsRepoRoot, rel))) {
        const child = `${rel}/${name}`;
        if (statSync(path.join(toolsRepoRoot, child)).isDirectory()) walk(child);
        else out[child] = readFileSync(path.join(toolsRepoRoot, child), "utf8");
      }
    };
    walk("apps/haos-enigma");
    return out;
  };

  it("an instancetype change notes the VM restart; a VMDisk source change notes the re-import", async () => {
    repo = createScratchRepo();
    const files = copyApp();
    repo.write(files);
    const base = repo.commit("feat: haos");
    const instance = files["apps/haos-enigma/vminstance-haos.yaml"] ?? "";
    expect(instance).toContain("instanceType: u1.medium");
    repo.write({
      "apps/haos-enigma/vminstance-haos.yaml": instance.replace(
        "instanceType: u1.medium",
        "instanceType: u1.large",
      ),
    });
    const resized = repo.commit("feat: bigger VM");
    const result = await diffApps({ env: process.env, repo: repo.dir, base, head: resized, paths: ["apps"] });
    // The VMInstance is rendered through CozyStack's chart: its VirtualMachine is an owner's too.
    expect(result.apps.map((a) => a.owner.id)).toEqual([
      "Kustomization/flux-system/haos-enigma",
      "VMInstance/tenant-root/haos",
    ]);
    expect(result.dangers.map((d) => `${d.code} ${d.object} ${d.field}`)).toEqual([
      "vm-restart VMInstance/tenant-root/haos spec.instanceType",
      "vm-restart VirtualMachine/vm-instance-haos spec.instancetype",
    ]);

    const disk = files["apps/haos-enigma/vmdisk-haos.yaml"] ?? "";
    repo.write({ "apps/haos-enigma/vmdisk-haos.yaml": disk.replaceAll("17.0", "17.1") });
    repo.commit("feat: HAOS 17.1");
    const reimport = await diffApps({
      env: process.env,
      repo: repo.dir,
      base: resized,
      head: "HEAD",
      paths: ["apps"],
    });
    expect(reimport.dangers.map((d) => `${d.code} ${d.object} ${d.field}`)).toEqual([
      "re-import VMDisk/tenant-root/haos spec.source",
      "re-import DataVolume/vm-disk-haos spec.source",
    ]);
  });
});
