import { statSync, writeFileSync } from "node:fs";
import { cp, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRenderer } from "../../src/render/helper.ts";
import { pinnedChart, stagePinnedChart } from "../../src/render/pinned-charts.ts";
import { readSchemaLock, resolveMirror } from "../../src/schemas/sources.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { pushChart, type Registry, startRegistry } from "../support/charts.ts";
import { runCli } from "../support/cli.ts";
import { sourceFetch } from "../support/upstream-schemas.ts";
import { edit, scratchRepos, validateJson } from "../support/validate-repo.ts";

// validate renders what Flux deploys (issue 22): HelmReleases through flux-render (Helm's and
// Flux's own Go libraries), charts pulled from the real CNCF distribution registry on 127.0.0.1
// (pushed with Helm's own client) through --chart-mirror, CozyStack apps through the pinned
// charts; every rendered object checked like a written one, findings at the HelmRelease's lines.
const fixture = path.resolve(import.meta.dirname, "../fixtures/validate/render-home-ops");
const release = "kubernetes/apps/default/echo/app/helmrelease.yaml";
const repos = scratchRepos();
let registry: Registry;
let cacheDir: string;
/** The archives pushed to the registry, by app-template version. */
const pushed = new Map<string, string>();

beforeAll(async () => {
  registry = await startRegistry();
  const lock = await readSchemaLock();
  const mirror = resolveMirror(undefined, process.env);
  const stageDir = await mkdtemp(path.join(os.tmpdir(), "haos-render-stage-"));
  repos.track(stageDir);
  for (const version of ["4.1.0", "4.1.1"]) {
    const dir = await stagePinnedChart(
      pinnedChart(lock, "app-template", version),
      sourceFetch(mirror),
      path.join(stageDir, version),
    );
    pushed.set(version, (await pushChart(registry, dir, "bjw-s-labs/helm")).archive);
  }
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "haos-render-cache-"));
  repos.track(cacheDir);
}, 180_000);

afterAll(async () => {
  await registry?.close();
  await repos.removeAll();
});

const repo = () => repos.create({ prefix: "haos-render-", from: fixture }).dir;

const validate = (dir: string, extra: string[] = []) =>
  validateJson(dir, [
    "--chart-mirror",
    `oci://ghcr.io/bjw-s-labs/helm=http://${registry.host}/bjw-s-labs/helm`,
    "--chart-cache",
    cacheDir,
    ...extra,
    ".",
  ]);

const chartLine = "fetching and rendering charts 1/1: oci://ghcr.io/bjw-s-labs/helm/app-template";

/**
 * `haos-tasks <args>` in a real pseudo-terminal (util-linux script): stdout and stderr are a TTY
 * 120 columns wide, and script copies what the terminal shows to its stdout. The sources run
 * (HAOS_TASKS_CLI_SOURCE), without colour.
 */
async function inTerminal(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = path.join(toolsRepoRoot, "tools", "haos-tasks", "bin", "haos-tasks.js");
  const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;
  return await execa(
    "script",
    [
      "-q",
      "-e",
      "-c",
      `stty cols 120; ${[process.execPath, cli, ...args].map(quote).join(" ")}`,
      "/dev/null",
    ],
    { cwd: dir, env: { ...process.env, ...env, HAOS_TASKS_CLI_SOURCE: "1", NO_COLOR: "1" }, reject: false },
  );
}

/** Where the progress line was last drawn with `text`, and where it was erased after that. */
function progressLineOf(out: string, text: string): { drawn: number; erased: number } {
  const drawn = out.lastIndexOf(`\r\x1b[2K${text}`);
  const erased = drawn < 0 ? -1 : out.indexOf("\r\x1b[2K", drawn + 1);
  return { drawn, erased };
}

describe("validate renders HelmReleases from a real OCI registry", () => {
  it("the pristine app renders (semver ~4.1.0 resolves 4.1.1 in the registry) and has no error", async () => {
    const dir = repo();
    const { code, json, places } = await validate(dir);
    expect(places).toEqual([]);
    expect(code).toBe(0);
    expect(json.stats.render).toMatchObject({ releases: 1, rendered: 1 });
    expect(json.stats.render?.objects).toBeGreaterThanOrEqual(2);
    expect(registry.requests().some((r) => /GET \/v2\/bjw-s-labs\/helm\/app-template\/blobs\//.test(r))).toBe(
      true,
    );
  }, 120_000);

  it("a second run takes the chart from the cache, and --offline renders from it", async () => {
    const dir = repo();
    await validate(dir);
    const before = registry.requests().length;
    const { json, places } = await validate(dir, ["--offline"]);
    expect(places).toEqual([]);
    expect(json.stats.render).toMatchObject({ rendered: 1, cacheHits: 1 });
    expect(registry.requests().length).toBe(before);
  }, 120_000);

  it.each([
    [
      "a value the chart's values.schema.json rejects",
      "strategy: RollingUpdate",
      "type: deploymnt",
      "helm/values-schema",
      28,
    ],
    [
      "a valuesFrom key the ConfigMap does not have",
      "valuesKey: values.yaml",
      "valuesKey: valuez.yaml",
      "helm/values-from",
      11,
    ],
    [
      "a postRenderers patch that cannot apply",
      "path: /metadata/annotations/reloader.stakater.com~1auto",
      "path: /spec/nothing/here",
      "helm/post-render",
      15,
    ],
  ])(
    "%s is an error at its line",
    async (_name, from, to, rule, line) => {
      const dir = repo();
      edit(dir, release, from, to);
      const { code, places } = await validate(dir);
      expect(places).toEqual([`${rule} ${release}:${line}`]);
      expect(code).toBe(1);
    },
    120_000,
  );

  it("a value that renders an invalid object (a Service port as a string) is a schema error of the rendered object, at the HelmRelease", async () => {
    const dir = repo();
    // The values schema takes a string or an integer here; the chart writes it into the Service.
    edit(dir, release, "port: *port", "port: http");
    const { errors } = await validate(dir);
    expect(errors.map((e) => `${e.rule} ${e.file}`)).toContain(`schema/invalid ${release}`);
    expect(errors.find((e) => e.rule === "schema/invalid")?.message).toMatch(
      /Service echo \(rendered by HelmRelease default\/echo from app-template@4\.1\.1\+[0-9a-f]{12}/,
    );
  }, 120_000);

  it("an unreachable chart origin is one helm/chart-unavailable warning, an error with --strict", async () => {
    const dir = repo();
    edit(
      dir,
      "kubernetes/apps/default/echo/app/ocirepository.yaml",
      "oci://ghcr.io/bjw-s-labs/helm/app-template",
      "oci://127.0.0.1:9/nothing/app-template",
    );
    const { json } = await validate(dir);
    const unavailable = json.findings.filter((f) => f.rule === "helm/chart-unavailable");
    expect(unavailable.map((f) => `${f.severity} ${f.file}`)).toEqual([`warning ${release}`]);
    const strict = await validate(dir, ["--strict"]);
    expect(strict.places).toEqual([`helm/chart-unavailable ${release}:8`]);
    expect(strict.code).toBe(1);
  }, 120_000);

  it("on a terminal, one progress line names the chart while it is fetched and is erased before the report; not on a terminal, none", async () => {
    const dir = await repo();
    // A cache of its own: the chart is fetched from the registry during this run.
    const cache = await mkdtemp(path.join(os.tmpdir(), "haos-render-tty-"));
    repos.track(cache);
    const args = [
      "validate",
      "--chart-mirror",
      `oci://ghcr.io/bjw-s-labs/helm=http://${registry.host}/bjw-s-labs/helm`,
      "--chart-cache",
      cache,
      ".",
    ];
    const shown = await inTerminal(dir, args);
    const out = shown.stdout;
    expect(shown.exitCode, out).toBe(0);
    const drawn =
      "\r\x1b[2Kfetching and rendering charts 1/1: oci://ghcr.io/bjw-s-labs/helm/app-template ~4.1.0";
    expect(out).toContain(drawn);
    // Erased (return, erase line) before the report, which then starts on a clean line.
    const erased = out.indexOf("\r\x1b[2K", out.lastIndexOf(drawn) + drawn.length);
    expect(erased).toBeGreaterThan(0);
    expect(out.indexOf("✓ no findings")).toBeGreaterThan(erased);
    expect(out.slice(erased + 5, out.indexOf("✓ no findings"))).not.toContain("fetching");
    // Not a terminal (CI logs, pipes): the same run prints no progress line and no escape.
    const piped = await runCli(args, { cwd: dir, env: process.env });
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toContain("fetching and rendering");
    expect(piped.stderr).not.toContain("\x1b[");
    expect(piped.stdout).toContain("✓ no findings");
  }, 120_000);

  it("flux-render reports the size of the chart archive it fetched (the progress line adds it up)", async () => {
    const renderer = await startRenderer({ env: process.env });
    const cache = await mkdtemp(path.join(os.tmpdir(), "haos-render-size-"));
    repos.track(cache);
    try {
      const request = {
        release: {
          apiVersion: "helm.toolkit.fluxcd.io/v2",
          kind: "HelmRelease",
          metadata: { name: "echo", namespace: "default" },
          // The chart's schema $refs common's by URL (fetched by Helm): not what this test is about.
          spec: { install: { disableSchemaValidation: true }, values: {} },
        },
        chart: { type: "oci" as const, url: "oci://ghcr.io/bjw-s-labs/helm/app-template", tag: "4.1.1" },
        mirrors: [
          { origin: "oci://ghcr.io/bjw-s-labs/helm", url: `http://${registry.host}/bjw-s-labs/helm` },
        ],
        cacheDir: cache,
      };
      const size = statSync(pushed.get("4.1.1") ?? "").size;
      const fetched = await renderer.helm(request);
      expect(fetched.chart).toMatchObject({ cached: false, size });
      const again = await renderer.helm(request);
      expect(again.chart).toMatchObject({ cached: true, size });
    } finally {
      await renderer.close();
    }
  }, 120_000);

  it("diff, on a terminal: the same progress line while each commit's charts are fetched, erased before the diff", async () => {
    const r = repos.create({ prefix: "haos-render-diff-", from: fixture, commit: false });
    const mirrors = `charts:\n  mirrors:\n    - oci://ghcr.io/bjw-s-labs/helm=http://${registry.host}/bjw-s-labs/helm\n`;
    r.write({ ".haos-tasks.yaml": mirrors });
    r.commit("init");
    edit(r.dir, release, "cpu: 10m", "cpu: 20m");
    r.commit("more cpu");
    const cache = await mkdtemp(path.join(os.tmpdir(), "haos-render-tty-"));
    repos.track(cache);
    const env = { HAOS_TASKS_CHART_CACHE: cache };
    const shown = await inTerminal(r.dir, ["diff", "--base", "HEAD~1", "--format", "diff"], env);
    const out = shown.stdout;
    expect(shown.exitCode, out).toBe(0);
    // Drawn at each commit (head, then base), erased after each.
    const { drawn, erased } = progressLineOf(out, chartLine);
    expect(out.split(`\r\x1b[2K${chartLine}`).length - 1, out).toBe(2);
    expect(erased).toBeGreaterThan(drawn);
    expect(out.indexOf("cpu: 20m", erased)).toBeGreaterThan(erased);
    // Not a terminal: no progress line.
    const piped = await runCli(["diff", "--base", "HEAD~1", "--format", "diff"], {
      cwd: r.dir,
      env: { ...process.env, ...env },
    });
    expect(piped.stdout).toContain("cpu: 20m");
    expect(piped.stderr).not.toContain("fetching and rendering");
  }, 120_000);
});

describe("validate renders this repository's CozyStack apps through the pinned charts", () => {
  const haos = path.join(toolsRepoRoot, "apps/haos-enigma");
  const vminstance = "apps/haos-enigma/vminstance-haos.yaml";
  const policy = "apps/haos-enigma/kyverno-policy-haos-nic.yaml";

  async function haosRepo(): Promise<string> {
    const r = repos.create({ prefix: "haos-render-app-", commit: false });
    await cp(haos, path.join(r.dir, "apps/haos-enigma"), { recursive: true });
    r.commit("init");
    return r.dir;
  }

  it("the VMDisk and VMInstance render (DataVolume, VirtualMachine) with no error", async () => {
    const dir = await haosRepo();
    const { places, json } = await validate(dir);
    expect(places).toEqual([]);
    expect(json.stats.render).toMatchObject({ releases: 2, rendered: 2 });
    // The NIC policy patches the rendered VM's interface list with a foreach JSON patch: no
    // kyverno/crd-list-patch warning (an anchored strategic merge would replace the list).
    expect(json.findings.filter((f) => f.rule.startsWith("kyverno/"))).toEqual([]);
  }, 120_000);

  it("a VMInstance whose rendered VM no longer has the NIC the Kyverno foreach patches fails at its networks line", async () => {
    const dir = await haosRepo();
    edit(dir, vminstance, "    - name: haos-underlay", "    - name: haos-lan");
    const { places } = await validate(dir);
    expect(places).toContain(`kyverno/anchor ${vminstance}:23`);
    // And at each rule's precondition value that names the NIC (pin-lan-nic, pin-lan-nic-existing).
    expect(places).toContain(`kyverno/anchor ${policy}:47`);
    expect(places).toContain(`kyverno/anchor ${policy}:96`);
  }, 120_000);

  it("a typo in the NIC name of the policy's foreach precondition fails at the precondition's value", async () => {
    const dir = await haosRepo();
    edit(dir, policy, "value: haos-underlay", "value: haos-underlay0");
    const { places } = await validate(dir);
    expect(places).toContain(`kyverno/anchor ${policy}:47`);
    expect(places).not.toContain(`kyverno/anchor ${policy}:96`);
  }, 120_000);

  it("an instanceType CozyStack does not ship is the chart's own render failure at the VMInstance", async () => {
    const dir = await haosRepo();
    edit(dir, vminstance, "instanceType: u1.medium", "instanceType: u1.mediun");
    const { errors } = await validate(dir);
    expect(errors.map((e) => `${e.rule} ${e.file}`)).toContain(`helm/render ${vminstance}`);
  }, 120_000);
});

describe("validate renders a HelmRelease whose values come from a SOPS-encrypted Secret", () => {
  it("renders with placeholders: one info, no false error", async () => {
    const dir = repo();
    writeFileSync(
      path.join(dir, "kubernetes/apps/default/echo/app/secret.sops.yaml"),
      [
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: echo-secret-values",
        "  namespace: default",
        "stringData:",
        "  values.yaml: ENC[AES256_GCM,data:q83x0w==,iv:abc=,tag:def=,type:str]",
        "sops:",
        "  lastmodified: '2026-12-01T00:00:00Z'",
        "  mac: ENC[AES256_GCM,data:xyz=,iv:abc=,tag:def=,type:str]",
        "  version: 3.9.0",
        "",
      ].join("\n"),
    );
    edit(
      dir,
      "kubernetes/apps/default/echo/app/kustomization.yaml",
      "  - ./values.yaml\n",
      "  - ./values.yaml\n  - ./secret.sops.yaml\n",
    );
    edit(
      dir,
      release,
      "      valuesKey: values.yaml\n",
      "      valuesKey: values.yaml\n    - kind: Secret\n      name: echo-secret-values\n",
    );
    const { json, places } = await validate(dir);
    expect(places).toEqual([]);
    expect(json.findings.filter((f) => f.rule === "helm/values-unavailable").map((f) => f.severity)).toEqual([
      "info",
    ]);
  }, 120_000);
});
