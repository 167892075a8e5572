import { existsSync, readFileSync, writeFileSync } from "node:fs";
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

// Issue 26: the causes of the false errors on public repositories no one here had seen, one
// fixture of our own each (test/fixtures/validate/unseen/<cause>). Each validates with no false
// error, and a planted error in each is still caught at its file:line. Real git, real kustomize,
// real kubeconform, the community catalog as a --schema-location directory.
const fixtures = path.resolve(import.meta.dirname, "../fixtures/validate/unseen");
const catalog = path.resolve(toolsRepoRoot, "../shared/catalogs/datree-crds-catalog");
const haveCatalog = existsSync(catalog);
const skipped = haveCatalog ? "" : ` (skipped: no catalog at ${catalog})`;
const location = `${catalog}/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`;
const repos = scratchRepos();
afterAll(() => repos.removeAll());

function repo(name: string, origin?: string): string {
  const r = repos.create({ prefix: `haos-unseen-${name}-`, from: path.join(fixtures, name), commit: false });
  if (origin) r.git("remote", "add", "origin", origin);
  r.commit("init");
  // As a clone has it: origin/main, and origin/HEAD naming the default branch.
  if (origin) {
    r.git("update-ref", "refs/remotes/origin/main", "HEAD");
    r.git("remote", "set-head", "origin", "main");
  }
  return r.dir;
}

const validate = (dir: string) => validateJson(dir, ["--schema-location", location]);

// The flux-instance chart is on ghcr.io, which this machine cannot reach: its one
// helm/chart-unavailable warning per HelmRelease is left out here (validate-render.test.ts renders
// charts from a real registry).
const places = (json: ValidateJson, severities?: string[]) =>
  findingPlaces(
    json.findings.filter((f) => f.rule !== "helm/chart-unavailable"),
    severities,
  );

describe.runIf(haveCatalog)(`validate on layouts it has never seen${skipped}`, () => {
  it("multi-cluster: kubernetes/main and kubernetes/utility are two clusters, each checked with its own variables", async () => {
    const dir = repo("multi-cluster");
    const { code, json } = await validate(dir);
    // The same objects in both clusters are no duplicates, the SOPS files (4-space indents) no
    // style finding; `- n` is a warning (kustomize applies the string "n").
    expect(places(json)).toEqual([
      "warning yaml/truthy kubernetes/main/apps/default/echo/app/deployment.yaml:20",
      "warning yaml/truthy kubernetes/utility/apps/default/echo/app/deployment.yaml:20",
    ]);
    expect(code).toBe(0);
    expect(json.clusters).toEqual([
      { name: "kubernetes/main", root: "kubernetes/main/flux/cluster" },
      { name: "kubernetes/utility", root: "kubernetes/utility/flux/cluster" },
    ]);
    // kustomization.yaml files and Flux Kustomizations are counted apart; the shared podinfo
    // Deployment is checked once per cluster (25 objects + 1).
    expect(json.stats).toMatchObject({ kustomizations: 13, fluxKustomizations: 10, objects: 26 });
    const text = await runCli(["validate", "--schema-location", location], { cwd: dir, env: process.env });
    expect(text.stdout).toContain(
      "13 kustomization.yaml, 10 Flux Kustomizations, 26 objects; 2 clusters: kubernetes/main, kubernetes/utility",
    );

    // utility's cluster-settings: a replica count that is no number. Its own Deployment and the
    // shared podinfo (checked with utility's variables) fail; main's, with "2", does not.
    edit(
      dir,
      "kubernetes/utility/flux/vars/cluster-settings.yaml",
      'ECHO_REPLICAS: "1"',
      'ECHO_REPLICAS: "one"',
    );
    // A true duplicate inside one cluster: a second Namespace default in main's echo app.
    writeFileSync(
      path.join(dir, "kubernetes/main/apps/default/echo/app/namespace.yaml"),
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n",
    );
    edit(
      dir,
      "kubernetes/main/apps/default/echo/app/kustomization.yaml",
      "  - ./deployment.yaml",
      "  - ./deployment.yaml\n  - ./namespace.yaml",
    );
    // A sourceRef to a GitRepository only the other cluster defines.
    writeFileSync(
      path.join(dir, "kubernetes/utility/apps/default/repo.yaml"),
      [
        "apiVersion: source.toolkit.fluxcd.io/v1",
        "kind: GitRepository",
        "metadata:",
        "  name: utility-only",
        "  namespace: flux-system",
        "spec:",
        "  interval: 1h",
        "  url: https://github.com/example/other",
        "  ref:",
        "    branch: main",
        "",
      ].join("\n"),
    );
    edit(
      dir,
      "kubernetes/utility/apps/default/kustomization.yaml",
      "  - ./namespace.yaml",
      "  - ./namespace.yaml\n  - ./repo.yaml",
    );
    edit(
      dir,
      "kubernetes/main/apps/flux-system/flux-instance/ks.yaml",
      "name: flux-system\n",
      "name: utility-only\n",
    );
    const bad = await validate(dir);
    expect(places(bad.json, ["error", "warning"])).toEqual([
      "error references/source-ref kubernetes/main/apps/flux-system/flux-instance/ks.yaml:13",
      "error schema/invalid kubernetes/shared/podinfo/app/deployment.yaml:6",
      "error schema/invalid kubernetes/utility/apps/default/echo/app/deployment.yaml:6",
      "warning references/duplicate-resource kubernetes/main/apps/default/namespace.yaml:4",
      "warning yaml/truthy kubernetes/main/apps/default/echo/app/deployment.yaml:20",
      "warning yaml/truthy kubernetes/utility/apps/default/echo/app/deployment.yaml:20",
    ]);
    expect(bad.json.findings.find((f) => f.rule === "references/source-ref")?.message).toBe(
      "GitRepository flux-system/utility-only is not defined in cluster kubernetes/main, only in another cluster of the repository",
    );
    expect(bad.code).toBe(1);
  });

  it("home-ops: SOPS files, ExternalSecret templates and a generated Flux path give no finding; planted errors are caught at their line", async () => {
    const dir = repo("home-ops");
    const clean = await validate(dir);
    expect(places(clean.json)).toEqual([]);
    expect(clean.code).toBe(0);
    expect(clean.json.clusters).toEqual([{ name: "kubernetes", root: "kubernetes/flux/cluster" }]);

    // A `${VAR:=x` without its closing brace: Flux's build fails, reported where it is written.
    edit(
      dir,
      "kubernetes/apps/default/echo/app/configmap.yaml",
      '"${APP_SCHEME:=http}"',
      '"${APP_SCHEME:=http"',
    );
    // A real token next to the templates.
    edit(
      dir,
      "kubernetes/apps/default/echo/app/externalsecret.yaml",
      "        key: github",
      "        key: github\n      rewrite: []\n  refreshInterval: ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    );
    // A repeated key: kustomize (and so Flux) fails the build of kubernetes/apps/default ...
    edit(
      dir,
      "kubernetes/apps/default/namespace.yaml",
      "  name: default",
      "  name: default\n  name: default",
    );
    // ... while observability, listed beside it in the kustomization Flux generates for
    // kubernetes/apps, is still built and checked.
    edit(dir, "kubernetes/apps/observability/networkpolicy.yaml", "podSelector: {}", "podSelector: []");
    // Style on a file no machine wrote is still reported (a warning), unlike the SOPS files.
    edit(dir, "kubernetes/flux/vars/cluster-settings.yaml", "  TIMEZONE:", "      TIMEZONE:");
    const bad = await validate(dir);
    expect(places(bad.json)).toEqual([
      "error build/kustomize kubernetes/apps/default/kustomization.yaml:4",
      "error flux/substitution kubernetes/apps/default/echo/app/configmap.yaml:7",
      "error schema/invalid kubernetes/apps/observability/networkpolicy.yaml:7",
      "error secrets/plaintext-credential kubernetes/apps/default/echo/app/externalsecret.yaml:22",
      "error yaml/duplicate-key kubernetes/apps/default/namespace.yaml:5",
      "warning yaml/indentation kubernetes/flux/vars/cluster-settings.yaml:7",
    ]);
    const at = (rule: string) => bad.json.findings.find((f) => f.rule === rule);
    expect(at("flux/substitution")?.column).toBe(12);
    expect(at("build/kustomize")?.message).toContain("kubernetes/apps/default/namespace.yaml repeats a key");
    expect(at("yaml/duplicate-key")?.message).toContain("Flux's build of it fails");
    expect(bad.code).toBe(1);
  });

  it("sources: an OCI artifact CI pushes and an ExternalArtifact generated from it are folders here; another branch is said once", async () => {
    const dir = repo("sources", "git@github.com:example/home-ops.git");
    const clean = await validate(dir);
    // The OCIRepository the flux-instance chart's FluxInstance creates is no missing source;
    // ./apps of the artifact is kubernetes/apps, ./ of the generated artifact kubernetes/platform,
    // each built with its Kustomization's variables. The staging branch is one info, not a build.
    expect(places(clean.json)).toEqual(["info flux/foreign-source kubernetes/flux/cluster/ks.yaml:58"]);
    // (A pull request's base branch, in CI, is the cluster's branch too.)
    expect(clean.json.findings.find((f) => f.rule === "flux/foreign-source")?.message).toMatch(
      /^GitRepository flux-system\/home-ops-staging: it reads branch staging of this repository, the cluster's branch is main\b.*; not built or checked here: Kustomization staging-apps \(\.\/kubernetes\/staging\)$/,
    );
    expect(clean.code).toBe(0);
    expect(clean.json.stats.objects).toBe(9);

    // A wrong spec.path inside the artifact, and a value its Kustomization substitutes wrongly.
    edit(dir, "kubernetes/flux/cluster/ks.yaml", "path: ./apps", "path: ./appz");
    edit(dir, "kubernetes/flux/cluster/ks.yaml", 'REPLICAS: "2"', 'REPLICAS: "two"');
    const bad = await validate(dir);
    expect(places(bad.json)).toEqual([
      "error references/flux-path kubernetes/flux/cluster/ks.yaml:9",
      "error schema/invalid kubernetes/platform/deployment.yaml:7",
      "info flux/foreign-source kubernetes/flux/cluster/ks.yaml:58",
    ]);
    expect(bad.json.findings.find((f) => f.rule === "references/flux-path")?.message).toBe(
      "spec.path './appz' is not a directory of kubernetes, the folder of this repository its source holds",
    );
    expect(bad.code).toBe(1);
  });

  it("flux-instance: a FluxInstance's sync of this repository is a cluster whose path is checked; another repository's is said once", async () => {
    const dir = repo("flux-instance", "git@github.com:example/home-ops.git");
    const clean = await validate(dir);
    expect(places(clean.json)).toEqual(["info flux/foreign-source kubernetes/edge/flux-instance.yaml:12"]);
    expect(clean.json.findings.find((f) => f.rule === "flux/foreign-source")?.message).toBe(
      "GitRepository flux-system/edge-fleet: https://github.com/example/edge-fleet.git is not this checkout (origin git@github.com:example/home-ops.git); not built or checked here: Kustomization edge-fleet (clusters/edge, created by FluxInstance flux)",
    );
    expect(clean.json.clusters).toEqual([{ name: "kubernetes/main", root: "kubernetes/main/cluster" }]);
    expect(clean.code).toBe(0);

    // A sync path that is no folder of the repository: the Kustomization the operator creates
    // would fail, reported at the path.
    edit(
      dir,
      "kubernetes/main/flux-instance.yaml",
      "path: kubernetes/main/cluster",
      "path: kubernetes/main/clustr",
    );
    const bad = await validate(dir);
    expect(places(bad.json)).toEqual([
      "error references/flux-path kubernetes/main/flux-instance.yaml:16",
      "info flux/foreign-source kubernetes/edge/flux-instance.yaml:12",
    ]);
    expect(bad.json.findings.find((f) => f.rule === "references/flux-path")?.message).toBe(
      "spec.sync.path 'kubernetes/main/clustr' is not a directory of the repository",
    );
    expect(bad.code).toBe(1);
  });

  it("resourceset: the Kustomizations and sources a ResourceSet generates from its inputs are mapped; what it leaves unchecked is said", async () => {
    const dir = repo("resourceset", "git@github.com:example/home-ops.git");
    const clean = await validate(dir);
    // kubernetes/apps/echo and web are built with the REPLICAS each input gives; `dependsOn: echo`
    // names a generated Kustomization; the tenant's repository is another one; previews' inputs
    // come from a provider. One info per ResourceSet, none of it an error.
    expect(places(clean.json)).toEqual([
      "info flux/foreign-source kubernetes/cluster/apps.yaml:45",
      "info flux/resourceset kubernetes/cluster/apps.yaml:13",
      "info flux/resourceset kubernetes/cluster/apps.yaml:38",
      "info flux/resourceset kubernetes/cluster/apps.yaml:66",
    ]);
    const messages = clean.json.findings.map((f) => f.message);
    expect(messages).toContain(
      "ResourceSet flux-system/apps: the 2 objects it generates from its inputs (Kustomization ×2) are not checked themselves (schema, references); the folders its Kustomizations apply are built and checked",
    );
    expect(messages).toContain(
      "GitRepository flux-system/team1: https://github.com/example/team1-apps is not this checkout (origin git@github.com:example/home-ops.git); not built or checked here: Kustomization team1 (./deploy, generated by ResourceSet tenants)",
    );
    expect(messages).toContain(
      "ResourceSet flux-system/previews: the objects it generates are not known here (its inputs come from ResourceSetInputProviders, known only in the cluster): not built or checked",
    );
    expect(clean.json.clusters).toEqual([{ name: "kubernetes", root: "kubernetes/cluster" }]);
    expect(clean.code).toBe(0);

    // An input that substitutes a wrong value, a path the template misspells, a dependsOn to no
    // generated Kustomization.
    edit(dir, "kubernetes/cluster/apps.yaml", 'replicas: "2"', 'replicas: "two"');
    edit(dir, "kubernetes/cluster/ks.yaml", "- name: echo", "- name: echoo");
    const bad = await validate(dir);
    expect(places(bad.json, ["error"])).toEqual([
      "error references/depends-on kubernetes/cluster/ks.yaml:11",
      "error schema/invalid kubernetes/apps/echo/deployment.yaml:7",
    ]);
    expect(bad.code).toBe(1);
    edit(dir, "kubernetes/cluster/apps.yaml", "path: ./kubernetes/apps/<<", "path: ./kubernetes/app/<<");
    const path = await validate(dir);
    expect(
      path.json.findings
        .filter((f) => f.rule === "references/flux-path")
        .map((f) => `${f.file}:${f.line} ${f.message}`),
    ).toEqual([
      "kubernetes/cluster/apps.yaml:20 spec.resources.0.spec.path './kubernetes/app/echo' is not a directory of the repository",
      "kubernetes/cluster/apps.yaml:20 spec.resources.0.spec.path './kubernetes/app/web' is not a directory of the repository",
    ]);
  });

  it("a --schema-location that resolves nothing is a schema/source warning naming it and why", async () => {
    const dir = repo("home-ops");
    const run = async (value: string) => {
      const { json } = await validateJson(dir, ["--schema-location", value]);
      return json.findings.filter((f) => f.rule === "schema/source");
    };
    const missing = await run(
      path.join(dir, "no-such-catalog/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"),
    );
    expect(missing.map((f) => [f.severity, f.message])).toEqual([
      [
        "warning",
        `schema location ${dir}/no-such-catalog/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json could not be read (the folder ${dir}/no-such-catalog does not exist); kinds only it has stay unchecked`,
      ],
    ]);
    const untemplated = await run(catalog);
    expect(untemplated.map((f) => f.message)).toEqual([
      `schema location ${catalog} resolved none of the 1 kinds asked of it (external-secrets.io/v1/ExternalSecret): a folder without a {{…}} template is read as <version>-standalone/<kind>.json; this one holds API groups: give ${location}`,
    ]);
    expect(await run(location)).toEqual([]);
    // From a flag it is reported against the configuration (the run's own finding, shown for any
    // paths given); from schemas.locations, at its line there.
    expect(missing[0]?.file).toBe(".haos-tasks.yaml");
    writeFileSync(
      path.join(dir, ".haos-tasks.yaml"),
      "schemas:\n  locations:\n    - ./no-such/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json\n",
    );
    const { json } = await validateJson(dir);
    const configured = json.findings.filter((f) => f.rule === "schema/source");
    expect(configured.map((f) => `${f.file}:${f.line}:${f.column}`)).toEqual([".haos-tasks.yaml:3:7"]);
    expect(configured[0]?.message).toMatch(/\(the folder .*\/no-such does not exist\)/);
  });

  it("forked-crd: the repository's CRD wins over the catalog's; flux-operator's event source kinds are known", async () => {
    const dir = repo("forked-crd");
    const clean = await validate(dir);
    // The catalog's ReplicationSource has no kopia mover, the repository's fork has; an Alert may
    // watch a FluxInstance and ResourceSets.
    expect(places(clean.json)).toEqual([]);
    expect(clean.code).toBe(0);

    // The fork's schema is the one checked, closed like the pinned CRDs.
    edit(dir, "kubernetes/apps/default/app/replicationsource.yaml", "    retain:", "    retian:");
    edit(
      dir,
      "kubernetes/apps/default/app/replicationsource.yaml",
      "copyMethod: Snapshot",
      "copyMethod: Snap",
    );
    edit(dir, "kubernetes/flux/cluster/ks.yaml", "- kind: FluxInstance", "- kind: FluxInstanse");
    const bad = await validate(dir);
    expect(places(bad.json)).toEqual([
      "error schema/additional-property kubernetes/apps/default/app/replicationsource.yaml:14",
      "error schema/invalid kubernetes/apps/default/app/replicationsource.yaml:12",
      "error schema/invalid kubernetes/flux/cluster/ks.yaml:40",
    ]);
    expect(bad.code).toBe(1);
  });

  it("two-versions: one kind at one name in two apiVersions, each checked and reported at its own document", async () => {
    const dir = repo("two-versions");
    const clean = await validate(dir);
    // Two groups' Grafana in one namespace are two objects, no duplicate.
    expect(places(clean.json)).toEqual([]);
    expect(clean.code).toBe(0);

    // A misspelt key in the second document (the generator's): reported there, not at the first.
    edit(dir, "kubernetes/apps/observability/grafana/grafana.yaml", "    role: Viewer", "    rol: Viewer");
    const bad = await validate(dir);
    expect(places(bad.json)).toEqual([
      "error schema/additional-property kubernetes/apps/observability/grafana/grafana.yaml:28",
      "error schema/invalid kubernetes/apps/observability/grafana/grafana.yaml:26",
    ]);
    expect(bad.code).toBe(1);
  });

  it("a failed build of a Flux path without kustomization.yaml is reported at the Kustomization naming it", async () => {
    const dir = repo("home-ops");
    // kubernetes/apps has no kustomization.yaml: Flux generates one, and kustomize rejects the file.
    writeFileSync(
      path.join(dir, "kubernetes/apps/extra.yaml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: default\ndata:\n  a: '1'\n  a: '2'\n",
    );
    edit(dir, "kubernetes/apps/observability/networkpolicy.yaml", "podSelector: {}", "podSelector: []");
    const { code, json } = await validate(dir);
    expect(places(json)).toEqual([
      "error build/kustomize kubernetes/flux/cluster/ks.yaml:24",
      // Its folders are still built on their own, and its own file checked as written.
      "error schema/invalid kubernetes/apps/observability/networkpolicy.yaml:7",
      "error yaml/duplicate-key kubernetes/apps/extra.yaml:8",
    ]);
    expect(json.findings.find((f) => f.rule === "build/kustomize")?.message).toContain(
      "kubernetes/apps/extra.yaml repeats a key",
    );
    expect(code).toBe(1);
  });

  it("a repository CRD wins in the cluster that applies it, not in the others", async () => {
    const dir = repo("multi-cluster");
    // main runs the VolSync fork (its CRD is in main's tree); utility runs upstream VolSync.
    writeFileSync(
      path.join(dir, "kubernetes/main/apps/replicationsource-crd.yaml"),
      readFileSync(
        path.join(fixtures, "forked-crd/kubernetes/apps/volsync-system/volsync/crds/replicationsource.yaml"),
        "utf8",
      ),
    );
    edit(
      dir,
      "kubernetes/main/apps/kustomization.yaml",
      "  - ./default",
      "  - ./default\n  - ./replicationsource-crd.yaml",
    );
    const source = readFileSync(
      path.join(fixtures, "forked-crd/kubernetes/apps/default/app/replicationsource.yaml"),
      "utf8",
    );
    for (const cluster of ["main", "utility"]) {
      writeFileSync(
        path.join(dir, `kubernetes/${cluster}/apps/default/echo/app/replicationsource.yaml`),
        source,
      );
      edit(
        dir,
        `kubernetes/${cluster}/apps/default/echo/app/kustomization.yaml`,
        "  - ./deployment.yaml",
        "  - ./deployment.yaml\n  - ./replicationsource.yaml",
      );
    }
    const { json } = await validate(dir);
    expect(places(json, ["error"])).toEqual([
      "error schema/additional-property kubernetes/utility/apps/default/echo/app/replicationsource.yaml:10",
    ]);
  });
});
