import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { toolsRepoRoot } from "../../src/tools/paths.ts";

const dir = path.join(toolsRepoRoot, "tools", "haos-tasks");
const action = parse(readFileSync(path.join(dir, "action.yml"), "utf8")) as {
  description: string;
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, unknown>;
};
const readme = readFileSync(path.join(dir, "README.md"), "utf8");
const rows = (heading: string): Map<string, string> => {
  const section = readme.split(`## ${heading}`)[1]?.split("\n## ")[0] ?? "";
  return new Map(
    [...section.matchAll(/^\| `([a-z-]+)` \|(.*)$/gm)].map(
      (m) => [m[1] ?? "", m[2] ?? ""] as [string, string],
    ),
  );
};

// action.yml points its users at this README: every input and output is documented there, with
// the default action.yml declares, and each workflow of the repository is shown as an example.
describe("tools/haos-tasks/README.md documents the Action", () => {
  it("action.yml points at it", () => {
    expect(readFileSync(path.join(dir, "action.yml"), "utf8")).toContain("tools/haos-tasks/README.md");
  });

  it("every input, with its default", () => {
    const documented = rows("Inputs");
    expect([...documented.keys()].sort()).toEqual(Object.keys(action.inputs).sort());
    for (const [name, spec] of Object.entries(action.inputs)) {
      const row = documented.get(name) ?? "";
      if (spec.default) expect(row, name).toContain(`\`${spec.default}\``);
    }
  });

  it("every output", () => {
    expect([...rows("Outputs").keys()].sort()).toEqual(Object.keys(action.outputs).sort());
  });

  it("permissions for every command, and the three workflows as examples", () => {
    const permissions = rows("Permissions per command");
    expect([...permissions.keys()].sort()).toEqual([
      "comment",
      "diff",
      "release",
      "validate",
      "verify",
      "version-bump",
    ]);
    for (const workflow of ["ci.yml", "release.yml", "deploy-verify.yml"]) {
      expect(readme).toContain(`.github/workflows/${workflow}`);
    }
    expect(readme).toMatch(/## Versioning[\s\S]*major tag/);
  });
});
