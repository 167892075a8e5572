import type { KubeObject } from "../../kube/client.ts";
import { lookup } from "../../kube/store.ts";
import { combine, type PhaseDefinition, type Verdict } from "./types.ts";
import { interfacesOf } from "./vm.ts";

function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** Whether an IPv4 address lies in a CIDR (`192.168.50.0/25`). IPv6 addresses never match. */
export function ipInCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const address = ipv4ToNumber(ip);
  const network = ipv4ToNumber(base ?? "");
  const prefix = Number(bits);
  if (
    address === undefined ||
    network === undefined ||
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > 32
  )
    return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(address / size) === Math.floor(network / size);
}

/**
 * Whether an address says where the NIC is attached: an IPv4 address other than link-local
 * (169.254/16, set while DHCP has not answered), loopback or unspecified. IPv6 addresses (fe80::
 * link-local first of all) appear before the guest's DHCPv4 lease and prove nothing either way.
 */
export function isRoutableIpv4(ip: string): boolean {
  if (ipv4ToNumber(ip) === undefined) return false;
  return !["169.254.0.0/16", "127.0.0.0/8", "0.0.0.0/32"].some((range) => ipInCidr(ip, range));
}

/** underlay: the VMI has the LAN NIC, with an address in the LAN CIDR. */
export function evaluateUnderlay(
  vmi: KubeObject | undefined,
  label: string,
  interfaceName: string,
  cidr: string,
): Verdict {
  if (!vmi) return { state: "waiting", detail: `VirtualMachineInstance ${label} not running` };
  const nic = interfacesOf(vmi).find((i) => i.name === interfaceName);
  if (!nic) {
    const names = interfacesOf(vmi).map((i) => i.name ?? "?");
    return {
      state: "waiting",
      detail: `VMI ${label} has no interface ${interfaceName} (has ${names.join(", ") || "none"})`,
    };
  }
  const addresses = [
    ...new Set([nic.ipAddress, ...(nic.ipAddresses ?? [])].filter((a): a is string => Boolean(a))),
  ];
  if (addresses.length === 0)
    return {
      state: "waiting",
      detail: `VMI ${label} NIC ${interfaceName} has no address yet (DHCP or guest agent pending)`,
    };
  const onLan = addresses.find((a) => ipInCidr(a, cidr));
  if (onLan)
    return {
      state: "done",
      detail: `VMI ${label} NIC ${interfaceName} has ${onLan} in ${cidr}`,
      data: { ip: onLan },
    };
  const offLan = addresses.filter(isRoutableIpv4);
  if (offLan.length === 0)
    return {
      state: "waiting",
      detail: `VMI ${label} NIC ${interfaceName} has only ${addresses.join(", ")}, no IPv4 lease yet (DHCP pending)`,
    };
  return {
    state: "failed",
    detail: `VMI ${label} NIC ${interfaceName} has ${offLan.join(", ")}, not in ${cidr}`,
    hint: "the NIC is not on the LAN: check the Kube-OVN underlay subnet and the NetworkAttachmentDefinition",
    objects: [
      { kind: "virtualMachineInstance", namespace: vmi.metadata.namespace ?? "", name: vmi.metadata.name },
    ],
  };
}

export const underlayPhase: PhaseDefinition = {
  name: "underlay",
  reads: ["virtualMachineInstance"],
  evaluate({ snapshot, targets }) {
    const underlay = targets.underlay;
    if (!underlay) return { state: "skipped", detail: "platform.yaml declares no underlay" };
    const parts = targets.instances.map((i) => {
      const label = `${i.app.namespace}/${i.rendered}`;
      const vmi = lookup(snapshot, "virtualMachineInstance", i.app.namespace, i.rendered);
      return { label, verdict: evaluateUnderlay(vmi, label, underlay.interfaceName, underlay.cidr) };
    });
    return combine(parts, (details) => details);
  },
};
