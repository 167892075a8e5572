import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../tools/paths.ts";
import { cozystackLine, PlatformError, parsePlatform } from "./platform.ts";

const realFile = "apps/haos-enigma/platform.yaml";
const real = readFileSync(path.join(toolsRepoRoot, realFile), "utf8");

describe("platform declaration", () => {
  it("parses the app's real declaration", () => {
    const p = parsePlatform(real, realFile);
    expect(p.name).toBe("enigma");
    expect(cozystackLine(p.versions.cozystack)).toBe("v1");
    expect(p.network.expectedWholeIp).toBe("192.168.50.101");
    expect(p.network.lan.nodes.map((n) => n.ip)).toEqual(["192.168.50.10", "192.168.50.11", "192.168.50.12"]);
  });

  it.each([
    ["v1.6.2", "v1"],
    ["v0.41.11", "v0"],
    ["1.0.0", "v1"],
  ] as const)("cozystack %s is line %s", (version, line) => {
    expect(cozystackLine(version)).toBe(line);
  });

  it("reads the underlay VLAN and the HAOS LAN NIC", () => {
    const p = parsePlatform(real, realFile);
    expect(p.network.underlay?.vlanId).toBe(0);
    expect(p.network.underlay?.haosNic).toEqual({ mac: "02:48:41:4f:53:01", ip: "192.168.50.60" });
  });

  it.each([
    ['"02:48:41:4f:53:01"', '"01:48:41:4f:53:01"', /locally administered unicast MAC, got 01:48/],
    ["vlanId: 0", "vlanId: 4096", /vlanId must be an integer 0-4095, got 4096/],
  ])("rejects %s replaced by %s", (from, to, message) => {
    expect(() => parsePlatform(real.replace(from, to), realFile)).toThrowError(message);
  });

  it("names the missing field", () => {
    const broken = real.replace(/ {4}expectedWholeIp: .*\n/, "");
    expect(() => parsePlatform(broken, realFile)).toThrowError(/spec\.network\.expectedWholeIp is required/);
  });

  it("reports YAML errors with the line", () => {
    try {
      parsePlatform("kind: Platform\nspec:\n  a: 1\n  a: 2\n", "x/platform.yaml");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PlatformError);
      expect((error as PlatformError).line).toBe(4);
    }
  });

  it("rejects a second document, at its line", () => {
    try {
      parsePlatform(`${real}---\nkind: Platform\n`, "x/platform.yaml");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PlatformError);
      expect((error as PlatformError).message).toMatch(/more than one document/);
      expect((error as PlatformError).line).toBe(real.split("\n").length + 1);
    }
  });

  it("reports an alias without its anchor at the alias, instead of crashing", () => {
    try {
      parsePlatform("kind: Platform\nspec:\n  versions: *versions\n", "x/platform.yaml");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PlatformError);
      expect((error as PlatformError).message).toMatch(/invalid YAML: Unresolved alias/);
      expect((error as PlatformError).line).toBe(3);
    }
  });

  it("names a CozyStack version it cannot read, at its line", () => {
    const broken = real.replace(/cozystack: "?v1\.6\.2"?/, "cozystack: latest");
    expect(broken).not.toBe(real);
    try {
      parsePlatform(broken, realFile);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PlatformError);
      expect((error as PlatformError).message).toMatch(
        /spec\.versions\.cozystack is not a CozyStack version: latest/,
      );
      expect((error as PlatformError).line).toBe(
        real.split("\n").findIndex((l) => /cozystack: /.test(l)) + 1,
      );
    }
  });
});
