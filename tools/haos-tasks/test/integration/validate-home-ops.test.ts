import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { runCli } from "../support/cli.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";

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
const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

async function repo(): Promise<ScratchRepo> {
  const r = createScratchRepo({ prefix: "haos-home-ops-", from: fixture });
  scratch.push(r.dir);
  r.commit("init");
  return r;
}

const run = (argv: string[], cwd: string) => runCli(argv, { cwd, env: process.env });

function edit(dir: string, file: string, from: string, to: string): void {
  const absolute = path.join(dir, file);
  const text = readFileSync(absolute, "utf8");
  if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
  writeFileSync(absolute, text.replace(from, to));
}

interface Json {
  summary: { error: number; warning: number; info: number };
  rules: Record<string, { error: number; warning: number; info: number }>;
  stats: { files: number; kustomizations: number; objects: number };
  findings: { rule: string; file: string; line: number; severity: string; message: string }[];
  error?: { message: string };
}

const places = (json: Json) => json.findings.map((f) => `${f.severity} ${f.rule} ${f.file}:${f.line}`).sort();

describe.runIf(haveCatalog)(`validate on a home-ops-shaped repository${skipped}`, () => {
  it("has no finding at all with one schema location, the way kubeconform users pass it", async () => {
    const { dir } = await repo();
    const { code, stdout } = await run(["validate", "--format", "json", "--schema-location", location], dir);
    const json = JSON.parse(stdout) as Json;
    expect(places(json)).toEqual([]);
    expect(code).toBe(0);
    // The promtool test file and the escaped $${…} are no findings; every object is checked.
    // app-template 4.1.1 (the lock pins it) renders the HelmRelease's Deployment, Service, Ingress.
    expect(json.stats.objects).toBe(21);
  });

  it("without a location: one warning per missing kind, errors only under --strict", async () => {
    const { dir } = await repo();
    const plain = await run(["validate", "--format", "json"], dir);
    const json = JSON.parse(plain.stdout) as Json;
    expect(json.rules["schema/missing"]).toEqual({ error: 0, warning: 5, info: 0 });
    expect(json.findings.find((f) => f.rule === "schema/missing")?.message).toMatch(
      /^no schema for .+: 1 object not schema-checked/,
    );
    expect(plain.code).toBe(0);
    const strict = await run(["validate", "--format", "json", "--strict"], dir);
    expect((JSON.parse(strict.stdout) as Json).rules["schema/missing"]).toEqual({
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
    const globbed = JSON.parse((await run(["validate", "--format", "json"], dir)).stdout) as Json;
    expect(places(globbed)).toEqual(["warning config/unmatched .haos-tasks.yaml:8"]);
  });

  it("catches every planted error at its file:line (components, substitution, List, generated path, CRDs)", async () => {
    const { dir } = await repo();
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
    const { code, stdout } = await run(["validate", "--format", "json", "--schema-location", location], dir);
    const json = JSON.parse(stdout) as Json;
    expect(code).toBe(1);
    expect(places(json)).toEqual([
      "error references/source-ref kubernetes/apps/observability/rules/ks.yaml:13",
      "error schema/additional-property kubernetes/apps/default/echo/app/externalsecret.yaml:9",
      "error schema/invalid kubernetes/apps/default/echo/app/helmrelease.yaml:10",
      "error schema/invalid kubernetes/apps/default/echo/app/settings.yaml:9",
      "error schema/invalid kubernetes/apps/observability/rules/app/prometheusrule.yaml:12",
      "error schema/invalid kubernetes/components/common/limitrange.yaml:10",
    ]);
    const strict = JSON.parse(
      (await run(["validate", "--format", "json", "--strict", "--schema-location", location], dir)).stdout,
    ) as Json;
    expect(places(strict)).toContain(
      "error schema/additional-property kubernetes/apps/observability/rules/app/networkpolicy.yaml:6",
    );
    expect(strict.rules["schema/strict-root"]).toEqual({ error: 0, warning: 0, info: 1 });
  });

  it("single files: references resolve against the repository, only the given file is reported", async () => {
    const { dir } = await repo();
    const file = "kubernetes/apps/default/echo/app/helmrelease.yaml";
    const clean = await run(["validate", "--format", "json", "--schema-location", location, file], dir);
    expect(places(JSON.parse(clean.stdout) as Json)).toEqual([]);
    expect(clean.code).toBe(0);
    edit(dir, file, "${MAX_HISTORY:=3}", "${MAX_HISTORY:=three}");
    edit(dir, "kubernetes/components/common/limitrange.yaml", "memory: 32Mi", "memory: [32Mi]");
    const one = JSON.parse((await run(["validate", "--format", "json", file], dir)).stdout) as Json;
    expect(places(one)).toEqual([`error schema/invalid ${file}:10`]);
    expect(one.stats).toMatchObject({ files: 1, objects: 1 });
    // A components folder on its own: built through the Flux Kustomization that uses it.
    const components = JSON.parse(
      (await run(["validate", "--format", "json", "kubernetes/components/common"], dir)).stdout,
    ) as Json;
    expect(places(components)).toEqual([
      "error schema/invalid kubernetes/components/common/limitrange.yaml:10",
    ]);
  });

  it("--changed-since checks the files changed since a ref, and JSON carries the error on exit 2", async () => {
    const { dir, git } = await repo();
    edit(
      dir,
      "kubernetes/apps/default/echo/app/helmrelease.yaml",
      "${MAX_HISTORY:=3}",
      "${MAX_HISTORY:=three}",
    );
    const changed = await run(["validate", "--format", "json", "--changed-since", "HEAD"], dir);
    expect(places(JSON.parse(changed.stdout) as Json)).toEqual([
      "error schema/invalid kubernetes/apps/default/echo/app/helmrelease.yaml:10",
    ]);
    git("stash", "-q");
    const none = await run(["validate", "--changed-since", "HEAD"], dir);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("no YAML files changed");
    const bad = await run(["validate", "--format", "json", "--changed-since", "no-such-ref"], dir);
    expect(bad.code).toBe(2);
    expect((JSON.parse(bad.stdout) as Json).error?.message).toMatch(/git merge-base no-such-ref HEAD failed/);
  });
});

describe.runIf(haveCatalog)(`validate on the shape of Flux's flux2-kustomize-helm-example${skipped}`, () => {
  it("no finding with the schema location; production and staging are two clusters, not duplicates", async () => {
    const { dir } = createScratchRepo({
      prefix: "haos-kustomize-helm-",
      from: path.resolve(import.meta.dirname, "../fixtures/validate/flux-kustomize-helm"),
    });
    scratch.push(dir);
    const clean = await run(["validate", "--format", "json", "--schema-location", location], dir);
    // Their charts are on HTTP repositories this machine cannot reach: one warning each, never a
    // false error (validate-render.test.ts renders charts from a real registry).
    expect(places(JSON.parse(clean.stdout) as Json)).toEqual([
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
    const bad = await run(["validate", "--format", "json", "--schema-location", location], dir);
    // The chart (podinfo, on an HTTP repository this machine cannot reach) is not rendered here, so
    // its values schema cannot judge the values: validate-render.test.ts plants such errors in a
    // chart served from a real registry.
    expect(bad.code).toBe(0);
    edit(dir, "apps/production/podinfo-values.yaml", "  chart:\n", "  chrat:\n");
    const typo = await run(["validate", "--format", "json", "--schema-location", location], dir);
    // Caught; placed at the patched object's source (the base), at the nearest existing parent:
    // findings do not yet follow a field into the patch file that added it.
    const found = (JSON.parse(typo.stdout) as Json).findings.filter(
      (f) => f.rule !== "helm/chart-unavailable",
    );
    expect(found.map((f) => `${f.rule} ${f.file}:${f.line}`)).toEqual([
      "schema/additional-property apps/base/podinfo/release.yaml:6",
    ]);
    expect(found[0]?.message).toContain("unknown field 'chrat' at /spec/chrat");
  });
});
