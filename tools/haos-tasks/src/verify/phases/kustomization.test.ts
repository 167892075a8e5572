import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../kube/client.ts";
import { evaluateKustomization } from "./kustomization.ts";
import { input, OLD, T } from "./test-support.ts";

function ks(generation: number, status: Record<string, unknown>): KubeObject {
  return { metadata: { name: "haos-enigma", namespace: "flux-system", generation }, status };
}

const attempted = { lastAttemptedRevision: `main@sha1:${T}`, lastAppliedRevision: `main@sha1:${OLD}` };
const healthFailed = (og: number) => ({
  type: "Ready",
  status: "False",
  reason: "HealthCheckFailed",
  message: "timeout waiting for: [VMInstance/tenant-root/haos status: 'InProgress']",
  observedGeneration: og,
});
const buildFailed = (og: number) => ({
  type: "Ready",
  status: "False",
  reason: "BuildFailed",
  message: "kustomize build failed",
  observedGeneration: og,
});

describe("evaluateKustomization", () => {
  it.each([
    {
      name: "HealthCheckFailed at the current generation fails",
      k: ks(2, { observedGeneration: 2, ...attempted, conditions: [healthFailed(2)] }),
      state: "failed",
    },
    {
      name: "HealthCheckFailed from the previous generation waits",
      k: ks(2, { observedGeneration: 1, ...attempted, conditions: [healthFailed(1)] }),
      state: "waiting",
    },
    {
      name: "BuildFailed at the current generation fails",
      k: ks(2, { observedGeneration: 2, ...attempted, conditions: [buildFailed(2)] }),
      state: "failed",
    },
    {
      name: "BuildFailed from the previous generation waits",
      k: ks(2, { observedGeneration: 1, ...attempted, conditions: [buildFailed(1)] }),
      state: "waiting",
    },
    {
      name: "Stalled from the previous generation waits",
      k: ks(2, {
        observedGeneration: 1,
        ...attempted,
        conditions: [{ type: "Stalled", status: "True", reason: "InvalidPath", observedGeneration: 1 }],
      }),
      state: "waiting",
    },
    {
      name: "Ready=True for the target at the current generation is done",
      k: ks(2, {
        observedGeneration: 2,
        lastAttemptedRevision: `main@sha1:${T}`,
        lastAppliedRevision: `main@sha1:${T}`,
        conditions: [
          { type: "Ready", status: "True", reason: "ReconciliationSucceeded", observedGeneration: 2 },
        ],
      }),
      state: "done",
    },
    {
      name: "Ready=True for the target from the previous generation waits",
      k: ks(2, {
        observedGeneration: 1,
        lastAttemptedRevision: `main@sha1:${T}`,
        lastAppliedRevision: `main@sha1:${T}`,
        conditions: [
          { type: "Ready", status: "True", reason: "ReconciliationSucceeded", observedGeneration: 1 },
        ],
      }),
      state: "waiting",
    },
    {
      name: "HealthCheckCanceled waits (a newer revision took over)",
      k: ks(2, {
        observedGeneration: 2,
        lastAttemptedRevision: `main@sha1:${T}`,
        conditions: [
          { type: "Ready", status: "False", reason: "HealthCheckCanceled", observedGeneration: 2 },
        ],
      }),
      state: "waiting",
    },
  ])("$name", ({ k, state }) => {
    expect(evaluateKustomization(k, input).state).toBe(state);
  });

  it("says a stale health-check failure is from an older generation", () => {
    const verdict = evaluateKustomization(
      ks(2, { observedGeneration: 1, ...attempted, conditions: [healthFailed(1)] }),
      input,
    );
    expect(verdict.detail).toContain("observed at generation 1, spec is at 2");
  });
});
