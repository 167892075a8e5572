import type { KubeObject } from "../../kube/client.ts";
import { lookup } from "../../kube/store.ts";
import { describeCondition, getCondition } from "../conditions.ts";
import { combine, field, num, type PhaseDefinition, text, type Verdict } from "./types.ts";

/** printableStatus values that will not become Running without a change. */
export const failingPrintableStatuses = new Set([
  "ErrorUnschedulable",
  "DataVolumeError",
  "ErrorPvcNotFound",
  "CrashLoopBackOff",
  "ErrImagePull",
  "ImagePullBackOff",
]);

const statusHints: Record<string, string> = {
  ErrorUnschedulable:
    "no node fits the VM: check the instancetype's CPU/memory against free node capacity, and node selectors",
  DataVolumeError: "the VM's DataVolume failed: see the disk phase and the importer pod",
  ErrorPvcNotFound: "the disk's PVC is missing: check the VMDisk name listed in the VMInstance disks",
  CrashLoopBackOff: "virt-launcher keeps crashing: see the virt-launcher pod status and events",
};

interface VmiInterface {
  name?: string;
  ipAddress?: string;
  ipAddresses?: string[];
}

/** The VMI's interfaces, as `name=ip` for details. */
export function interfacesOf(vmi: KubeObject | undefined): VmiInterface[] {
  const list = field(vmi, "status", "interfaces");
  return Array.isArray(list) ? (list as VmiInterface[]) : [];
}

/** Whether the VM's spec keeps it stopped: runStrategy Halted, or `running: false` without one. */
function haltedBySpec(vm: KubeObject): boolean {
  const strategy = text(vm, "spec", "runStrategy");
  if (strategy !== undefined) return strategy === "Halted";
  return field(vm, "spec", "running") === false;
}

/**
 * The VM's generation when virt-controller has not yet observed it (status.observedGeneration
 * below metadata.generation). KubeVirt releases that write no observedGeneration count as current.
 */
function unobservedGeneration(vm: KubeObject): { generation: number; observed: number } | undefined {
  const generation = vm.metadata.generation;
  const observed = num(vm, "status", "observedGeneration");
  if (generation === undefined || observed === undefined || observed >= generation) return undefined;
  return { generation, observed };
}

/** vm: printableStatus Running and Ready for the current spec, the VMI Running; fail fast on error statuses. */
export function evaluateVirtualMachine(
  vm: KubeObject | undefined,
  vmi: KubeObject | undefined,
  label: string,
): Verdict {
  if (!vm) return { state: "waiting", detail: `VirtualMachine ${label} not created yet` };
  const namespace = vm.metadata.namespace ?? "";
  const objects = [
    { kind: "virtualMachine" as const, namespace, name: vm.metadata.name },
    { kind: "virtualMachineInstance" as const, namespace, name: vm.metadata.name },
  ];
  const printable = text(vm, "status", "printableStatus") ?? "(no status)";
  const failure = getCondition(vm, "Failure");
  if (failingPrintableStatuses.has(printable)) {
    // The condition that says why: Failure, else PodScheduled=False (virt-controller copies the
    // scheduler's "0/3 nodes are available…" there), else Ready.
    const scheduled = getCondition(vm, "PodScheduled");
    const cause = [
      failure?.status === "True" ? failure : undefined,
      scheduled?.status === "False" ? scheduled : undefined,
      getCondition(vm, "Ready"),
    ].find((c) => c?.message);
    const why = cause ? `: ${describeCondition(cause)}` : "";
    return {
      state: "failed",
      detail: `VirtualMachine ${label} ${printable}${why}`,
      hint: statusHints[printable] ?? "see the events below",
      objects,
    };
  }
  if (failure?.status === "True") {
    return {
      state: "failed",
      detail: `VirtualMachine ${label}: ${describeCondition(failure)}`,
      hint: "see the VM's events and the virt-launcher pod",
      objects,
    };
  }
  if (printable === "Stopped" && haltedBySpec(vm)) {
    return {
      state: "failed",
      detail: `VirtualMachine ${label} is Stopped: the VM is halted by its runStrategy (${text(vm, "spec", "runStrategy") ?? "running: false"})`,
      hint: "set `runStrategy: Always` (or `running: true` on the v0.41 chart) in the VMInstance and push",
      objects,
    };
  }
  const vmiPhase = text(vmi, "status", "phase");
  if (vmiPhase === "Failed") {
    return {
      state: "failed",
      detail: `VirtualMachineInstance ${label} Failed: ${describeCondition(getCondition(vmi, "Ready"), "Ready")}`,
      hint: "see the virt-launcher pod",
      objects,
    };
  }
  // RestartRequired=True: the running VMI was started from an older spec and a non-live-updatable
  // field changed. Nothing applies the new spec by itself: under runStrategy Always KubeVirt restarts
  // the VM only on a manual restart (or a spec that stops and starts it), so waiting would only run
  // into the timeout with a Running VM. Fail now, with the restart as the fix.
  const restart = getCondition(vm, "RestartRequired");
  if (restart?.status === "True") {
    return {
      state: "failed",
      detail: `VirtualMachine ${label} runs an older spec and needs a restart to apply the new one: ${describeCondition(restart)}`,
      hint: `restart the VM to apply the spec: \`virtctl restart ${vm.metadata.name} -n ${namespace}\` (or stop and start it)`,
      objects,
    };
  }
  const ready = field(vm, "status", "ready") === true;
  // Ready for an older spec is not ready for this commit (kstatus: generation ≠ observedGeneration).
  const unobserved = unobservedGeneration(vm);
  if (unobserved) {
    return {
      state: "waiting",
      detail: `VirtualMachine ${label} ${printable}${ready ? "" : ", not ready"}; virt-controller has observed generation ${unobserved.observed}, the spec is at ${unobserved.generation}`,
    };
  }
  if (printable === "Running" && ready && vmiPhase === "Running") {
    const nics = interfacesOf(vmi).map((i) => `${i.name ?? "?"}=${i.ipAddress ?? "-"}`);
    const os = text(vmi, "status", "guestOSInfo", "prettyName") ?? text(vmi, "status", "guestOSInfo", "name");
    const agent =
      getCondition(vmi, "AgentConnected")?.status === "True" ? "guest agent connected" : "no guest agent";
    return {
      state: "done",
      detail: `VirtualMachine ${label} Running and Ready; VMI interfaces ${nics.join(", ") || "(none reported)"}; ${agent}${os ? `, ${os}` : ""}`,
      data: { interfaces: nics, ...(os ? { guestOS: os } : {}) },
    };
  }
  return {
    state: "waiting",
    detail: `VirtualMachine ${label} ${printable}${ready ? "" : ", not ready"}${vmiPhase ? `, VMI ${vmiPhase}` : ""}`,
  };
}

export const vmPhase: PhaseDefinition = {
  name: "vm",
  reads: ["virtualMachine", "virtualMachineInstance"],
  evaluate({ snapshot, targets }) {
    const parts = targets.instances.map((i) => {
      const label = `${i.app.namespace}/${i.rendered}`;
      const vm = lookup(snapshot, "virtualMachine", i.app.namespace, i.rendered);
      const vmi = lookup(snapshot, "virtualMachineInstance", i.app.namespace, i.rendered);
      return { label, verdict: evaluateVirtualMachine(vm, vmi, label) };
    });
    return combine(parts, (details) => details);
  },
};
