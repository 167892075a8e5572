import { describe, expect, it } from "vitest";
import { freePort } from "../support/processes.ts";
import { useRealFluxApp, verifyOn } from "../support/real-flux-suite.ts";
import { startApiProxy, startVerifyCli, tokenKubeconfig } from "../support/verify-harness.ts";

// The edge cases of talking to a real API server while REAL Flux (source-, kustomize- and
// helm-controller, see verify-flux.test.ts) reconciles the app: a restart mid-rollout, an expired
// watch, a missing RBAC rule, no server at all, the server gone mid-run. Scenarios run in order on
// one cluster; the last one stops the API server.
describe("haos-tasks verify against a misbehaving API server, on real Flux", () => {
  const env = useRealFluxApp("verify-resilience", { retryInterval: "2s" });

  it("API server restarted mid-rollout: verify, Flux and the platform reconnect; the rollout is followed to the end", async () => {
    const e = env();
    const sha = await e.reinstallCommit("restart mid-rollout");
    const run = verifyOn(e, sha, "--reconcile");
    await run.started;
    e.repo.push();
    // Restart while the VM is still being installed: HelmReleases, import and VM come after it.
    await run.printed(/ releases +(running|progress) /);
    await e.server.restartApiServer();
    const restartedAt = Date.now();
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.report.outcome).toBe("succeeded");
    expect(result.report.revision.target).toBe(sha);
    expect(result.stderr).toMatch(/watch dropped .*reconnecting/);
    expect(result.endedAt - restartedAt).toBeLessThan(60_000);
  }, 240_000);

  it("watch expired (410 Gone from the real server): the informer re-lists and carries on", async () => {
    const e = env();
    const sa = await e.server.serviceAccount("tenant-root", "haos-verify-runner");
    const proxy = await startApiProxy(e.server, { expireFirstWatch: true });
    try {
      const sha = e.repo.commit("docs: behind a proxy", {
        "README.md": `${e.repo.read("README.md")}\nproxy\n`,
      });
      const run = startVerifyCli(
        [
          "--app",
          e.repo.appDir,
          "--revision",
          sha,
          "--kubeconfig",
          tokenKubeconfig(proxy.url, sa.token),
          "--app-url",
          e.pageUrl,
          "--timeout",
          "90s",
          "--reconcile",
        ],
        e.repo.work,
      );
      await run.started;
      e.repo.push();
      const result = await run.done;
      expect(proxy.rewritten()).toBe(1);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/watch expired \(410 Gone\): re-listing/);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it("one RBAC rule removed: exit 4 and the message names the missing rule", async () => {
    const e = env();
    const role = await e.server.kubectl([
      "get",
      "role",
      "haos-verify-runner",
      "-n",
      "tenant-root",
      "-o",
      "json",
    ]);
    const original = JSON.parse(role.stdout) as { rules: Array<{ resources: string[] }> };
    const reduced = {
      ...original,
      rules: original.rules.filter((r) => !r.resources.includes("datavolumes")),
    };
    expect(reduced.rules.length).toBe(original.rules.length - 1);
    await e.server.kubectl(["replace", "-f", "-"], { input: JSON.stringify(reduced) });
    try {
      const started = Date.now();
      const result = await verifyOn(e, e.repo.git("rev-parse", "HEAD")).done;
      expect(result.code).toBe(4);
      expect(result.report.outcome).toBe("forbidden");
      expect(result.report.detail).toBe(
        "forbidden: system:serviceaccount:tenant-root:haos-verify-runner may not list datavolumes.cdi.kubevirt.io in namespace tenant-root",
      );
      expect(result.report.hint).toContain("apps/verify-runner/rbac-verify-runner.yaml");
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      const restore = await e.server.kubectl(["apply", "-f", "-"], {
        input: JSON.stringify({
          ...original,
          metadata: { name: "haos-verify-runner", namespace: "tenant-root" },
        }),
      });
      expect(restore.exitCode, restore.stderr).toBe(0);
    }
  }, 60_000);

  it("no API server at the address: exit 5 after --unreachable-after", async () => {
    const e = env();
    const closed = tokenKubeconfig(`https://127.0.0.1:${await freePort()}`, "x");
    const started = Date.now();
    const result = await startVerifyCli(
      [
        "--app",
        e.repo.appDir,
        "--revision",
        e.repo.git("rev-parse", "HEAD"),
        "--kubeconfig",
        closed,
        "--unreachable-after",
        "2s",
        "--timeout",
        "90s",
      ],
      e.repo.work,
    ).done;
    expect(result.code).toBe(5);
    expect(result.report.outcome).toBe("unreachable");
    expect(result.report.detail).toMatch(/unreachable: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(Date.now() - started).toBeLessThan(8_000);
  }, 30_000);

  it("API server gone mid-run: exit 5 once it stayed unreachable for --unreachable-after", async () => {
    const e = env();
    // Not pushed: verify waits in the source phase for a commit source-controller cannot see yet.
    const sha = e.repo.commit("docs: never pushed", { "README.md": `${e.repo.read("README.md")}\nlocal\n` });
    const run = verifyOn(e, sha, "--unreachable-after", "3s");
    await run.started;
    // The clock starts when the stop starts: verify sees the first refused request within it (a
    // graceful kube-apiserver shutdown with the controllers' connections open takes seconds).
    const stoppedAt = Date.now();
    await e.server.stopApiServer();
    const result = await run.done;
    expect(result.code).toBe(5);
    expect(result.report.outcome).toBe("unreachable");
    expect(result.report.failedPhase).toBe("source");
    expect(result.endedAt - stoppedAt).toBeGreaterThanOrEqual(3_000);
    expect(result.endedAt - stoppedAt).toBeLessThan(15_000);
  }, 60_000);
});
