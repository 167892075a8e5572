import type { KubeObject } from "../../kube/client.ts";
import { lookup } from "../../kube/store.ts";
import { describeCondition, getCondition } from "../conditions.ts";
import { combine, num, type PhaseDefinition, text, type Verdict } from "./types.ts";

/**
 * Restarts of the importer since the phase started: a DataVolume that had already restarted (a
 * previous broken commit) must not fail this one at once. A recreated DataVolume (another uid)
 * counts from zero.
 */
function restartsSince(dataVolume: KubeObject, baseline: KubeObject | undefined): number {
  const restarts = num(dataVolume, "status", "restartCount") ?? 0;
  const sameObject = baseline !== undefined && baseline.metadata.uid === dataVolume.metadata.uid;
  const before = sameObject ? (num(baseline, "status", "restartCount") ?? 0) : 0;
  return Math.max(0, restarts - before);
}

/**
 * disk: the DataVolume imported (phase Succeeded) and its PVC is Bound. `baseline` is the same
 * DataVolume when the phase started: import restarts are counted from it.
 */
export function evaluateDataVolume(
  dataVolume: KubeObject | undefined,
  pvc: KubeObject | undefined,
  label: string,
  importRestartLimit: number,
  baseline?: KubeObject,
): Verdict {
  if (!dataVolume) return { state: "waiting", detail: `DataVolume ${label} not created yet` };
  const ref = {
    kind: "dataVolume" as const,
    namespace: dataVolume.metadata.namespace ?? "",
    name: dataVolume.metadata.name,
  };
  const phase = text(dataVolume, "status", "phase") ?? "Pending";
  const progress = text(dataVolume, "status", "progress");
  const restarts = num(dataVolume, "status", "restartCount") ?? 0;
  const newRestarts = restartsSince(dataVolume, baseline);
  const running = getCondition(dataVolume, "Running");
  const pvcPhase = text(pvc, "status", "phase");
  const percent = progress && progress !== "N/A" ? ` ${progress}` : "";
  const data = { phase, progress, restartCount: restarts, restartsSinceStart: newRestarts, pvc: pvcPhase };
  if (phase === "Failed") {
    return {
      state: "failed",
      detail: `DataVolume ${label} Failed: ${describeCondition(running ?? getCondition(dataVolume, "Ready"))}`,
      hint: importHint,
      objects: [ref],
      data,
    };
  }
  // CDI rarely sets Failed: an import that keeps failing restarts the importer pod and says why in Running.
  if (restarts > 0 && running?.status === "False" && phase !== "Succeeded") {
    const why = describeCondition(running);
    const earlier = restarts - newRestarts;
    const before = earlier > 0 ? `, ${earlier} before verify started` : "";
    if (newRestarts >= importRestartLimit) {
      return {
        state: "failed",
        detail: `DataVolume ${label} import failing: ${newRestarts} restarts while verifying${before}, ${why}`,
        hint: importHint,
        objects: [ref],
        data,
      };
    }
    return {
      state: "waiting",
      detail: `DataVolume ${label} import retrying (restart ${newRestarts} of ${importRestartLimit}${before}): ${why}`,
      data,
    };
  }
  if (phase === "Succeeded") {
    if (pvcPhase === "Bound")
      return { state: "done", detail: `DataVolume ${label} Succeeded${percent}, PVC Bound`, data };
    return {
      state: "waiting",
      detail: `DataVolume ${label} Succeeded, PVC ${pvcPhase ?? "not found"}`,
      data,
    };
  }
  return {
    state: "waiting",
    detail: `DataVolume ${label} ${phase}${percent}${pvcPhase ? `, PVC ${pvcPhase}` : ""}`,
    data: { ...data, percent: parsePercent(progress) },
  };
}

const importHint =
  "check the VMDisk source (URL reachable from the cluster, image format) and the importer pod's log";

/** "45.23%" → 45.23; "N/A" → undefined. */
export function parsePercent(progress: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(progress ?? "");
  return m ? Number(m[1]) : undefined;
}

export const diskPhase: PhaseDefinition = {
  name: "disk",
  reads: ["dataVolume", "persistentVolumeClaim"],
  evaluate({ snapshot, baseline, targets, importRestartLimit }) {
    if (targets.disks.length === 0) return { state: "skipped", detail: "the app declares no VMDisk" };
    const parts = targets.disks.map((d) => {
      const label = `${d.app.namespace}/${d.rendered}`;
      const dv = lookup(snapshot, "dataVolume", d.app.namespace, d.rendered);
      const pvc = lookup(snapshot, "persistentVolumeClaim", d.app.namespace, d.rendered);
      const before = lookup(baseline, "dataVolume", d.app.namespace, d.rendered);
      return { label, verdict: evaluateDataVolume(dv, pvc, label, importRestartLimit, before) };
    });
    return combine(parts, (details) => details);
  },
};
