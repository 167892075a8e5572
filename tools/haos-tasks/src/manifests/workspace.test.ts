import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { relativePath, repositoryFluxObjects } from "./workspace.ts";

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

async function repository(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "haos-workspace-"));
  scratch.push(root);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  return root;
}

describe("repositoryFluxObjects", () => {
  it("finds a Flux object whose kind line ends in a comment", async () => {
    const root = await repository({
      "infra/repo.yaml": [
        "apiVersion: source.toolkit.fluxcd.io/v1",
        "kind: HelmRepository # the chart repo",
        "metadata:",
        "  name: podinfo",
        "  namespace: flux-system",
        "spec:",
        "  url: https://stefanprodan.github.io/podinfo",
        "",
      ].join("\n"),
      "infra/cm.yaml": "apiVersion: v1\nkind: ConfigMap # not Flux\nmetadata:\n  name: x\n",
    });
    expect(await repositoryFluxObjects(root, [], new Set())).toEqual([
      {
        kind: "HelmRepository",
        name: "podinfo",
        namespace: "flux-system",
        url: "https://stefanprodan.github.io/podinfo",
      },
    ]);
  });
});

describe("relativePath", () => {
  it("is path.relative with forward slashes, also on its fast path", () => {
    const reference = (root: string, absolute: string) =>
      path.relative(root, absolute).split(path.sep).join("/") || ".";
    const roots = ["/repo", "/repo/", "/", "/re", "/repo/apps"];
    const tails = [
      "",
      "/",
      "/a.yaml",
      "/apps/x/app.yaml",
      "//a",
      "/./a",
      "/a/../b",
      "/a/.",
      "/..b",
      "/.x.yaml",
      "/a/..",
      "sitory/a",
    ];
    for (const root of roots)
      for (const tail of tails) {
        const absolute = `${root}${tail}`;
        expect(relativePath(root, absolute), `${root} ${absolute}`).toBe(reference(root, absolute));
      }
  });
});
