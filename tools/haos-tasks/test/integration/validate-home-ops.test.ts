import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { runCli } from "../support/cli.ts";
import {
  edit,
  findingPlaces,
  scratchRepos,
  type ValidateJson,
  validateJson,
} from "../support/validate-repo.ts";

// A home-ops-shaped repository (test/fixtures/validate/home-ops): flux/cluster Kustomizations
// with postBuild substitution from a ConfigMap and a SOPS Secret, a Flux path without a
// kustomization.yaml, spec.components, a FluxInstance, an ArtifactGenerator, a `kind: List`, an
// explicit null, a promtool test file, CRD kinds from the community catalog. Real kubectl
// kustomize, real kubeconform, the real catalog directory as a schema location.
const fixture = path.resolve(import.meta.dirname, "../fixtures/validate/home-ops");
// The community catalog subset beside the checkout (../shared/catalogs, see its README).
const catalog = path.resolve(toolsRepoRoot, "../shared/catalogs/datree-crds-catalog");
const haveCatalog = existsSync(catalog);
// The title says why the tests were skipped.
const skipped = haveCatalog ? "" : ` (skipped: no catalog at ${catalog})`;
const location = `${catalog}/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`;
const repos = scratchRepos();
afterAll(() => repos.removeAll());

const repo = () => repos.create({ prefix: "haos-home-ops-", from: fixture });
const places = (json: ValidateJson) => findingPlaces(json.findings);

describe.runIf(haveCatalog)(`validate on a home-ops-shaped repository${skipped}`, () => {
  it("has no finding at all with one schema location, the way kubeconform users pass it", async () => {
    const { dir } = repo();
    const { code, json } = await validateJson(dir, ["--schema-location", location]);
    expect(places(json)).toEqual([]);
    expect(code).toBe(0);
    // The promtool test file and the escaped $${…} are no findings; every object is checked.
    // app-template 4.1.1 (the lock pins it) renders the HelmRelease's Deployment, Service, Ingress.
    expect(json.stats.objects).toBe(21);
  });

  it("without a location: one warning per missing kind, errors only under --strict", async () => {
    const { dir } = repo();
    const plain = await validateJson(dir);
    expect(plain.json.rules["schema/missing"]).toEqual({ error: 0, warning: 5, info: 0 });
    expect(plain.json.findings.find((f) => f.rule === "schema/missing")?.message).toMatch(
      /^no schema for .+: 1 object not schema-checked/,
    );
    expect(plain.code).toBe(0);
    const strict = await validateJson(dir, ["--strict"]);
    expect(strict.json.rules["schema/missing"]).toEqual({
      error: 5,
      warning: 0,
      info: 0,
    });
    expect(strict.code).toBe(1);
    // kindsWithoutSchema takes globs, and says when an entry matches nothing.
    writeFileSync(
      path.join(dir, ".haos-tasks.yaml"),
      [
        "validate:",
        "  kindsWithoutSchema:",
        "    - { kind: 'cilium.io/*', reason: CNI }",
        "    - { kind: 'monitoring.coreos.com/v1', reason: operator }",
        "    - { kind: '*.fluxcd.io/*', reason: flux extensions }",
        "    - { kind: 'fluxcd.controlplane.io/v1/*', reason: flux-operator }",
        "    - { kind: 'external-secrets.io/*/ExternalSecret', reason: ESO }",
        "    - { kind: 'gateway.networking.k8s.io/*', reason: not used yet }",
        "",
      ].join("\n"),
    );
    const { json: globbed } = await validateJson(dir);
    expect(places(globbed)).toEqual(["warning config/unmatched .haos-tasks.yaml:8"]);
  });

  it("catches every planted error at its file:line (components, substitution, List, generated path, CRDs)", async () => {
    const { dir } = repo();
    // A type error in a component only a Flux Kustomization's spec.components brings in.
    edit(dir, "kubernetes/components/common/limitrange.yaml", "memory: 32Mi", "memory: [32Mi]");
    // A substituted default that is not a number.
    edit(
      dir,
      "kubernetes/apps/default/echo/app/helmrelease.yaml",
      "${MAX_HISTORY:=3}",
      "${MAX_HISTORY:=three}",
    );
    // A misspelt nested field of an external (catalog) schema.
    edit(
      dir,
      "kubernetes/apps/default/echo/app/externalsecret.yaml",
      "    name: onepassword",
      "    nmae: onepassword",
    );
    // An item of a kind: List.
    edit(
      dir,
      "kubernetes/apps/default/echo/app/settings.yaml",
      "      domain: echo.${SECRET_DOMAIN}",
      "      domain: [1]",
    );
    // A file of a Flux path without kustomization.yaml (Flux generates one).
    edit(dir, "kubernetes/apps/observability/rules/app/prometheusrule.yaml", "for: 5m", "for: [5m]");
    // A misspelt top-level key: the catalog leaves the root open, --strict closes it.
    edit(dir, "kubernetes/apps/observability/rules/app/networkpolicy.yaml", "spec:", "spce:");
    // A sourceRef to nothing (flux-system and the FluxInstance's home-ops are known).
    edit(dir, "kubernetes/apps/observability/rules/ks.yaml", "name: flux-system", "name: home-opz");
    const { code, json } = await validateJson(dir, ["--schema-location", location]);
    expect(code).toBe(1);
    expect(places(json)).toEqual([
      "error references/source-ref kubernetes/apps/observability/rules/ks.yaml:13",
      "error schema/additional-property kubernetes/apps/default/echo/app/externalsecret.yaml:9",
      "error schema/invalid kubernetes/apps/default/echo/app/helmrelease.yaml:10",
      "error schema/invalid kubernetes/apps/default/echo/app/settings.yaml:9",
      "error schema/invalid kubernetes/apps/observability/rules/app/prometheusrule.yaml:12",
      "error schema/invalid kubernetes/components/common/limitrange.yaml:10",
    ]);
    const { json: strict } = await validateJson(dir, ["--strict", "--schema-location", location]);
    expect(places(strict)).toContain(
      "error schema/additional-property kubernetes/apps/observability/rules/app/networkpolicy.yaml:6",
    );
    expect(strict.rules["schema/strict-root"]).toEqual({ error: 0, warning: 0, info: 1 });
  });

  it("single files: references resolve against the repository, only the given file is reported", async () => {
    const { dir } = repo();
    const file = "kubernetes/apps/default/echo/app/helmrelease.yaml";
    const clean = await validateJson(dir, ["--schema-location", location, file]);
    expect(places(clean.json)).toEqual([]);
    expect(clean.code).toBe(0);
    edit(dir, file, "${MAX_HISTORY:=3}", "${MAX_HISTORY:=three}");
    edit(dir, "kubernetes/components/common/limitrange.yaml", "memory: 32Mi", "memory: [32Mi]");
    const { json: one } = await validateJson(dir, [file]);
    expect(places(one)).toEqual([`error schema/invalid ${file}:10`]);
    expect(one.stats).toMatchObject({ files: 1, objects: 1 });
    // A components folder on its own: built through the Flux Kustomization that uses it.
    const { json: components } = await validateJson(dir, ["kubernetes/components/common"]);
    expect(places(components)).toEqual([
      "error schema/invalid kubernetes/components/common/limitrange.yaml:10",
    ]);
  });

  it("--changed-since checks the files changed since a ref, and JSON carries the error on exit 2", async () => {
    const { dir, git } = repo();
    edit(
      dir,
      "kubernetes/apps/default/echo/app/helmrelease.yaml",
      "${MAX_HISTORY:=3}",
      "${MAX_HISTORY:=three}",
    );
    const changed = await validateJson(dir, ["--changed-since", "HEAD"]);
    expect(places(changed.json)).toEqual([
      "error schema/invalid kubernetes/apps/default/echo/app/helmrelease.yaml:10",
    ]);
    git("stash", "-q");
    const none = await runCli(["validate", "--changed-since", "HEAD"], { cwd: dir, env: process.env });
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("no YAML files changed");
    const bad = await validateJson(dir, ["--changed-since", "no-such-ref"]);
    expect(bad.code).toBe(2);
    expect(bad.json.error?.message).toMatch(/git merge-base no-such-ref HEAD failed/);
  });
});

describe.runIf(haveCatalog)(`validate on the shape of Flux's flux2-kustomize-helm-example${skipped}`, () => {
  it("no finding with the schema location; production and staging are two clusters, not duplicates", async () => {
    const { dir } = repos.create({
      prefix: "haos-kustomize-helm-",
      from: path.resolve(import.meta.dirname, "../fixtures/validate/flux-kustomize-helm"),
      commit: false,
    });
    const clean = await validateJson(dir, ["--schema-location", location]);
    // Their charts are on HTTP repositories this machine cannot reach: one warning each, never a
    // false error (validate-render.test.ts renders charts from a real registry).
    expect(places(clean.json)).toEqual([
      "warning helm/chart-unavailable apps/base/podinfo/release.yaml:8",
      "warning helm/chart-unavailable infrastructure/controllers/cert-manager.yaml:23",
      "warning helm/chart-unavailable infrastructure/controllers/ingress-nginx.yaml:23",
    ]);
    expect(clean.code).toBe(0);
    // A planted error in the production values patch is caught at its line.
    edit(
      dir,
      "apps/production/podinfo-values.yaml",
      "pathType: ImplementationSpecific",
      "pathTyp: ImplementationSpecific",
    );
    const bad = await validateJson(dir, ["--schema-location", location]);
    // The chart (podinfo, on an HTTP repository this machine cannot reach) is not rendered here, so
    // its values schema cannot judge the values: validate-render.test.ts plants such errors in a
    // chart served from a real registry.
    expect(bad.code).toBe(0);
    edit(dir, "apps/production/podinfo-values.yaml", "  chart:\n", "  chrat:\n");
    const typo = await validateJson(dir, ["--schema-location", location]);
    // Caught; placed at the patched object's source (the base), at the nearest existing parent:
    // findings do not yet follow a field into the patch file that added it.
    const found = typo.json.findings.filter((f) => f.rule !== "helm/chart-unavailable");
    expect(found.map((f) => `${f.rule} ${f.file}:${f.line}`)).toEqual([
      "schema/additional-property apps/base/podinfo/release.yaml:6",
    ]);
    expect(found[0]?.message).toContain("unknown field 'chrat' at /spec/chrat");
  });
});
