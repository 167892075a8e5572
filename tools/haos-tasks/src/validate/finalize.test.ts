import { describe, expect, it } from "vitest";
import { finding } from "../lint/rules.ts";
import type { Workspace } from "../manifests/workspace.ts";
import { defaultValidateConfig, type ValidateConfig } from "./config.ts";
import { finalizeFindings } from "./finalize.ts";

const workspace: Workspace = {
  root: "/repo",
  targets: ["."],
  files: new Map(),
  kustomizationDirs: [],
  problems: [],
};
const place = { file: "p.yaml", line: 6, column: 3 };
const schemaError = finding(
  "schema/invalid",
  place,
  "ClusterPolicy p: value must be one of 'Audit', 'Enforce'",
);
const rulesOf = (findings: ReturnType<typeof finalizeFindings>) =>
  findings.map((f) => `${f.severity} ${f.rule}`);

describe("finalizeFindings", () => {
  it("lets a specific error stand in for the schema error on its line", () => {
    const specific = finding("cozystack/run-strategy", place, "runStrategy is spelled for CozyStack 0.x");
    expect(rulesOf(finalizeFindings([schemaError, specific], workspace, defaultValidateConfig))).toEqual([
      "error cozystack/run-strategy",
    ]);
  });

  it("never hides a schema error behind a warning on the same line", () => {
    const deprecated = finding("deprecated/field", place, "spec.validationFailureAction is deprecated");
    expect(rulesOf(finalizeFindings([deprecated, schemaError], workspace, defaultValidateConfig))).toEqual([
      "warning deprecated/field",
      "error schema/invalid",
    ]);
  });

  it("keeps the schema error when the specific rule is turned off", () => {
    const specific = finding("cozystack/run-strategy", place, "runStrategy is spelled for CozyStack 0.x");
    const config: ValidateConfig = { ...defaultValidateConfig, rules: { "cozystack/run-strategy": "off" } };
    expect(rulesOf(finalizeFindings([schemaError, specific], workspace, config))).toEqual([
      "error schema/invalid",
    ]);
  });
});
