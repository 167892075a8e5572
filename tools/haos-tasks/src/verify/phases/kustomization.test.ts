import { describe, expect, it } from "vitest";
import { input, OLD, T } from "../../../test/support/verify-phases.ts";
import type { KubeObject } from "../../kube/client.ts";
import { evaluateKustomization } from "./kustomization.ts";

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

const running = (sha: string) =>
  `Running health checks for revision main@sha1:${sha} with a timeout of 15m0s`;
const inProgress = (og: number) => ({
  type: "Ready",
  status: "Unknown",
  reason: "Progressing",
  message: "Reconciliation in progress",
  observedGeneration: og,
});
const reconciling = (og: number, reason: string, message: string) => ({
  type: "Reconciling",
  status: "True",
  reason,
  message,
  observedGeneration: og,
});
const healthy = (og: number, status: string, message: string) => ({
  type: "Healthy",
  status,
  reason: status === "True" ? "Succeeded" : status === "False" ? "HealthCheckFailed" : "Progressing",
  message,
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
      name: "BuildFailed on the first reconcile (observedGeneration -1, the condition at generation 1) fails",
      k: ks(1, {
        observedGeneration: -1,
        lastAttemptedRevision: `main@sha1:${T}`,
        conditions: [buildFailed(1), reconciling(1, "ProgressingWithRetry", "Detecting drift")],
      }),
      state: "failed",
    },
    {
      name: "Stalled=True/InvalidCELExpression at the current generation fails (a terminal error)",
      k: ks(2, {
        observedGeneration: -1,
        ...attempted,
        conditions: [
          { type: "Stalled", status: "True", reason: "InvalidCELExpression", observedGeneration: 2 },
          { type: "Ready", status: "False", reason: "InvalidCELExpression", observedGeneration: 2 },
        ],
      }),
      state: "failed",
    },
    {
      name: "health checks running for the target (Reconciling=True + Healthy=Unknown, one update) is provisionally done",
      k: ks(1, {
        observedGeneration: -1,
        ...attempted,
        conditions: [
          inProgress(1),
          reconciling(1, "Progressing", running(T)),
          healthy(1, "Unknown", running(T)),
        ],
      }),
      state: "done",
    },
    {
      name: "a Healthy left over from the previous commit while the target is built waits",
      k: ks(1, {
        observedGeneration: 1,
        ...attempted,
        conditions: [
          inProgress(1),
          reconciling(
            1,
            "Progressing",
            `Building manifests for revision main@sha1:${T} with a timeout of 15m0s`,
          ),
          healthy(1, "Unknown", running(OLD)),
        ],
      }),
      state: "waiting",
    },
    {
      name: "health checks of the previous commit while the target is fetched wait",
      k: ks(1, {
        observedGeneration: 1,
        lastAttemptedRevision: `main@sha1:${OLD}`,
        lastAppliedRevision: `main@sha1:${OLD}`,
        conditions: [
          inProgress(1),
          reconciling(1, "Progressing", running(OLD)),
          healthy(1, "Unknown", running(OLD)),
        ],
      }),
      state: "waiting",
    },
    {
      name: "a progress message on Ready alone (a shape Flux never writes) is not read as health checks running",
      k: ks(1, {
        observedGeneration: 1,
        ...attempted,
        conditions: [
          {
            type: "Ready",
            status: "Unknown",
            reason: "Progressing",
            message: running(T),
            observedGeneration: 1,
          },
        ],
      }),
      state: "waiting",
    },
    {
      name: "Ready=True 'Applied revision' one update before lastAppliedRevision waits",
      k: ks(1, {
        observedGeneration: -1,
        ...attempted,
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "ReconciliationSucceeded",
            message: `Applied revision: main@sha1:${T}`,
            observedGeneration: 1,
          },
          healthy(1, "True", "Health check passed in 20.04s"),
        ],
      }),
      state: "waiting",
    },
    {
      name: "Stalled from the previous generation waits",
      k: ks(2, {
        observedGeneration: 1,
        ...attempted,
        conditions: [
          { type: "Stalled", status: "True", reason: "InvalidCELExpression", observedGeneration: 1 },
        ],
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

  it("a commit that changes the Kustomization's own spec: the mid-reconcile Ready=True is not the verdict", () => {
    // As kustomize-controller v1.9 wrote it: the reconcile that applied the new spec ends with
    // conditions at the new generation but status.observedGeneration still at the old one.
    const applied = {
      lastAttemptedRevision: `main@sha1:${T}`,
      lastAppliedRevision: `main@sha1:${T}`,
      conditions: [
        { type: "Ready", status: "True", reason: "ReconciliationSucceeded", observedGeneration: 3 },
        healthy(3, "True", "Health check passed in 91ms"),
      ],
    };
    const inFlight = evaluateKustomization(ks(3, { observedGeneration: 2, ...applied }), input);
    expect(inFlight.state).toBe("waiting");
    expect(inFlight.detail).toContain("status.observedGeneration 2, spec is at 3");
    expect(evaluateKustomization(ks(3, { observedGeneration: 3, ...applied }), input).state).toBe("done");
    // The follow-up reconcile with the new (broken) spec stalls: a failure, at once.
    const stalled = evaluateKustomization(
      ks(3, {
        observedGeneration: 3,
        ...applied,
        conditions: [
          {
            type: "Stalled",
            status: "True",
            reason: "InvalidCELExpression",
            message: "failed to parse",
            observedGeneration: 3,
          },
          {
            type: "Ready",
            status: "False",
            reason: "InvalidCELExpression",
            message: "failed to parse",
            observedGeneration: 3,
          },
        ],
      }),
      input,
    );
    expect(stalled.state).toBe("failed");
  });

  it("says a stale health-check failure is from an older generation", () => {
    const verdict = evaluateKustomization(
      ks(2, { observedGeneration: 1, ...attempted, conditions: [healthFailed(1)] }),
      input,
    );
    expect(verdict.detail).toContain("observed at generation 1, spec is at 2");
  });
});
