import type { KubeObject } from "../../kube/client.ts";
import { lookup } from "../../kube/store.ts";
import { describeCondition, getCondition } from "../conditions.ts";
import { combine, field, type PhaseDefinition, text, type Verdict } from "./types.ts";

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

/** vm: printableStatus Running and Ready, the VMI Running; fail fast on error statuses. */
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
    const why =
      getCondition(vm, "Ready")?.message || failure?.message
        ? `: ${describeCondition(failure?.status === "True" ? failure : getCondition(vm, "Ready"))}`
        : "";
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
  const vmiPhase = text(vmi, "status", "phase");
  if (vmiPhase === "Failed") {
    return {
      state: "failed",
      detail: `VirtualMachineInstance ${label} Failed: ${describeCondition(getCondition(vmi, "Ready"), "Ready")}`,
      hint: "see the virt-launcher pod",
      objects,
    };
  }
  const ready = field(vm, "status", "ready") === true;
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
