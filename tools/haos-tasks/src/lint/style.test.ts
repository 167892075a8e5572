import { describe, expect, it } from "vitest";
import { parseSourceFile } from "../manifests/yaml-source.ts";
import { defaultStyleOptions, lintStyle } from "./style.ts";

const lint = (lines: string[], options = defaultStyleOptions) =>
  lintStyle(parseSourceFile(`${lines.join("\n")}\n`, "f.yaml"), options).map(
    (f) => `${f.line}:${f.column} ${f.rule}`,
  );

describe("style rules", () => {
  it("accept the layouts homelab repos use", () => {
    expect(
      lint([
        "---",
        "spec:",
        "  containers:",
        "    - name: web",
        "      args:",
        "        - --flag",
        "      env: [{ name: A,",
        "               value: b }]",
        "  script: |",
        "    echo one",
        "        indented content is content",
        "  folded: >-",
        "    a",
        "  plain: this line is",
        "      continued plainly",
        "list:",
        "- unindented sequence item",
        "- key: value",
        "  other: value",
        "on: push # a key, not a value",
        `long: ${"x".repeat(300)}`,
      ]),
    ).toEqual([]);
  });

  it.each([
    [["a:", "    b: 1"], ["2:5 yaml/indentation"]],
    [["a: [1, 2", "b: 1"], ["2:1 yaml/syntax"]],
    [["a: 1 ", "b: 2"], ["1:5 yaml/trailing-space"]],
    [["a: 1", "   ", "b: 2"], ["2:1 yaml/trailing-space"]],
    [
      ["a: No", "b: 'no'", "c: n", "d: Off"],
      ["1:4 yaml/truthy", "3:4 yaml/truthy", "4:4 yaml/truthy"],
    ],
    [["a: 1", "a: 2"], ["2:1 yaml/duplicate-key"]],
    [["a: 1", "---", "---", "b: 1"], ["2:1 yaml/empty-document"]],
    [["# only a comment"], ["1:1 yaml/empty-document"]],
  ])("%j → %j", (lines, expected) => {
    expect(lint(lines)).toEqual(expected);
  });

  it("checks the configured indentation step", () => {
    expect(lint(["a:", "    b: 1"], { indentation: 4, documentStart: "allow" })).toEqual([]);
    expect(lint(["a:", "  b: 1"], { indentation: 4, documentStart: "allow" })).toEqual([
      "2:3 yaml/indentation",
    ]);
  });
});

describe("YAML that parses but cannot be read", () => {
  it("an alias without its anchor is a syntax error at the alias, not a file with no objects", () => {
    expect(lint(["apiVersion: v1", "kind: ConfigMap", "data:", "  a: *missing"])).toEqual([
      "4:6 yaml/syntax",
    ]);
  });

  it("an alias bomb is a syntax error, not a hang or a crash", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${"bcdefghi"[i]}: &${"bcdefghi"[i]} [${Array(10)
          .fill(`*${i === 0 ? "a" : "bcdefghi"[i - 1]}`)
          .join(", ")}]`,
      );
    expect(lint(bomb)).toContain("1:1 yaml/syntax");
  });
});

describe("tabs", () => {
  it("inside a block scalar's content are content, not indentation", () => {
    expect(lint(["data:", "  Makefile: |", "    all:", "    \tgo build ./...", "    \t@echo done"])).toEqual(
      [],
    );
  });

  it("that indent YAML are errors, in a block scalar too", () => {
    expect(lint(["data:", "\tkey: value"])).toContain("2:1 yaml/tab");
    // A tab where the block's indentation belongs breaks the scalar: the parser reports it.
    expect(lint(["data:", "  script: |", "\techo"]).some((f) => /^3:\d+ yaml\/(tab|syntax)$/.test(f))).toBe(
      true,
    );
  });
});
