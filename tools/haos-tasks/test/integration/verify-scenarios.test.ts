import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApiServer, type TestApiServer } from "../support/apiserver.ts";
import {
  ClusterSimulator,
  installVerifyCrds,
  shippedServiceAccount,
  startHomeAssistantPage,
  startVerifyCli,
  writeAppFixture,
} from "../support/cluster-simulator.ts";

// Every scenario runs the real CLI as the shipped ServiceAccount (apps/verify-runner/rbac-verify-runner.yaml)
// against a real kube-apiserver, while the simulator writes status the way the controllers do.
describe("haos-tasks verify on a real kube-apiserver", () => {
  let server: TestApiServer;
  let kubeconfig: string;
  let page: Awaited<ReturnType<typeof startHomeAssistantPage>>;
  let n = 0;

  beforeAll(async () => {
    server = await startTestApiServer();
    await installVerifyCrds(server);
    kubeconfig = await shippedServiceAccount(server);
    page = await startHomeAssistantPage("answers");
  });
  afterAll(async () => {
    await page?.close();
    await server?.stop();
  });

  const scenario = async (options: { canonicalFluxNames?: boolean } = {}) => {
    n += 1;
    const fixture = writeAppFixture(`s${n}`, options);
    const sim = new ClusterSimulator(server, fixture);
    await sim.bootstrap();
    const args = (...extra: string[]) => [
      "--app",
      fixture.appDir,
      "--revision",
      fixture.commits.target,
      "--kubeconfig",
      kubeconfig,
      "--app-url",
      page.url,
      "--timeout",
      "60s",
      ...extra,
    ];
    return { fixture, sim, args };
  };

  it("happy path: every phase succeeds, and the verdict comes right after the last status write", async () => {
    const { fixture, sim, args } = await scenario();
    const run = startVerifyCli(args(), fixture.repoRoot);
    await run.started;
    await sim.rollout(fixture.commits.target);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.report.outcome).toBe("succeeded");
    expect(result.report.phases.map((p) => [p.phase, p.status])).toEqual([
      ["source", "succeeded"],
      ["kustomization", "succeeded"],
      ["releases", "succeeded"],
      ["disk", "succeeded"],
      ["vm", "succeeded"],
      ["address", "succeeded"],
      ["app", "succeeded"],
      ["underlay", "succeeded"],
    ]);
    expect(result.report.phases.find((p) => p.phase === "underlay")?.detail).toContain("192.168.50.60");
    expect(result.endedAt - sim.decisiveAt).toBeLessThan(3_000);
    expect(result.stderr).toMatch(
      /disk\s+progress\s+DataVolume tenant-root\/vm-disk-haos-s\d+ ImportInProgress 45.23%/,
    );
  });
  it("push race: --reconcile re-requests until source-controller fetches the pushed commit", async () => {
    const { fixture, sim, args } = await scenario({ canonicalFluxNames: true });
    // source-controller: the first request still sees the old HEAD, the second one the push.
    const handled: string[] = [];
    const controller = sim.serveReconcileRequests(async (value) => {
      handled.push(value);
      await sim.source(handled.length === 1 ? fixture.commits.old : fixture.commits.target, value);
    });
    const run = startVerifyCli(args("--reconcile"), fixture.repoRoot);
    await run.started;
    while (handled.length < 2) await new Promise((r) => setTimeout(r, 50));
    controller.stop();
    await sim.rollout(fixture.commits.target, { skipSource: true });
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(handled.length).toBe(2);
    expect(result.stderr.match(/requested reconcile of gitRepository\/flux-system\/setup/g)?.length).toBe(2);
    expect(result.endedAt - sim.decisiveAt).toBeLessThan(3_000);
  });

  it("superseded: an unrelated revision is waited out, a descendant counts and is reported", async () => {
    const { fixture, sim, args } = await scenario();
    const run = startVerifyCli(args(), fixture.repoRoot);
    await run.started;
    await sim.source(fixture.commits.unrelated);
    await new Promise((r) => setTimeout(r, 300));
    await sim.rollout(fixture.commits.descendant);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.report.revision.supersededBy).toBe(fixture.commits.descendant);
    expect(result.stderr).toContain(`artifact at ${fixture.commits.unrelated.slice(0, 7)}, waiting for`);
    expect(result.report.phases[0]?.detail).toMatch(
      /superseded: .* descendant .*git merge-base --is-ancestor/,
    );
  });

  it("BuildFailed for the target fails the kustomization phase at once, with the fix", async () => {
    const { fixture, sim, args } = await scenario();
    const run = startVerifyCli(args(), fixture.repoRoot);
    await run.started;
    await sim.source(fixture.commits.target);
    sim.decisive();
    await sim.kustomizationFailed(
      fixture.commits.target,
      fixture.commits.old,
      "BuildFailed",
      "kustomize build failed: accumulating resources: 'vmdisk.yaml' not found",
    );
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.report.failedPhase).toBe("kustomization");
    expect(result.report.detail).toContain("BuildFailed");
    expect(result.report.hint).toContain("haos-tasks validate");
    expect(result.endedAt - sim.decisiveAt).toBeLessThan(3_000);
  });

  // Flux stalls only on terminal errors (InvalidCELExpression, AccessDenied, FeatureGateDisabled);
  // a bad path or a build error is Ready=False/BuildFailed (above), never Stalled.
  it("Stalled (InvalidCELExpression in healthCheckExprs) fails the kustomization phase at once", async () => {
    const { fixture, sim, args } = await scenario();
    const run = startVerifyCli(args(), fixture.repoRoot);
    await run.started;
    await sim.source(fixture.commits.target);
    sim.decisive();
    await sim.kustomizationFailed(
      fixture.commits.target,
      fixture.commits.old,
      "InvalidCELExpression",
      "failed to create CEL expressions for apps.cozystack.io/v1alpha1, Kind=VMDisk: failed to parse the CEL expression 'status.': ERROR: <input>:1:8: Syntax error: mismatched input '<EOF>'",
      true,
    );
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.report.failedPhase).toBe("kustomization");
    expect(result.report.detail).toContain("stalled");
    expect(result.report.detail).toContain("InvalidCELExpression");
    expect(result.endedAt - sim.decisiveAt).toBeLessThan(3_000);
  });

  it("HealthCheckFailed names the objects Flux waited for, and diagnostics show their conditions", async () => {
    const { fixture, sim, args } = await scenario();
    const run = startVerifyCli(args(), fixture.repoRoot);
    await run.started;
    await sim.source(fixture.commits.target);
    await sim.kustomizationApplying(fixture.commits.target, fixture.commits.old);
    await sim.createApps();
    await sim.helmRelease(
      sim.instance,
      "failed",
      "execution error at (vm-instance/templates/vm.yaml:2:6): Specified instanceType does not exist in the cluster: u1.medium",
    );
    await sim.event(
      "Kustomization",
      fixture.names.kustomization,
      "flux-system",
      "Warning",
      "HealthCheckFailed",
      "health check failed",
      {
        "kustomize.toolkit.fluxcd.io/revision": `main@sha1:${fixture.commits.target}`,
      },
    );
    sim.decisive();
    await sim.kustomizationFailed(
      fixture.commits.target,
      fixture.commits.old,
      "HealthCheckFailed",
      `health check failed after 15m0s: timeout waiting for: [VMInstance/tenant-root/${fixture.names.app} status: 'InProgress']`,
    );
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.report.failedPhase).toBe("kustomization");
    expect(result.report.detail).toContain(`VMInstance/tenant-root/${fixture.names.app} (InProgress)`);
    expect(result.stderr).toMatch(/releases +progress .*retrying .*instanceType does not exist/);
    const rows = result.report.diagnostics?.conditions ?? [];
    expect(rows).toContainEqual(
      expect.objectContaining({
        object: `HelmRelease/tenant-root/${sim.instance}`,
        type: "Ready",
        status: "False",
        reason: "InstallFailed",
      }),
    );
    expect(result.report.diagnostics?.fluxEvents).toContainEqual(
      expect.objectContaining({ reason: "HealthCheckFailed" }),
    );
    expect(result.endedAt - sim.decisiveAt).toBeLessThan(3_000);
  });

  it("a DataVolume import that keeps restarting is reported retrying, then fails with its reason", async () => {
    const { fixture, sim, args } = await scenario();
    const run = startVerifyCli(args(), fixture.repoRoot);
    await run.started;
    await sim.source(fixture.commits.target);
    await sim.kustomizationApplied(fixture.commits.target);
    await sim.createApps();
    await sim.helmRelease(sim.disk, "ready");
    await sim.helmRelease(sim.instance, "ready");
    await sim.createDisk();
    await sim.importerPod("CrashLoopBackOff", 2);
    await sim.event(
      "DataVolume",
      sim.disk,
      "tenant-root",
      "Warning",
      "Error",
      "Unable to connect to http data source: expected status code 200, got 404",
    );
    const reason = {
      status: "False" as const,
      reason: "Error",
      message:
        "Unable to connect to http data source: expected status code 200, got 404. Status: 404 Not Found",
    };
    for (const restarts of [1, 2]) {
      await sim.dataVolume("ImportInProgress", "N/A", reason, restarts);
      await new Promise((r) => setTimeout(r, 200));
    }
    sim.decisive();
    await sim.dataVolume("ImportInProgress", "N/A", reason, 3);
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.report.failedPhase).toBe("disk");
    expect(result.report.detail).toContain("got 404");
    expect(result.stderr).toMatch(/disk +progress .*import retrying \(restart 1 of 3\)/);
    expect(result.report.diagnostics?.pods).toContainEqual(
      expect.objectContaining({ name: `importer-${sim.disk}`, reason: "CrashLoopBackOff" }),
    );
    expect(result.report.diagnostics?.events).toContainEqual(
      expect.objectContaining({ object: `DataVolume/tenant-root/${sim.disk}`, reason: "Error" }),
    );
    expect(result.endedAt - sim.decisiveAt).toBeLessThan(3_000);
  });

  it("ErrorUnschedulable fails the vm phase at once", async () => {
    const { fixture, sim, args } = await scenario();
    const run = startVerifyCli(args(), fixture.repoRoot);
    await run.started;
    await sim.rollout(fixture.commits.target, { stopAfter: "disk" });
    await sim.createVm();
    sim.decisive();
    await sim.vm("ErrorUnschedulable", false, {
      reason: "Unschedulable",
      message: "0/3 nodes are available: 3 Insufficient memory.",
    });
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.report.failedPhase).toBe("vm");
    expect(result.report.detail).toContain("ErrorUnschedulable");
    expect(result.report.detail).toContain("Insufficient memory");
    expect(result.endedAt - sim.decisiveAt).toBeLessThan(3_000);
  });

  it("a LoadBalancer IP other than platform.yaml's expectedWholeIp is a failure, not a pass", async () => {
    const { fixture, sim, args } = await scenario();
    const run = startVerifyCli(args(), fixture.repoRoot);
    await run.started;
    await sim.rollout(fixture.commits.target, { wholeIp: "192.168.50.102" });
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.report.failedPhase).toBe("address");
    expect(result.report.detail).toBe(
      `Service tenant-root/${sim.instance} got LoadBalancer IP 192.168.50.102, expected 192.168.50.101`,
    );
    expect(result.endedAt - sim.decisiveAt).toBeLessThan(3_000);
  });

  it("a Home Assistant page that never answers times out the app phase (exit 3) on its own timeout", async () => {
    const silent = await startHomeAssistantPage("silent");
    try {
      const { fixture, sim, args } = await scenario();
      const run = startVerifyCli(
        [...args("--phase-timeout", "app=3s"), "--app-url", silent.url],
        fixture.repoRoot,
      );
      await run.started;
      await sim.rollout(fixture.commits.target);
      const result = await run.done;
      expect(result.code).toBe(3);
      expect(result.report.outcome).toBe("timeout");
      expect(result.report.failedPhase).toBe("app");
      expect(result.report.detail).toMatch(/app did not finish within its 3s timeout: .*no answer within/);
      const app = result.report.phases.find((p) => p.phase === "app");
      expect(app?.durationMs).toBeGreaterThanOrEqual(2_900);
      expect(app?.durationMs).toBeLessThan(6_000);
    } finally {
      await silent.close();
    }
  });
});
