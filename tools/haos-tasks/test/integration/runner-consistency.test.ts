import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadPlatform } from "../../src/platform/platform.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import {
  buildApp,
  controllerFullname,
  deployVerifyPath,
  get,
  haosEnigmaDir,
  type Json,
  type K8sObject,
  only,
  releaseOf,
  scaleSetLabels,
  verifyRunnerDir,
  workflowDefaultLabels,
} from "./runner-manifests.ts";

// The three places that must agree for a verification to run at all, read from the repository as
// Flux would apply it (kubectl kustomize): the labels deploy-verify.yml asks for, the scale set that
// serves them, and the identity (ServiceAccount, RBAC, namespaces) the runner pods get. Each
// mismatch here is a job that queues forever or a runner that is forbidden everything.

let runner: K8sObject[];
let haos: K8sObject[];
let scaleSet: K8sObject;
let controller: K8sObject;

beforeAll(async () => {
  [runner, haos] = await Promise.all([buildApp(verifyRunnerDir), buildApp(haosEnigmaDir)]);
  scaleSet = releaseOf(runner, "gha-runner-scale-set");
  controller = releaseOf(runner, "gha-runner-scale-set-controller");
});

const values = (release: K8sObject, ...segments: string[]) => get(release, "spec", "values", ...segments);
const of = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

describe("deploy-verify.yml's runs-on and the scale set", () => {
  it("asks by default for labels the scale set registers, and for no implicit self-hosted", () => {
    const { labels } = workflowDefaultLabels();
    expect(labels.length).toBeGreaterThan(0);
    // An ARC scale set registers its name (+ scaleSetLabels) as System labels; GitHub's own
    // `self-hosted` label is not among them, so a runs-on asking for it queues forever.
    expect(labels).not.toContain("self-hosted");
    const served = scaleSetLabels(scaleSet);
    expect(labels.filter((l) => !served.includes(l))).toEqual([]);
    expect(labels).toEqual(["enigma-verify"]);
  });

  it("names the same labels in the manual input's example and the header comment", async () => {
    const { readFile } = await import("node:fs/promises");
    const text = await readFile(deployVerifyPath, "utf8");
    const { labels } = workflowDefaultLabels();
    expect(text).toContain(`e.g. ${JSON.stringify(labels)} (default vars.VERIFY_RUNNER_LABELS)`);
    expect(text).toContain(`# ${JSON.stringify(labels)}, the runnerScaleSetName of apps/verify-runner/`);
  });

  it("scales 0 → 1, in the JavaScript-action mode (no Docker-in-Docker)", () => {
    expect(values(scaleSet, "minRunners")).toBe(0);
    expect(values(scaleSet, "maxRunners")).toBe(1);
    expect(values(scaleSet, "containerMode")).toBeUndefined();
  });
});

describe("the runner pod's identity", () => {
  it("is the ServiceAccount the verify RBAC binds, in the namespace the runner pods run in", () => {
    const account = values(scaleSet, "template", "spec", "serviceAccountName");
    const podNamespace =
      (get(scaleSet, "spec", "targetNamespace") as string | undefined) ?? scaleSet.metadata.namespace;
    const sa = only(of(runner, "ServiceAccount"), "ServiceAccount");
    expect({ name: sa.metadata.name, namespace: sa.metadata.namespace }).toEqual({
      name: account,
      namespace: podNamespace,
    });
    const bindings = of(runner, "RoleBinding").concat(of(runner, "ClusterRoleBinding"));
    expect(bindings.length).toBeGreaterThan(0);
    for (const binding of bindings)
      expect(binding.subjects, binding.metadata.name).toEqual([
        { kind: "ServiceAccount", name: account, namespace: podNamespace },
      ]);
    // Every binding points at a Role of this app in its own namespace (no ClusterRole, nothing
    // cluster-scoped: verify reads no cluster-scoped object).
    for (const binding of bindings) {
      const ref = binding.roleRef as Json;
      expect(ref.kind, binding.metadata.name).toBe("Role");
      expect(
        of(runner, "Role").some(
          (r) => r.metadata.name === ref.name && r.metadata.namespace === binding.metadata.namespace,
        ),
        `${binding.metadata.namespace}/${binding.metadata.name} → Role ${String(ref.name)}`,
      ).toBe(true);
    }
    expect(of(runner, "ClusterRole")).toEqual([]);
  });

  it("is the identity the verify tests run as (the file they apply is this app's)", async () => {
    const { readFile } = await import("node:fs/promises");
    const harness = await readFile(
      path.join(toolsRepoRoot, "tools/haos-tasks/test/support/verify-harness.ts"),
      "utf8",
    );
    expect(harness).toContain('path.join(toolsRepoRoot, "apps", "verify-runner", "rbac-verify-runner.yaml")');
  });

  it("carries the CozyStack API-server label and runs non-root, unprivileged, without capabilities, memory-limited", () => {
    const template = values(scaleSet, "template") as Json;
    expect(get(template, "metadata", "labels", "policy.cozystack.io/allow-to-apiserver")).toBe("true");
    expect(get(template, "spec", "securityContext", "runAsNonRoot")).toBe(true);
    const containers = get(template, "spec", "containers") as Json[];
    const container = only(
      containers.filter((c) => c.name === "runner"),
      "runner container",
    );
    expect(get(container, "securityContext", "allowPrivilegeEscalation")).toBe(false);
    expect(get(container, "securityContext", "privileged")).toBe(false);
    expect(get(container, "securityContext", "capabilities", "drop")).toEqual(["ALL"]);
    expect(get(container, "resources", "limits", "memory")).toMatch(/^\d+(Mi|Gi)$/);
    // An exact version, never latest; the digest is Renovate's to add.
    expect(container.image).toMatch(
      /^ghcr\.io\/actions\/actions-runner:\d+\.\d+\.\d+(@sha256:[a-f0-9]{64})?$/,
    );
  });

  it("takes the GitHub credential from a Secret named by reference, never from values", () => {
    expect(typeof values(scaleSet, "githubConfigSecret")).toBe("string");
    expect(of(runner, "Secret")).toEqual([]);
  });
});

describe("namespaces and names agree across the two apps", () => {
  it("runs the scale set in the tenant namespace and grants only in the tenant and Flux namespaces", async () => {
    const platform = await loadPlatform(haosEnigmaDir, toolsRepoRoot);
    const { tenantNamespace, fluxNamespace } = platform.cluster;
    expect(scaleSet.metadata.namespace).toBe(tenantNamespace);
    const granted = new Set(of(runner, "Role").map((r) => r.metadata.namespace));
    expect([...granted].sort()).toEqual([fluxNamespace, tenantNamespace].sort());
    // The Flux objects of this app live in the platform's Flux namespace too.
    for (const o of runner.filter(
      (x) => x.apiVersion.includes("toolkit.fluxcd.io") && x.kind !== "HelmRelease",
    ))
      if (o.kind !== "HelmRepository")
        expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(fluxNamespace);
  });

  it("lets the trigger Role patch exactly haos-enigma's GitRepository and Kustomization", () => {
    const trigger = only(
      of(runner, "Role").filter((r) => r.metadata.name === "haos-verify-runner-trigger"),
      "trigger Role",
    );
    const named = (group: string) =>
      ((trigger.rules as Json[]).find((r) => (r.apiGroups as string[]).includes(group))?.resourceNames ??
        []) as string[];
    const haosFlux = (kind: string) =>
      of(haos, kind)
        .map((o) => o.metadata.name)
        .sort();
    expect(named("source.toolkit.fluxcd.io")).toEqual(haosFlux("GitRepository"));
    expect(named("kustomize.toolkit.fluxcd.io")).toEqual(haosFlux("Kustomization"));
    for (const rule of trigger.rules as Json[]) expect(rule.verbs).toEqual(["patch"]);
  });

  it("wires the controller to the scale set: watched namespace, controller ServiceAccount, dependsOn", () => {
    expect(values(controller, "flags", "watchSingleNamespace")).toBe(scaleSet.metadata.namespace);
    expect(values(scaleSet, "controllerServiceAccount")).toEqual({
      name: controllerFullname(controller),
      namespace: controller.metadata.namespace,
    });
    expect(get(scaleSet, "spec", "dependsOn")).toEqual([
      { name: controller.metadata.name, namespace: controller.metadata.namespace },
    ]);
    const repo = only(of(runner, "HelmRepository"), "HelmRepository");
    for (const release of [controller, scaleSet]) {
      const ref = get(release, "spec", "chart", "spec", "sourceRef") as Json;
      expect({ name: ref.name, namespace: ref.namespace ?? release.metadata.namespace }).toEqual({
        name: repo.metadata.name,
        namespace: repo.metadata.namespace,
      });
      expect(get(release, "spec", "chart", "spec", "version")).toBe("0.14.2");
    }
    expect(get(repo, "spec", "url")).toBe("oci://ghcr.io/actions/actions-runner-controller-charts");
    expect(get(repo, "spec", "type")).toBe("oci");
  });

  it("has its own Flux source and Kustomization that see this folder and only it", () => {
    const ks = only(of(runner, "Kustomization"), "Flux Kustomization");
    expect(get(ks, "spec", "path")).toBe("./apps/verify-runner");
    expect(get(ks, "spec", "dependsOn")).toBeUndefined();
    const source = get(ks, "spec", "sourceRef") as Json;
    const repo = only(
      of(runner, "GitRepository").filter((g) => g.metadata.name === source.name),
      "GitRepository of the Kustomization",
    );
    expect(String(get(repo, "spec", "ignore"))).toContain("!/apps/verify-runner/");
    const haosRepo = only(of(haos, "GitRepository"), "haos-enigma GitRepository");
    expect(get(repo, "spec", "url")).toBe(get(haosRepo, "spec", "url"));
    expect(values(scaleSet, "githubConfigUrl")).toBe(String(get(repo, "spec", "url")));
  });
});
