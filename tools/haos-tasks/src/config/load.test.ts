import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../cli/main.ts";
import { defaultNoise } from "../diff/config.ts";
import { ExitCode } from "../exit-codes.ts";
import { defaultValidateConfig } from "../validate/config.ts";
import { loadConfig, parseConfig } from "./load.ts";
import { ConfigError, type ConfigProblem } from "./site.ts";

/** The problems parseConfig reports for the text, as `line:col: message`. */
function problems(text: string): string[] {
  try {
    parseConfig(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p: ConfigProblem) => `${p.line}:${p.column}: ${p.message}`);
  }
  return [];
}

describe("parseConfig", () => {
  it("an empty file, or one without sections, is every section's defaults", () => {
    for (const text of ["", "# nothing yet\n", "validate:\nrelease:\ndiff:\n"]) {
      const config = parseConfig(text);
      expect(config.validate).toEqual(defaultValidateConfig);
      expect(config.diff).toEqual({ noise: defaultNoise });
      expect(config.release.components.map((c) => c.name)).toEqual(["repository"]);
    }
  });

  it("a misspelt top-level key is an error at its line, with the key meant", () => {
    expect(problems("relase:\n  remote: origin\n")).toEqual([
      "1:1: unknown key relase; did you mean release?",
    ]);
    expect(problems("# config\nvaldiate:\n  ignore: []\n")).toEqual([
      "2:1: unknown key valdiate; did you mean validate?",
    ]);
    expect(problems("colour: red\n")).toEqual(["1:1: unknown key colour"]);
  });

  it("an unknown key in every section is an error at its line, with the closest known key", () => {
    expect(problems("validate:\n  ignor: []\n")).toEqual([
      "2:3: unknown key validate.ignor; did you mean ignore?",
    ]);
    expect(problems("validate:\n  external:\n    - {kind: A, name: b, reason: c, namspace: d}\n")).toEqual([
      "3:37: unknown key validate.external[0].namspace; did you mean namespace?",
    ]);
    expect(problems("schemas:\n  crd: []\n")).toEqual(["2:3: unknown key schemas.crd; did you mean crds?"]);
    expect(problems("charts:\n  mirror: []\n")).toEqual([
      "2:3: unknown key charts.mirror; did you mean mirrors?",
    ]);
    expect(problems("diff:\n  noize: []\n")).toEqual(["2:3: unknown key diff.noize; did you mean noise?"]);
    expect(problems("release:\n  transprt: git\n")).toEqual([
      "2:3: unknown key release.transprt; did you mean transport?",
    ]);
    expect(problems("release:\n  components:\n    a:\n      path: a\n      extraPath: [b]\n")).toEqual([
      "5:7: unknown key release.components.a.extraPath; did you mean extraPaths?",
    ]);
    expect(problems("release:\n  types:\n    - {type: feat, section: Features, hiden: true}\n")).toEqual([
      "3:39: unknown key release.types[0].hiden; did you mean hidden?",
    ]);
    expect(problems("release:\n  releaseRules:\n    - {type: docs, release: patch, scop: x}\n")).toEqual([
      "3:36: unknown key release.releaseRules[0].scop; did you mean scope?",
    ]);
  });

  it("a value of the wrong type names the type expected", () => {
    expect(problems("validate:\n  ignore: vendor/**\n")).toEqual(["2:3: validate.ignore must be a list"]);
    expect(problems("validate:\n  lintEncrypted: sometimes\n")).toEqual([
      "2:3: validate.lintEncrypted must be true or false",
    ]);
    expect(problems("validate:\n  indentation: two\n")).toEqual([
      "2:3: validate.indentation must be a positive integer",
    ]);
    expect(problems("validate:\n  kubernetesVersion: 1.35\n")).toEqual([
      '2:3: validate.kubernetesVersion must be a Kubernetes minor like "1.35" (quoted)',
    ]);
    expect(problems("release: [a]\n")).toEqual(["1:1: release must be a mapping"]);
    expect(
      problems('release:\n  components:\n    a:\n      path: a\n      tags: [1, "v{version}"]\n'),
    ).toEqual(["5:14: release.components.a.tags[0] must be a string"]);
    expect(problems("- validate\n")).toEqual(["1:1: the configuration must be a mapping"]);
  });

  it("reports every violation at once, in file order, each with its fix", () => {
    let error: ConfigError | undefined;
    try {
      parseConfig("release:\n  draft: yes please\nvaldiate: {}\ndiff:\n  noise: helm.sh/chart\n");
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error?.message.split("\n")).toEqual([
      ".haos-tasks.yaml:2:3: release.draft must be true or false",
      ".haos-tasks.yaml:3:1: unknown key valdiate; did you mean validate?",
      ".haos-tasks.yaml:5:3: diff.noise must be a list",
    ]);
    expect(error?.hint).toContain("known keys: validate, schemas, charts, diff, release");
    expect(error?.hint).toContain("write release.draft as true (or false)");
  });

  it("a required key, an enum and a pattern say what they want", () => {
    expect(problems("validate:\n  kindsWithoutSchema:\n    - kind: Widget\n")).toEqual([
      "3:7: validate.kindsWithoutSchema[0].reason is required",
    ]);
    expect(problems("validate:\n  documentStart: always\n")).toEqual([
      "2:3: validate.documentStart must be one of allow, require, forbid (got 'always')",
    ]);
    expect(problems("release:\n  components:\n    x:\n      path: x\n      bootstrapSha: nope\n")).toEqual([
      "5:7: release.components.x.bootstrapSha must be a commit SHA (7–40 hex digits)",
    ]);
  });

  it("YAML that does not parse is an error at its place", () => {
    expect(problems("validate:\n  ignore: [\n")).toEqual([
      expect.stringMatching(/^3:1: not valid YAML: /) as unknown as string,
    ]);
  });

  it("the sections' own rules (beyond the schema) keep their positions", () => {
    expect(problems("validate:\n  rules:\n    yaml/nope: error\n")).toEqual([
      "3:5: unknown rule 'yaml/nope'",
    ]);
    expect(
      problems(
        "release:\n  components:\n    a:\n      path: a\n      versionFile: v.txt\n      versionFiles: [w.txt]\n",
      ),
    ).toEqual(["6:7: release.components.a: give versionFile or versionFiles, not both"]);
  });
});

describe("loadConfig", () => {
  it("reads <root>/.haos-tasks.yaml, and no file is the defaults", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "haos-config-"));
    try {
      expect((await loadConfig(dir)).file).toBeUndefined();
      writeFileSync(path.join(dir, ".haos-tasks.yaml"), "diff:\n  noise: []\n");
      const config = await loadConfig(dir);
      expect(config.file).toBe(".haos-tasks.yaml");
      expect(config.diff.noise).toEqual([]);
      writeFileSync(path.join(dir, ".haos-tasks.yaml"), "relase: {}\n");
      await expect(loadConfig(dir)).rejects.toThrow(
        ".haos-tasks.yaml:1:1: unknown key relase; did you mean release?",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("this repository's configuration", () => {
  const root = path.resolve(import.meta.dirname, "../../../..");
  const file = path.join(root, ".haos-tasks.yaml");

  it("names the schema for editors (yaml-language-server), and the schema is this package's", () => {
    const text = readFileSync(file, "utf8");
    const comment = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
    expect(comment?.[1]).toBeDefined();
    const target = path.resolve(path.dirname(file), comment?.[1] ?? "");
    expect(target).toBe(path.join(import.meta.dirname, "haos-tasks.schema.json"));
  });

  it("holds under the schema", () => {
    const config = parseConfig(readFileSync(file, "utf8"));
    expect(config.release.components.map((c) => c.name)).toContain("repository");
  });
});

describe("a command over a configuration that does not hold", () => {
  it("stops with exit code 2 (usage), every problem at its line and the fix", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "haos-config-cli-"));
    try {
      writeFileSync(path.join(dir, ".haos-tasks.yaml"), "valdiate:\n  ignore: []\n");
      writeFileSync(path.join(dir, "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
      let stderr = "";
      const code = await main(["validate", "."], {
        stdout: () => {},
        stderr: (text) => {
          stderr += text;
        },
        env: {},
        cwd: dir,
        isTTY: false,
        colour: false,
        startedAt: Date.now(),
      });
      expect({ code, stderr }).toEqual({
        code: ExitCode.usage,
        stderr:
          "error: .haos-tasks.yaml:1:1: unknown key valdiate; did you mean validate?\n  fix: known keys: validate, schemas, charts, diff, release\n",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
