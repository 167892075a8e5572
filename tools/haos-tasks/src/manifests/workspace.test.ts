import { writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { decodeYaml, readYamlFile, relativePath, repositoryFluxObjects } from "./workspace.ts";

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

describe("readYamlFile", () => {
  it("gives decodeYaml's answer for any bytes: text, NUL, invalid UTF-8, a byte order mark, U+FFFD", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "haos-read-yaml-"));
    scratch.push(dir);
    const file = path.join(dir, "f.yaml");
    // Pieces that decode alike or not: ASCII lines, multi-byte characters, the BOM, an encoded
    // U+FFFD, NUL, bytes that are never UTF-8, truncated sequences.
    const piece = fc.constantFrom(
      [0x61, 0x3a, 0x20, 0x31, 0x0a],
      [0x0a],
      [0xc3, 0xa9],
      [0xe2, 0x82, 0xac],
      [0xf0, 0x9f, 0x98, 0x80],
      [0xef, 0xbb, 0xbf],
      [0xef, 0xbf, 0xbd],
      [0x00],
      [0xff],
      [0xc3],
      [0xe2, 0x82],
      [0xed, 0xa0, 0x80],
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const bytes = Uint8Array.from(pieces.flat());
        writeFileSync(file, bytes);
        expect(readYamlFile(file)).toEqual(decodeYaml(bytes));
      }),
      { numRuns: 500 },
    );
  });
});
