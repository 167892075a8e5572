import { describe, expect, it } from "vitest";
import { phaseNames } from "../../src/verify/phases/types.ts";
import { kubectlJson } from "../support/real-flux-app.ts";
import { useRealFluxApp, verifyOn } from "../support/real-flux-suite.ts";
import { startHomeAssistantPage } from "../support/verify-harness.ts";

// How haos-tasks verify fails, on REAL Flux (source-, kustomize- and helm-controller from
// .tools/bin; CozyStack's real v1.6.2 charts rendered by helm-controller; see verify-flux.test.ts for
// the setup). Every GitRepository, Kustomization and HelmRelease status here is written by Flux.
// What cannot run here is played by test/support/simulated-status.ts in the upstream status shapes:
// an import that never finishes, a VM no node fits (KubeVirt's ErrorUnschedulable with the
// scheduler's PodScheduled=False), the LoadBalancer handing out an IP other than platform.yaml's.
// The scenarios run in order on one cluster: each pushes commits on top of the previous one.
describe("haos-tasks verify's failure verdicts on real Flux", () => {
  const env = useRealFluxApp("verify-scenarios", { retryInterval: "2s" });

  it("a fresh install: every phase in order, the import's progress shown on the way", async () => {
    const e = env();
    // The import runs until verify has shown it (a real import takes minutes, the simulated one 0.3 s).
    e.platform.slowImports.add("vm-disk-haos");
    const sha = await e.reinstallCommit("fresh install");
    const run = verifyOn(e, sha, "--reconcile");
    await run.started;
    e.repo.push();
    // helm-controller's install waits for the VM, which waits for its disk: the import's progress
    // is shown while the releases install (and again in the disk phase if it is still running).
    await run.printed(
      / (releases|disk) +progress .*DataVolume tenant-root\/vm-disk-haos ImportInProgress 12\.00%/,
    );
    e.platform.slowImports.delete("vm-disk-haos");
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.report.phases.map((p) => p.status)).toEqual(phaseNames.map(() => "succeeded"));
    expect(result.stderr).toMatch(
      / (releases|disk) +progress .*DataVolume tenant-root\/vm-disk-haos ImportInProgress/,
    );
    // Each phase started, in the rollout's order, no earlier than the one before it.
    expect(result.report.phases.map((p) => p.phase)).toEqual([...phaseNames]);
    const started = result.report.phases.map((p) => Date.parse(p.startedAt ?? ""));
    for (const [i, t] of started.entries()) {
      expect(Number.isFinite(t), `${result.report.phases[i]?.phase} has a start time`).toBe(true);
      if (i > 0) expect(t).toBeGreaterThanOrEqual(started[i - 1] ?? 0);
    }
  }, 180_000);

  it("ErrorUnschedulable fails the run with the scheduler's reason, while the release installs or after", async () => {
    const e = env();
    e.platform.unschedulable.add("vm-instance-haos");
    const sha = await e.reinstallCommit("a VM no node fits");
    e.repo.push();
    const result = await verifyOn(e, sha, "--reconcile").done;
    e.platform.unschedulable.delete("vm-instance-haos");
    expect(result.code, result.stderr).toBe(1);
    // "releases" while helm-controller's install still waits for the VM (as it does on a real
    // cluster), "vm" when the install finished before KubeVirt wrote the VM's status.
    expect(["releases", "vm"]).toContain(result.report.failedPhase);
    expect(result.report.detail).toContain(
      "VirtualMachine tenant-root/vm-instance-haos ErrorUnschedulable: PodScheduled=False (Unschedulable): 0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    );
    expect(result.report.hint).toContain("instancetype");
  }, 180_000);

  it("a LoadBalancer IP other than platform.yaml's expectedWholeIp is a failure, not a pass", async () => {
    const e = env();
    e.platform.wholeIp = "192.168.50.102";
    const sha = await e.reinstallCommit("the pool hands out another IP");
    e.repo.push();
    const result = await verifyOn(e, sha, "--reconcile").done;
    expect(result.code, result.stderr).toBe(1);
    expect(result.report.failedPhase).toBe("address");
    expect(result.report.detail).toBe(
      "Service tenant-root/vm-instance-haos got LoadBalancer IP 192.168.50.102, expected 192.168.50.101",
    );
    // The pool is fixed: the Service gets the declared IP and the same commit verifies.
    e.platform.wholeIp = "192.168.50.101";
    await e.platform.releaseIps();
    const fixed = await verifyOn(e, sha).done;
    expect(fixed.code, fixed.stderr).toBe(0);
  }, 180_000);

  it("a Home Assistant page that never answers times out the app phase (exit 3) on its own timeout", async () => {
    const e = env();
    const silent = await startHomeAssistantPage("silent");
    try {
      const sha = e.repo.commit("docs: a note", { "README.md": `${e.repo.read("README.md")}\nnote\n` });
      e.repo.push();
      const result = await verifyOn(
        e,
        sha,
        "--reconcile",
        "--phase-timeout",
        "app=3s",
        "--app-url",
        silent.url,
      ).done;
      expect(result.code, result.stderr).toBe(3);
      expect(result.report.outcome).toBe("timeout");
      expect(result.report.failedPhase).toBe("app");
      expect(result.report.detail).toMatch(/app did not finish within its 3s timeout: .*no answer within/);
      const app = result.report.phases.find((p) => p.phase === "app");
      expect(app?.durationMs).toBeGreaterThanOrEqual(2_900);
      expect(app?.durationMs).toBeLessThan(6_000);
    } finally {
      await silent.close();
    }
  }, 120_000);

  it("Stalled (InvalidCELExpression in healthCheckExprs) fails the kustomization phase at once", async () => {
    const e = env();
    const root = e.repo.read("kustomization-root.yaml");
    const broken = root.replace(
      "      current: >-\n        has(status.conditions) &&\n        ['Ready'",
      "      current: >-\n        has(status.conditions &&\n        ['Ready'",
    );
    expect(broken).not.toBe(root);
    const sha = e.repo.commit("fix: a health check expression", { "kustomization-root.yaml": broken });
    // Flux applies the Kustomization's own spec during the reconcile of this commit and finishes
    // that reconcile with the OLD expressions (Ready=True at the new generation, only
    // status.observedGeneration still old); the follow-up reconcile with the new spec stalls.
    // verify, following from the push, must not take the first for the verdict.
    const run = verifyOn(e, sha, "--reconcile");
    await run.started;
    e.repo.push();
    const started = Date.now();
    const result = await run.done;
    expect(result.code, result.stderr).toBe(1);
    expect(result.report.failedPhase).toBe("kustomization");
    expect(result.report.detail).toMatch(
      /^Kustomization flux-system\/haos-enigma is stalled: Stalled=True \(InvalidCELExpression\): .*failed to parse the expression/,
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    // A stalled Kustomization applies nothing, its own fix included: push the revert, and once
    // source-controller has it, apply the reverted Kustomization by hand, as the hint says (applied
    // earlier, Flux would reconcile the broken commit again and stall again).
    expect(result.report.hint).toContain("kubectl apply");
    e.repo.git("revert", "--no-edit", "HEAD");
    const reverted = e.repo.git("rev-parse", "HEAD");
    e.repo.push();
    await e.server.kubectl([
      "annotate",
      "--overwrite",
      "gitrepository",
      "-n",
      "flux-system",
      "setup",
      `reconcile.fluxcd.io/requestedAt=${Date.now()}`,
    ]);
    await e.waitFor("the GitRepository's artifact is the revert", 60_000, async () => {
      const repo = await kubectlJson(e.server, "gitrepository", "-n", "flux-system", "setup");
      return (
        (repo.status as { artifact?: { revision?: string } }).artifact?.revision === `main@sha1:${reverted}`
      );
    });
    const applied = await e.server.kubectl([
      "apply",
      "-f",
      `${e.repo.work}/${e.repo.appDir}/kustomization-root.yaml`,
    ]);
    expect(applied.exitCode, applied.stderr).toBe(0);
    const back = await verifyOn(e, reverted, "--reconcile").done;
    expect(back.code, back.stderr).toBe(0);
  }, 180_000);

  it("HealthCheckFailed names the objects Flux waited for, and diagnostics show their conditions", async () => {
    const e = env();
    // Flux reads a Kustomization's timeout when its reconcile starts: shorten it in a commit of its
    // own, so the next commit's health checks run with it.
    const root = e.repo.read("kustomization-root.yaml");
    const short = e.repo.commit("chore: a 15s health-check timeout", {
      "kustomization-root.yaml": root.replace("  timeout: 15m\n", "  timeout: 15s\n"),
    });
    e.repo.push();
    expect((await verifyOn(e, short, "--reconcile").done).code).toBe(0);
    e.platform.slowImports.add("vm-disk-slow");
    const kustomization = e.repo.read("kustomization.yaml");
    const sha = e.repo.commit("feat: a disk whose import never finishes", {
      "vmdisk-slow.yaml":
        "apiVersion: apps.cozystack.io/v1alpha1\nkind: VMDisk\nmetadata:\n  name: slow\n  namespace: tenant-root\nspec:\n  source:\n    http:\n      url: https://example.invalid/slow.qcow2\n  storage: 1Gi\n",
      "kustomization.yaml": kustomization.replace(
        "  - vmdisk-haos.yaml\n",
        "  - vmdisk-haos.yaml\n  - vmdisk-slow.yaml\n",
      ),
    });
    e.repo.push();
    const result = await verifyOn(e, sha, "--reconcile").done;
    expect(result.code, result.stderr).toBe(1);
    expect(result.report.failedPhase).toBe("kustomization");
    expect(result.report.detail).toContain(
      "applied but health checks failed: VMDisk/tenant-root/slow (InProgress)",
    );
    const rows = result.report.diagnostics?.conditions ?? [];
    expect(rows).toContainEqual(
      expect.objectContaining({ object: "VMDisk/tenant-root/slow", type: "Ready" }),
    );
    expect(result.report.diagnostics?.fluxEvents).toContainEqual(
      expect.objectContaining({ reason: "HealthCheckFailed" }),
    );
    // Flux's own status when verify decided, as the report shows it. (Reading it afterwards races
    // with kustomize-controller's next attempt, which sets Healthy=Unknown/Progressing again.)
    expect(rows).toContainEqual(
      expect.objectContaining({
        object: "Kustomization/flux-system/haos-enigma",
        type: "Healthy",
        status: "False",
        reason: "HealthCheckFailed",
      }),
    );
    // Back to the 15m timeout and no slow disk.
    e.platform.slowImports.delete("vm-disk-slow");
    e.repo.git("revert", "--no-edit", "HEAD", short);
    e.repo.push();
    const back = await verifyOn(e, e.repo.git("rev-parse", "HEAD"), "--reconcile").done;
    expect(back.code, back.stderr).toBe(0);
  }, 240_000);
});
