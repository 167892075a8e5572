import { describe, expect, it } from "vitest";
import { covered, formatIPv4, parseCidr, parseIPv4, parseIpRange } from "./ipv4.ts";

describe("IPv4 helpers for Kube-OVN", () => {
  it.each([
    ["192.168.50.1", 3232248321],
    ["0.0.0.0", 0],
    ["256.1.1.1", undefined],
    ["10.0.0", undefined],
    ["a.b.c.d", undefined],
  ])("parseIPv4(%s)", (text, value) => {
    expect(parseIPv4(text)).toBe(value);
  });

  it("CIDR ranges", () => {
    const r = parseCidr("192.168.50.0/25");
    expect(r && [formatIPv4(r.first), formatIPv4(r.last)]).toEqual(["192.168.50.0", "192.168.50.127"]);
    expect(parseCidr("192.168.50.7/24")?.first).toBe(parseIPv4("192.168.50.0"));
    expect(parseCidr("10.0.0.0/33")).toBeUndefined();
  });

  it("Kube-OVN a..b ranges and coverage across touching entries", () => {
    const pool = parseIpRange("10.0.0.100..10.0.0.119");
    expect(pool && pool.last - pool.first).toBe(19);
    expect(parseIpRange("10.0.0.9..10.0.0.1")).toBeUndefined();
    const parts = ["10.0.0.100..10.0.0.109", "10.0.0.110..10.0.0.119"]
      .map(parseIpRange)
      .filter((x) => x !== undefined);
    expect(pool && covered(pool, parts)).toBe(true);
    const gap = ["10.0.0.100..10.0.0.108", "10.0.0.110..10.0.0.119"]
      .map(parseIpRange)
      .filter((x) => x !== undefined);
    expect(pool && covered(pool, gap)).toBe(false);
  });
});
