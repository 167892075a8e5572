import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ActionContext } from "../../src/action/context.ts";
import { inputVariable } from "../../src/action/inputs.ts";
import { runVerify } from "../../src/action/verify.ts";
import { appUrlProblem } from "../../src/verify/app-url.ts";
import { useRealFluxApp } from "../support/real-flux-suite.ts";
import { writeAppFixture } from "../support/verify-harness.ts";
import { startBundledAction } from "./action-harness.ts";

// The bundled Action's verify command as the shipped ServiceAccount while REAL Flux (source-,
// kustomize- and helm-controller; CozyStack's real charts; see verify-flux.test.ts) reconciles the
// app; CDI, KubeVirt, the WorkloadMonitors and the LoadBalancer are test/support/simulated-status.ts.
describe("the Action's verify command (dist/index.js) on real Flux", () => {
  const env = useRealFluxApp("action-verify", { retryInterval: "2s" });

  /** Runs the bundled Action for `sha` (as GITHUB_SHA, as on a push) and pushes once it follows. */
  async function step(sha: string, shown?: RegExp, onShown?: () => void) {
    const e = env();
    let stdout = "";
    let markStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    const run = startBundledAction(
      {
        command: "verify",
        app: e.repo.appDir,
        kubeconfig: e.kubeconfig,
        "app-url": e.pageUrl,
        timeout: "120s",
        reconcile: "true",
      },
      {
        workspace: e.repo.work,
        sha,
        onStdout: (text) => {
          stdout += text;
          if (/ source +running /.test(text)) markStarted();
          if (shown?.test(stdout)) {
            shown = undefined;
            onShown?.();
          }
        },
      },
    );
    run.done.finally(() => {
      markStarted();
      onShown?.();
    });
    await started;
    e.repo.push();
    return run.done;
  }

  it("follows a fresh install phase by phase and reports it as outputs and job summary", async () => {
    const e = env();
    // The import runs until the Action has shown it (a real import takes minutes, the simulated one 0.3 s).
    e.platform.slowImports.add("vm-disk-haos");
    const sha = await e.reinstallCommit("the Action follows a fresh install");
    const run = await step(
      sha,
      / (releases|disk) +progress .*DataVolume tenant-root\/vm-disk-haos ImportInProgress/,
      () => e.platform.slowImports.delete("vm-disk-haos"),
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs["verify-outcome"]).toBe("succeeded");
    expect(run.outputs["failed-phase"]).toBe("");
    const report = JSON.parse(run.outputs["verify-report"] ?? "{}") as {
      outcome: string;
      revision: { target: string };
      phases: { phase: string; status: string }[];
    };
    expect(report.outcome).toBe("succeeded");
    expect(report.revision.target).toBe(sha);
    expect(report.phases.map((p) => p.status)).toEqual(Array(8).fill("succeeded"));
    expect(run.summary).toContain("haos-tasks verify: succeeded");
    expect(run.stdout).toMatch(
      / (releases|disk) +progress .*DataVolume tenant-root\/vm-disk-haos ImportInProgress/,
    );
  }, 180_000);

  it("fails the step on BuildFailed with the failing phase, Flux's message, the fix and an annotation", async () => {
    const e = env();
    const kustomization = e.repo.read("kustomization.yaml");
    const sha = e.repo.commit("fix: list a missing file", {
      "kustomization.yaml": kustomization.replace(
        "  - vmdisk-haos.yaml\n",
        "  - vmdisk-haos.yaml\n  - vmdisk-missing.yaml\n",
      ),
    });
    const run = await step(sha);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.outputs["verify-outcome"]).toBe("failed");
    expect(run.outputs["failed-phase"]).toBe("kustomization");
    const errors = run.errors.join("\n");
    expect(errors).toContain("BuildFailed");
    expect(errors).toContain("vmdisk-missing.yaml");
    expect(errors).toContain("fix: ");
    expect(run.summary).toContain("haos-tasks verify: failed");
  }, 120_000);
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
