import { describe, expect, it } from "vitest";
import { kyvernoMerge } from "./kyverno.ts";

describe("kyvernoMerge (patchStrategicMerge with conditional anchors)", () => {
  it("patches the list element the anchor names and keeps the others", () => {
    const { result, unmatched } = kyvernoMerge(
      {
        nics: [
          { name: "default", bridge: {} },
          { name: "lan", bridge: {} },
        ],
        keep: 1,
      },
      { nics: [{ "(name)": "lan", macAddress: "02:00" }], added: true },
    );
    expect(result).toEqual({
      nics: [
        { name: "default", bridge: {} },
        { name: "lan", bridge: {}, macAddress: "02:00" },
      ],
      keep: 1,
      added: true,
    });
    expect(unmatched).toEqual([]);
  });

  it("names an anchor that matches nothing (Kyverno would skip it silently)", () => {
    const { result, unmatched } = kyvernoMerge(
      { nics: [{ name: "default" }] },
      { nics: [{ "(name)": "lan", x: 1 }] },
    );
    expect(result).toEqual({ nics: [{ name: "default" }] });
    expect(unmatched).toEqual([".nics[(name)=lan]"]);
  });
});
