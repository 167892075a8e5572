import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { edit, scratchRepos, validateJson } from "../support/validate-repo.ts";

// Flux Kustomizations as Flux applies them (issue 26 §2, issue 22 §3): the cluster-template
// idiom, where a parent Kustomization's spec.patches give every child its interval, prune,
// sourceRef and postBuild, and the parent's substitution resolves the child's own spec.path.
// Real in-process kustomize (the parent's patches added as kustomize-controller's generator adds
// them), real kubeconform.
const fixture = path.resolve(import.meta.dirname, "../fixtures/validate/cluster-template");
const repos = scratchRepos();
afterAll(() => repos.removeAll());

const repo = () => repos.create({ prefix: "haos-cluster-template-", from: fixture }).dir;
const validate = (dir: string) => validateJson(dir, ["."]);

describe("validate: child Kustomizations as their parent's build gives them", () => {
  it("the pristine cluster-template repository has no error (the parent's patches and substitution applied)", async () => {
    const dir = repo();
    const { code, places } = await validate(dir);
    expect(places).toEqual([]);
    expect(code).toBe(0);
  }, 60_000);

  it("a value the parent's substituteFrom (injected by its patch) gives is still checked", async () => {
    const dir = repo();
    edit(dir, "kubernetes/flux/cluster.yaml", 'ECHO_REPLICAS: "2"', "ECHO_REPLICAS: two");
    const { code, places } = await validate(dir);
    expect(places).toEqual(["schema/invalid kubernetes/apps/echo/app/deployment.yaml:6"]);
    expect(code).toBe(1);
  }, 60_000);

  it("a typo in the child's own spec is reported at its line", async () => {
    const dir = repo();
    edit(dir, "kubernetes/apps/echo/ks.yaml", "  targetNamespace: default", "  targetNamespce: default");
    const { places } = await validate(dir);
    expect(places).toEqual(["schema/additional-property kubernetes/apps/echo/ks.yaml:10"]);
  }, 60_000);
});
