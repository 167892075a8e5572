import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { withoutNulls } from "./schema-stage.ts";

/** What the API server keeps: object fields that are not null (array items stay), at any depth. */
function reference(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reference);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => v !== null && k !== "__proto__")
        .map(([k, v]) => [k, reference(v)]),
    );
  return value;
}

describe("withoutNulls", () => {
  it("drops null fields at every depth, keeps null array items, and copies only what changed", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        const cleaned = withoutNulls(value);
        expect(JSON.stringify(cleaned)).toBe(JSON.stringify(reference(value)));
        // Nothing to drop: the very same value, no copy.
        if (JSON.stringify(value) === JSON.stringify(reference(value))) expect(cleaned).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it("does not carry a __proto__ key over as a prototype", () => {
    const value = JSON.parse('{"a": 1, "__proto__": {"polluted": true}, "b": {"c": null, "d": [null, 2]}}');
    const cleaned = withoutNulls(value) as Record<string, unknown>;
    expect(JSON.stringify(cleaned)).toBe('{"a":1,"b":{"d":[null,2]}}');
    expect(Object.hasOwn(cleaned, "__proto__")).toBe(false);
    expect(Object.getPrototypeOf(cleaned)).toBe(Object.prototype);
  });
});
