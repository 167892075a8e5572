import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../kube/client.ts";
import { evaluateHelmRelease } from "./releases.ts";

function release(generation: number, status: Record<string, unknown>, retries = 3): KubeObject {
  return {
    metadata: { name: "vm-instance-haos", namespace: "tenant-root", generation },
    spec: { install: { remediation: { retries } } },
    status,
  };
}

const app: KubeObject = { metadata: { name: "haos", namespace: "tenant-root" } };

const stalled = (og: number) => ({
  type: "Stalled",
  status: "True",
  reason: "RetriesExceeded",
  message: "Failed to install after 4 attempt(s)",
  observedGeneration: og,
});
const installFailed = (og: number) => ({
  type: "Ready",
  status: "False",
  reason: "InstallFailed",
  message: "preference haos not found",
  observedGeneration: og,
});

describe("evaluateHelmRelease", () => {
  it.each([
    {
      name: "Stalled at the current generation fails",
      hr: release(3, {
        observedGeneration: 3,
        installFailures: 4,
        conditions: [stalled(3), installFailed(3)],
      }),
      state: "failed",
    },
    {
      name: "Stalled from the previous generation waits (the push that fixes it)",
      hr: release(3, {
        observedGeneration: 2,
        installFailures: 4,
        conditions: [stalled(2), installFailed(2)],
      }),
      state: "waiting",
    },
    {
      name: "InstallFailed past the retries at the current generation fails",
      hr: release(3, { observedGeneration: 3, installFailures: 4, conditions: [installFailed(3)] }),
      state: "failed",
    },
    {
      name: "InstallFailed past the retries from the previous generation waits",
      hr: release(3, { observedGeneration: 2, installFailures: 4, conditions: [installFailed(2)] }),
      state: "waiting",
    },
    {
      name: "a stale condition without its own observedGeneration falls back to status.observedGeneration",
      hr: release(3, {
        observedGeneration: 2,
        installFailures: 4,
        conditions: [{ type: "Ready", status: "False", reason: "InstallFailed" }],
      }),
      state: "waiting",
    },
    {
      name: "InstallFailed within the retries waits (retrying)",
      hr: release(3, { observedGeneration: 3, installFailures: 1, conditions: [installFailed(3)] }),
      state: "waiting",
    },
    {
      name: "Ready=True at the current generation is done",
      hr: release(3, {
        observedGeneration: 3,
        conditions: [{ type: "Ready", status: "True", reason: "InstallSucceeded", observedGeneration: 3 }],
      }),
      state: "done",
    },
    {
      name: "Ready=True from the previous generation waits",
      hr: release(3, {
        observedGeneration: 2,
        conditions: [{ type: "Ready", status: "True", reason: "InstallSucceeded", observedGeneration: 2 }],
      }),
      state: "waiting",
    },
  ])("$name", ({ hr, state }) => {
    expect(evaluateHelmRelease(hr, app, "tenant-root/vm-instance-haos").state).toBe(state);
  });

  it("says a stale failure is from an older generation", () => {
    const verdict = evaluateHelmRelease(
      release(3, { observedGeneration: 2, installFailures: 4, conditions: [stalled(2), installFailed(2)] }),
      app,
      "x",
    );
    expect(verdict.detail).toContain("observed at generation 2, spec is at 3");
  });
});
