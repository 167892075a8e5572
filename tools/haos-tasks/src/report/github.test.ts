import { describe, expect, it } from "vitest";
import type { Finding } from "../findings.ts";
import { annotation, annotationLines, annotations, jobSummary, renderAnnotation } from "./github.ts";

const make = (severity: Finding["severity"], i: number): Finding => ({
  severity,
  rule: "yaml/truthy",
  message: `finding ${i}`,
  file: `apps/a/f${String(i).padStart(2, "0")}.yaml`,
  line: i + 1,
  column: 3,
  hint: "quote it",
});

describe("GitHub annotations", () => {
  it("makes a finding an annotation at its place, titled with its rule, the fix under the message", () => {
    expect(annotation(make("warning", 4))).toEqual({
      level: "warning",
      message: "finding 4\nfix: quote it",
      file: "apps/a/f04.yaml",
      line: 5,
      col: 3,
      title: "yaml/truthy",
    });
    expect(annotation({ severity: "info", rule: "r", message: "m" })).toEqual({
      level: "notice",
      message: "m",
      title: "r",
    });
  });

  it("formats one workflow command with escaped properties and data", () => {
    const line = renderAnnotation(
      annotation({
        severity: "error",
        rule: "schema/invalid",
        message: "50% wrong\nsecond line",
        file: "apps/a,b:c.yaml",
        line: 4,
        column: 2,
        hint: "fix it",
      }),
    );
    expect(line).toBe(
      "::error file=apps/a%2Cb%3Ac.yaml,line=4,col=2,title=schema/invalid::50%25 wrong%0Asecond line%0Afix: fix it",
    );
    expect(renderAnnotation(annotation({ severity: "info", rule: "r", message: "m" }))).toBe(
      "::notice title=r::m",
    );
    expect(renderAnnotation({ level: "warning", message: "no place" })).toBe("::warning::no place");
  });

  it("caps at 10 errors, 10 warnings and 9 notices per step and says how many were left out", () => {
    const findings = [
      ...Array.from({ length: 15 }, (_, i) => make("error", i)),
      ...Array.from({ length: 12 }, (_, i) => make("warning", i)),
      ...Array.from({ length: 11 }, (_, i) => make("info", i)),
    ];
    const lines = annotationLines(findings);
    expect(lines.filter((l) => l.startsWith("::error ")).length).toBe(10);
    expect(lines.filter((l) => l.startsWith("::warning ")).length).toBe(10);
    expect(lines.filter((l) => l.startsWith("::notice ")).length).toBe(10);
    expect(lines.at(-1)).toBe(
      "::notice title=haos-tasks::9 more findings not annotated (GitHub shows 10 per kind and step); see the job summary",
    );
    // The lines are the annotations rendered: the Action passes the same objects to @actions/core.
    expect(annotations(findings).map(renderAnnotation)).toEqual(lines);
    expect(annotations(findings).at(-1)).toMatchObject({ level: "notice", title: "haos-tasks" });
  });

  it("writes a Markdown job summary with every finding and escaped pipes", () => {
    const summary = jobSummary([{ ...make("error", 1), message: "a | b" }, make("warning", 2)]);
    expect(summary).toContain("1 error, 1 warning");
    expect(summary).toContain("| error | apps/a/f01.yaml | 2 | `yaml/truthy` | a \\| b | quote it |");
    expect(jobSummary([])).toContain("No findings");
  });
});
