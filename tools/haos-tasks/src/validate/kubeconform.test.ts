import { describe, expect, it } from "vitest";
import { splitValidationError } from "./kubeconform.ts";

describe("splitValidationError", () => {
  it("turns an additional-properties error into one error per field, at the field", () => {
    expect(splitValidationError("/spec", "additional properties 'spce', 'a/b' not allowed")).toEqual([
      { pointer: "/spec/spce", message: "unknown field 'spce'", additionalProperty: "spce" },
      { pointer: "/spec/a~1b", message: "unknown field 'a/b'", additionalProperty: "a/b" },
    ]);
  });

  it("keeps other errors at their path", () => {
    expect(splitValidationError("/spec/replicas", "got string, want integer")).toEqual([
      { pointer: "/spec/replicas", message: "got string, want integer" },
    ]);
  });
});
