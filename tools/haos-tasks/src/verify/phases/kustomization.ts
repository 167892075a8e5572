import type { KubeObject } from "../../kube/client.ts";
import type { KindKey, ObjectRef } from "../../kube/resources.ts";
import { lookup } from "../../kube/store.ts";
import {
  describeCondition,
  FluxReason,
  firstLine,
  getCondition,
  isObservedCurrent,
  observedGeneration,
  staleNote,
} from "../conditions.ts";
import { commitOf, relationOf } from "../revision.ts";
import { type PhaseDefinition, type PhaseInput, short, text, type Verdict } from "./types.ts";

const applyFailures = new Set<string>([
  FluxReason.ArtifactFailed,
  FluxReason.BuildFailed,
  FluxReason.ReconciliationFailed,
  FluxReason.PruneFailed,
]);

const hints: Record<string, string> = {
  ArtifactFailed: "the source artifact could not be fetched: check the GitRepository and source-controller",
  BuildFailed: "kustomize build of the app folder fails: run `haos-tasks validate` on this commit",
  ReconciliationFailed:
    "the API server rejected an object: run `haos-tasks validate` (schemas, immutable fields)",
  PruneFailed: "Flux could not delete a removed object: check finalizers and the controller's RBAC",
  HealthCheckFailed: "an applied object did not become ready: see the objects named and the events below",
  InvalidCELExpression:
    "a healthCheckExprs expression does not compile, and a stalled Kustomization does not apply its own fix: push the fix, and once the GitRepository's artifact has it, apply the fixed Kustomization once with `kubectl apply -f`",
  AccessDenied: "the Kustomization references a source or service account it may not use: fix the reference",
  FeatureGateDisabled:
    "the Kustomization uses a feature kustomize-controller has not enabled: drop it or enable the gate",
};

const kindKeys: Record<string, KindKey> = {
  GitRepository: "gitRepository",
  Kustomization: "kustomization",
  HelmRelease: "helmRelease",
  VMDisk: "vmDisk",
  VMInstance: "vmInstance",
  DataVolume: "dataVolume",
  PersistentVolumeClaim: "persistentVolumeClaim",
  VirtualMachine: "virtualMachine",
  VirtualMachineInstance: "virtualMachineInstance",
  Service: "service",
};

/**
 * The objects a health-check message names: `timeout waiting for: [VMInstance/tenant-root/haos
 * status: 'InProgress']` or `failed early due to stalled resources: [...]`.
 */
export function healthCheckObjects(
  message: string,
): Array<{ ref: string; status?: string; kind?: KindKey; namespace?: string; name?: string }> {
  const list = /\[(.*)\]/s.exec(message)?.[1];
  if (!list) return [];
  return list
    .split(/,\s*/)
    .map((entry) => /([A-Za-z]+)\/([^/\s]+)\/([^\s]+)(?:\s+status:\s*'([^']*)')?/.exec(entry))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const kind = kindKeys[m[1] ?? ""];
      return {
        ref: `${m[1]}/${m[2]}/${m[3]}`,
        ...(m[4] ? { status: m[4] } : {}),
        ...(kind ? { kind, namespace: m[2] ?? "", name: m[3] ?? "" } : {}),
      };
    });
}

/**
 * The state of kustomize-controller's health checks for the attempt in progress, from conditions:
 * "running" when Reconciling=True and Healthy=Unknown were written together by the health-check
 * step (same message, one update). Healthy is never reset when the next revision starts (and a
 * canceled check leaves it Unknown), so Healthy alone says nothing about the current attempt: a
 * Healthy whose message differs from Reconciling's is a leftover of the previous attempt.
 */
export function healthChecks(kustomization: KubeObject): "running" | "none" {
  const reconciling = getCondition(kustomization, "Reconciling");
  const healthy = getCondition(kustomization, "Healthy");
  if (!healthy || !isObservedCurrent(kustomization, healthy)) return "none";
  if (
    reconciling?.status === "True" &&
    healthy.status === "Unknown" &&
    healthy.message === reconciling.message
  )
    return "running";
  return "none";
}

/** kustomization: lastAttemptedRevision, then lastAppliedRevision = target with Ready=True. */
export function evaluateKustomization(
  kustomization: KubeObject | undefined,
  input: Pick<PhaseInput, "target" | "relation" | "targets">,
): Verdict {
  const { namespace, name } = input.targets.kustomization;
  const self: ObjectRef = { kind: "kustomization", namespace, name };
  if (!kustomization) return { state: "waiting", detail: `Kustomization ${namespace}/${name} not found` };
  const attempted = text(kustomization, "status", "lastAttemptedRevision");
  const applied = text(kustomization, "status", "lastAppliedRevision");
  const ready = getCondition(kustomization, "Ready");
  const stalled = getCondition(kustomization, "Stalled");
  const current = isObservedCurrent(kustomization, ready);
  const appliedRelation = relationOf(input.target, applied, input.relation);
  const attemptedRelation = relationOf(input.target, attempted, input.relation);
  const forTarget = attemptedRelation === "same" || attemptedRelation === "descendant";

  if (stalled?.status === "True" && isObservedCurrent(kustomization, stalled)) {
    return {
      state: "failed",
      detail: `Kustomization ${namespace}/${name} is stalled: ${describeCondition(stalled)}`,
      hint: hints[stalled.reason ?? ""] ?? "Flux will not retry this revision: fix the manifests and push",
      objects: [self],
    };
  }
  // A commit that changes the Kustomization's own spec is applied mid-reconcile: that reconcile
  // then writes its conditions at the NEW generation but finishes with the OLD spec (health checks,
  // timeout, expressions), and only status.observedGeneration stays at the old one until the
  // follow-up reconcile with the new spec ends (recorded on kustomize-controller v1.9). So "applied"
  // needs status.observedGeneration current too, not only Ready's.
  const statusObserved = observedGeneration(kustomization);
  const settled = statusObserved === undefined || statusObserved === kustomization.metadata.generation;
  if (
    (appliedRelation === "same" || appliedRelation === "descendant") &&
    ready?.status === "True" &&
    current &&
    settled
  ) {
    const superseded = appliedRelation === "descendant";
    return {
      state: "done",
      detail: `${superseded ? "superseded: " : ""}applied ${applied}${superseded ? ` (a descendant of ${short(input.target)})` : ""}`,
      ...(superseded ? { supersededBy: commitOf(applied) ?? "" } : {}),
      data: { lastAppliedRevision: applied },
    };
  }
  // A failure observed at an older generation judged the previous spec: wait for the current one.
  if (forTarget && current && ready?.status === "False" && ready.reason && applyFailures.has(ready.reason)) {
    return {
      state: "failed",
      detail: `${attempted} not applied: ${describeCondition(ready)}`,
      hint: hints[ready.reason] ?? "see the Kustomization's events",
      objects: [self],
    };
  }
  if (forTarget && current && ready?.status === "False" && ready.reason === FluxReason.HealthCheckFailed) {
    const named = healthCheckObjects(ready.message ?? "");
    return {
      state: "failed",
      detail: `${attempted} applied but health checks failed: ${named.map((o) => `${o.ref}${o.status ? ` (${o.status})` : ""}`).join(", ") || firstLine(ready.message ?? "")}`,
      hint: hints.HealthCheckFailed,
      objects: [
        self,
        ...named.flatMap((o) =>
          o.kind && o.name ? [{ kind: o.kind, namespace: o.namespace ?? "", name: o.name }] : [],
        ),
      ],
      data: { objects: named.map((o) => o.ref) },
    };
  }
  const checks = healthChecks(kustomization);
  if (forTarget && current && checks === "running" && ready?.status !== "False") {
    return {
      state: "done",
      provisional: true,
      detail: `applied ${attempted}; Flux health checks running (${describeCondition(getCondition(kustomization, "Healthy"))})`,
    };
  }
  if (forTarget && ready?.status === "True" && current && !settled)
    return {
      state: "waiting",
      detail: `applied ${attempted} with the Kustomization's previous spec (status.observedGeneration ${statusObserved}, spec is at ${kustomization.metadata.generation}): waiting for Flux to reconcile the commit's own Kustomization spec`,
    };
  if (forTarget)
    return {
      state: "waiting",
      detail: `applying ${attempted}: ${describeCondition(getCondition(kustomization, "Reconciling") ?? ready, "Ready")}${staleNote(kustomization, ready)}`,
    };
  return {
    state: "waiting",
    detail: `last attempted ${short(commitOf(attempted) ?? attempted)}, waiting for ${short(input.target)}${ready ? ` (${describeCondition(ready)})` : ""}`,
  };
}

export const kustomizationPhase: PhaseDefinition = {
  name: "kustomization",
  reads: ["kustomization"],
  evaluate(input) {
    const { namespace, name } = input.targets.kustomization;
    return evaluateKustomization(lookup(input.snapshot, "kustomization", namespace, name), input);
  },
};
