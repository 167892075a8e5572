import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../kube/client.ts";
import { evaluateVirtualMachine } from "./vm.ts";

function vm(generation: number, spec: Record<string, unknown>, status: Record<string, unknown>): KubeObject {
  return { metadata: { name: "vm-instance-haos", namespace: "tenant-root", generation }, spec, status };
}

const running: KubeObject = {
  metadata: { name: "vm-instance-haos", namespace: "tenant-root" },
  status: { phase: "Running" },
};
const readyTrue = { type: "Ready", status: "True" };
const restartRequired = {
  type: "RestartRequired",
  status: "True",
  message: "a non-live-updatable field was changed in the template spec",
};

describe("evaluateVirtualMachine", () => {
  it.each([
    {
      name: "Running and Ready at the current generation is done",
      v: vm(
        3,
        { runStrategy: "Always" },
        {
          printableStatus: "Running",
          ready: true,
          observedGeneration: 3,
          desiredGeneration: 3,
          conditions: [readyTrue],
        },
      ),
      vmi: running,
      state: "done",
    },
    {
      name: "Running and Ready for an older generation with RestartRequired fails with the restart",
      v: vm(
        3,
        { runStrategy: "Always" },
        {
          printableStatus: "Running",
          ready: true,
          observedGeneration: 2,
          desiredGeneration: 3,
          conditions: [readyTrue, restartRequired],
        },
      ),
      vmi: running,
      state: "failed",
    },
    {
      name: "Running and Ready for an older generation not yet observed waits",
      v: vm(
        3,
        { runStrategy: "Always" },
        {
          printableStatus: "Running",
          ready: true,
          observedGeneration: 2,
          desiredGeneration: 3,
          conditions: [readyTrue],
        },
      ),
      vmi: running,
      state: "waiting",
    },
    {
      name: "Running and Ready without observedGeneration (older KubeVirt) is done",
      v: vm(3, {}, { printableStatus: "Running", ready: true, conditions: [readyTrue] }),
      vmi: running,
      state: "done",
    },
    {
      name: "Stopped with runStrategy Halted fails at once",
      v: vm(
        1,
        { runStrategy: "Halted" },
        { printableStatus: "Stopped", ready: false, observedGeneration: 1 },
      ),
      vmi: undefined,
      state: "failed",
    },
    {
      name: "Stopped with running: false fails at once",
      v: vm(1, { running: false }, { printableStatus: "Stopped", ready: false, observedGeneration: 1 }),
      vmi: undefined,
      state: "failed",
    },
    {
      name: "Stopped with runStrategy Always waits (it is about to start)",
      v: vm(
        1,
        { runStrategy: "Always" },
        { printableStatus: "Stopped", ready: false, observedGeneration: 1 },
      ),
      vmi: undefined,
      state: "waiting",
    },
    {
      name: "ErrorUnschedulable fails",
      v: vm(1, { runStrategy: "Always" }, { printableStatus: "ErrorUnschedulable", ready: false }),
      vmi: undefined,
      state: "failed",
    },
  ])("$name", ({ v, vmi, state }) => {
    expect(evaluateVirtualMachine(v, vmi, "tenant-root/vm-instance-haos").state).toBe(state);
  });

  it("quotes the scheduler's reason from PodScheduled, not Ready's generic message", () => {
    const verdict = evaluateVirtualMachine(
      vm(
        1,
        { runStrategy: "Always" },
        {
          printableStatus: "ErrorUnschedulable",
          ready: false,
          conditions: [
            {
              type: "Ready",
              status: "False",
              reason: "GuestNotRunning",
              message: "Guest VM is not reported as running",
            },
            {
              type: "PodScheduled",
              status: "False",
              reason: "Unschedulable",
              message: "0/3 nodes are available: 3 Insufficient memory.",
            },
          ],
        },
      ),
      undefined,
      "tenant-root/vm-instance-haos",
    );
    expect(verdict.detail).toBe(
      "VirtualMachine tenant-root/vm-instance-haos ErrorUnschedulable: PodScheduled=False (Unschedulable): 0/3 nodes are available: 3 Insufficient memory.",
    );
  });

  it("names the halting runStrategy and the fix", () => {
    const verdict = evaluateVirtualMachine(
      vm(1, { runStrategy: "Halted" }, { printableStatus: "Stopped", ready: false }),
      undefined,
      "x",
    );
    expect(verdict.detail).toContain("the VM is halted by its runStrategy");
    expect(verdict.state === "failed" && verdict.hint).toContain("runStrategy: Always");
  });

  it("says a RestartRequired VM needs a restart to apply the new spec", () => {
    const verdict = evaluateVirtualMachine(
      vm(
        3,
        {},
        {
          printableStatus: "Running",
          ready: true,
          observedGeneration: 2,
          conditions: [readyTrue, restartRequired],
        },
      ),
      running,
      "x",
    );
    expect(verdict.detail).toContain("needs a restart");
    expect(verdict.state === "failed" && verdict.hint).toContain(
      "virtctl restart vm-instance-haos -n tenant-root",
    );
  });

  it("says which generation virt-controller has observed", () => {
    const verdict = evaluateVirtualMachine(
      vm(3, {}, { printableStatus: "Running", ready: true, observedGeneration: 2, conditions: [readyTrue] }),
      running,
      "x",
    );
    expect(verdict.detail).toContain("observed generation 2, the spec is at 3");
  });
});
