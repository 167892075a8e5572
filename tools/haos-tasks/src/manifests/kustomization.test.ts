import { describe, expect, it } from "vitest";
import { readKustomization } from "./kustomization.ts";
import { parseSourceFile } from "./yaml-source.ts";

function paths(text: string, dir = "app"): (string | undefined)[] {
  return readKustomization(parseSourceFile(text, `${dir}/kustomization.yaml`), dir).entries.map(
    (e) => e.path,
  );
}

describe("readKustomization", () => {
  it("names a directory without its trailing slash, as kustomize reads it", () => {
    expect(paths("resources:\n  - sub/\n  - ./other//\n  - ./\n")).toEqual(["app/sub", "app/other", "app"]);
    expect(paths("resources:\n  - sub/\n  - ./\n", ".")).toEqual(["sub", "."]);
  });

  it("keeps remote references out of the local paths", () => {
    expect(paths("resources:\n  - https://github.com/org/repo//deploy?ref=v1\n")).toEqual([undefined]);
  });
});
