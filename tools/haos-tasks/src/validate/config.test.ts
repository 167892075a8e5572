import { describe, expect, it } from "vitest";
import { parseConfig } from "../config/load.ts";
import { ConfigError } from "../config/site.ts";
import { defaultValidateConfig } from "./config.ts";

const parseValidateConfig = (text: string) => parseConfig(text).validate;

describe("the validate section", () => {
  it("fills defaults when the section is empty or missing", () => {
    expect(parseValidateConfig("validate: {}\n")).toEqual(defaultValidateConfig);
    expect(parseValidateConfig("release: {}\n")).toEqual(defaultValidateConfig);
  });

  it("reads every key", () => {
    const config = parseValidateConfig(
      [
        "validate:",
        "  ignore: ['vendor/**']",
        "  rules: { yaml/truthy: warning, yaml/trailing-space: off }",
        "  indentation: 4",
        "  documentStart: require",
        "  kindsWithoutSchema: [{ kind: example.com/v1/Widget, reason: no CRD published }]",
        "  external: [{ kind: GitRepository, name: flux-system, namespace: flux-system, reason: bootstrap }]",
      ].join("\n"),
    );
    expect(config.rules).toEqual({ "yaml/truthy": "warning", "yaml/trailing-space": "off" });
    expect(config.indentation).toBe(4);
    expect(config.kindsWithoutSchema[0]?.reason).toBe("no CRD published");
    expect(config.external[0]?.namespace).toBe("flux-system");
  });

  it.each([
    ["validate:\n  rules:\n    yaml/nope: error\n", /:3:5: unknown rule 'yaml\/nope'/],
    [
      "validate:\n  kindsWithoutSchema:\n    - kind: Widget\n",
      /:3:7: validate.kindsWithoutSchema\[0\].reason is required/,
    ],
    ["validate:\n  colour: red\n", /:2:3: unknown key validate.colour/],
    [
      "validate:\n  rules:\n    yaml/truthy: loud\n",
      /validate.rules.yaml\/truthy must be one of error, warning, info, off/,
    ],
  ])("rejects bad config with file:line (%#)", (text, message) => {
    expect(() => parseValidateConfig(text)).toThrow(ConfigError);
    expect(() => parseValidateConfig(text)).toThrow(message);
  });
});
