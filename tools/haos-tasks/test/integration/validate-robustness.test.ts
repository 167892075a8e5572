import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { catalogLoader } from "../../src/validate/catalog-loader.ts";
import { validate } from "../../src/validate/pipeline.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";

const scratch: ScratchRepo[] = [];
afterAll(() => {
  for (const r of scratch) r.remove();
});

/** A scratch git repository (the shared createScratchRepo) holding `files`. */
async function repo(files: Record<string, string>): Promise<string> {
  const r = createScratchRepo("haos-robust-");
  scratch.push(r);
  r.write(files);
  return r.dir;
}

const configMap = (name: string, namespace: string, value = '"v"') =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\ndata:\n  key: ${value}\n`;
const kustomization = (...resources: string[]) =>
  `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}`).join("\n")}\n`;
const at = (findings: { file?: string; line?: number; rule: string }[]) =>
  findings.map((f) => `${f.file}:${f.line} ${f.rule}`).sort();

const cli = path.resolve(import.meta.dirname, "../../bin/haos-tasks.js");

describe("objects reach kubeconform in a few batch files", () => {
  it("5,000 objects under `ulimit -n 64`, each answer tied to its object", async () => {
    // The same name in two namespaces: kubeconform reports kind and name only, so they must not
    // share a batch file; the planted error is in the second one.
    const docs = Array.from({ length: 5000 }, (_, i) => configMap(`cm-${i % 2500}`, i < 2500 ? "a" : "b"));
    docs[4999] = configMap("cm-2499", "b", "[1]");
    const dir = await repo({ "manifests/many.yaml": docs.join("---\n") });
    const run = spawnSync(
      "bash",
      ["-c", `ulimit -n 64 && exec "$0" "$1" validate --format json`, process.execPath, cli],
      {
        cwd: dir,
        encoding: "utf8",
        env: process.env,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    expect(run.stderr).not.toMatch(/EMFILE|too many open files/);
    const json = JSON.parse(run.stdout) as {
      findings: { file: string; line: number; rule: string }[];
      stats: { objects: number };
    };
    expect(json.stats.objects).toBe(5000);
    expect(at(json.findings)).toEqual([`manifests/many.yaml:${4999 * 8 + 7} schema/invalid`]);
    expect(run.status).toBe(1);
  });
});

describe("symlinks", () => {
  it("are followed inside the repository; a loop or a way out is reported, never a hang", async () => {
    const dir = await repo({
      "apps/a/kustomization.yaml": kustomization("cm.yaml"),
      "apps/a/cm.yaml": configMap("a", "default"),
      "shared/extra.yaml": configMap("extra", "default", "[1]"),
    });
    symlinkSync("../shared/extra.yaml", path.join(dir, "apps/b-extra.yaml"));
    symlinkSync("..", path.join(dir, "apps/a/loop"));
    symlinkSync("/etc/hostname", path.join(dir, "apps/outside.yaml"));
    const result = await validate({
      env: process.env,
      targets: ["."],
      cwd: dir,
      loadCatalog: catalogLoader({ env: process.env }),
    });
    expect(at(result.findings)).toEqual([
      "apps/a/loop:1 references/symlink",
      "apps/b-extra.yaml:7 schema/invalid",
      "apps/outside.yaml:1 references/symlink",
      "shared/extra.yaml:7 schema/invalid",
    ]);
  });
});

describe("a failing build", () => {
  it("is one short finding at the kustomization entry and hides no other check of its files", async () => {
    const dir = await repo({
      "apps/a/kustomization.yaml": kustomization("cm.yaml", "bad.yaml"),
      "apps/a/cm.yaml": configMap("a", "default", "[1]"),
      "apps/a/bad.yaml":
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: default\ndata:\n  k1: v\n  broken: "unclosed\n  k2: v\n',
    });
    const result = await validate({
      env: process.env,
      targets: ["."],
      cwd: dir,
      loadCatalog: catalogLoader({ env: process.env }),
    });
    expect(at(result.findings)).toEqual([
      "apps/a/bad.yaml:8 yaml/syntax",
      "apps/a/cm.yaml:7 schema/invalid",
      "apps/a/kustomization.yaml:5 build/kustomize",
    ]);
    const build = result.findings.find((f) => f.rule === "build/kustomize");
    expect(build?.message.length).toBeLessThan(260);
    expect(build?.message).toContain("bad.yaml");
  });

  it("a duplicate in one build batch is found by bisection, not by rebuilding every kustomization", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) {
      files[`apps/app-${i}/kustomization.yaml`] = kustomization(
        "cm.yaml",
        ...(i === 7 || i === 9 ? ["ns.yaml"] : []),
      );
      files[`apps/app-${i}/cm.yaml`] = configMap(`app-${i}`, "default");
    }
    const ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shared\n";
    files["apps/app-7/ns.yaml"] = ns;
    files["apps/app-9/ns.yaml"] = ns;
    const dir = await repo(files);
    // A kubectl that counts its runs (the real one does the work).
    const log = path.join(dir, "kubectl.log");
    const kubectl = path.join(dir, "kubectl-counting");
    writeFileSync(kubectl, `#!/bin/sh\necho run >> "${log}"\nexec kubectl "$@"\n`);
    chmodSync(kubectl, 0o755);
    const result = await validate({
      env: process.env,
      targets: ["."],
      cwd: dir,
      kubectl,
      loadCatalog: catalogLoader({ env: process.env }),
    });
    expect(at(result.findings)).toEqual(["apps/app-9/ns.yaml:4 references/duplicate-resource"]);
    expect(result.stats.objects).toBe(42);
    const runs = readFileSync(log, "utf8").trim().split("\n").length;
    // 2 batches of 20; the failing one splits 20 → 10 → 5 → 3 → … : about a dozen runs, not 22.
    expect(runs).toBeLessThanOrEqual(14);
  });
});
