import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActionContext } from "../../src/action/context.ts";
import { inputVariable } from "../../src/action/inputs.ts";
import { runVerify } from "../../src/action/verify.ts";
import { appUrlProblem } from "../../src/verify/app-url.ts";
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

// In process (src/action, not the committed bundle): verify that cannot start still sets every
// output and writes the summary, so a workflow can branch on `misconfigured`.
describe("the Action's verify command when misconfigured", () => {
  // A checkout with the app: verify names a bad app folder first, then the kubeconfig.
  const dir = writeAppFixture("misconf").repoRoot;
  const kubeconfig = path.join(dir, "kubeconfig");
  // Never contacted: every case fails before verify talks to the cluster.
  writeFileSync(
    kubeconfig,
    "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n" +
      "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function verifyWith(inputs: Record<string, string>) {
    const outputs: Record<string, string> = {};
    let summary = "";
    const env: NodeJS.ProcessEnv = { GITHUB_SHA: "a".repeat(40) };
    for (const [name, value] of Object.entries({ kubeconfig, ...inputs })) env[inputVariable(name)] = value;
    const ctx: ActionContext = {
      env,
      cwd: dir,
      setOutput: (name, value) => {
        outputs[name] = String(value);
      },
      summary: async (markdown) => {
        summary += markdown;
      },
      log: () => {},
      annotate: () => {},
    };
    const result = await runVerify(ctx);
    const report = JSON.parse(outputs["verify-report"] ?? "{}") as Record<string, unknown>;
    return { result, outputs, summary, report };
  }

  it.each([
    ["a missing app folder", { app: "apps/haos-enigmaa" }, "apps/haos-enigmaa", undefined],
    ["an app-url that is no URL", { "app-url": "192.168.1.50:8123" }, "input 'app-url'", "app-url"],
    ["an app-url that is not http(s)", { "app-url": "ftp://192.168.1.50/" }, "input 'app-url'", "app-url"],
    ["a bad timeout", { timeout: "soon" }, "input 'timeout'", "timeout"],
    [
      "no usable kubeconfig",
      { kubeconfig: path.join(dir, "absent") },
      "kubeconfig", // `the kubeconfig <dir>/absent does not exist`
      undefined,
    ],
  ])(
    "%s: outcome misconfigured, empty failed-phase, a report and a summary line",
    async (_, inputs, says, input) => {
      const { result, outputs, summary, report } = await verifyWith(inputs);
      expect(outputs["verify-outcome"]).toBe("misconfigured");
      expect(outputs["failed-phase"]).toBe("");
      expect(report.outcome).toBe("misconfigured");
      expect(report.failedPhase).toBeNull();
      expect(String(report.detail)).toContain(says);
      expect(report.input).toBe(input);
      expect(summary).toContain("haos-tasks verify: misconfigured");
      expect(summary).toContain(says);
      expect(result.failure).toMatch(/^verify misconfigured: /);
      expect(result.failure).toContain(says);
    },
  );

  it("reports the hint of a misconfiguration that has one", async () => {
    const { result, report, summary } = await verifyWith({ app: "apps/haos-enigmaa" });
    expect(typeof report.hint).toBe("string");
    expect(summary).toContain(`Fix: ${String(report.hint)}`);
    expect(result.failure).toContain(`fix: ${String(report.hint)}`);
  });
});

describe("appUrlProblem (the app-url / --app-url check)", () => {
  it.each([
    ["http://192.168.1.50:8123/", false],
    ["https://ha.example.org", false],
    ["http://[fd00::5]:8123/", false],
    ["192.168.1.50:8123", true],
    ["ha.example.org", true],
    ["ftp://192.168.1.50/", true],
    ["file:///etc/passwd", true],
    ["http://", true],
  ])("%s → rejected: %s", (value, rejected) => {
    expect(appUrlProblem(value) !== undefined).toBe(rejected);
  });
});
