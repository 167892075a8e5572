import { describe, expect, it } from "vitest";
import { loadPlatform, type Platform } from "../platform/platform.ts";
import { toolsRepoRoot } from "../tools/paths.ts";
import { compareTags, SelectionError, selectSources, sourceAddress } from "./selection.ts";
import { readSchemaLock } from "./sources.ts";

const withCozystack = (platform: Platform, cozystack: string): Platform => ({
  ...platform,
  versions: { ...platform.versions, cozystack },
});

describe("selectSources", async () => {
  const lock = await readSchemaLock();
  const platform = await loadPlatform("apps/haos-enigma", toolsRepoRoot);
  const cozyTags = (p: Platform, kind: string) =>
    selectSources(lock, p)
      .sources.filter((s) => s.kind === kind && s.url.includes("/cozystack/"))
      .map((s) => sourceAddress(s.url).tag);

  it("takes the CozyStack app schemas of the declared release only", () => {
    expect(cozyTags(withCozystack(platform, "v1.6.2"), "cozystack-values-schema")).toEqual([
      "v1.6.2",
      "v1.6.2",
    ]);
    expect(cozyTags(withCozystack(platform, "v0.41.11"), "cozystack-values-schema")).toEqual([
      "v0.41.11",
      "v0.41.11",
    ]);
  });

  it("falls back to the newest pinned release of the same line, with a note", () => {
    const { sources, notes } = selectSources(lock, withCozystack(platform, "v1.5.0"));
    expect(
      sources.filter((s) => s.kind === "cozystack-values-schema").map((s) => sourceAddress(s.url).tag),
    ).toEqual(["v1.6.2", "v1.6.2"]);
    expect(notes.join("\n")).toMatch(/vm-instance\/values.schema.json: using v1.6.2 \(declared v1.5.0\)/);
  });

  it("keeps operator CRDs on a line that pins none (v0 uses the VictoriaMetrics CRDs of v1.6.2)", () => {
    expect(cozyTags(withCozystack(platform, "v0.41.11"), "crd")).toContain("v1.6.2");
  });

  it("never converts reference sources and keeps lock order", () => {
    const { sources } = selectSources(lock, platform);
    expect(sources.some((s) => s.kind === "reference")).toBe(false);
    const order = sources.map((s) => lock.sources.indexOf(s));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it("refuses a declared version the lock does not pin, naming both and the fix", () => {
    const bumped: Platform = { ...platform, versions: { ...platform.versions, kubevirt: "v1.9.0" } };
    expect(() => selectSources(lock, bumped)).toThrow(SelectionError);
    expect(() => selectSources(lock, bumped)).toThrow(/kubevirt\/kubevirt is not pinned .*pinned: v1.8.4/);
    const k8s: Platform = { ...platform, versions: { ...platform.versions, kubernetes: "1.32" } };
    expect(() => selectSources(lock, k8s)).toThrow(/kubernetes-client\/python is not pinned .*v33\.1\.0/);
  });
});

describe("tags and addresses", () => {
  it.each([
    ["v1.6.2", "v0.41.11", 1],
    ["v0.41.11", "v0.41.2", 1],
    ["v1.6.2", "v1.6.2", 0],
    ["v1.10.0", "v1.9.9", 1],
  ])("compareTags(%s, %s) has sign %i", (a, b, sign) => {
    expect(Math.sign(compareTags(a, b))).toBe(sign);
  });

  it("splits a raw.githubusercontent.com URL", () => {
    expect(
      sourceAddress("https://raw.githubusercontent.com/kubeovn/kube-ovn/v1.15.10/charts/x.yaml"),
    ).toEqual({
      repo: "kubeovn/kube-ovn",
      tag: "v1.15.10",
      path: "charts/x.yaml",
    });
  });
});
