import { readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { createScratchRepo } from "../support/scratch-repo.ts";

// Flux Kustomizations as Flux applies them (issue 26 §2, issue 22 §3): the cluster-template
// idiom, where a parent Kustomization's spec.patches give every child its interval, prune,
// sourceRef and postBuild, and the parent's substitution resolves the child's own spec.path.
// Real in-process kustomize (the parent's patches added as kustomize-controller's generator adds
// them), real kubeconform.
const fixture = path.resolve(import.meta.dirname, "../fixtures/validate/cluster-template");
const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

async function repo(): Promise<string> {
  const r = createScratchRepo({ prefix: "haos-cluster-template-", from: fixture });
  scratch.push(r.dir);
  r.commit("init");
  return r.dir;
}

function edit(dir: string, file: string, from: string, to: string): void {
  const absolute = path.join(dir, file);
  const text = readFileSync(absolute, "utf8");
  if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
  writeFileSync(absolute, text.replace(from, to));
}

interface Json {
  findings: { rule: string; file: string; line: number; severity: string; message: string }[];
}

async function validate(dir: string): Promise<{ code: number; places: string[]; json: Json }> {
  const result = await runCli(["validate", "--format", "json", "."], { cwd: dir, env: process.env });
  const json = JSON.parse(result.stdout) as Json;
  return {
    code: result.code,
    places: json.findings
      .filter((f) => f.severity === "error")
      .map((f) => `${f.rule} ${f.file}:${f.line}`)
      .sort(),
    json,
  };
}

describe("validate: child Kustomizations as their parent's build gives them", () => {
  it("the pristine cluster-template repository has no error (the parent's patches and substitution applied)", async () => {
    const dir = await repo();
    const { code, places } = await validate(dir);
    expect(places).toEqual([]);
    expect(code).toBe(0);
  }, 60_000);

  it("a value the parent's substituteFrom (injected by its patch) gives is still checked", async () => {
    const dir = await repo();
    edit(dir, "kubernetes/flux/cluster.yaml", 'ECHO_REPLICAS: "2"', "ECHO_REPLICAS: two");
    const { code, places } = await validate(dir);
    expect(places).toEqual(["schema/invalid kubernetes/apps/echo/app/deployment.yaml:6"]);
    expect(code).toBe(1);
  }, 60_000);

  it("a typo in the child's own spec is reported at its line", async () => {
    const dir = await repo();
    edit(dir, "kubernetes/apps/echo/ks.yaml", "  targetNamespace: default", "  targetNamespce: default");
    const { places } = await validate(dir);
    expect(places).toEqual(["schema/additional-property kubernetes/apps/echo/ks.yaml:10"]);
  }, 60_000);
});
