import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../tools/paths.ts";
import { configuredMirror, resolveMirror } from "./sources.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "haos-mirror-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, text: string): string {
  const file = path.join(dir, name, ".haos-tasks.yaml");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

describe("the schema mirror", () => {
  it("comes from schemas.mirror, relative to the config file, when that directory exists", () => {
    mkdirSync(path.join(dir, "upstream"));
    expect(configuredMirror(config("a", "schemas:\n  mirror: ../upstream\n"))).toBe(
      path.join(dir, "upstream"),
    );
  });

  it.each([
    ["a directory that does not exist", "schemas:\n  mirror: ../nowhere\n"],
    ["no schemas section", "validate: {}\n"],
    ["an empty value", "schemas:\n  mirror: ''\n"],
    ["a non-string value", "schemas:\n  mirror: [a]\n"],
    ["invalid YAML", "schemas: [\n"],
  ])("is not configured by %s", (_what, text) => {
    expect(configuredMirror(config(`b${text.length}`, text))).toBeUndefined();
  });

  it("is not configured without a config file", () => {
    expect(configuredMirror(path.join(dir, "missing", ".haos-tasks.yaml"))).toBeUndefined();
  });

  it("prefers --mirror, then HAOS_TASKS_SCHEMA_MIRROR, both relative to the repository root", () => {
    expect(resolveMirror("m1", { HAOS_TASKS_SCHEMA_MIRROR: "m2" })).toBe(path.join(toolsRepoRoot, "m1"));
    expect(resolveMirror(undefined, { HAOS_TASKS_SCHEMA_MIRROR: "m2" })).toBe(path.join(toolsRepoRoot, "m2"));
    expect(resolveMirror(undefined, {})).toBe(configuredMirror());
  });
});
