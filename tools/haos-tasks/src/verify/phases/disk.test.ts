import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../kube/client.ts";
import { type ClusterSnapshot, objectKey } from "../../kube/store.ts";
import type { VerifyTargets } from "../targets.ts";
import { diskPhase, evaluateDataVolume } from "./disk.ts";

const failing = {
  type: "Running",
  status: "False",
  reason: "Error",
  message: "Unable to process data: qemu-img",
};

function dv(restartCount: number, running: Record<string, unknown> = failing, uid = "uid-1"): KubeObject {
  return {
    metadata: { name: "vm-disk-haos", namespace: "tenant-root", uid },
    status: { phase: "ImportInProgress", progress: "N/A", restartCount, conditions: [running] },
  };
}

describe("evaluateDataVolume", () => {
  it.each([
    { name: "3 restarts since the start fail (limit 3)", now: dv(3), before: dv(0), state: "failed" },
    {
      name: "3 restarts since the start without a baseline fail",
      now: dv(3),
      before: undefined,
      state: "failed",
    },
    { name: "3 restarts all before the start wait", now: dv(3), before: dv(3), state: "waiting" },
    { name: "2 new restarts on top of 3 earlier wait", now: dv(5), before: dv(3), state: "waiting" },
    { name: "3 new restarts on top of 3 earlier fail", now: dv(6), before: dv(3), state: "failed" },
    {
      name: "a recreated DataVolume counts from zero",
      now: dv(3, failing, "uid-2"),
      before: dv(3, failing, "uid-1"),
      state: "failed",
    },
    {
      name: "restarts with Running=True wait (the import runs)",
      now: dv(5, { type: "Running", status: "True" }),
      before: dv(0),
      state: "waiting",
    },
  ])("$name", ({ now, before, state }) => {
    expect(evaluateDataVolume(now, undefined, "tenant-root/vm-disk-haos", 3, before).state).toBe(state);
  });

  it("says how many restarts happened before verify started", () => {
    const verdict = evaluateDataVolume(dv(4), undefined, "x", 3, dv(3));
    expect(verdict.detail).toContain("restart 1 of 3, 3 before verify started");
  });

  it("the phase measures restarts against its baseline snapshot", () => {
    const snapshotOf = (object: KubeObject): ClusterSnapshot => ({
      objects: new Map([[objectKey("dataVolume", "tenant-root", "vm-disk-haos"), object]]),
    });
    const targets = {
      disks: [{ app: { namespace: "tenant-root", name: "haos" }, rendered: "vm-disk-haos" }],
    } as unknown as VerifyTargets;
    const input = { targets, target: "a".repeat(40), relation: () => undefined, importRestartLimit: 3 };
    expect(
      diskPhase.evaluate({ ...input, snapshot: snapshotOf(dv(3)), baseline: snapshotOf(dv(3)) }).state,
    ).toBe("waiting");
    expect(
      diskPhase.evaluate({ ...input, snapshot: snapshotOf(dv(6)), baseline: snapshotOf(dv(3)) }).state,
    ).toBe("failed");
  });
});
