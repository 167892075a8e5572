/**
 * `npm run bench:render`: `haos-tasks validate` (render + every check) and `haos-tasks diff` on
 * generated home-ops-shaped repositories of app-template HelmReleases, side by side in the same run
 * with home-operations/flate (`flate test all`, `flate diff all`) — issue 22 item 7, issue 23 item 7.
 *
 * flate is a peer only: it is AGPL, so it is never linked, copied or added to the bootstrap. The
 * bench builds it from the Go module proxy into a cache directory outside the repository
 * (`GOBIN=… go install github.com/home-operations/flate/cmd/flate@v0.6.5`; flate 0.6.5 needs Go
 * 1.27, so GOTOOLCHAIN=go1.27.3 for that build only) and runs the binary.
 *
 * Charts: app-template 4.1.0 and 4.1.1 staged from the pinned files (mirror) and pushed with Helm's
 * own client to the real CNCF distribution registry on 127.0.0.1 (plain HTTP); validate reads it
 * through --chart-mirror. flate has no mirror option and its OCI client speaks HTTPS only, so for
 * flate's run only the bench serves the same registry storage a second time over TLS (a
 * self-signed certificate flate trusts through SSL_CERT_FILE) and rewrites the generated repository's
 * OCIRepository URLs to it, and sets `install.disableSchemaValidation` in flate's copy only: app-template's
 * values schema `$ref`s URLs on raw.githubusercontent.com that flate fetches at render time and
 * cannot reach offline (validate reads them from the pinned files). So flate does less than validate.
 *
 * The repository: N apps under kubernetes/apps/ns-<i%10>/app-<i>, each a Flux Kustomization with
 * spec.components (the shared component holds the app-template OCIRepository), targetNamespace and
 * postBuild substitution (substitute + substituteFrom a cluster-settings ConfigMap); its HelmRelease
 * uses chartRef, valuesFrom a ConfigMap and a postRenderers kustomize patch. The diff is a chart bump
 * touching every HelmRelease: the component's tag 4.1.0 → 4.1.1.
 *
 * Cold rows start with an empty chart cache, render cache and build cache (HAOS_TASKS_BUILD_CACHE
 * beside the chart cache); warm rows keep all three from the run before, as flate keeps its cache.
 *
 * Targets (exit 1 when missed): validate ≤ 1.0× flate test all cold, ≤ 0.5× warm; at 1,000
 * HelmReleases validate cold < 60 s with peak RSS < 1.5 GB; diff ≤ 1.0× flate diff all cold,
 * ≤ 0.5× warm, peak RSS < 1 GB at 1,000.
 *
 *   RENDER_BENCH_APPS=100 npm run bench:render      (default: 100, then 1000)
 *   BENCH_RUNS=3                                     (runs per row; median; default 1)
 *   RENDER_BENCH_FLATE_CACHE=DIR                     (where flate is built; default .cache/bench)
 */
import { execFile, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { pinnedChart, stagePinnedChart } from "../src/render/pinned-charts.ts";
import { cacheDirs } from "../src/schemas/catalog.ts";
import { readSchemaLock, resolveMirror } from "../src/schemas/sources.ts";
import { toolPath, toolsRepoRoot } from "../src/tools/paths.ts";
import { pushChart, type Registry, startRegistry } from "../test/support/charts.ts";
import { freePort, startManaged } from "../test/support/processes.ts";
import { clusterSettings, median, mib, peakTreeRss, repoWriter, writeFluxApp } from "./support.ts";

const run = promisify(execFile);
const cli = path.join(toolsRepoRoot, "tools", "haos-tasks", "bin", "haos-tasks.js");
const runs = Number(process.env.BENCH_RUNS ?? 1);
const sizes = (process.env.RENDER_BENCH_APPS ?? "100,1000").split(",").map(Number);
const flateVersion = "v0.6.5";
const flateModule = "github.com/home-operations/flate";
const origin = "oci://ghcr.io/bjw-s-labs/helm";

// ---- flate, built from the Go module proxy (a peer only: AGPL, never linked or copied) ----

/** Builds flate once into the cache; the version actually built (the nearest served one). */
async function ensureFlate(): Promise<{ bin: string; version: string }> {
  const cache = process.env.RENDER_BENCH_FLATE_CACHE ?? path.join(toolsRepoRoot, ".cache", "bench", "flate");
  const build = async (version: string) => {
    const gobin = path.join(cache, version, "bin");
    const bin = path.join(gobin, "flate");
    if (existsSync(bin)) return bin;
    mkdirSync(gobin, { recursive: true });
    // flate ≥ 0.6 declares `go 1.27.0`; the local Go may be older: the toolchain comes from the proxy.
    await run("go", ["install", `${flateModule}/cmd/flate@${version}`], {
      env: { ...process.env, GOBIN: gobin, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? "go1.27.3", GOFLAGS: "" },
      maxBuffer: 64 * 1024 * 1024,
    });
    return bin;
  };
  try {
    return { bin: await build(flateVersion), version: flateVersion };
  } catch (error) {
    // The proxy may not serve the version: the nearest it serves, and say so.
    const { stdout } = await run("go", ["list", "-m", "-versions", flateModule], {
      env: { ...process.env, GOTOOLCHAIN: "go1.27.3" },
    });
    const served = stdout.trim().split(/\s+/).slice(1);
    const num = (v: string) => v.replace(/^v/, "").split(".").map(Number);
    const want = num(flateVersion);
    const distance = (v: string) =>
      num(v).reduce((d, n, i) => d + Math.abs(n - (want[i] ?? 0)) * 1000 ** (2 - i), 0);
    const nearest = served.sort((a, b) => distance(a) - distance(b))[0];
    if (!nearest || nearest === flateVersion) throw error;
    console.log(
      `flate ${flateVersion} could not be built (${String(error).split("\n")[0]}); using ${nearest}`,
    );
    return { bin: await build(nearest), version: nearest };
  }
}

// ---- the registries ----

/** The same registry storage served over TLS (self-signed, 127.0.0.1) for flate's HTTPS-only client. */
async function startTlsRegistry(
  registry: Registry,
): Promise<{ host: string; caFile: string; close: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-render-bench-tls-"));
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = path.join(dir, "config.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${registry.storageDir}\n  maintenance:\n    readonly:\n      enabled: true\nhttp:\n  addr: ${host}\n  secret: bench\n  tls:\n    certificate: ${cert}\n    key: ${key}\n`,
  );
  const proc = startManaged(
    "registry-tls",
    toolPath("registry", process.env),
    ["serve", config],
    path.join(dir, "log"),
    {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, OTEL_TRACES_EXPORTER: "none" },
      processGroup: true,
    },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await run("curl", ["-sf", "--cacert", cert, `https://${host}/v2/`]).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`TLS registry on ${host} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    caFile: cert,
    close: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- the generated repository ----

export function generateRepo(dir: string, count: number, tag: string): void {
  const write = repoWriter(dir);
  write(
    "kubernetes/flux/cluster/ks.yaml",
    `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  interval: 1h
  path: ./kubernetes/apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
  );
  write(
    "kubernetes/flux/cluster/gitrepository.yaml",
    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: https://github.com/example/home-ops\n  ref:\n    branch: main\n",
  );
  write("kubernetes/flux/cluster/cluster-settings.yaml", clusterSettings);
  write(
    "kubernetes/flux/cluster/kustomization.yaml",
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./gitrepository.yaml\n  - ./cluster-settings.yaml\n  - ./ks.yaml\n",
  );
  // The shared component: one OCIRepository per app namespace (targetNamespace), one tag for all.
  write(
    "kubernetes/components/common/kustomization.yaml",
    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./ocirepository.yaml\n",
  );
  write(
    "kubernetes/components/common/ocirepository.yaml",
    `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: app-template
spec:
  interval: 15m
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  ref:
    semver: ${semverOf(tag)}
  url: ${origin}/app-template
`,
  );
  const nsList: string[] = [];
  for (let i = 0; i < count; i++) {
    const app = `app-${String(i).padStart(4, "0")}`;
    const ns = `ns-${i % 10}`;
    if (!nsList.includes(ns)) nsList.push(ns);
    const base = writeFluxApp(write, app, ns);
    write(
      `${base}/app/kustomization.yaml`,
      "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./values.yaml\n  - ./helmrelease.yaml\n",
    );
    write(
      `${base}/app/values.yaml`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${app}-values\ndata:\n  values.yaml: |\n    defaultPodOptions:\n      securityContext:\n        runAsNonRoot: true\n        runAsUser: 65534\n`,
    );
    write(
      `${base}/app/helmrelease.yaml`,
      `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: \${APP}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: app-template
  valuesFrom:
    - kind: ConfigMap
      name: ${app}-values
      valuesKey: values.yaml
  postRenderers:
    - kustomize:
        patches:
          - target:
              kind: Deployment
              name: \${APP}
            patch: |-
              - op: add
                path: /metadata/annotations/reloader.stakater.com~1auto
                value: "true"
  values:
    controllers:
      \${APP}:
        containers:
          app:
            image:
              repository: ghcr.io/example/${app}
              tag: 1.${i % 20}.0
            env:
              TZ: \${TIMEZONE}
              HTTP_PORT: &port 8080
            resources:
              requests:
                cpu: 10m
              limits:
                memory: 64Mi
    service:
      app:
        controller: \${APP}
        ports:
          http:
            port: *port
    persistence:
      data:
        type: persistentVolumeClaim
        storageClass: \${STORAGE_CLASS}
        accessMode: ReadWriteOnce
        size: 1Gi
`,
    );
  }
  write(
    "kubernetes/apps/kustomization.yaml",
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${nsList.map((ns) => `  - ./${ns}`).join("\n")}\n`,
  );
  for (const ns of nsList) {
    const apps = Array.from({ length: count }, (_, i) => i)
      .filter((i) => `ns-${i % 10}` === ns)
      .map((i) => `  - ./app-${String(i).padStart(4, "0")}/ks.yaml`);
    write(
      `kubernetes/apps/${ns}/kustomization.yaml`,
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./namespace.yaml\n${apps.join("\n")}\n`,
    );
    write(
      `kubernetes/apps/${ns}/namespace.yaml`,
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`,
    );
  }
}

/**
 * The OCIRepository's ref for one version: a semver range that admits only it. Not `tag: 4.1.0`:
 * validate renders an exact version of a chart schemas.lock.json pins (app-template 4.1.0/4.1.1)
 * from the pinned files and never asks the registry — a chart the lock does not pin, as most of a
 * home-ops repository's are, comes from the registry, and that is what this bench measures.
 */
const semverOf = (version: string) => {
  const [major, minor, patch] = version.split(".").map(Number);
  return `">=${version} <${major}.${minor}.${(patch ?? 0) + 1}"`;
};

/** Sets the shared component's app-template version (the chart bump). */
function setTag(dir: string, tag: string): void {
  const file = path.join(dir, "kubernetes/components/common/ocirepository.yaml");
  writeFileSync(file, readFileSync(file, "utf8").replace(/semver: .+/, `semver: ${semverOf(tag)}`));
}

/** flate's copy: the OCIRepository URL rewritten to the TLS registry (flate has no mirror option). */
function flateCopy(from: string, to: string, tlsHost: string): void {
  cpSync(from, to, { recursive: true, filter: (src) => !src.endsWith(".git") });
  const file = path.join(to, "kubernetes/components/common/ocirepository.yaml");
  writeFileSync(file, readFileSync(file, "utf8").replace(origin, `oci://${tlsHost}/bjw-s-labs/helm`));
  // app-template's values.schema.json `$ref`s its library's schemas by raw.githubusercontent.com
  // URL: Helm fetches them at render time, and offline flate fails every release on them. validate
  // resolves them from the pinned files; flate cannot be pointed anywhere, so its copy skips the
  // values schema (less work for flate than for validate: the comparison favours flate).
  for (const rel of readdirSync(to, { recursive: true }) as string[]) {
    if (!rel.endsWith("helmrelease.yaml")) continue;
    const hr = path.join(to, rel);
    writeFileSync(
      hr,
      readFileSync(hr, "utf8").replace(
        "\n  interval: 1h\n",
        "\n  interval: 1h\n  install:\n    disableSchemaValidation: true\n",
      ),
    );
  }
}

const git = (cwd: string, ...args: string[]) =>
  run("git", ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", ...args], { cwd });

// ---- running and measuring ----

interface Ran {
  ms: number;
  rss: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** One command in its own process, wall time and peak RSS of its tree (sampled every 100 ms). */
function measure(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const sampler = peakTreeRss(() => (child.pid ? [child.pid] : []), 100);
    child.on("error", reject);
    child.on("close", (code) => {
      const rss = sampler.stop();
      resolve({ ms: performance.now() - started, rss, code: code ?? -1, stdout, stderr });
    });
  });
}

/** `runs` runs of fn (each with its own setup), the median time and the largest peak RSS. */
async function rows(fn: () => Promise<Ran>): Promise<Ran & { samples: number[] }> {
  const all: Ran[] = [];
  for (let i = 0; i < runs; i++) all.push(await fn());
  const last = all.at(-1) as Ran;
  return {
    ...last,
    ms: median(all.map((r) => r.ms)),
    rss: Math.max(...all.map((r) => r.rss)),
    samples: all.map((r) => r.ms),
  };
}

interface RenderJson {
  findings: { severity: string; rule: string; file: string; line: number; message: string }[];
  stats: {
    objects: number;
    render?: {
      releases: number;
      rendered: number;
      failed: number;
      objects: number;
      cacheHits: number;
      chartLoads: number;
      renderCacheHits?: number;
    };
  };
}

function must(r: Ran, what: string, okCodes = [0]): void {
  if (!okCodes.includes(r.code))
    throw new Error(`${what} exited ${r.code}:\n${r.stderr.slice(-4000)}\n${r.stdout.slice(0, 2000)}`);
}

/** Per-release render times from HAOS_TASKS_DEBUG progress lines (`…, 12 ms`), render-cache answers left out. */
function renderTimes(stderr: string): number[] {
  return [...stderr.matchAll(/(?:rendered|failed)(?: \(([^)]*)\))?, (\d+) ms/g)]
    .filter((m) => m[1] !== "render cache")
    .map((m) => Number(m[2]));
}

async function size(apps: number, registry: Registry, tls: { host: string; caFile: string }, flate: string) {
  const work = mkdtempSync(path.join(os.tmpdir(), `haos-render-bench-${apps}-`));
  try {
    const ours = path.join(work, "ours");
    generateRepo(ours, apps, "4.1.0");
    const mirror = `${origin}=http://${registry.host}/bjw-s-labs/helm`;
    // diff has no --chart-mirror: it renders with the repository's charts.mirrors, as validate does.
    writeFileSync(path.join(ours, ".haos-tasks.yaml"), `charts:\n  mirrors:\n    - ${mirror}\n`);
    await git(ours, "init", "-q", "-b", "main");
    await git(ours, "add", ".");
    await git(ours, "commit", "-qm", "base");
    const flateBase = path.join(work, "flate-base");
    flateCopy(ours, flateBase, tls.host);

    const env = { ...process.env, HAOS_TASKS_DEBUG: "1" };
    // Each chart cache directory gets its own build cache beside it (HAOS_TASKS_BUILD_CACHE): a
    // cold row starts with both empty, a warm row has both from the run before.
    const validate = (cache: string) =>
      measure(
        process.execPath,
        [cli, "validate", ".", "--format", "json", "--chart-mirror", mirror, "--chart-cache", cache],
        ours,
        { ...env, HAOS_TASKS_BUILD_CACHE: path.join(cache, "builds") },
      );
    const flateEnv = { ...process.env, SSL_CERT_FILE: tls.caFile };
    const flateTest = (cache: string) =>
      measure(flate, ["test", "all", "--path", flateBase, "--cache-dir", cache], work, flateEnv);
    const fresh = (name: string) => mkdtempSync(path.join(work, `${name}-`));

    // validate and flate test all, cold (an empty cache each run) then warm (the cache kept).
    const vCold = await rows(() => validate(fresh("vcache")));
    must(vCold, "haos-tasks validate (cold)", [0, 1]);
    const fCold = await rows(() => flateTest(fresh("fcache")));
    must(fCold, "flate test all (cold)");
    const vWarmCache = fresh("vcache");
    must(await validate(vWarmCache), "haos-tasks validate (filling the cache)", [0, 1]);
    const vWarm = await rows(() => validate(vWarmCache));
    const fWarmCache = fresh("fcache");
    must(await flateTest(fWarmCache), "flate test all (filling the cache)");
    const fWarm = await rows(() => flateTest(fWarmCache));
    if (process.env.RENDER_BENCH_KEEP) {
      writeFileSync(path.join(work, "validate-cold.stderr"), vCold.stderr);
      writeFileSync(path.join(work, "validate-warm.stderr"), vWarm.stderr);
    }
    const coldJson = JSON.parse(vCold.stdout) as RenderJson;
    const warmJson = JSON.parse(vWarm.stdout) as RenderJson;

    // The chart bump: the shared component's tag moves every HelmRelease 4.1.0 → 4.1.1.
    setTag(ours, "4.1.1");
    await git(ours, "commit", "-qam", "chore(deps): app-template 4.1.1");
    const flateHead = path.join(work, "flate-head");
    flateCopy(ours, flateHead, tls.host);
    // diff's chart cache (and render cache): empty for the first run, kept for the second.
    const diffCache = fresh("dcache");
    const diff = () =>
      measure(process.execPath, [cli, "diff", "--base", "HEAD~1", "--format", "json"], ours, {
        ...env,
        HAOS_TASKS_CHART_CACHE: diffCache,
        HAOS_TASKS_BUILD_CACHE: path.join(diffCache, "builds"),
      });
    const flateDiff = (cache: string) =>
      measure(
        flate,
        ["diff", "all", "--path", flateHead, "--path-orig", flateBase, "--cache-dir", cache, "-o", "diff"],
        work,
        flateEnv,
      );
    const dCold = await rows(diff);
    must(dCold, "haos-tasks diff", [0, 1]);
    const fdCold = await rows(() => flateDiff(fresh("fdcache")));
    must(fdCold, "flate diff all (cold)", [0, 1]);
    const dWarm = await rows(diff);
    const fdCache = fresh("fdcache");
    await flateDiff(fdCache);
    const fdWarm = await rows(() => flateDiff(fdCache));
    const diffJson = JSON.parse(dCold.stdout) as {
      owners: unknown[];
      helmReleases: { rendered: boolean }[];
      totals: { added: number; changed: number; removed: number };
    };

    const s = (ms: number) => `${(ms / 1000).toFixed(2).padStart(7)} s`;
    const times = renderTimes(vCold.stderr);
    const warmTimes = renderTimes(vWarm.stderr);
    const r = coldJson.stats.render;
    const rw = warmJson.stats.render;
    const errors = (j: RenderJson) => j.findings.filter((f) => f.severity === "error").length;
    const flateSummary = (o: Ran) =>
      (o.stdout + o.stderr)
        .split("\n")
        .filter((l) => /pass|fail|ok|summary|total/i.test(l))
        .slice(-1)[0]
        ?.trim()
        .slice(0, 90) ?? "";
    const line = (name: string, o: Ran, note: string) =>
      console.log(`  ${name.padEnd(46)} ${s(o.ms)}  peak RSS ${mib(o.rss).padStart(9)}  ${note}`);
    console.log(
      `\nrender benchmark: ${apps} app-template HelmReleases (chartRef via a component, valuesFrom, postRenderers, postBuild), ${runs === 1 ? "one run" : `median of ${runs} runs`} per row, ${os.availableParallelism()} cores, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}, ${new Date().toISOString()}`,
    );
    line(
      "haos-tasks validate, cold chart cache",
      vCold,
      `${r?.rendered ?? 0}/${r?.releases ?? 0} rendered, ${coldJson.stats.objects} objects, ${errors(coldJson)} errors; chart cache ${r?.cacheHits ?? 0}/${r?.chartLoads ?? 0} hits; render cache ${r?.renderCacheHits ?? 0}/${r?.chartLoads ?? 0} hits`,
    );
    line("flate test all, cold cache", fCold, flateSummary(fCold));
    line(
      "haos-tasks validate, warm chart cache",
      vWarm,
      `${rw?.rendered ?? 0}/${rw?.releases ?? 0} rendered, ${errors(warmJson)} errors; chart cache ${rw?.cacheHits ?? 0}/${rw?.chartLoads ?? 0} hits (${rw && rw.chartLoads > 0 ? Math.round((100 * rw.cacheHits) / rw.chartLoads) : 0}%); render cache ${rw?.renderCacheHits ?? 0}/${rw?.chartLoads ?? 0} hits (${rw && rw.chartLoads > 0 ? Math.round((100 * (rw.renderCacheHits ?? 0)) / rw.chartLoads) : 0}%)`,
    );
    line("flate test all, warm cache", fWarm, flateSummary(fWarm));
    line(
      "haos-tasks diff, chart bump 4.1.0 → 4.1.1",
      dCold,
      `${diffJson.owners.length} owners, ${diffJson.helmReleases.filter((h) => h.rendered).length}/${diffJson.helmReleases.length} HelmReleases rendered, +${diffJson.totals.added} ~${diffJson.totals.changed} −${diffJson.totals.removed}`,
    );
    line("flate diff all, cold cache", fdCold, `${fdCold.stdout.split("\n").length} lines of diff`);
    line("haos-tasks diff, second run", dWarm, "");
    line("flate diff all, warm cache", fdWarm, `${fdWarm.stdout.split("\n").length} lines of diff`);
    const perChart = (t: number[]) =>
      t.length === 0
        ? "no progress lines"
        : `median ${median(t)} ms, max ${Math.max(...t)} ms over ${t.length} releases`;
    console.log(
      `  render time per chart (flux-render's renderMs): cold ${perChart(times)}; warm ${perChart(warmTimes)}`,
    );
    console.log(
      `  wall time per HelmRelease: validate cold ${(vCold.ms / apps).toFixed(1)} ms, warm ${(vWarm.ms / apps).toFixed(1)} ms; flate cold ${(fCold.ms / apps).toFixed(1)} ms, warm ${(fWarm.ms / apps).toFixed(1)} ms`,
    );
    const targets: [string, boolean][] = [
      [
        `validate rendered every HelmRelease with 0 errors (${r?.rendered}/${apps}, ${errors(coldJson)} errors)`,
        r?.rendered === apps && errors(coldJson) === 0,
      ],
      [
        `validate / flate test all cold = ${(vCold.ms / fCold.ms).toFixed(2)}× (target ≤ 1.0×)`,
        vCold.ms <= fCold.ms,
      ],
      [
        `validate / flate test all warm = ${(vWarm.ms / fWarm.ms).toFixed(2)}× (target ≤ 0.5×)`,
        vWarm.ms <= 0.5 * fWarm.ms,
      ],
      [
        `diff rendered every bumped HelmRelease (${diffJson.helmReleases.filter((h) => h.rendered).length}/${apps})`,
        diffJson.helmReleases.filter((h) => h.rendered).length === apps,
      ],
      [
        `diff / flate diff all cold = ${(dCold.ms / fdCold.ms).toFixed(2)}× (target ≤ 1.0×)`,
        dCold.ms <= fdCold.ms,
      ],
      [
        `diff / flate diff all warm = ${(dWarm.ms / fdWarm.ms).toFixed(2)}× (target ≤ 0.5×)`,
        dWarm.ms <= 0.5 * fdWarm.ms,
      ],
    ];
    if (apps >= 1000)
      targets.push(
        [`validate cold at ${apps}: ${(vCold.ms / 1000).toFixed(1)} s (target < 60 s)`, vCold.ms < 60_000],
        [
          `validate peak RSS at ${apps}: ${mib(Math.max(vCold.rss, vWarm.rss))} (target < 1.5 GB)`,
          Math.max(vCold.rss, vWarm.rss) < 1.5e9,
        ],
        [
          `diff peak RSS at ${apps}: ${mib(Math.max(dCold.rss, dWarm.rss))} (target < 1 GB)`,
          Math.max(dCold.rss, dWarm.rss) < 1e9,
        ],
      );
    for (const [what, ok] of targets) console.log(`target: ${what} — ${ok ? "met" : "MISSED"}`);
    return targets.every(([, ok]) => ok);
  } finally {
    if (process.env.RENDER_BENCH_KEEP) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const flate = await ensureFlate();
  console.log(
    `flate ${flate.version} built from the Go module proxy: ${flate.bin} (a peer only; AGPL, not linked)`,
  );
  const registry = await startRegistry();
  let tls: Awaited<ReturnType<typeof startTlsRegistry>> | undefined;
  const stage = mkdtempSync(path.join(os.tmpdir(), "haos-render-bench-charts-"));
  try {
    const lock = await readSchemaLock();
    const mirror = resolveMirror(undefined, process.env);
    for (const version of ["4.1.0", "4.1.1"]) {
      const dir = await stagePinnedChart(
        pinnedChart(lock, "app-template", version),
        { ...(mirror ? { mirror } : {}), cacheDir: cacheDirs(process.env).sourceCacheDir },
        path.join(stage, version),
      );
      await pushChart(registry, dir, "bjw-s-labs/helm");
    }
    tls = await startTlsRegistry(registry);
    let ok = true;
    for (const apps of sizes) ok = (await size(apps, registry, tls, flate.bin)) && ok;
    process.exitCode = ok ? 0 : 1;
  } finally {
    await tls?.close();
    await registry.close();
    rmSync(stage, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
