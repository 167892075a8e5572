import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";
import { runBundledAction } from "./action-harness.ts";

// The bundled Action's validate command with the real kubeconform and the pinned schema catalog.
const toolsDir = path.join(toolsRepoRoot, ".tools", "bin");
let repo: ScratchRepo | undefined;
afterEach(() => repo?.remove());

const configMap = (name: string, extra = "") =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: demo\ndata:\n  mode: blue\n${extra}`;

function appRepo(files: Record<string, string>): ScratchRepo {
  repo = createScratchRepo("haos-tasks-action-validate-");
  repo.write(files);
  repo.commit("feat: demo");
  return repo;
}

describe("the Action's validate command (dist/index.js)", () => {
  it("annotates each finding at file:line, fills the summary table, counts and SARIF, and fails", async () => {
    const repo = appRepo({
      "apps/demo/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n",
      "apps/demo/cm.yaml": configMap("demo", "spce:\n  x: 1\n"),
    });
    const run = await runBundledAction(
      { command: "validate", paths: "apps", "tools-dir": toolsDir, "sarif-file": "validate.sarif" },
      { workspace: repo.dir },
    );
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.outputs).toMatchObject({ errors: "1", warnings: "0" });
    // The properties in whichever order @actions/core writes them.
    const annotation =
      /^::error ([^:]*)::ConfigMap demo: unknown field 'spce' at \/spce%0Afix: /m.exec(run.stdout)?.[1] ?? "";
    expect(annotation.split(",").sort()).toEqual([
      "col=1",
      "file=apps/demo/cm.yaml",
      "line=8",
      "title=schema/additional-property",
    ]);
    expect(run.errors.at(-1)).toBe("validate: 1 errors (see the annotations and job summary)");
    expect(run.summary).toContain("| error | apps/demo/cm.yaml | 8 | `schema/additional-property` |");
    const sarif = JSON.parse(readFileSync(path.join(repo.dir, "validate.sarif"), "utf8")) as {
      runs: { results: { locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[];
    };
    expect(sarif.runs[0]?.results[0]?.locations[0]?.physicalLocation.region.startLine).toBe(8);
  });

  it("passes a clean app, and caps annotations at GitHub's 10 per kind with a notice for the rest", async () => {
    const clean = await runBundledAction(
      { command: "validate", paths: "apps", "tools-dir": toolsDir },
      {
        workspace: appRepo({
          "apps/demo/kustomization.yaml":
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n",
          "apps/demo/cm.yaml": configMap("demo"),
        }).dir,
      },
    );
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.outputs).toMatchObject({ errors: "0", warnings: "0" });
    repo?.remove();

    const files: Record<string, string> = {
      "apps/many/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${Array.from({ length: 14 }, (_, i) => `  - cm${i}.yaml\n`).join("")}`,
    };
    for (let i = 0; i < 14; i++) files[`apps/many/cm${i}.yaml`] = configMap(`cm${i}`, "spce: 1\n");
    const many = await runBundledAction(
      { command: "validate", paths: "apps", "tools-dir": toolsDir },
      { workspace: appRepo(files).dir },
    );
    expect(many.code).toBe(1);
    expect(many.outputs.errors).toBe("14");
    expect(many.stdout.match(/^::error [^:]*file=/gm)).toHaveLength(10);
    expect(many.stdout).toMatch(/^::notice title=haos-tasks::4 more findings not annotated/m);
    expect(many.summary.match(/^\| error \| apps\/many\/cm\d+\.yaml/gm)).toHaveLength(14);
  });

  it("strict means what the CLI's --strict means: a kind without a schema is an error, and fails", async () => {
    const files = {
      "apps/demo/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - widget.yaml\n",
      "apps/demo/widget.yaml":
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: demo\n",
    };
    const loose = await runBundledAction(
      { command: "validate", paths: "apps", "tools-dir": toolsDir },
      { workspace: appRepo(files).dir },
    );
    expect(loose.code, loose.stdout + loose.stderr).toBe(0);
    expect(loose.outputs).toMatchObject({ errors: "0", warnings: "1" });
    repo?.remove();
    const strict = await runBundledAction(
      { command: "validate", paths: "apps", "tools-dir": toolsDir, strict: "true" },
      { workspace: appRepo(files).dir },
    );
    expect(strict.code).toBe(1);
    expect(strict.outputs).toMatchObject({ errors: "1", warnings: "0" });
    expect(strict.stdout).toMatch(
      /^::error [^:]*title=schema\/missing[^:]*::no schema for example\.com\/v1\/Widget/m,
    );
  });

  it("names tools-dir when it holds no kubeconform", async () => {
    const run = await runBundledAction(
      { command: "validate", "tools-dir": "nowhere" },
      { workspace: appRepo({ "README.md": "x\n" }).dir },
    );
    expect(run.code).toBe(1);
    expect(run.errors[0]).toMatch(/^input 'tools-dir' has no kubeconform in .*\/nowhere$/);
  });
});
