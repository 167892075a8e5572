import { describe, expect, it } from "vitest";
import type { Finding } from "../findings.ts";
import { isSuppressed, readSuppressions } from "./disable-comments.ts";

const at = (rule: string, line: number): Finding => ({
  severity: "error",
  rule,
  message: "m",
  file: "f.yaml",
  line,
});

describe("disable comments", () => {
  it("disable-line, disable-next-line and file-level disable", () => {
    const s = readSuppressions(
      [
        "# haos-tasks-disable yaml/trailing-space", // 1
        "a: yes # haos-tasks-disable-line yaml/truthy", // 2
        "# haos-tasks-disable-next-line yaml/truthy, yaml/indentation", // 3
        "b: on", // 4
        "c: off", // 5
        "# haos-tasks-disable-next-line", // 6
        "d: anything", // 7
      ],
      "f.yaml",
    );
    expect(isSuppressed(at("yaml/trailing-space", 5), s)).toBe(true);
    expect(isSuppressed(at("yaml/truthy", 2), s)).toBe(true);
    expect(isSuppressed(at("yaml/truthy", 4), s)).toBe(true);
    expect(isSuppressed(at("yaml/indentation", 4), s)).toBe(true);
    expect(isSuppressed(at("yaml/truthy", 5), s)).toBe(false);
    expect(isSuppressed(at("schema/invalid", 7), s)).toBe(true);
    expect(s.findings).toEqual([]);
  });

  it("reports an unknown rule id at its line", () => {
    const s = readSuppressions(["a: 1", "b: 2 # haos-tasks-disable-line yaml/truthyy"], "f.yaml");
    expect(s.findings).toMatchObject([{ rule: "lint/disable-comment", line: 2, file: "f.yaml" }]);
  });
});
