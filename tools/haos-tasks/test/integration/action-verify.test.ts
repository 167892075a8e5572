import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApiServer, type TestApiServer } from "../support/apiserver.ts";
import {
  ClusterSimulator,
  installVerifyCrds,
  shippedServiceAccount,
  startHomeAssistantPage,
  writeAppFixture,
} from "../support/cluster-simulator.ts";
import { startBundledAction } from "./action-harness.ts";

// The bundled Action's verify command as the shipped ServiceAccount against a real kube-apiserver,
// while the cluster simulator writes status the way Flux, CDI and KubeVirt do.
describe("the Action's verify command (dist/index.js)", () => {
  let server: TestApiServer;
  let kubeconfig: string;
  let page: Awaited<ReturnType<typeof startHomeAssistantPage>>;
  let n = 0;
  const repos: string[] = [];

  beforeAll(async () => {
    server = await startTestApiServer();
    await installVerifyCrds(server);
    kubeconfig = await shippedServiceAccount(server);
    page = await startHomeAssistantPage("answers");
  });
  afterAll(async () => {
    await page?.close();
    await server?.stop();
    for (const dir of repos) rmSync(dir, { recursive: true, force: true });
  });

  async function start() {
    n += 1;
    const fixture = writeAppFixture(`action${n}`);
    repos.push(fixture.repoRoot);
    const sim = new ClusterSimulator(server, fixture);
    await sim.bootstrap();
    let markStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    const step = startBundledAction(
      { command: "verify", app: fixture.appDir, kubeconfig, "app-url": page.url, timeout: "60s" },
      {
        workspace: fixture.repoRoot,
        sha: fixture.commits.target, // revision defaults to GITHUB_SHA, as on a push
        onStdout: (text) => {
          if (/ source +running /.test(text)) markStarted();
        },
      },
    );
    step.done.finally(markStarted);
    return { fixture, sim, started, done: step.done };
  }

  it("follows the rollout phase by phase and reports it as outputs and job summary", async () => {
    const { fixture, sim, started, done } = await start();
    await started;
    await sim.rollout(fixture.commits.target);
    const run = await done;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs["verify-outcome"]).toBe("succeeded");
    expect(run.outputs["failed-phase"]).toBe("");
    const report = JSON.parse(run.outputs["verify-report"] ?? "{}") as {
      outcome: string;
      revision: { target: string };
      phases: { phase: string; status: string }[];
    };
    expect(report.outcome).toBe("succeeded");
    expect(report.revision.target).toBe(fixture.commits.target);
    expect(report.phases.map((p) => p.status)).toEqual(Array(8).fill("succeeded"));
    expect(run.summary).toContain("haos-tasks verify: succeeded");
    expect(run.stdout).toMatch(
      / disk +progress +DataVolume tenant-root\/vm-disk-haos-action\d+ ImportInProgress/,
    );
  });

  it("fails the step on BuildFailed with the failing phase, the fix and an annotation", async () => {
    const { fixture, sim, started, done } = await start();
    await started;
    await sim.source(fixture.commits.target);
    await sim.kustomizationFailed(
      fixture.commits.target,
      fixture.commits.old,
      "BuildFailed",
      "kustomize build failed: accumulating resources: 'vmdisk.yaml' not found",
    );
    const run = await done;
    expect(run.code).toBe(1);
    expect(run.outputs["verify-outcome"]).toBe("failed");
    expect(run.outputs["failed-phase"]).toBe("kustomization");
    expect(run.errors.some((e) => e.includes("BuildFailed"))).toBe(true);
    expect(run.errors.join("\n")).toContain("fix: ");
    expect(run.summary).toContain("haos-tasks verify: failed");
  });
});
