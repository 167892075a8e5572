import { describe, expect, it } from "vitest";
import { ConfigError, defaultValidateConfig, parseValidateConfig } from "./config.ts";

describe("parseValidateConfig", () => {
  it("fills defaults when the section is empty or missing", () => {
    expect(parseValidateConfig("validate: {}\n", ".haos-tasks.yaml")).toEqual(defaultValidateConfig);
    expect(parseValidateConfig("release: {}\n", ".haos-tasks.yaml")).toEqual(defaultValidateConfig);
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
      ".haos-tasks.yaml",
    );
    expect(config.rules).toEqual({ "yaml/truthy": "warning", "yaml/trailing-space": "off" });
    expect(config.indentation).toBe(4);
    expect(config.kindsWithoutSchema[0]?.reason).toBe("no CRD published");
    expect(config.external[0]?.namespace).toBe("flux-system");
  });

  it.each([
    ["validate:\n  rules:\n    yaml/nope: error\n", /:3: unknown rule 'yaml\/nope'/],
    [
      "validate:\n  kindsWithoutSchema:\n    - kind: Widget\n",
      /:3: validate.kindsWithoutSchema\[0\].reason is required/,
    ],
    ["validate:\n  colour: red\n", /:2: unknown key validate.colour/],
    ["validate:\n  rules:\n    yaml/truthy: loud\n", /level must be one of/],
  ])("rejects bad config with file:line (%#)", (text, message) => {
    expect(() => parseValidateConfig(text, ".haos-tasks.yaml")).toThrow(ConfigError);
    expect(() => parseValidateConfig(text, ".haos-tasks.yaml")).toThrow(message);
  });
});
