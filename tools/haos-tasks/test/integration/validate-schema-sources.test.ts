import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { writeCatalogDir } from "../../src/schemas/catalog-dir.ts";
import { convertCrd } from "../../src/schemas/convert/crd.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { runCli } from "../support/cli.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";

// Schema sources beyond the pinned catalog, in their order: the repository's CRD files, kubeconform
// style locations (a URL served on 127.0.0.1, downloaded once; a directory), a from-cluster
// catalog; the Kubernetes version from the flag or the config.
const catalog = path.resolve(toolsRepoRoot, "../shared/catalogs/datree-crds-catalog");
const haveCatalog = existsSync(catalog);
const skipped = haveCatalog ? "" : ` (skipped: no catalog at ${catalog})`;
const scratch: ScratchRepo[] = [];
afterAll(() => {
  for (const r of scratch) r.remove();
});

/** A scratch git repository (the shared createScratchRepo) holding `files`. */
async function repo(files: Record<string, string>): Promise<string> {
  const r = createScratchRepo("haos-schema-sources-");
  scratch.push(r);
  r.write(files);
  return r.dir;
}

interface Json {
  findings: { rule: string; file: string; line: number; severity: string; message: string }[];
}
const places = (stdout: string) =>
  (JSON.parse(stdout) as Json).findings.map((f) => `${f.severity} ${f.rule} ${f.file}:${f.line}`).sort();

const widgetCrd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: { kind: Widget, plural: widgets, singular: widget, listKind: WidgetList }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: { type: integer }
`;
const widget = (spec: string) =>
  `apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: default\n${spec}\n`;

describe("schemas.crds: the repository's own CRD files", () => {
  it("are converted like the pinned CRDs: closed, so a misspelt key fails without --strict", async () => {
    const dir = await repo({
      ".haos-tasks.yaml": "schemas:\n  crds: ['crds/*.yaml']\n",
      "crds/widget.yaml": widgetCrd,
      "apps/w/widget.yaml": widget("spec:\n  size: three\nspce: {}"),
    });
    const { stdout, code } = await runCli(["validate", "--format", "json"], { cwd: dir, env: process.env });
    expect(places(stdout)).toEqual([
      "error schema/additional-property apps/w/widget.yaml:8",
      "error schema/invalid apps/w/widget.yaml:7",
    ]);
    expect(code).toBe(1);
  });
});

describe("--catalog: what `schemas sync --from-cluster` wrote", () => {
  it("answers for kinds the pinned catalog lacks", async () => {
    const dir = await repo({ "apps/w/widget.yaml": widget("spec:\n  size: three") });
    const cluster = path.join(dir, ".cache-cluster");
    const schemas = convertCrd(parse(widgetCrd)).map((s) => ({
      ...s,
      origin: "crd" as const,
      source: "cluster:test",
    }));
    await writeCatalogDir(cluster, schemas, { key: "cluster-test", sources: ["cluster:test"] });
    const without = await runCli(["validate", "--format", "json"], { cwd: dir, env: process.env });
    expect(places(without.stdout)).toEqual(["warning schema/missing apps/w/widget.yaml:2"]);
    const withCatalog = await runCli(["validate", "--format", "json", "--catalog", cluster], {
      cwd: dir,
      env: process.env,
    });
    expect(places(withCatalog.stdout)).toEqual(["error schema/invalid apps/w/widget.yaml:7"]);
  });
});

describe.runIf(haveCatalog)(`--schema-location and schemas.locations${skipped}`, () => {
  let server: Server;
  let base = "";
  const requests: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      const file = path.join(catalog, decodeURIComponent(req.url ?? "").replace(/^\/catalog\//, ""));
      if (!file.startsWith(catalog) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/catalog`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const certificate = (spec: string) =>
    `apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: c\n  namespace: default\n${spec}\n`;

  it("a URL is downloaded once and cached by URL; a 404 falls through to the next location", async () => {
    const dir = await repo({
      "apps/c/certificate.yaml": certificate(
        "spec:\n  secretName: c\n  dnsNames: [a.example.com]\n  issuerRef:\n    nmae: x",
      ),
    });
    const cache = path.join(dir, ".cache");
    const env = { ...process.env, HAOS_TASKS_CACHE_DIR: cache };
    const args = [
      "validate",
      "--format",
      "json",
      "--schema-location",
      `${base}/nothing-here/{{.ResourceKind}}.json`,
      "--schema-location",
      `${base}/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`,
    ];
    const first = await runCli(args, { cwd: dir, env });
    expect(places(first.stdout)).toEqual([
      "error schema/additional-property apps/c/certificate.yaml:10",
      "error schema/invalid apps/c/certificate.yaml:9",
      // nothing-here answered no kind in the whole run: said, not silent (a flag: no file).
      "warning schema/source undefined:undefined",
    ]);
    expect(requests).toEqual([
      "/catalog/nothing-here/certificate.json",
      "/catalog/cert-manager.io/certificate_v1.json",
    ]);
    requests.length = 0;
    const second = await runCli(args, { cwd: dir, env });
    expect(places(second.stdout)).toEqual(places(first.stdout));
    // The hit comes from the cache; only the 404 is asked again (misses are not cached across runs).
    expect(requests).toEqual(["/catalog/nothing-here/certificate.json"]);
  }, 30_000);

  it("an unreachable location is one warning, not a failure per object", async () => {
    const dir = await repo({
      ".haos-tasks.yaml":
        "schemas:\n  locations:\n    - 'http://127.0.0.1:59999/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'\n",
      "apps/c/a.yaml": certificate("spec:\n  secretName: a\n  issuerRef: {name: x}"),
      "apps/c/b.yaml": certificate("spec:\n  secretName: b\n  issuerRef: {name: x}").replace(
        "name: c",
        "name: d",
      ),
    });
    const { stdout } = await runCli(["validate", "--format", "json"], { cwd: dir, env: process.env });
    expect(places(stdout)).toEqual([
      "warning schema/missing apps/c/a.yaml:2",
      "warning schema/source .haos-tasks.yaml:3",
    ]);
    const missing = (JSON.parse(stdout) as Json).findings.find((f) => f.rule === "schema/missing");
    expect(missing?.message).toContain("2 objects not schema-checked");
  });
});

describe("the Kubernetes version: --kubernetes-version, validate.kubernetesVersion, platform.yaml", () => {
  const policy =
    "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingAdmissionPolicy\nmetadata:\n  name: p\nspec:\n  failurePolicy: [Fail]\n  mutations: []\n  reinvocationPolicy: Never\n  matchConstraints: {resourceRules: []}\n";
  it("picks the pinned OpenAPI of that version (MutatingAdmissionPolicy v1 exists from 1.36)", async () => {
    const dir = await repo({ "policies/p.yaml": policy });
    const run = (...extra: string[]) =>
      runCli(["validate", "--format", "json", ...extra], { cwd: dir, env: process.env });
    expect(places((await run()).stdout)).toEqual(["warning schema/missing policies/p.yaml:2"]);
    expect(places((await run("--kubernetes-version", "1.36")).stdout)).toEqual([
      "error schema/invalid policies/p.yaml:6",
    ]);
    writeFileSync(path.join(dir, ".haos-tasks.yaml"), 'validate:\n  kubernetesVersion: "1.36"\n');
    expect(places((await run()).stdout)).toEqual(["error schema/invalid policies/p.yaml:6"]);
    expect(places((await run("--kubernetes-version", "1.33")).stdout)).toEqual([
      "warning schema/missing policies/p.yaml:2",
    ]);
    // A version the lock does not pin is a usage error naming the pinned ones (issue 27).
    const unpinned = await run("--kubernetes-version", "1.29");
    expect(unpinned.code).toBe(2);
    expect(unpinned.stderr).toMatch(/1\.29 has no schemas pinned in schemas\.lock\.json \(pinned: 1\.33/);
    const usage = await run("--kubernetes-version", "latest");
    expect(usage.code).toBe(2);
  });
});
