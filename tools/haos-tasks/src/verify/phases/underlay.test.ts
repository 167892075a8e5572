import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../kube/client.ts";
import { evaluateUnderlay, isRoutableIpv4 } from "./underlay.ts";

const CIDR = "192.168.50.0/25";

function vmi(ipAddress?: string, ipAddresses?: string[]): KubeObject {
  return {
    metadata: { name: "vm-instance-haos", namespace: "tenant-root" },
    status: {
      interfaces: [
        { name: "default", ipAddress: "10.244.0.12" },
        {
          name: "haos-underlay",
          ...(ipAddress ? { ipAddress } : {}),
          ...(ipAddresses ? { ipAddresses } : {}),
        },
      ],
    },
  };
}

describe("evaluateUnderlay", () => {
  it.each([
    { name: "an address in the CIDR is done", v: vmi("192.168.50.101"), state: "done" },
    {
      name: "an address in the CIDR among link-local ones is done",
      v: vmi("fe80::48:41ff:fe4f:5301", ["fe80::48:41ff:fe4f:5301", "192.168.50.101"]),
      state: "done",
    },
    { name: "no address yet waits", v: vmi(), state: "waiting" },
    {
      name: "only an IPv6 link-local address waits (DHCP pending)",
      v: vmi("fe80::48:41ff:fe4f:5301", ["fe80::48:41ff:fe4f:5301"]),
      state: "waiting",
    },
    {
      name: "only an IPv4 link-local address waits (DHCP pending)",
      v: vmi("169.254.10.2"),
      state: "waiting",
    },
    {
      name: "only a global IPv6 address waits (no IPv4 lease yet)",
      v: vmi("2001:db8::5301", ["2001:db8::5301"]),
      state: "waiting",
    },
    { name: "a routable IPv4 outside the CIDR fails", v: vmi("10.16.0.7"), state: "failed" },
    {
      name: "a routable IPv4 outside the CIDR beside a link-local one fails",
      v: vmi("fe80::1", ["fe80::1", "192.168.50.200"]),
      state: "failed",
    },
  ])("$name", ({ v, state }) => {
    expect(evaluateUnderlay(v, "tenant-root/vm-instance-haos", "haos-underlay", CIDR).state).toBe(state);
  });

  it("names only the off-LAN address in the failure", () => {
    const verdict = evaluateUnderlay(vmi("fe80::1", ["fe80::1", "10.16.0.7"]), "x", "haos-underlay", CIDR);
    expect(verdict.detail).toContain("has 10.16.0.7, not in 192.168.50.0/25");
  });

  it.each([
    ["192.168.50.101", true],
    ["10.16.0.7", true],
    ["169.254.10.2", false],
    ["127.0.0.1", false],
    ["0.0.0.0", false],
    ["fe80::1", false],
    ["2001:db8::1", false],
  ])("isRoutableIpv4(%s) is %s", (ip, routable) => {
    expect(isRoutableIpv4(ip)).toBe(routable);
  });
});
