/**
 * `npm run bench:validate`: `haos-tasks validate` on a generated Flux repository of 500 apps
 * (about 5,500 resources), side by side in the same run with the bare pipe homelab repos use —
 * `kubectl kustomize` of every app piped into one `kubeconform -strict -n 2` over the same schema
 * catalog — plus one real app cold (schemas cached) and a moon cache hit.
 *
 * Floor rows (issue 15): the in-process build alone (kustomize-build, one helper per core, no
 * checks) of the builds validate runs — its own requests, with Flux's targetNamespace and load
 * restrictor — and kubeconform alone over those objects pre-rendered into one stream (same
 * catalog, one worker per core): what validate cannot go below. For reference, the same roots
 * built as plain `kubectl kustomize` requests (no Flux semantics), which is less work than validate
 * must do and so no floor. validate and both floors run in the same rounds, one after the other,
 * so their ratio does not carry the machine's drift over minutes. Then a 5,000-app / 55,000-object
 * size (validate and both floors, one run each). Every row prints the peak RSS of its process tree.
 *
 * Targets: 500 apps ≤ 0.12× the pipe and ≤ 1.5× (build floor + kubeconform floor); 55,000 objects
 * in < 20 s with peak RSS < 1 GB; one app cold < 0.4 s; moon cache hit < 0.2 s.
 *
 * Then a "real-shaped" home-ops repository (100 apps): Flux Kustomizations with spec.components
 * and postBuild substitution from a ConfigMap, HelmReleases from OCIRepositories, ExternalSecrets,
 * CRD schemas from a kubeconform schema-location catalog directory (../shared/catalogs). Beside it
 * the pipe such repositories run: `kubectl kustomize` per app into one kubeconform with the same
 * locations. Target: validate ≤ 0.5× the pipe.
 *
 *   VALIDATE_BENCH_APPS=50 npm run bench:validate      (a smaller repository)
 *   VALIDATE_BENCH_BIG_APPS=0 npm run bench:validate   (skip the 5,000-app size)
 *   VALIDATE_BENCH_ONLY=real npm run bench:validate    (only the real-shaped repository)
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fluxLoadRestrictor, helperRequest } from "../src/manifests/kustomize-build.ts";
import { type BuildRequest, buildInProcess } from "../src/manifests/kustomize-inprocess.ts";
import { loadWorkspace } from "../src/manifests/workspace.ts";
import { ensureSchemaCatalog } from "../src/schemas/catalog.ts";
import { resolveMirror } from "../src/schemas/sources.ts";
import { toolPath, toolsRepoRoot } from "../src/tools/paths.ts";
import { defaultPlatform } from "../src/validate/catalog-loader.ts";
import { planBuilds } from "../src/validate/pipeline.ts";
import {
  childPids,
  clusterSettings,
  median,
  mib,
  peakTreeRss,
  repoWriter,
  timed,
  writeFluxApp,
} from "./support.ts";

const run = promisify(execFile);
const apps = Number(process.env.VALIDATE_BENCH_APPS ?? 500);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const cli = path.join(toolsRepoRoot, "tools", "haos-tasks", "bin", "haos-tasks.js");
const moonBin = path.join(toolsRepoRoot, "node_modules", ".bin", "moon");
/**
 * The native moon binary the npm package's shim starts (what proto or a release download installs):
 * `node_modules/.bin/moon` is a Node script that starts Node 20 first, about 0.15 s of every call.
 */
const moonNative: string = createRequire(import.meta.url)(
  path.join(toolsRepoRoot, "node_modules", "@moonrepo", "cli", "utils.js"),
).findMoonExe();
const digest = "sha256:4f3d2c1b0a9e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a392817f6e5d4";

/** One app: a Flux Kustomization (ks.yaml) and a kustomize folder with ten objects. */
function appFiles(i: number): Record<string, string> {
  const name = `app-${String(i).padStart(3, "0")}`;
  const ns = name;
  const labels = `app.kubernetes.io/name: ${name}`;
  const meta = (kind: string, extra = "") =>
    `metadata:\n  name: ${name}${kind}\n  namespace: ${ns}\n  labels:\n    ${labels}\n${extra}`;
  return {
    "ks.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ${name}
  namespace: flux-system
spec:
  interval: 30m
  path: ./apps/${name}/app
  prune: true
  wait: true
  timeout: 5m
  targetNamespace: ${ns}
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
    "app/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - namespace.yaml
  - serviceaccount.yaml
  - configmap.yaml
  - deployment.yaml
  - service.yaml
  - pvc.yaml
  - role.yaml
  - rolebinding.yaml
  - networkpolicy.yaml
  - poddisruptionbudget.yaml
`,
    "app/namespace.yaml": `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n  labels:\n    ${labels}\n`,
    "app/serviceaccount.yaml": `apiVersion: v1\nkind: ServiceAccount\n${meta("")}`,
    "app/configmap.yaml": `apiVersion: v1\nkind: ConfigMap\n${meta("-config")}data:\n  LOG_LEVEL: info\n  PORT: "8080"\n`,
    "app/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
${meta("")}spec:
  replicas: 2
  selector:
    matchLabels:
      ${labels}
  template:
    metadata:
      labels:
        ${labels}
    spec:
      serviceAccountName: ${name}
      containers:
        - name: app
          image: ghcr.io/example/${name}:1.${i % 20}.0@${digest}
          ports:
            - containerPort: 8080
              name: http
          envFrom:
            - configMapRef:
                name: ${name}-config
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
            limits:
              memory: 128Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          volumeMounts:
            - name: data
              mountPath: /data
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: ${name}-data
`,
    "app/service.yaml": `apiVersion: v1\nkind: Service\n${meta("")}spec:\n  selector:\n    ${labels}\n  ports:\n    - name: http\n      port: 80\n      targetPort: http\n`,
    "app/pvc.yaml": `apiVersion: v1\nkind: PersistentVolumeClaim\n${meta("-data")}spec:\n  accessModes:\n    - ReadWriteOnce\n  storageClassName: replicated\n  resources:\n    requests:\n      storage: 1Gi\n`,
    "app/role.yaml": `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n${meta("")}rules:\n  - apiGroups: [""]\n    resources: ["configmaps"]\n    verbs: ["get", "list", "watch"]\n`,
    "app/rolebinding.yaml": `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n${meta("")}roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: ${name}\nsubjects:\n  - kind: ServiceAccount\n    name: ${name}\n    namespace: ${ns}\n`,
    "app/networkpolicy.yaml": `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n${meta("")}spec:\n  podSelector:\n    matchLabels:\n      ${labels}\n  policyTypes:\n    - Ingress\n  ingress:\n    - ports:\n        - port: 8080\n`,
    "app/poddisruptionbudget.yaml": `apiVersion: policy/v1\nkind: PodDisruptionBudget\n${meta("")}spec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      ${labels}\n`,
  };
}

export function generateRepo(
  dir: string,
  count: number = apps,
): { resources: number; kustomizations: string[]; standalone: string[] } {
  const write = repoWriter(dir);
  write(
    "clusters/enigma/flux-system/gitrepository.yaml",
    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: https://github.com/example/home-ops\n  ref:\n    branch: main\n",
  );
  const kustomizations: string[] = [];
  const standalone = ["clusters/enigma/flux-system/gitrepository.yaml"];
  let resources = 1;
  for (let i = 0; i < count; i++) {
    const files = appFiles(i);
    const name = `app-${String(i).padStart(3, "0")}`;
    for (const [rel, text] of Object.entries(files)) write(`apps/${name}/${rel}`, text);
    kustomizations.push(`apps/${name}/app`);
    standalone.push(`apps/${name}/ks.yaml`);
    resources += Object.keys(files).length - 1;
  }
  return { resources, kustomizations, standalone };
}

/** A build cache shared by the runs while set (see oursWithRss). */
const keptCaches: { dir: string | undefined } = { dir: undefined };

interface ValidateJson {
  findings: { severity: string; rule: string; file: string; line: number }[];
  stats: { objects: number };
}

/** Our validate, as users run it: a fresh CLI process with JSON output. */
async function ours(cwd: string, target: string): Promise<ValidateJson> {
  const { result, rss } = await oursWithRss(cwd, target);
  peaks.last = Math.max(peaks.last, rss);
  return result;
}

/** The bare pipe: `kubectl kustomize` per app, standalone files appended, one kubeconform. */
async function pipe(cwd: string, dirs: string[], files: string[], location: string): Promise<string> {
  const script = [
    "set -o pipefail",
    'for d in "${@:2}"; do case "$d" in *.yaml) cat "$d";; *) kubectl kustomize "$d";; esac; echo "---"; done \\',
    `  | "${toolPath("kubeconform", process.env)}" -strict -n 2 -summary -schema-location "$1"`,
  ].join("\n");
  const child = run("bash", ["-c", script, "pipe", location, ...dirs, ...files], {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
  });
  const pid = child.child.pid;
  const sampler = peakRss(() => (pid === undefined ? [] : [pid]));
  try {
    const { stdout } = await child;
    return stdout.trim();
  } finally {
    peaks.last = Math.max(peaks.last, sampler.stop());
  }
}

// ---- floors: what validate cannot go below (issue 15) ----

/** Peak RSS of the process trees `ours`/`pipe` ran since the last `take()`. */
const peaks = {
  last: 0,
  take(): number {
    const value = this.last;
    this.last = 0;
    return value;
  },
};

const cores = os.availableParallelism();

/**
 * Whether peakRss samples. Off in the timed runs: reading all of /proc every 20 ms takes CPU the
 * measured processes then lack on 2 cores. Each row gets one more run with sampling on, for its
 * peak RSS only (see `sampled`).
 */
const sampling = { on: false };

/** One more run of `fn` with peak RSS sampling on; its result carries the figure. */
async function sampled<T>(fn: () => Promise<T>): Promise<T> {
  sampling.on = true;
  try {
    return await fn();
  } finally {
    sampling.on = false;
  }
}

/** Samples the peak resident memory of process trees every 20 ms until stopped (see `sampling`). */
function peakRss(pids: () => readonly number[]): { stop: () => number } {
  return sampling.on ? peakTreeRss(pids, 20) : { stop: () => 0 };
}

/** `haos-tasks validate` in a fresh CLI process, with the peak RSS of its whole process tree. */
async function oursWithRss(cwd: string, target: string): Promise<{ result: ValidateJson; rss: number }> {
  // Each run starts with an empty build cache (kustomize builds, Flux substitution and kubeconform
  // answers: HAOS_TASKS_BUILD_CACHE), as every run did before the cache existed and as the floors
  // do; `keptCaches.dir` set, the runs share one (the "second run" row).
  const buildCache = keptCaches.dir ?? mkdtempSync(path.join(os.tmpdir(), "haos-validate-bench-builds-"));
  const child = run(process.execPath, [cli, "validate", target, "--format", "json"], {
    cwd,
    maxBuffer: 1024 * 1024 * 1024,
    env: { ...process.env, HAOS_TASKS_BUILD_CACHE: buildCache },
  });
  child
    .finally(() => {
      if (!keptCaches.dir) rmSync(buildCache, { recursive: true, force: true });
    })
    .catch(() => {});
  const pid = child.child.pid;
  const sampler = peakRss(() => (pid === undefined ? [] : [pid]));
  try {
    const { stdout } = await child;
    return { result: JSON.parse(stdout) as ValidateJson, rss: sampler.stop() };
  } catch (error) {
    const rss = sampler.stop();
    const e = error as { stdout?: string; stderr?: string; code?: number };
    if (e.code === 1 && e.stdout) return { result: JSON.parse(e.stdout) as ValidateJson, rss };
    throw new Error(`haos-tasks validate failed (exit ${e.code}): ${e.stderr ?? String(error)}`);
  }
}

/**
 * The floor's requests, made once before any timing: validate's own build units (planBuilds: Flux's
 * targetNamespace, components and generated kustomizations) as helper requests, and the same roots
 * as plain directories.
 */
interface FloorBuilds {
  flux: BuildRequest[];
  plain: string[];
}

async function floorBuilds(root: string, roots: readonly string[]): Promise<FloorBuilds> {
  const { units } = planBuilds(await loadWorkspace(["."], { cwd: root, root }), process.env);
  return { flux: units.map((u) => helperRequest(u, root)), plain: roots.map((d) => path.join(root, d)) };
}

/**
 * The build floor: the builds validate runs (its own requests, Flux's load restrictor) through the
 * in-process helpers (one per core), no checks. `plain` builds the same roots as bare `kubectl
 * kustomize` requests instead (no Flux semantics: less kustomize work than validate must do).
 */
async function buildFloor(builds: FloorBuilds, plain = false): Promise<{ objects: string[]; rss: number }> {
  const requests = plain ? builds.plain : builds.flux;
  const objects: string[] = [];
  let helpers: number[] = [];
  const sampler = peakRss(() => [process.pid, ...helpers]);
  const started = process.memoryUsage().rss;
  await buildInProcess(
    requests,
    { env: process.env, workers: cores, ...(plain ? {} : { loadRestrictor: fluxLoadRestrictor }) },
    (built) => {
      if (helpers.length === 0) helpers = childPids(process.pid);
      for (const r of built.resources) objects.push(JSON.stringify(r.object));
    },
  );
  // The bench process itself holds the generated repository's bookkeeping: count only its growth.
  return { objects, rss: Math.max(0, sampler.stop() - started) };
}

/** The schema floor: kubeconform alone over the pre-rendered objects, one stream, same catalog and workers. */
async function kubeconformFloor(file: string, location: string): Promise<{ summary: string; rss: number }> {
  const child = run(
    toolPath("kubeconform", process.env),
    ["-strict", "-n", String(cores), "-summary", "-schema-location", location, file],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const pid = child.child.pid;
  const sampler = peakRss(() => (pid === undefined ? [] : [pid]));
  try {
    const { stdout } = await child;
    return { summary: stdout.trim().split("\n").at(-1) ?? "", rss: sampler.stop() };
  } catch (error) {
    const rss = sampler.stop();
    const e = error as { stdout?: string; code?: number };
    if (e.code === 1 && e.stdout) return { summary: e.stdout.trim().split("\n").at(-1) ?? "", rss };
    throw error;
  }
}

interface FloorRows<T> {
  rows: [string, number, string][];
  buildMs: number;
  kubeconformMs: number;
  /** validate's median, when it ran in the same rounds (see floorRows). */
  ours?: { ms: number; samples: number[]; value: T };
}

/**
 * Both floor rows for one generated repository: the build alone, then kubeconform alone over its
 * output. Given `ours`, each of the `count` rounds runs validate, the build floor and the
 * kubeconform floor one after the other, so the ratio compares figures taken seconds apart: this
 * machine's speed drifts by 10–30% over minutes, and the floors used to run minutes after validate.
 */
async function floorRows<T = never>(
  dir: string,
  repo: { kustomizations: string[]; standalone: string[] },
  location: string,
  count: number,
  ours?: () => Promise<T>,
): Promise<FloorRows<T>> {
  const builds = await floorBuilds(dir, repo.kustomizations);
  // One build first: its objects are kubeconform's pre-rendered input (and, without `ours`, the
  // first build sample).
  const firstStart = performance.now();
  const first = await buildFloor(builds);
  const firstMs = performance.now() - firstStart;
  // Outside the repository: validate runs in the same rounds and must not read it.
  const renderedDir = mkdtempSync(path.join(os.tmpdir(), "haos-validate-bench-rendered-"));
  const rendered = path.join(renderedDir, "rendered.yaml");
  const standalone = repo.standalone.map((f) => readFileSync(path.join(dir, f), "utf8"));
  writeFileSync(rendered, [...first.objects, ...standalone].join("\n---\n"));
  const samples = {
    ours: [] as number[],
    build: [] as number[],
    kubeconform: [] as number[],
    plain: [] as number[],
  };
  let value: T | undefined;
  let built = first;
  let checked: Awaited<ReturnType<typeof kubeconformFloor>> | undefined;
  const time = async <R>(into: number[], fn: () => Promise<R>): Promise<R> => {
    const start = performance.now();
    const result = await fn();
    into.push(performance.now() - start);
    return result;
  };
  if (!ours) samples.build.push(firstMs);
  for (let i = 0; i < count; i++) {
    if (ours) value = await time(samples.ours, ours);
    if (ours || i > 0) built = await time(samples.build, () => buildFloor(builds));
    checked = await time(samples.kubeconform, () => kubeconformFloor(rendered, location));
    await time(samples.plain, () => buildFloor(builds, true));
  }
  const builtRss = (await sampled(() => buildFloor(builds))).rss;
  const checkedRss = (await sampled(() => kubeconformFloor(rendered, location))).rss;
  rmSync(renderedDir, { recursive: true, force: true });
  return {
    buildMs: median(samples.build),
    kubeconformMs: median(samples.kubeconform),
    ...(ours ? { ours: { ms: median(samples.ours), samples: samples.ours, value: value as T } } : {}),
    rows: [
      [
        `  floor: in-process build alone (kustomize-build ×${cores}, no checks)`,
        median(samples.build),
        `${built.objects.length} objects, validate's own requests (Flux's targetNamespace, load restrictor none), peak RSS ${mib(builtRss)}`,
      ],
      [
        "    (for reference: the same roots as plain `kubectl kustomize` requests)",
        median(samples.plain),
        "no Flux semantics: less kustomize work than validate must do; not a floor",
      ],
      [
        `  floor: kubeconform -strict -n ${cores} alone, pre-rendered`,
        median(samples.kubeconform),
        `${checked?.summary ?? ""}, peak RSS ${mib(checkedRss)}`,
      ],
    ],
  };
}

/** The 5,000-app / 55,000-object size: validate and both floors, one timed run each (and one for RSS). */
async function bigRepoRows(
  location: string,
): Promise<{ rows: [string, number, string][]; ms: number; rss: number }> {
  const big = Number(process.env.VALIDATE_BENCH_BIG_APPS ?? 5000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-validate-bench-big-"));
  try {
    const repo = generateRepo(dir, big);
    await run("git", ["init", "-q", "-b", "main", dir]);
    const floors = await floorRows(dir, repo, location, 1);
    let measured: Awaited<ReturnType<typeof timed<{ result: ValidateJson; rss: number }>>>;
    try {
      measured = await timed(() => oursWithRss(dir, "."), 1);
      measured.value.rss = (await sampled(() => oursWithRss(dir, "."))).rss;
    } catch (error) {
      // A failure at this size is a result to print (e.g. EMFILE), not a reason to lose the rows.
      const why = String(error instanceof Error ? error.message : error).split("\n")[0] ?? "";
      return {
        ms: Number.POSITIVE_INFINITY,
        rss: 0,
        rows: [
          [`haos-tasks validate (${big} apps)`, Number.NaN, `FAILED: ${why.slice(0, 160)}`],
          ...floors.rows,
        ],
      };
    }
    const { result, rss } = measured.value;
    return {
      ms: measured.ms,
      rss,
      rows: [
        [
          `haos-tasks validate (${big} apps)`,
          measured.ms,
          `${result.stats.objects} objects, ${result.findings.length} findings, peak RSS ${mib(rss)}`,
        ],
        ...floors.rows,
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// moon's console threads flush every 100 ms and moon joins them before it exits (starbase_console's
// flush loop): a run ends at the first 100 ms mark after its work, so a cache hit takes about 0.12
// or 0.22 s natively and one sample says little. Each moon row is the median of nine.
const moonRuns = 9;
const underTarget = (samples: readonly number[]) =>
  `${samples.filter((ms) => ms < 200).length} of ${samples.length} runs under 0.2 s`;

/**
 * moon's own floor for a cache hit: a workspace of one project whose task (`true`, one input
 * file) is cached, run the same way as the real task. Nothing of haos-tasks runs in it.
 */
async function moonFloorMs(
  binary: string = moonBin,
): Promise<{ ms: number; cached: boolean; samples: number[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-moon-floor-"));
  try {
    mkdirSync(path.join(dir, ".moon"));
    mkdirSync(path.join(dir, "p"));
    writeFileSync(
      path.join(dir, ".moon", "workspace.yml"),
      'projects:\n  - "p"\nvcs:\n  client: "git"\ntelemetry: false\n',
    );
    writeFileSync(
      path.join(dir, "p", "moon.yml"),
      'language: "unknown"\ntasks:\n  t:\n    command: "true"\n    inputs: ["file.txt"]\n',
    );
    writeFileSync(path.join(dir, "p", "file.txt"), "x\n");
    const git = (...args: string[]) => run("git", args, { cwd: dir });
    await git("init", "-q", "-b", "main");
    await git("add", "-A");
    await git("-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-qm", "init");
    const moon = () =>
      run(binary, ["run", "p:t", "--summary", "minimal"], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: "1" },
      });
    await moon();
    const hit = await timed(async () => {
      const { stdout, stderr } = await moon();
      return `${stdout}${stderr}`;
    }, moonRuns);
    return { ms: hit.ms, cached: /cached/i.test(hit.value), samples: hit.samples };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const realApps = Number(process.env.VALIDATE_BENCH_REAL_APPS ?? 100);
const datree = path.resolve(toolsRepoRoot, "../shared/catalogs/datree-crds-catalog");
const datreeLocation = `${datree}/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`;

/** A home-ops-shaped repository: what flux-local and kubeconform users run on. */
function generateRealRepo(dir: string): { kustomizations: string[]; files: string[] } {
  const write = repoWriter(dir);
  write("kubernetes/flux/vars/cluster-settings.yaml", clusterSettings);
  write(
    "kubernetes/flux/vars/kustomization.yaml",
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./cluster-settings.yaml\n",
  );
  write(
    "kubernetes/components/common/kustomization.yaml",
    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./limitrange.yaml\n",
  );
  write(
    "kubernetes/components/common/limitrange.yaml",
    "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: ${APP}-defaults\nspec:\n  limits:\n    - type: Container\n      defaultRequest:\n        cpu: 10m\n        memory: 32Mi\n",
  );
  const kustomizations = ["kubernetes/flux/vars"];
  const files: string[] = [];
  for (let i = 0; i < realApps; i++) {
    const app = `app-${String(i).padStart(3, "0")}`;
    const ns = `ns-${i % 10}`;
    const base = writeFluxApp(write, app, ns);
    files.push(`${base}/ks.yaml`);
    write(
      `${base}/app/kustomization.yaml`,
      "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./ocirepository.yaml\n  - ./helmrelease.yaml\n  - ./externalsecret.yaml\n  - ./pvc.yaml\n",
    );
    write(
      `${base}/app/ocirepository.yaml`,
      `apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: ${app}\n  namespace: ${ns}\nspec:\n  interval: 15m\n  layerSelector:\n    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip\n    operation: copy\n  ref:\n    tag: 4.${i % 5}.0\n  url: oci://ghcr.io/bjw-s-labs/helm/app-template\n`,
    );
    write(
      `${base}/app/helmrelease.yaml`,
      `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: \${APP}
  namespace: ${ns}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: ${app}
  maxHistory: \${MAX_HISTORY:=3}
  install:
    remediation:
      retries: -1
  upgrade:
    cleanupOnFail: true
    remediation:
      retries: 3
  values:
    controllers:
      main:
        containers:
          app:
            image:
              repository: ghcr.io/example/${app}
              tag: 1.${i % 20}.0@${digest}
            env:
              TZ: \${TIMEZONE}
    persistence:
      data:
        existingClaim: \${APP}-data
`,
    );
    write(
      `${base}/app/externalsecret.yaml`,
      `apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: ${app}\n  namespace: ${ns}\nspec:\n  refreshInterval: 1h\n  secretStoreRef:\n    kind: ClusterSecretStore\n    name: onepassword\n  target:\n    name: ${app}-secret\n  dataFrom:\n    - extract:\n        key: ${app}\n`,
    );
    write(
      `${base}/app/pvc.yaml`,
      `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: \${APP}-data\n  namespace: ${ns}\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: \${STORAGE_CLASS}\n  resources:\n    requests:\n      storage: 1Gi\n`,
    );
    kustomizations.push(`${base}/app`);
  }
  return { kustomizations, files };
}

async function realShaped(catalogLocation: string): Promise<boolean> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-validate-bench-real-"));
  try {
    const repo = generateRealRepo(dir);
    await run("git", ["init", "-q", "-b", "main", dir]);
    const oursReal = async () => {
      try {
        const { stdout } = await run(
          process.execPath,
          [cli, "validate", ".", "--format", "json", "--schema-location", datreeLocation],
          { cwd: dir, maxBuffer: 256 * 1024 * 1024 },
        );
        return JSON.parse(stdout) as ValidateJson;
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string; code?: number };
        if (e.code === 1 && e.stdout) return JSON.parse(e.stdout) as ValidateJson;
        throw new Error(`haos-tasks validate failed (exit ${e.code}): ${e.stderr ?? String(error)}`);
      }
    };
    // The pipe as such repositories write it: every app built, one kubeconform, both locations.
    const pipeReal = async () => {
      const script = [
        "set -o pipefail",
        'for d in "${@:3}"; do case "$d" in *.yaml) cat "$d";; *) kubectl kustomize "$d";; esac; echo "---"; done \\',
        `  | "${toolPath("kubeconform", process.env)}" -strict -n 2 -summary -schema-location "$1" -schema-location "$2"`,
      ].join("\n");
      const { stdout } = await run(
        "bash",
        ["-c", script, "pipe", catalogLocation, datreeLocation, ...repo.kustomizations, ...repo.files],
        { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
      ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }));
      return stdout.trim();
    };
    await oursReal();
    await pipeReal();
    const a = await timed(oursReal, runs);
    const b = await timed(pipeReal, runs);
    const ratio = a.ms / b.ms;
    const by = (r: ValidateJson) =>
      Object.entries(
        r.findings.reduce<Record<string, number>>((acc, f) => {
          acc[f.rule] = (acc[f.rule] ?? 0) + 1;
          return acc;
        }, {}),
      )
        .map(([rule, n]) => `${rule} ${n}`)
        .join(", ") || "no findings";
    console.log(
      `real-shaped benchmark: ${realApps} apps (HelmRelease, OCIRepository, ExternalSecret, PVC, component, postBuild), median of ${runs} runs`,
    );
    console.log(
      `  ${"haos-tasks validate --schema-location <catalog dir>".padEnd(64)} ${(a.ms / 1000).toFixed(3).padStart(7)} s  ${a.value.stats.objects} objects; ${by(a.value)}`,
    );
    console.log(
      `  ${"kubectl kustomize | kubeconform -strict (2 locations)".padEnd(64)} ${(b.ms / 1000).toFixed(3).padStart(7)} s  ${b.value.split("\n").at(-1) ?? ""}`,
    );
    const ok = ratio <= 0.5;
    console.log(
      `target: real-shaped validate / pipe = ${ratio.toFixed(2)}× (target ≤ 0.5×) — ${ok ? "met" : "MISSED"}`,
    );
    return ok;
  } finally {
    if (process.env.VALIDATE_BENCH_KEEP) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.env.VALIDATE_BENCH_ONLY === "real") {
    const mirror = resolveMirror(undefined, process.env);
    const catalog = await ensureSchemaCatalog({
      env: process.env,
      platform: await defaultPlatform(),
      ...(mirror ? { mirror } : {}),
    });
    process.exitCode = (await realShaped(catalog.location)) ? 0 : 1;
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-validate-bench-"));
  try {
    const started = performance.now();
    const repo = generateRepo(dir);
    await run("git", ["init", "-q", "-b", "main", dir]);
    const generatedMs = performance.now() - started;

    const mirror = resolveMirror(undefined, process.env);
    const catalog = await ensureSchemaCatalog({
      env: process.env,
      platform: await defaultPlatform(),
      ...(mirror ? { mirror } : {}),
    });
    // Warm both once (page cache, kubectl's first start) so neither pays for the other.
    await ours(dir, ".");
    await pipe(dir, repo.kustomizations, repo.standalone, catalog.location);

    const rssOf = async (fn: () => Promise<unknown>) => {
      peaks.take();
      await sampled(fn);
      return peaks.take();
    };
    // validate and the two floors in the same rounds (floorRows), then the pipe.
    const floors = await floorRows(dir, repo, catalog.location, runs, () => ours(dir, "."));
    const big = floors.ours as { ms: number; samples: number[]; value: ValidateJson };
    const bigRss = await rssOf(() => ours(dir, "."));
    const bare = await timed(() => pipe(dir, repo.kustomizations, repo.standalone, catalog.location), runs);
    const bareRss = await rssOf(() => pipe(dir, repo.kustomizations, repo.standalone, catalog.location));
    // The same repository run again with the build cache kept (what a second CI run or a local
    // re-run does): kustomize builds, Flux substitution and kubeconform answers read back.
    keptCaches.dir = mkdtempSync(path.join(os.tmpdir(), "haos-validate-bench-kept-"));
    let second: Awaited<ReturnType<typeof timed<ValidateJson>>>;
    try {
      await ours(dir, ".");
      second = await timed(() => ours(dir, "."), runs);
    } finally {
      rmSync(keptCaches.dir, { recursive: true, force: true });
      keptCaches.dir = undefined;
    }
    const app = "apps/haos-enigma";
    const oneApp = await timed(() => ours(toolsRepoRoot, app), runs);
    const oneAppRss = await rssOf(() => ours(toolsRepoRoot, app));
    const oneAppPipe = await timed(() => pipe(toolsRepoRoot, [app], [], catalog.location), runs);
    const oneAppPipeRss = await rssOf(() => pipe(toolsRepoRoot, [app], [], catalog.location));
    // What a cold check of this app cannot go below: kubeconform alone over its objects (loading
    // and compiling the KubeVirt and CozyStack schemas is most of it).
    const oneAppRendered = path.join(dir, "one-app.yaml");
    writeFileSync(oneAppRendered, (await run("kubectl", ["kustomize", app], { cwd: toolsRepoRoot })).stdout);
    const oneAppFloor = await timed(() => kubeconformFloor(oneAppRendered, catalog.location), runs);

    const moon = (binary: string) =>
      run(binary, ["run", "haos-enigma:validate", "--summary", "minimal"], {
        cwd: toolsRepoRoot,
        env: { ...process.env, NO_COLOR: "1" },
      });
    await moon(moonBin); // fills the cache when inputs changed since the last run
    const hitOf = (binary: string) =>
      timed(async () => {
        const { stdout, stderr } = await moon(binary);
        return `${stdout}${stderr}`;
      }, moonRuns);
    const hitMs = await hitOf(moonBin);
    const cached = /cached/i.test(hitMs.value);
    const moonFloor = await moonFloorMs();
    const nativeHit = await hitOf(moonNative);
    const nativeCached = /cached/i.test(nativeHit.value);
    const nativeFloor = await moonFloorMs(moonNative);

    const count = (r: ValidateJson, severity: string) =>
      r.findings.filter((f) => f.severity === severity).length;
    const ratio = big.ms / bare.ms;
    const floorMs = floors.buildMs + floors.kubeconformMs;
    const rows: [string, number, string][] = [
      [
        `haos-tasks validate (${apps} apps)`,
        big.ms,
        `${big.value.stats.objects} objects, ${count(big.value, "error")} errors, ${count(big.value, "warning")} warnings, file:line per finding, peak RSS ${mib(bigRss)}`,
      ],
      [
        "kubectl kustomize | kubeconform -strict -n 2",
        bare.ms,
        `${bare.value.split("\n").at(-1) ?? ""}, peak RSS ${mib(bareRss)}`,
      ],
      ...floors.rows,
      [
        `haos-tasks validate (${apps} apps), second run (build cache kept)`,
        second.ms,
        `${second.value.stats.objects} objects, ${count(second.value, "error")} errors`,
      ],
      [
        `haos-tasks validate ${app} (cold CLI, schemas cached)`,
        oneApp.ms,
        `${oneApp.value.stats.objects} objects, ${oneApp.value.findings.length} findings, peak RSS ${mib(oneAppRss)}`,
      ],
      [
        `kubectl kustomize ${app} | kubeconform`,
        oneAppPipe.ms,
        `${oneAppPipe.value.split("\n").at(-1) ?? ""}, peak RSS ${mib(oneAppPipeRss)}`,
      ],
      [
        `  floor: kubeconform -strict -n ${cores} alone, ${app} pre-rendered`,
        oneAppFloor.ms,
        oneAppFloor.value.summary,
      ],
      [
        "moon run haos-enigma:validate (cache hit)",
        hitMs.ms,
        cached ? `moon reported the task cached; ${underTarget(hitMs.samples)}` : "NOT A CACHE HIT",
      ],
      [
        "  floor: moon run of a one-file `true` task (cache hit)",
        moonFloor.ms,
        moonFloor.cached
          ? `moon's own start, graph and hashing: no cache hit is faster; ${underTarget(moonFloor.samples)}`
          : "NOT A CACHE HIT",
      ],
      [
        "moon run haos-enigma:validate, native moon binary (cache hit)",
        nativeHit.ms,
        nativeCached
          ? `without the npm shim's Node start; ${underTarget(nativeHit.samples)}`
          : "NOT A CACHE HIT",
      ],
      [
        "  floor: native moon, the one-file `true` task (cache hit)",
        nativeFloor.ms,
        nativeFloor.cached
          ? `moon's own floor without the shim; ${underTarget(nativeFloor.samples)}`
          : "NOT A CACHE HIT",
      ],
    ];
    const huge =
      process.env.VALIDATE_BENCH_BIG_APPS === "0" ? undefined : await bigRepoRows(catalog.location);
    if (huge) rows.push(...huge.rows);
    console.log(
      `validate benchmark: ${apps} apps, ${repo.resources} resources, ${repo.kustomizations.length} kustomizations (generated in ${(generatedMs / 1000).toFixed(2)} s); median of ${runs} runs on ${os.cpus().length} cores`,
    );
    for (const [name, ms, note] of rows) {
      console.log(`  ${name.padEnd(64)} ${(ms / 1000).toFixed(3).padStart(7)} s  ${note}`);
    }
    const targets: [string, boolean][] = [
      // A figure of a run that checked something else is no figure (a stray file, a regression).
      [
        `validate checked the repository as generated: ${big.value.stats.objects} of ${repo.resources} objects, ${big.value.findings.length} findings`,
        big.value.stats.objects === repo.resources && big.value.findings.length === 0,
      ],
      [`validate / pipe = ${ratio.toFixed(3)}× (target ≤ 0.12×)`, ratio <= 0.12],
      [
        `validate / (build floor + kubeconform floor) = ${(big.ms / floorMs).toFixed(2)}× (target ≤ 1.5×)`,
        big.ms <= 1.5 * floorMs,
      ],
      [
        `one app cold ${(oneApp.ms / 1000).toFixed(2)} s (target < 0.4 s; kubeconform alone ${(oneAppFloor.ms / 1000).toFixed(2)} s)`,
        oneApp.ms < 400,
      ],
      [
        `moon cache hit ${(hitMs.ms / 1000).toFixed(3)} s through the npm shim, ${(nativeHit.ms / 1000).toFixed(3)} s native (target < 0.2 s; moon's floor here ${(moonFloor.ms / 1000).toFixed(3)} s, native ${(nativeFloor.ms / 1000).toFixed(3)} s)`,
        cached && hitMs.ms < 200,
      ],
    ];
    if (huge)
      targets.push(
        [`${huge.rows[0]?.[0]} ${(huge.ms / 1000).toFixed(1)} s (target < 20 s)`, huge.ms < 20_000],
        [`its peak RSS ${mib(huge.rss)} (target < 1 GB)`, huge.rss < 1e9],
      );
    for (const [what, ok] of targets) console.log(`target: ${what} — ${ok ? "met" : "MISSED"}`);
    const realOk = await realShaped(catalog.location);
    process.exitCode = targets.every(([, ok]) => ok) && realOk ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The differential test imports generateRepo; only `node validate.bench.ts` runs the benchmark.
if (import.meta.main) await main();
