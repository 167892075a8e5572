import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApiServer, type TestApiServer } from "../support/apiserver.ts";
import {
  ClusterSimulator,
  installVerifyCrds,
  shippedServiceAccount,
  startApiProxy,
  startHomeAssistantPage,
  startVerifyCli,
  tokenKubeconfig,
  writeAppFixture,
} from "../support/cluster-simulator.ts";
import { freePort } from "../support/processes.ts";

// The edge cases of talking to a real API server: restarts, expired watches, a missing RBAC rule,
// and no server at all. Scenarios run in order; the last one stops the API server.
describe("haos-tasks verify against a misbehaving API server", () => {
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

  const scenario = async (config = kubeconfig) => {
    n += 1;
    const fixture = writeAppFixture(`r${n}`);
    const sim = new ClusterSimulator(server, fixture);
    await sim.bootstrap();
    const args = (...extra: string[]) => [
      "--app",
      fixture.appDir,
      "--revision",
      fixture.commits.target,
      "--kubeconfig",
      config,
      "--app-url",
      page.url,
      "--timeout",
      "90s",
      ...extra,
    ];
    return { fixture, sim, args };
  };

  it("API server restarted mid-watch: the watches reconnect and the rollout is still followed to the end", async () => {
    const { fixture, sim, args } = await scenario();
    const run = startVerifyCli(args(), fixture.repoRoot);
    await run.started;
    await sim.rollout(fixture.commits.target, { stopAfter: "disk" });
    await server.restartApiServer();
    const restartedAt = Date.now();
    await sim.finishRollout(fixture.commits.target);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.report.outcome).toBe("succeeded");
    expect(result.stderr).toMatch(/watch dropped .*reconnecting/);
    expect(result.endedAt - sim.decisiveAt).toBeLessThan(10_000);
    expect(result.endedAt - restartedAt).toBeLessThan(30_000);
  });

  it("watch expired (410 Gone from the real server): the informer re-lists and carries on", async () => {
    const sa = await server.serviceAccount("tenant-root", "haos-verify-runner");
    const proxy = await startApiProxy(server, { expireFirstWatch: true });
    try {
      const { fixture, sim, args } = await scenario(tokenKubeconfig(proxy.url, sa.token));
      const run = startVerifyCli(args(), fixture.repoRoot);
      await run.started;
      await sim.rollout(fixture.commits.target);
      const result = await run.done;
      expect(proxy.rewritten()).toBe(1);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/watch expired \(410 Gone\): re-listing/);
      expect(result.endedAt - sim.decisiveAt).toBeLessThan(3_000);
    } finally {
      await proxy.close();
    }
  });

  it("one RBAC rule removed: exit 4 and the message names the missing rule", async () => {
    const role = await server.kubectl([
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
    await server.kubectl(["replace", "-f", "-"], { input: JSON.stringify(reduced) });
    try {
      const { fixture, args } = await scenario();
      const started = Date.now();
      const result = await startVerifyCli(args(), fixture.repoRoot).done;
      expect(result.code).toBe(4);
      expect(result.report.outcome).toBe("forbidden");
      expect(result.report.detail).toBe(
        "forbidden: system:serviceaccount:tenant-root:haos-verify-runner may not list datavolumes.cdi.kubevirt.io in namespace tenant-root",
      );
      expect(result.report.hint).toContain("apps/verify-runner/rbac-verify-runner.yaml");
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      const restore = await server.kubectl(["apply", "-f", "-"], {
        input: JSON.stringify({
          ...original,
          metadata: { name: "haos-verify-runner", namespace: "tenant-root" },
        }),
      });
      expect(restore.exitCode, restore.stderr).toBe(0);
    }
  });

  it("no API server at the address: exit 5 after --unreachable-after", async () => {
    const closed = tokenKubeconfig(`https://127.0.0.1:${await freePort()}`, "x");
    const { fixture, args } = await scenario();
    const started = Date.now();
    const result = await startVerifyCli(
      args("--unreachable-after", "2s").map((a) => (a === kubeconfig ? closed : a)),
      fixture.repoRoot,
    ).done;
    expect(result.code).toBe(5);
    expect(result.report.outcome).toBe("unreachable");
    expect(result.report.detail).toMatch(/unreachable: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it("API server gone mid-run: exit 5 once it stayed unreachable for --unreachable-after", async () => {
    const { fixture, sim, args } = await scenario();
    const run = startVerifyCli(args("--unreachable-after", "3s"), fixture.repoRoot);
    await run.started;
    await sim.source(fixture.commits.target);
    // Stop only once the verifier has seen the new artifact, so the failing phase is certain.
    await run.printed(/ source +succeeded /);
    await server.stopApiServer();
    const stoppedAt = Date.now();
    const result = await run.done;
    expect(result.code).toBe(5);
    expect(result.report.outcome).toBe("unreachable");
    expect(result.report.failedPhase).toBe("kustomization");
    expect(result.endedAt - stoppedAt).toBeGreaterThanOrEqual(3_000);
    expect(result.endedAt - stoppedAt).toBeLessThan(15_000);
  });
});
