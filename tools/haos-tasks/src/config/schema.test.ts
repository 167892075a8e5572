import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkFile, configAjv, configCheckSource, schemaFile } from "../../scripts/build-config-check.ts";
import { componentPolicyKeys } from "../release/config.ts";

interface Node {
  type?: string | string[];
  description?: string;
  properties?: Record<string, Node>;
  additionalProperties?: boolean | Node;
  items?: Node;
  definitions?: Record<string, Node>;
  $ref?: string;
}

const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as Node;

/** Every schema node with the path to it. */
function* nodes(node: Node, at: string): Generator<[string, Node]> {
  yield [at, node];
  for (const [key, child] of Object.entries(node.properties ?? {})) yield* nodes(child, `${at}.${key}`);
  for (const [key, child] of Object.entries(node.definitions ?? {})) yield* nodes(child, `#${key}`);
  if (typeof node.additionalProperties === "object") yield* nodes(node.additionalProperties, `${at}.*`);
  if (node.items) yield* nodes(node.items, `${at}[]`);
}

describe("the .haos-tasks.yaml schema", () => {
  it("is a valid draft-07 schema, and the CLI's validator is its build", () => {
    expect(() => configAjv().compile(schema)).not.toThrow();
    // Rebuild with `node scripts/build-config-check.ts` after editing the schema.
    expect(readFileSync(checkFile, "utf8")).toBe(configCheckSource());
  });

  it("describes every key, and admits no key it does not name", () => {
    for (const [at, node] of nodes(schema, "")) {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        expect(child.description ?? (child.$ref ? "by reference" : undefined), `${at}.${key}`).toBeTruthy();
      }
      if (node.properties) expect(node.additionalProperties, `${at} has fixed keys`).toBe(false);
    }
  });

  it("lets a component set every policy key the release section sets for all (but initialVersion)", () => {
    const release = schema.properties?.release;
    const component = (release?.properties?.components?.additionalProperties ?? {}) as Node;
    for (const key of componentPolicyKeys) {
      expect(Object.keys(component.properties ?? {}), key).toContain(key);
      expect(Object.keys(release?.properties ?? {}), key).toContain(key);
    }
  });
});
