import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startDefaultRenderer } from "../../src/render/defaults.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import type { ClosableRenderer } from "../../src/validate/context.ts";
import { validate } from "../../src/validate/pipeline.ts";

// validate starts the renderer (flux-render, one per core) before the builds when a file's text
// may hold a HelmRelease or a CozyStack app, so that its start overlaps them; the renderer is
// closed exactly once, whether anything needed it or not, and a renderer that cannot start only
// matters when something must be rendered.

const tmp = mkdtempSync(path.join(os.tmpdir(), "haos-early-renderer-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let repos = 0;
function repo(files: Record<string, string>): string {
  const root = path.join(tmp, `repo-${repos++}`);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

/** A renderer factory that counts starts, closes and requests around `start`. */
function counting(start: () => Promise<ClosableRenderer>) {
  const counts = { starts: 0, closes: 0, requests: 0 };
  const factory = async (): Promise<ClosableRenderer> => {
    counts.starts += 1;
    const renderer = await start();
    return {
      helm: (request) => {
        counts.requests += 1;
        return renderer.helm(request);
      },
      close: async () => {
        counts.closes += 1;
        await renderer.close();
      },
    };
  };
  return { counts, factory };
}

const configMapMentioningHelmRelease = `apiVersion: v1
kind: ConfigMap
metadata:
  name: notes
  namespace: default
data:
  example.yaml: |
    kind: HelmRelease
`;

describe("validate's early renderer", () => {
  it("is started for a text that only mentions a HelmRelease, asked nothing and closed once", async () => {
    const root = repo({ "apps/notes/configmap.yaml": configMapMentioningHelmRelease });
    const { counts, factory } = counting(() => startDefaultRenderer({ env: process.env, workers: 1 }));
    const result = await validate({ env: process.env, targets: ["."], cwd: root, renderer: factory });
    expect(result.findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(counts).toEqual({ starts: 1, closes: 1, requests: 0 });
  });

  it("is not started when no file can hold anything to render", async () => {
    const root = repo({
      "apps/notes/configmap.yaml": configMapMentioningHelmRelease.replace("HelmRelease", "Other"),
    });
    const { counts, factory } = counting(() => startDefaultRenderer({ env: process.env, workers: 1 }));
    await validate({ env: process.env, targets: ["."], cwd: root, renderer: factory });
    expect(counts).toEqual({ starts: 0, closes: 0, requests: 0 });
  });

  it("does not fail the run when it cannot start and nothing needed it", async () => {
    const root = repo({ "apps/notes/configmap.yaml": configMapMentioningHelmRelease });
    let starts = 0;
    const result = await validate({
      env: process.env,
      targets: ["."],
      cwd: root,
      renderer: () => {
        starts += 1;
        return Promise.reject(new Error("flux-render is not installed"));
      },
    });
    expect(starts).toBe(1);
    expect(result.findings.filter((f) => f.severity === "error")).toEqual([]);
  });

  it("renders this repository's app with the renderer it started early, and closes it once", async () => {
    const { counts, factory } = counting(() => startDefaultRenderer({ env: process.env }));
    const result = await validate({
      env: process.env,
      targets: ["apps/haos-enigma"],
      cwd: toolsRepoRoot,
      renderer: factory,
    });
    expect(result.findings).toEqual([]);
    expect(result.stats.render?.rendered).toBe(4);
    expect(counts).toEqual({ starts: 1, closes: 1, requests: 4 });
  });
});
