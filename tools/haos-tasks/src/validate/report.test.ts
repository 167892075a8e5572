import { describe, expect, it } from "vitest";
import { finding } from "../lint/rules.ts";
import { failsRun, renderValidateJson, renderValidateText } from "./report.ts";

const missing = (file: string) =>
  finding(
    "schema/missing",
    { file, line: 2, column: 1 },
    `no schema for x/v1/K in ${file}`,
    "add a schema source",
  );
const findings = [
  missing("a.yaml"),
  missing("b.yaml"),
  missing("c.yaml"),
  finding("schema/invalid", { file: "a.yaml", line: 7, column: 3 }, "bad value", "fix the value"),
];

describe("validate's text report", () => {
  it("prints each rule's fix once, then a per-rule count table matching the summary", () => {
    const text = renderValidateText(findings, { colour: false, checked: "3 files" });
    expect(text.match(/fix: add a schema source/g)).toHaveLength(1);
    expect(text.match(/fix: fix the value/g)).toHaveLength(1);
    expect(text).toContain(
      "rule              error  warning  info\nschema/invalid        1        0     0\nschema/missing        0        3     0\n",
    );
    expect(text).toMatch(/✖ 1 error, 3 warnings in 3 files \(3 files\)\n$/);
  });

  it("JSON carries the same counts per rule and in total, and the error when a run stops", () => {
    const json = JSON.parse(renderValidateJson(findings, { stats: { files: 3 } }));
    expect(json.summary).toEqual({ error: 1, warning: 3, info: 0 });
    expect(json.rules["schema/missing"]).toEqual({ error: 0, warning: 3, info: 0 });
    const stopped = JSON.parse(renderValidateJson([], { error: { message: "boom", hint: "fix it" } }));
    expect(stopped).toMatchObject({ error: { message: "boom", hint: "fix it" }, findings: [] });
  });
});

describe("failsRun (the CLI's --strict and the Action's strict)", () => {
  it("fails on an error, and on a warning only under strict", () => {
    expect(failsRun({ error: 1, warning: 0, info: 0 }, {})).toBe(true);
    expect(failsRun({ error: 0, warning: 1, info: 0 }, {})).toBe(false);
    expect(failsRun({ error: 0, warning: 1, info: 0 }, { strict: true })).toBe(true);
    expect(failsRun({ error: 0, warning: 0, info: 3 }, { strict: true })).toBe(false);
  });
});
