import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateRepo } from "../../bench/validate.bench.ts";
import { reparseCount } from "../../src/manifests/yaml-source.ts";
import { catalogLoader } from "../../src/validate/catalog-loader.ts";
import { validate } from "../../src/validate/pipeline.ts";
import { createScratchRepo } from "../support/scratch-repo.ts";

const scratch = createScratchRepo("haos-validate-build-");
afterAll(() => scratch.remove());
const repo = scratch.dir;
const write = (files: Record<string, string>) => scratch.write(files);

const service = (name: string, port: string) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: default\nspec:\n  ports:\n    - port: ${port}\n`;

// A cluster kustomization including two apps, one of which cannot build: kustomize fails the
// whole tree, but the other app's objects must still be checked.
describe("a kustomization that fails to build", () => {
  it("does not hide the objects of the kustomizations it includes that do build", async () => {
    write({
      "clusters/home/kustomization.yaml": "resources:\n  - ../../apps/a\n  - ../../apps/b\n",
      "apps/a/kustomization.yaml": "resources:\n  - svc.yaml\n",
      "apps/a/svc.yaml": service("a", '"80"'),
      "apps/b/kustomization.yaml": "resources:\n  - svc.yaml\n  - gone.yaml\n",
      "apps/b/svc.yaml": service("b", "80"),
    });
    const result = await validate({
      env: process.env,
      targets: ["."],
      cwd: repo,
      loadCatalog: catalogLoader({ env: process.env }),
    });
    const at = result.findings.map((f) => `${f.file}:${f.line} ${f.rule}`).sort();
    expect(at).toEqual([
      "apps/a/svc.yaml:8 schema/invalid",
      "apps/b/kustomization.yaml:3 build/kustomize",
      "apps/b/kustomization.yaml:3 references/missing-resource",
    ]);
    // apps/b's own svc.yaml is still schema-checked, as written, although its build failed.
    expect(result.stats.objects).toBe(2);
  });
});

describe("a target without YAML files", () => {
  it("is an error with the fix, not a green run that checked nothing", async () => {
    write({ "docs/README.md": "# docs\n" });
    await expect(validate({ env: process.env, targets: ["docs"], cwd: repo })).rejects.toThrow(
      /no YAML files to validate under docs/,
    );
  });
});

describe("what validate parses", () => {
  it("parses every file once on a clean run (fast path or yaml library), and again only for a finding's place", async () => {
    const cleanRepo = createScratchRepo("haos-validate-parse-");
    const clean = cleanRepo.dir;
    try {
      generateRepo(clean, 5);
      cleanRepo.write({ ".haos-tasks.yaml": "validate:\n  indentation: 2\n  documentStart: allow\n" });
      const before = reparseCount();
      const result = await validate({
        env: process.env,
        targets: ["."],
        cwd: clean,
        loadCatalog: catalogLoader({ env: process.env }),
      });
      expect(result.findings).toEqual([]);
      expect(result.stats.objects).toBe(56);
      expect(reparseCount() - before).toBe(0);
      // A finding needs its line: the file it is in is parsed again for its AST, and only that one.
      writeFileSync(path.join(clean, "apps/app-001/app/service.yaml"), service("app-001", '"80"'));
      const again = reparseCount();
      const broken = await validate({
        env: process.env,
        targets: ["."],
        cwd: clean,
        loadCatalog: catalogLoader({ env: process.env }),
      });
      expect(broken.findings.map((f) => `${f.file}:${f.line} ${f.rule}`)).toEqual([
        "apps/app-001/app/service.yaml:8 schema/invalid",
      ]);
      expect(reparseCount() - again).toBe(1);
    } finally {
      cleanRepo.remove();
    }
  });
});
