import { describe, expect, it } from "vitest";
import { loadPlatform } from "../../src/platform/platform.ts";
import { kyvernoApply } from "../support/kyverno.ts";
import { kubectlJson } from "../support/real-flux-app.ts";
import { useRealFluxApp, verifyOn } from "../support/real-flux-suite.ts";

// haos-tasks verify against REAL Flux: source-, kustomize- and helm-controller (.tools/bin, built by
// tools/bootstrap) reconcile a git repository served on 127.0.0.1 whose content is this repository's
// apps/haos-enigma — the only change is the GitRepository's URL (the test server) and its interval
// (10s). CozyStack's real v1.6.2 vm-disk/vm-instance charts (with cozy-lib) are rendered by the real
// helm-controller from ExternalArtifacts; a stand-in does what cozystack-api does (test/support/
// cozystack.ts, RetryOnFailure retryInterval shortened to 2s from CozyStack's 30s to keep the test
// short). Simulated, in test/support/simulated-status.ts only: CDI's DataVolume status, KubeVirt's
// VM/VMI status, WorkloadMonitor status.operational, the LoadBalancer IP; plus the HA page.
// The scenarios run in order on one cluster: each pushes a commit on top of the previous one.
describe("haos-tasks verify on real Flux controllers", () => {
  // The vm-disk release appears 4s after its VMDisk: the vm-instance chart's lookup of the
  // DataVolume then fails ("Specified disk not exists"), as it does on a real cluster when the
  // VMInstance release wins the race; RetryOnFailure resolves it.
  const env = useRealFluxApp("verify-flux", { retryInterval: "2s", diskReleaseDelayMs: 4_000 });
  const verify = (sha: string, ...extra: string[]) => verifyOn(env(), sha, ...extra);

  it("happy path: exit 0 for the exact revision; health checks detected from Reconciling+Healthy; the missing-disk race waited out", async () => {
    const sha = env().repo.git("rev-parse", "HEAD");
    const started = Date.now();
    const result = await verify(sha, "--reconcile").done;
    expect(result.code, `${result.stderr}\n${env().logs()}`).toBe(0);
    expect(result.report.outcome).toBe("succeeded");
    expect(result.report.revision.target).toBe(sha);
    expect(result.report.revision.supersededBy).toBeUndefined();
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
    // Flux keeps Ready=Unknown for the whole reconcile: "running" can only come from Reconciling+Healthy.
    expect(result.stderr).toMatch(
      /kustomization\s+succeeded\s+applied main@sha1:[0-9a-f]{40}; Flux health checks running \(Healthy=Unknown/,
    );
    expect(result.stderr).toMatch(
      /releases\s+progress .*vm-instance-haos retrying every 2s \(\d+ failure\(s\), RetryOnFailure\): Released=False \(InstallFailed\): .*Specified disk not exists in cluster: haos/,
    );
    const ks = await kubectlJson(env().server, "kustomization", "-n", "flux-system", "haos-enigma");
    expect((ks.status as { lastAppliedRevision?: string }).lastAppliedRevision).toBe(`main@sha1:${sha}`);
    // What the real charts rendered, named and shaped as verify expects.
    const vm = await kubectlJson(env().server, "virtualmachine", "-n", "tenant-root", "vm-instance-haos");
    expect(vm.spec).toMatchObject({
      instancetype: { kind: "VirtualMachineClusterInstancetype", name: "u1.medium" },
      preference: { kind: "VirtualMachineClusterPreference", name: "haos" },
      template: { spec: { volumes: [{ name: "disk-haos", dataVolume: { name: "vm-disk-haos" } }] } },
    });
    const svc = await kubectlJson(env().server, "service", "-n", "tenant-root", "vm-instance-haos");
    expect(svc.metadata).toMatchObject({ annotations: { "networking.cozystack.io/wholeIP": "true" } });
    process.stderr.write(`happy path: verify ${Date.now() - started} ms\n`);
  }, 180_000);

  type Nic = { name?: unknown; macAddress?: unknown; [k: string]: unknown };
  const nicsOf = (vm: unknown): Nic[] =>
    (vm as { spec: { template: { spec: { domain: { devices: { interfaces: Nic[] } } } } } }).spec.template
      .spec.domain.devices.interfaces;
  let nicsSeen: { rendered: Nic[]; patched: Nic[]; mac: string | undefined } | undefined;

  it("Kyverno's own engine patches the NIC of the VirtualMachine the real chart rendered, and the patched VM passes KubeVirt's schema", async () => {
    const e = env();
    const vm = await kubectlJson(e.server, "virtualmachine", "-n", "tenant-root", "vm-instance-haos");
    const platform = await loadPlatform(e.repo.appDir, e.repo.work);
    const nic = platform.network.underlay?.haosNic;
    // The pinned `kyverno apply` (the version platform.yaml declares): pin-lan-nic as the admission
    // webhook applies it to the chart's VM, pin-lan-nic-existing as the background controller
    // patches the VM already there (its target). Both keep every NIC the chart rendered (the test
    // below and test/support/kyverno.test.ts).
    const rendered = nicsOf(vm);
    expect(rendered.map((i) => i.name)).toEqual(["default", "haos-underlay"]);
    const applied = await kyvernoApply(e.repo.read("kyverno-policy-haos-nic.yaml"), vm);
    nicsSeen = { rendered, patched: nicsOf(applied.resource), mac: nic?.mac };
    expect(applied.rules.map((r) => `${r.rule} ${r.result}`)).toEqual([
      "pin-lan-nic pass",
      "pin-lan-nic-existing pass",
    ]);
    expect(applied.patchedTargets).toHaveLength(1);
    const byRule = { "pin-lan-nic": applied.resource, "pin-lan-nic-existing": applied.patchedTargets[0] };
    for (const [rule, result] of Object.entries(byRule)) {
      const patched = result as typeof vm & {
        spec: {
          template: { metadata: { annotations: Record<string, string> }; spec: Record<string, unknown> };
        };
      };
      // Kyverno patches nothing, silently, where the foreach precondition's name matches no NIC of
      // the rendered VM: the MAC on haos-underlay is what proves the name fits.
      const interfaces = (
        patched.spec.template.spec.domain as {
          devices: { interfaces: Array<{ name: string; macAddress?: string }> };
        }
      ).devices.interfaces;
      expect(interfaces.find((i) => i.name === "haos-underlay")?.macAddress, rule).toBe(nic?.mac);
      expect(
        interfaces.filter((i) => i.macAddress).map((i) => i.name),
        rule,
      ).toEqual(["haos-underlay"]);
      expect(patched.spec.template.metadata.annotations).toMatchObject({
        "haos-underlay.tenant-root.ovn.kubernetes.io/mac_address": nic?.mac,
        "haos-underlay.tenant-root.ovn.kubernetes.io/ip_address": nic?.ip,
      });
      // What Kyverno's webhook would send on: the patched VM, as an update, through the API
      // server's validation of the KubeVirt schema (dry run: the chart's object stays as rendered).
      const dry = await e.server.kubectl(["replace", "--dry-run=server", "-f", "-"], {
        input: JSON.stringify(patched),
      });
      expect(dry.exitCode, `${rule}: ${dry.stderr}`).toBe(0);
    }
  }, 60_000);

  // Kyverno's patchStrategicMerge replaces a CRD's list (no merge key): the policy's former anchored
  // `interfaces` patch left the chart's VM with the MAC'd haos-underlay alone, `default` and both
  // `bridge` bindings dropped (see test/support/kyverno.test.ts). The foreach JSON patch keeps them.
  it("Kyverno's patch keeps every NIC the real chart rendered, with its binding, and adds only the MAC", () => {
    // From the test above (red on its own if it could not run Kyverno).
    const { rendered, patched, mac } = nicsSeen ?? { rendered: [], patched: undefined, mac: undefined };
    expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(rendered.map((i) => [i.name, i.bridge])).toEqual([
      ["default", {}],
      ["haos-underlay", {}],
    ]);
    expect(patched).toEqual(
      rendered.map((i) => (i.name === "haos-underlay" ? { ...i, macAddress: mac } : i)),
    );
  });

  it("BuildFailed from a broken kustomization fails within seconds, quoting Flux's message", async () => {
    const kustomization = env().repo.read("kustomization.yaml");
    const sha = env().repo.commit("fix: list a missing file", {
      "kustomization.yaml": kustomization.replace(
        "  - vmdisk-haos.yaml\n",
        "  - vmdisk-haos.yaml\n  - vmdisk-missing.yaml\n",
      ),
    });
    env().repo.push();
    const started = Date.now();
    const result = await verify(sha, "--reconcile").done;
    expect(result.code, result.stderr).toBe(1);
    expect(result.report.failedPhase).toBe("kustomization");
    expect(result.report.detail).toMatch(/not applied: Ready=False \(BuildFailed\): .*vmdisk-missing\.yaml/);
    expect(result.report.hint).toContain("haos-tasks validate");
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 60_000);

  it("rollback by git revert: the revert commit is verified (exit 0)", async () => {
    env().repo.git("revert", "--no-edit", "HEAD");
    const sha = env().repo.git("rev-parse", "HEAD");
    env().repo.push();
    const result = await verify(sha, "--reconcile").done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.report.revision.target).toBe(sha);
    const ks = await kubectlJson(env().server, "kustomization", "-n", "flux-system", "haos-enigma");
    expect((ks.status as { lastAppliedRevision?: string }).lastAppliedRevision).toBe(`main@sha1:${sha}`);
  }, 120_000);

  it("a chart render failure (Released=False/InstallFailed) fails fast through the app's healthCheckExprs", async () => {
    const kustomization = env().repo.read("kustomization.yaml");
    const sha = env().repo.commit("feat: a second VM with an instance type the cluster lacks", {
      "vminstance-broken.yaml":
        "apiVersion: apps.cozystack.io/v1alpha1\nkind: VMInstance\nmetadata:\n  name: broken\n  namespace: tenant-root\nspec:\n  runStrategy: Always\n  instanceType: u1.missing\n  instanceProfile: haos\n  disks: []\n",
      "kustomization.yaml": kustomization.replace(
        "  - vminstance-haos.yaml\n",
        "  - vminstance-haos.yaml\n  - vminstance-broken.yaml\n",
      ),
    });
    env().repo.push();
    const started = Date.now();
    const result = await verify(sha, "--reconcile").done;
    expect(result.code, result.stderr).toBe(1);
    expect(result.report.failedPhase).toBe("kustomization");
    expect(result.report.detail).toContain("health checks failed: VMInstance/tenant-root/broken (Failed)");
    const hr = await kubectlJson(env().server, "helmrelease", "-n", "tenant-root", "vm-instance-broken");
    const released = (
      hr.status as { conditions: Array<{ type: string; reason: string; message: string }> }
    ).conditions.find((c) => c.type === "Released");
    expect(released).toMatchObject({
      reason: "InstallFailed",
      message: expect.stringContaining("Specified instanceType does not exist in the cluster: u1.missing"),
    });
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it("prune on revert: the removed VMInstance and its HelmRelease disappear; tenant-root is not pruned", async () => {
    env().repo.git("revert", "--no-edit", "HEAD");
    const sha = env().repo.git("rev-parse", "HEAD");
    env().repo.push();
    const result = await verify(sha, "--reconcile").done;
    expect(result.code, result.stderr).toBe(0);
    const gone = await env().server.kubectl(["get", "vminstance", "-n", "tenant-root", "broken"]);
    expect(gone.stderr).toContain("NotFound");
    for (let i = 0; i < 50; i++) {
      const hr = await env().server.kubectl([
        "get",
        "helmrelease",
        "-n",
        "tenant-root",
        "vm-instance-broken",
      ]);
      if (hr.exitCode !== 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const hr = await env().server.kubectl(["get", "helmrelease", "-n", "tenant-root", "vm-instance-broken"]);
    expect(hr.stderr).toContain("NotFound");
    const ns = await kubectlJson(env().server, "namespace", "tenant-root");
    expect((ns.metadata as { deletionTimestamp?: string }).deletionTimestamp).toBeUndefined();
  }, 120_000);

  it("a disk import that keeps failing fails the run while Flux's health check is still pending", async () => {
    env().platform.failingImports.add("vm-disk-spare");
    const kustomization = env().repo.read("kustomization.yaml");
    const sha = env().repo.commit("feat: a spare disk from a URL that answers 404", {
      "vmdisk-spare.yaml":
        "apiVersion: apps.cozystack.io/v1alpha1\nkind: VMDisk\nmetadata:\n  name: spare\n  namespace: tenant-root\nspec:\n  source:\n    http:\n      url: https://example.invalid/missing.qcow2\n  storage: 1Gi\n",
      "kustomization.yaml": kustomization.replace(
        "  - vmdisk-haos.yaml\n",
        "  - vmdisk-haos.yaml\n  - vmdisk-spare.yaml\n",
      ),
    });
    env().repo.push();
    const result = await verify(sha, "--reconcile").done;
    expect(result.code, result.stderr).toBe(1);
    // "releases" while helm-controller's install of vm-disk-spare waits for its DataVolume,
    // "disk" when that install finished before CDI wrote the DataVolume's status.
    expect(["releases", "disk"]).toContain(result.report.failedPhase);
    expect(result.report.detail).toContain("got 404");
    // Flux itself is still waiting for the disk (its health check runs up to the 15m timeout).
    const ks = await kubectlJson(env().server, "kustomization", "-n", "flux-system", "haos-enigma");
    const healthy = (ks.status as { conditions: Array<{ type: string; status: string }> }).conditions.find(
      (c) => c.type === "Healthy",
    );
    expect(healthy?.status).toBe("Unknown");
    // kustomize-controller does not cancel a pending health check for a new revision (feature
    // gate CancelHealthCheckOnNewRevision is off by default): a revert would wait up to the 15m
    // timeout. Let the import recover, so Flux finishes this revision, then revert.
    env().platform.failingImports.delete("vm-disk-spare");
    env().repo.git("revert", "--no-edit", "HEAD");
    const reverted = env().repo.git("rev-parse", "HEAD");
    env().repo.push();
    const back = await verify(reverted, "--reconcile").done;
    expect(back.code, back.stderr).toBe(0);
  }, 180_000);

  it("a spec change whose stale status Flux accepts: verify waits for the HelmRelease upgrade", async () => {
    const vmi = env().repo.read("vminstance-haos.yaml");
    const sha = env().repo.commit("feat: expose 8124 too", {
      "vminstance-haos.yaml": vmi.replace(
        "  externalPorts:\n    - 8123\n",
        "  externalPorts:\n    - 8123\n    - 8124\n",
      ),
    });
    env().repo.push();
    const result = await verify(sha, "--reconcile").done;
    expect(result.code, result.stderr).toBe(0);
    // At verify's exit the upgrade has happened: the Service the chart renders has the new port,
    // and the HelmRelease observed its current generation with Released=UpgradeSucceeded.
    const svc = await kubectlJson(env().server, "service", "-n", "tenant-root", "vm-instance-haos");
    expect(
      (svc.spec as { ports: Array<{ port: number }> }).ports.map((p) => p.port),
      result.stderr,
    ).toEqual([8123, 8124]);
    const hr = await kubectlJson(env().server, "helmrelease", "-n", "tenant-root", "vm-instance-haos");
    const meta = hr.metadata as { generation: number };
    const status = hr.status as {
      observedGeneration: number;
      conditions: Array<{ type: string; reason: string }>;
    };
    expect(status.observedGeneration).toBe(meta.generation);
    expect(status.conditions.find((c) => c.type === "Released")?.reason).toBe("UpgradeSucceeded");
  }, 120_000);

  it("superseded: a newer commit pushed on top counts and is reported", async () => {
    const target = env().repo.commit("docs: target", {
      "README.md": `${env().repo.read("README.md")}\ntarget\n`,
    });
    const newer = env().repo.commit("docs: newer", {
      "README.md": `${env().repo.read("README.md")}\nnewer\n`,
    });
    env().repo.push();
    const result = await verify(target, "--reconcile").done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.report.revision.supersededBy).toBe(newer);
  }, 120_000);

  it("push race: --reconcile re-requests until source-controller has fetched the pushed commit", async () => {
    const sha = env().repo.commit("docs: pushed late", {
      "README.md": `${env().repo.read("README.md")}\nlate\n`,
    });
    const run = verify(sha, "--reconcile");
    // The first request reaches source-controller before the push: it fetches the old HEAD.
    await run.printed(/requested reconcile of gitRepository\/flux-system\/setup/);
    await new Promise((r) => setTimeout(r, 1_000));
    env().repo.push();
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.report.revision.target).toBe(sha);
    expect(
      result.stderr.match(/requested reconcile of gitRepository\/flux-system\/setup/g)?.length,
    ).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
