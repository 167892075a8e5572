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

// Every scenario runs the real CLI as the shipped ServiceAccount (apps/haos-enigma/rbac-verify-runner.yaml)
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
});
