import type { KubeObject } from "../../kube/client.ts";
import { lookup } from "../../kube/store.ts";
import { describeCondition, getCondition, isObservedCurrent, staleNote } from "../conditions.ts";
import { combine, num, type PhaseDefinition, type Verdict } from "./types.ts";

/** Remediation retries of the current action; -1 means forever (helm-controller's convention). */
function retriesAllowed(release: KubeObject, action: "install" | "upgrade"): number {
  return num(release, "spec", action, "remediation", "retries") ?? 0;
}

/**
 * releases: a HelmRelease behind a VMDisk/VMInstance is ready, retrying (reported) or failed.
 * Render-time failures (missing preference, missing disk) show up here as InstallFailed/UpgradeFailed.
 */
export function evaluateHelmRelease(
  release: KubeObject | undefined,
  app: KubeObject | undefined,
  label: string,
): Verdict {
  if (!release) {
    return {
      state: "waiting",
      detail: `HelmRelease ${label} not created yet${app ? "" : " (its app object is not there either)"}`,
    };
  }
  const namespace = release.metadata.namespace ?? "";
  const ref = { kind: "helmRelease" as const, namespace, name: release.metadata.name };
  const ready = getCondition(release, "Ready");
  const stalled = getCondition(release, "Stalled");
  // A Stalled or *Failed condition from an older generation is the verdict on the spec being
  // replaced (often the very push that fixes it): only the current generation's conditions count.
  if (stalled?.status === "True" && isObservedCurrent(release, stalled)) {
    return {
      state: "failed",
      detail: `HelmRelease ${label} failed: ${describeCondition(stalled)}`,
      hint: "the chart cannot be installed as configured: fix the VMDisk/VMInstance spec (or create what it references) and push",
      objects: [ref],
    };
  }
  if (ready?.status === "True" && isObservedCurrent(release, ready)) {
    return { state: "done", detail: `HelmRelease ${label} ready` };
  }
  if (ready?.status === "False" && /Failed$/.test(ready.reason ?? "") && isObservedCurrent(release, ready)) {
    const upgrading = ready.reason === "UpgradeFailed";
    const failures = num(release, "status", upgrading ? "upgradeFailures" : "installFailures") ?? 1;
    const allowed = retriesAllowed(release, upgrading ? "upgrade" : "install");
    if (allowed >= 0 && failures > allowed) {
      return {
        state: "failed",
        detail: `HelmRelease ${label} failed after ${failures} attempt(s): ${describeCondition(ready)}`,
        hint: "no remediation retries are left: fix the spec and push",
        objects: [ref],
      };
    }
    return {
      state: "waiting",
      detail: `HelmRelease ${label} retrying (${failures} failure(s)${allowed < 0 ? "" : ` of ${allowed + 1}`}): ${describeCondition(ready)}`,
      data: { retrying: true },
    };
  }
  const stale = staleNote(release, ready ?? stalled);
  return { state: "waiting", detail: `HelmRelease ${label}: ${describeCondition(ready, "Ready")}${stale}` };
}

export const releasesPhase: PhaseDefinition = {
  name: "releases",
  reads: ["helmRelease", "vmDisk", "vmInstance"],
  evaluate({ snapshot, targets }) {
    const parts = [
      ...targets.disks.map((d) => ({ app: d.app, rendered: d.rendered, appKind: "vmDisk" as const })),
      ...targets.instances.map((i) => ({ app: i.app, rendered: i.rendered, appKind: "vmInstance" as const })),
    ].map((t) => {
      const label = `${t.app.namespace}/${t.rendered}`;
      const release = lookup(snapshot, "helmRelease", t.app.namespace, t.rendered);
      const app = lookup(snapshot, t.appKind, t.app.namespace, t.app.name);
      return { label, verdict: evaluateHelmRelease(release, app, label) };
    });
    return combine(
      parts,
      () => `${parts.length} HelmRelease(s) ready: ${parts.map((p) => p.label).join(", ")}`,
    );
  },
};
