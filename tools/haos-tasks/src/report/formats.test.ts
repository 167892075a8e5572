import { describe, expect, it } from "vitest";
import type { Finding } from "../findings.ts";
import { renderValidateJson, renderValidateText } from "../validate/report.ts";
import { renderSarif } from "./sarif.ts";

const findings: Finding[] = [
  {
    severity: "warning",
    rule: "yaml/trailing-space",
    message: "trailing whitespace",
    file: "b.yaml",
    line: 2,
    column: 5,
  },
  {
    severity: "error",
    rule: "schema/invalid",
    message: "bad",
    file: "a.yaml",
    line: 7,
    column: 3,
    hint: "fix the value",
  },
  { severity: "info", rule: "cozystack/instance-type", message: "not checked" },
];

describe("text", () => {
  it("groups by file, shows the fix and a summary, without colour off a TTY", () => {
    const out = renderValidateText(findings, { colour: false });
    expect(out).toContain(
      "a.yaml\n  7:3     error   bad  schema/invalid\n                  fix: fix the value\n",
    );
    expect(out.indexOf("a.yaml")).toBeLessThan(out.indexOf("b.yaml"));
    expect(out).toContain("✖ 1 error, 1 warning, 1 info in 3 files");
    expect(out).not.toContain("\x1b[");
    expect(renderValidateText(findings, { colour: true })).toContain("\x1b[31m");
    expect(renderValidateText([], { colour: false })).toBe("✓ no findings\n");
  });
});

describe("json", () => {
  it("prints sorted findings and counts", () => {
    const parsed = JSON.parse(renderValidateJson(findings, {})) as { summary: unknown; findings: Finding[] };
    expect(parsed.summary).toEqual({ error: 1, warning: 1, info: 1 });
    expect(parsed.findings.map((f) => f.file ?? "")).toEqual(["", "a.yaml", "b.yaml"]);
  });
});

describe("sarif", () => {
  it("is a SARIF 2.1.0 log with rule metadata, levels and regions", () => {
    const log = JSON.parse(renderSarif(findings, { version: "1.2.3" }));
    expect(log.version).toBe("2.1.0");
    const run = log.runs[0];
    expect(run.tool.driver.name).toBe("haos-tasks");
    const rules = run.tool.driver.rules as { id: string }[];
    const invalid = run.results.find((r: { ruleId: string }) => r.ruleId === "schema/invalid");
    expect(invalid.level).toBe("error");
    expect(rules[invalid.ruleIndex]?.id).toBe("schema/invalid");
    expect(invalid.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: "a.yaml", uriBaseId: "%SRCROOT%" },
      region: { startLine: 7, startColumn: 3 },
    });
    expect(invalid.message.text).toBe("bad\nfix: fix the value");
    const note = run.results.find((r: { ruleId: string }) => r.ruleId === "cozystack/instance-type");
    expect(note.level).toBe("note");
    expect(note.locations).toBeUndefined();
  });
});
