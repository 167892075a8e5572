import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { fetchSource, readSchemaLock, resolveMirror } from "../../src/schemas/sources.ts";
import { catalogLoader } from "../../src/validate/catalog-loader.ts";
import { validate } from "../../src/validate/pipeline.ts";
import { startTestApiServer, type TestApiServer } from "../support/apiserver.ts";
import { type Registry, startRegistry } from "../support/charts.ts";
import { type FluxControllers, installFluxCrds, startFluxControllers } from "../support/flux.ts";
import { createScratchRepo } from "../support/scratch-repo.ts";
import { sourceFetch } from "../support/upstream-schemas.ts";
import {
  arcCharts,
  arcChartsPath,
  arcOciRepository,
  lockedArcChart,
  pushArcCharts,
  startDeploymentStandIn,
  storedRelease,
  verifyRunnerObjects,
} from "./runner-helm-harness.ts";
import { get, type Json, type K8sObject } from "./runner-manifests.ts";

// apps/verify-runner rendered by the REAL helm-controller (v1.6.4) and source-controller (v1.8.5):
// the app's HelmRepository and both HelmReleases, exactly as `kubectl kustomize` builds them, are
// applied to a real kube-apiserver; source-controller pulls both charts over OCI, helm-controller
// installs them (the ARC CRDs come from the controller chart's crds/), and the test reads what the
// charts rendered. The charts are the pinned upstream files (schemas.lock.json, sha256-checked,
// read through the mirror; src/render/pinned-charts.ts), packaged by `helm package`.
//
// The one substitution: ghcr.io is unreachable here, so the HelmRepository's URL points at a real
// OCI registry (CNCF distribution) on 127.0.0.1 (plain HTTP, hence `insecure: true`) to which
// `helm package` + `helm push` published those same charts.
// Not run here, because they cannot: the Deployment's pod (no kubelet or container runtime on these
// machines) — a stand-in (runner-helm-harness.ts) writes the Deployment status the deployment
// controller writes once the pod is available, so Helm's wait can finish — and ARC's own controller, which registers the scale
// set with GitHub before it creates any runner.

let server: TestApiServer;
let flux: FluxControllers;
let registry: Registry;
let scratch: string;
let shipped: K8sObject[];
let applied: K8sObject[];
let stopStandIn = () => {};

async function kubectlJson(args: string[]): Promise<Json> {
  const result = await server.kubectl([...args, "-o", "json"]);
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Json;
}

const condition = (object: Json, type: string) =>
  ((get(object, "status", "conditions") ?? []) as Json[]).find((c) => c.type === type);

async function waitReleased(namespace: string, name: string, deadlineMs: number): Promise<Json> {
  const until = Date.now() + deadlineMs;
  let last: Json = {};
  while (Date.now() < until) {
    const got = await server.kubectl(["get", "helmrelease", name, "-n", namespace, "-o", "json"]);
    if (got.exitCode === 0) {
      last = JSON.parse(got.stdout) as Json;
      if (condition(last, "Ready")?.status === "True") return last;
      const released = condition(last, "Released");
      if (released?.status === "False")
        throw new Error(
          `HelmRelease ${namespace}/${name} failed: ${String(released.reason)}: ${String(released.message)}`,
        );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `HelmRelease ${namespace}/${name} not Ready after ${deadlineMs} ms: ${JSON.stringify(get(last, "status"))}\n${flux.logs(30)}`,
  );
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "haos-runner-helm-"));
  server = await startTestApiServer();
  await installFluxCrds(server);
  // The real CNCF distribution registry; the charts packaged and pushed by Helm's own CLI.
  registry = await startRegistry();
  await pushArcCharts(registry);
  const storage = path.join(scratch, "source-controller-storage");
  mkdirSync(storage);
  flux = await startFluxControllers(server, {
    controllers: ["source-controller", "helm-controller"],
    // dependsOn is re-checked every 30 s by default; the scale set waits for the controller release.
    extraArgs: {
      "helm-controller": ["--requeue-dependency=2s"],
      // An existing storage directory (source-controller refuses a missing one; the last flag wins).
      "source-controller": [`--storage-path=${storage}`],
    },
  });
  // Pre-existing in the cluster: the CozyStack tenant namespace (flux-system comes with the fixture).
  await server.kubectl(["create", "namespace", "tenant-root"]);

  // What Flux's Kustomization verify-runner applies, the HelmRepository pointed at the registry.
  ({ shipped, applied } = await verifyRunnerObjects(registry.host));
  stopStandIn = startDeploymentStandIn(server);
  const result = await server.kubectl(
    ["apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-"],
    {
      input: applied.map((o) => stringify(o)).join("---\n"),
    },
  );
  if (result.exitCode !== 0) throw new Error(`applying apps/verify-runner failed: ${result.stderr}`);
  await waitReleased("arc-systems", "gha-rs-controller", 150_000);
  await waitReleased("tenant-root", "verify-runner", 150_000);
}, 400_000);

afterAll(async () => {
  stopStandIn();
  await flux?.stop();
  await registry?.close();
  await server?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("apps/verify-runner on the real helm-controller", () => {
  it("substitutes only the chart registry's address", () => {
    const changed = applied.flatMap((o, i) => (JSON.stringify(o) === JSON.stringify(shipped[i]) ? [] : [o]));
    expect(changed.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "HelmRepository/actions-runner-controller",
    ]);
    const [before, after] = [
      get(shipped[applied.indexOf(changed[0] as K8sObject)], "spec"),
      get(changed[0], "spec"),
    ] as Json[];
    expect({ ...after, url: before?.url, insecure: undefined }).toEqual({ ...before, insecure: undefined });
    expect(before?.url).toBe("oci://ghcr.io/actions/actions-runner-controller-charts");
  });

  it("serves the pinned chart files, all of them", async () => {
    for (const chart of arcCharts) {
      const { files, mirrorFiles, chartYaml } = await lockedArcChart(chart);
      if (mirrorFiles.length > 0) expect(files).toEqual(mirrorFiles);
      expect((parse(chartYaml) as Json).version).toBe("0.14.2");
    }
  });

  it("pulls both charts at 0.14.2 over OCI and installs them", async () => {
    for (const chart of arcCharts)
      expect(registry.requests()).toContain(`GET /v2/${arcOciRepository}/${chart}/manifests/0.14.2 200`);
    for (const [ns, name, chart] of [
      ["arc-systems", "gha-rs-controller", "gha-runner-scale-set-controller"],
      ["tenant-root", "verify-runner", "gha-runner-scale-set"],
    ] as const) {
      const release = await kubectlJson(["get", "helmrelease", name, "-n", ns]);
      const released = condition(release, "Released");
      expect(released?.reason).toBe("InstallSucceeded");
      expect(String(released?.message)).toContain(`with chart ${chart}@0.14.2`);
      // helm-controller's HelmChart, in the HelmRepository's namespace, built by source-controller.
      const helmChart = await kubectlJson(["get", "helmchart", `${ns}-${name}`, "-n", "arc-systems"]);
      expect(condition(helmChart, "Ready")?.status).toBe("True");
      expect(get(helmChart, "status", "artifact", "revision")).toBe("0.14.2");
    }
  });

  it("installed the four ARC CRDs from the controller chart, as pinned", async () => {
    const lock = await readSchemaLock();
    const mirror = resolveMirror(undefined, process.env);
    const crdSources = lock.sources.filter((s) =>
      s.url.includes(`/${arcChartsPath}gha-runner-scale-set-controller/crds/`),
    );
    expect(crdSources).toHaveLength(4);
    for (const source of crdSources) {
      const pinned = parseAllDocuments(
        (await fetchSource(source, sourceFetch(mirror))).toString("utf8"),
      )[0]?.toJSON() as Json;
      const name = String(get(pinned, "metadata", "name"));
      const live = await kubectlJson(["get", "crd", name]);
      expect(condition(live, "Established")?.status, name).toBe("True");
      expect(get(live, "spec", "versions")).toEqual(get(pinned, "spec", "versions"));
    }
  });

  it("renders the AutoscalingRunnerSet enigma-verify with the least-privilege runner pod", async () => {
    const ars = await kubectlJson(["get", "autoscalingrunnerset", "enigma-verify", "-n", "tenant-root"]);
    const spec = ars.spec as Json;
    expect(spec.runnerScaleSetName).toBe("enigma-verify");
    expect(spec.githubConfigUrl).toBe("https://github.com/vgijssel/setup");
    expect(spec.githubConfigSecret).toBe("verify-runner-github-app");
    expect(spec.minRunners).toBe(0);
    expect(spec.maxRunners).toBe(1);
    expect(get(ars, "metadata", "labels", "actions.github.com/scale-set-name")).toBe("enigma-verify");
    const pod = spec.template as Json;
    expect(get(pod, "metadata", "labels")).toEqual({
      "policy.cozystack.io/allow-to-apiserver": "true",
      "app.kubernetes.io/name": "verify-runner",
    });
    expect(get(pod, "spec", "serviceAccountName")).toBe("haos-verify-runner");
    expect(get(pod, "spec", "automountServiceAccountToken")).toBe(true);
    expect(get(pod, "spec", "restartPolicy")).toBe("Never");
    expect(get(pod, "spec", "securityContext")).toEqual({
      runAsNonRoot: true,
      runAsUser: 1001,
      runAsGroup: 123,
      fsGroup: 123,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const containers = get(pod, "spec", "containers") as Json[];
    expect(containers.map((c) => c.name)).toEqual(["runner"]);
    const runner = containers[0] as Json;
    expect(runner.image).toBe("ghcr.io/actions/actions-runner:2.337.0");
    expect(runner.command).toEqual(["/home/runner/run.sh"]);
    expect(runner.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: false,
    });
    expect(get(runner, "resources", "limits", "memory")).toBe("1Gi");
    // Empty containerMode: no dind sidecar, no init containers, no extra volumes.
    expect(get(pod, "spec", "initContainers")).toBeUndefined();
    expect(get(pod, "spec", "volumes")).toBeUndefined();
  });

  it("rendered objects the pinned ARC schemas accept with -strict, and the API server kept every field", async () => {
    // Helm's own record of the render (release Secret, storage namespace = release namespace).
    const release = await storedRelease(server, "tenant-root", "verify-runner", { deadlineMs: 0 });
    const rendered = parseAllDocuments(release.manifest)
      .map((d) => d.toJSON() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    const ars = rendered.find((o) => o.kind === "AutoscalingRunnerSet") as K8sObject;
    // A field the CRD schema does not know would be pruned silently by the API server: the live
    // object must still carry the template exactly as rendered.
    const live = await kubectlJson(["get", "autoscalingrunnerset", "enigma-verify", "-n", "tenant-root"]);
    expect(get(live, "spec")).toEqual(get(ars, "spec"));
    // validate (kubeconform -strict with the ARC CRD schemas from the lock) on the render.
    const repo = createScratchRepo({ dir: path.join(scratch, "rendered") }).dir;
    mkdirSync(path.join(repo, "apps", "rendered"), { recursive: true });
    const write = (objects: K8sObject[]) =>
      writeFileSync(
        path.join(repo, "apps", "rendered", "scale-set.yaml"),
        objects.map((o) => JSON.stringify(o)).join("\n---\n"),
      );
    write(rendered);
    const loadCatalog = catalogLoader({ env: process.env });
    const clean = await validate({ env: process.env, targets: ["apps/rendered"], cwd: repo, loadCatalog });
    expect(clean.findings.filter((f) => f.severity === "error")).toEqual([]);
    // …and the same render with a misspelt pod field is caught: the schema check is live.
    const typo = structuredClone(ars) as Json;
    const podSpec = get(typo, "spec", "template", "spec") as Json;
    podSpec.serviceAcountName = podSpec.serviceAccountName;
    write([typo as K8sObject]);
    const caught = await validate({ env: process.env, targets: ["apps/rendered"], cwd: repo, loadCatalog });
    expect(caught.findings.map((f) => f.rule)).toContain("schema/additional-property");
  });

  it("creates no ServiceAccount of its own for the runner and binds the controller's", async () => {
    const accounts = await kubectlJson(["get", "serviceaccounts", "-n", "tenant-root"]);
    const names = (accounts.items as Json[]).map((a) => get(a, "metadata", "name"));
    expect(names).toContain("haos-verify-runner");
    expect(names.filter((n) => String(n).endsWith("-no-permission"))).toEqual([]);
    const binding = await kubectlJson([
      "get",
      "rolebinding",
      "enigma-verify-gha-rs-manager",
      "-n",
      "tenant-root",
    ]);
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: "gha-rs-controller", namespace: "arc-systems" },
    ]);
    // …and that ServiceAccount is the one the controller chart rendered.
    await kubectlJson(["get", "serviceaccount", "gha-rs-controller", "-n", "arc-systems"]);
  });

  it("runs the controller for tenant-root only, hardened, pinned", async () => {
    const deployment = await kubectlJson(["get", "deployment", "gha-rs-controller", "-n", "arc-systems"]);
    expect(
      get(deployment, "metadata", "labels", "actions.github.com/controller-watch-single-namespace"),
    ).toBe("tenant-root");
    const manager = (get(deployment, "spec", "template", "spec", "containers") as Json[])[0] as Json;
    expect(manager.image).toBe("ghcr.io/actions/gha-runner-scale-set-controller:0.14.2");
    expect(manager.args).toContain("--watch-single-namespace=tenant-root");
    expect(get(manager, "securityContext", "allowPrivilegeEscalation")).toBe(false);
    expect(get(manager, "securityContext", "capabilities", "drop")).toEqual(["ALL"]);
    expect(get(manager, "resources", "limits", "memory")).toBe("256Mi");
    expect(get(deployment, "spec", "template", "spec", "securityContext", "runAsNonRoot")).toBe(true);
    // Namespaced Roles in the watched namespace instead of a ClusterRole over every namespace.
    expect((await server.kubectl(["get", "clusterrole", "gha-rs-controller"])).exitCode).not.toBe(0);
    await kubectlJson(["get", "role", "gha-rs-controller-single-namespace-watch", "-n", "tenant-root"]);
  });

  it("yields a runner pod the restricted Pod Security Standard admits", async () => {
    // The pod ARC's controller would create from the template (it adds env and labels, not
    // security settings), dry-run against PodSecurity admission enforcing `restricted`.
    await server.kubectl([
      "label",
      "namespace",
      "tenant-root",
      "pod-security.kubernetes.io/enforce=restricted",
      "--overwrite",
    ]);
    const ars = await kubectlJson(["get", "autoscalingrunnerset", "enigma-verify", "-n", "tenant-root"]);
    const template = get(ars, "spec", "template") as Json;
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "enigma-verify-runner-probe",
        namespace: "tenant-root",
        labels: get(template, "metadata", "labels"),
      },
      spec: template.spec,
    };
    const admitted = await server.kubectl(["create", "--dry-run=server", "-f", "-"], {
      input: JSON.stringify(pod),
    });
    expect(admitted.stderr).toBe("");
    expect(admitted.exitCode).toBe(0);
    // The same pod with privilege escalation allowed is refused: the check is live.
    const loose = structuredClone(pod) as Json;
    ((get(loose, "spec", "containers") as Json[])[0] as Json).securityContext = {
      allowPrivilegeEscalation: true,
    };
    const refused = await server.kubectl(["create", "--dry-run=server", "-f", "-"], {
      input: JSON.stringify(loose),
    });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('violates PodSecurity "restricted');
  });
});
