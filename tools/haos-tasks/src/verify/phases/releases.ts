import type { KubeObject } from "../../kube/client.ts";
import { lookup } from "../../kube/store.ts";
import {
  describeCondition,
  getCondition,
  isObservedCurrent,
  observedGeneration,
  staleNote,
} from "../conditions.ts";
import { diskPhase } from "./disk.ts";
import { combine, num, type PhaseDefinition, type PhaseInput, text, type Verdict } from "./types.ts";
import { vmPhase } from "./vm.ts";

/** Remediation retries of the current action; -1 means forever (helm-controller's convention). */
function retriesAllowed(release: KubeObject, action: "install" | "upgrade"): number {
  return num(release, "spec", action, "remediation", "retries") ?? 0;
}

/**
 * `RetryOnFailure` (CozyStack's choice): helm-controller retries every `retryInterval` until the
 * action succeeds, counts `status.failures` and writes no install/upgradeFailures; remediation
 * retries do not apply. The default, `RemediateOnFailure`, gives up after `remediation.retries`.
 */
function retryOnFailure(release: KubeObject, action: "install" | "upgrade"): string | undefined {
  if (text(release, "spec", action, "strategy", "name") !== "RetryOnFailure") return undefined;
  return text(release, "spec", action, "strategy", "retryInterval") ?? "5m";
}

/** `actual` holds everything `wanted` says (objects by key; arrays element-wise; defaults may add keys). */
function contains(actual: unknown, wanted: unknown): boolean {
  if (Array.isArray(wanted))
    return (
      Array.isArray(actual) &&
      actual.length === wanted.length &&
      wanted.every((w, i) => contains(actual[i], w))
    );
  if (wanted && typeof wanted === "object") {
    if (!actual || typeof actual !== "object" || Array.isArray(actual)) return false;
    return Object.entries(wanted).every(([k, w]) => contains((actual as Record<string, unknown>)[k], w));
  }
  return actual === wanted;
}

/** JSON with sorted keys: values written by different clients compare by content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value ?? null);
}

/**
 * releases: a HelmRelease behind a VMDisk/VMInstance is ready for its current generation,
 * retrying (reported) or failed. Render-time failures (missing preference, missing disk) show up
 * here as Released=False (InstallFailed/UpgradeFailed). The app objects have no observedGeneration
 * (Flux's health check can pass on their old status), so commit-exact verification follows the
 * HelmRelease: it carries the app's current spec, its status.observedGeneration equals its
 * generation, and Ready and Released are True for that generation.
 */
export function evaluateHelmRelease(
  release: KubeObject | undefined,
  app: KubeObject | undefined,
  label: string,
  committed?: Record<string, unknown>,
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
  const released = getCondition(release, "Released");
  const stalled = getCondition(release, "Stalled");
  const generation = release.metadata.generation;
  const observed = observedGeneration(release);
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
  // On a real cluster the app object is its HelmRelease; where the two are written apart, the
  // release must hold the app's spec before its status says anything about it.
  const appSpec = (app as { spec?: unknown } | undefined)?.spec;
  const values = (release.spec as { values?: unknown } | undefined)?.values;
  if (app && appSpec !== undefined && canonical(appSpec) !== canonical(values ?? {})) {
    return { state: "waiting", detail: `HelmRelease ${label} does not carry the app's current spec yet` };
  }
  // The commit's own spec (the app folder's manifest) must be in the release's values: cluster
  // caches (ours and Flux's health check) can still show the object from before the apply.
  if (committed && !contains(values ?? {}, committed)) {
    return {
      state: "waiting",
      detail: `HelmRelease ${label} does not carry this commit's spec yet (values differ from the manifest)`,
    };
  }
  const upgradeSeen = generation === undefined || observed === generation;
  if (
    ready?.status === "True" &&
    isObservedCurrent(release, ready) &&
    upgradeSeen &&
    (!released || (released.status === "True" && isObservedCurrent(release, released)))
  ) {
    return { state: "done", detail: `HelmRelease ${label} ready (${describeCondition(released ?? ready)})` };
  }
  const failure = [released, ready].find(
    (c) => c?.status === "False" && /Failed$/.test(c.reason ?? "") && isObservedCurrent(release, c),
  );
  if (failure) {
    const action = failure.reason === "UpgradeFailed" ? "upgrade" : "install";
    const interval = retryOnFailure(release, action);
    if (interval !== undefined) {
      const failures = num(release, "status", "failures") ?? 0;
      // Ready flips to Unknown on every retry while Released stays False: still retrying, not final.
      return {
        state: "waiting",
        detail: `HelmRelease ${label} retrying every ${interval} (${failures} failure(s), RetryOnFailure): ${describeCondition(failure)}`,
        data: { retrying: true, failures },
      };
    }
    const failures =
      num(release, "status", action === "upgrade" ? "upgradeFailures" : "installFailures") ?? 1;
    const allowed = retriesAllowed(release, action);
    if (allowed >= 0 && failures > allowed) {
      return {
        state: "failed",
        detail: `HelmRelease ${label} failed after ${failures} attempt(s): ${describeCondition(failure)}`,
        hint: "no remediation retries are left: fix the spec and push",
        objects: [ref],
      };
    }
    return {
      state: "waiting",
      detail: `HelmRelease ${label} retrying (${failures} failure(s)${allowed < 0 ? "" : ` of ${allowed + 1}`}): ${describeCondition(failure)}`,
      data: { retrying: true },
    };
  }
  const stale =
    staleNote(release, ready ?? stalled) ||
    (upgradeSeen ? "" : ` (generation ${generation} not reconciled yet, observed ${observed ?? "(none)"})`);
  return { state: "waiting", detail: `HelmRelease ${label}: ${describeCondition(ready, "Ready")}${stale}` };
}

export const releasesPhase: PhaseDefinition = {
  name: "releases",
  // What the disk and vm phases read too: see the look-ahead below.
  reads: ["helmRelease", "vmDisk", "vmInstance", ...diskPhase.reads, ...vmPhase.reads],
  evaluate(input) {
    const { snapshot, targets } = input;
    const parts = [
      ...targets.disks.map((d) => ({ ...d, appKind: "vmDisk" as const })),
      ...targets.instances.map((i) => ({ ...i, appKind: "vmInstance" as const })),
    ].map((t) => {
      const label = `${t.app.namespace}/${t.rendered}`;
      const release = lookup(snapshot, "helmRelease", t.app.namespace, t.rendered);
      const app = lookup(snapshot, t.appKind, t.app.namespace, t.app.name);
      return { label, verdict: evaluateHelmRelease(release, app, label, t.spec) };
    });
    const verdict = combine(
      parts,
      () => `${parts.length} HelmRelease(s) ready: ${parts.map((p) => p.label).join(", ")}`,
    );
    if (verdict.state !== "waiting") return verdict;
    return lookAhead(verdict, input);
  },
};

/**
 * helm-controller's install and upgrade wait for the chart's objects to become ready: on real Flux
 * the vm-instance release stays "Running 'install'" until the VirtualMachine is Ready, i.e. until
 * the disk's import has finished and the VM has started. Meanwhile the DataVolume and the VM
 * exist already: their progress is what the user waits for, and their failure (an import that
 * keeps failing, ErrorUnschedulable) is final for this rollout, so it fails the run now instead of
 * at helm's 10-minute timeout.
 */
function lookAhead(waiting: Verdict & { state: "waiting" }, input: PhaseInput): Verdict {
  const { snapshot, targets } = input;
  const ahead = [
    {
      phase: diskPhase,
      exists: targets.disks.some((d) => lookup(snapshot, "dataVolume", d.app.namespace, d.rendered)),
    },
    {
      phase: vmPhase,
      exists: targets.instances.some((i) => lookup(snapshot, "virtualMachine", i.app.namespace, i.rendered)),
    },
  ].filter((a) => a.exists);
  const notes: string[] = [];
  for (const { phase } of ahead) {
    const v = phase.evaluate(input);
    if (v.state === "failed") return { ...v, detail: `${v.detail} (while the releases install)` };
    if (v.state === "waiting") notes.push(v.detail);
  }
  return notes.length ? { ...waiting, detail: `${waiting.detail}; meanwhile ${notes.join("; ")}` } : waiting;
}
