import path from "node:path";
import type { Finding } from "../findings.ts";
import { at, isKind, type Subject } from "../lint/platform/subject.ts";
import { finding } from "../lint/rules.ts";
import { apiGroup, field, stringField } from "../manifests/resources.ts";
import type {
  ChartMirror,
  ChartSource,
  HelmRenderResult,
  RenderError,
  Renderer,
  ValuesSource,
} from "./helper.ts";
import { cozystackChartVersions, type PinnedChartDir } from "./pinned-charts.ts";

/**
 * validate's render stage: every HelmRelease, and every CozyStack app (VMDisk, VMInstance) the way
 * cozystack-api hands it to helm-controller, rendered by the `flux-render` helper (Helm's and
 * Flux's own Go libraries at helm-controller's versions). The rendered objects become subjects like
 * any other — schema-checked, reference-checked, platform-checked — with findings placed at the
 * object that rendered them. Plain data in (subjects), plain data out (subjects and findings);
 * the renderer is passed in.
 */

/** How the helper fetches charts: cache directory, offline, mirrors (the same for every request). */
export interface ChartFetch {
  cacheDir?: string;
  offline?: boolean;
  mirrors?: readonly ChartMirror[];
  timeoutSeconds?: number;
  /** JSON schemas by URL (values.schema.json `$ref`s), read locally instead of fetched. */
  schemaFiles?: Record<string, string>;
  /**
   * flux-render's render cache under `cacheDir` (answers kept between runs, keyed by the helper's
   * build, the chart's content and everything the request holds). Default: on when there is a
   * cacheDir; false (--no-render-cache) renders everything.
   */
  renderCache?: boolean;
}

/** What the render stage needs of flux-render: its helm op (one Renderer, or a pool of them). */
export type HelmRenderer = Pick<Renderer, "helm">;

export interface RenderStageOptions {
  renderer: HelmRenderer;
  /** Absolute repository root (charts in this checkout are read from it). */
  root: string;
  /** The Kubernetes version Helm's .Capabilities report, e.g. `1.34` or `v1.34.4`. */
  kubernetesVersion: (owner: Subject) => string;
  /** group/version and group/version/Kind strings Helm's .Capabilities.APIVersions hold. */
  apiVersions: (owner: Subject) => Promise<readonly string[]>;
  /** A chart the schema lock pins (read from the mirror or cache), as a chart directory; else undefined. */
  pinnedChart?: (name: string, version: string) => Promise<PinnedChartDir | undefined>;
  /** The CozyStack version an app's platform declares (undefined: not a CozyStack app here). */
  cozystackVersion?: (owner: Subject) => string | undefined;
  /** Objects a CozyStack chart may `lookup` that the repository cannot hold (the stock instancetypes). */
  stockObjects?: (owner: Subject) => Record<string, unknown>[];
  /** --strict: an unavailable chart is an error. */
  strict?: boolean;
  chartFetch?: ChartFetch;
  onRendered?: (event: RenderEvent) => void;
  /** Progress of the chart fetches and renders (a terminal's progress line is drawn from it). */
  onChartProgress?: (progress: ChartProgress) => void;
  /** Only the HelmReleases and apps it accepts are rendered (diff: what a change affects). Default: all. */
  select?: (owner: Subject) => boolean;
}

/**
 * Where the render stage is: emitted when the first request goes to flux-render and after each
 * release or app is done. flux-render answers in the order it was asked, so the oldest request
 * not yet answered is the chart it is fetching (or rendering) now.
 */
export interface ChartProgress {
  /** HelmReleases and apps done (rendered or not), of all those of the run. */
  done: number;
  total: number;
  /** The chart of the oldest unanswered request (`oci://host/repo/chart 1.2.3`); none when all are done. */
  current?: string;
  /** Charts fetched from their source so far (not from the chart cache or a pinned file). */
  fetched: number;
  /** Charts read from the cache (or a pinned file) so far. */
  cached: number;
  /** Bytes of the charts fetched so far (flux-render's chart.size). */
  fetchedBytes: number;
}

export interface RenderEvent {
  owner: string;
  chart: string;
  ok: boolean;
  cached: boolean | undefined;
  fetchMs: number | undefined;
  renderMs: number | undefined;
  /** Answered from the render cache. */
  renderCached: boolean;
}

export interface RenderStats {
  /** HelmReleases and CozyStack apps found. */
  releases: number;
  rendered: number;
  failed: number;
  unavailable: number;
  objects: number;
  /** Charts fetched from the cache (or pinned files) / all charts the helper loaded. */
  cacheHits: number;
  chartLoads: number;
  /** Answers the render cache gave (of chartLoads): releases not rendered again. */
  renderCacheHits: number;
}

export interface RenderStageResult {
  subjects: Subject[];
  findings: Finding[];
  /** The releases whose chart was had but did not render, with the renderer's message. */
  failures: { owner: Subject; message: string }[];
  stats: RenderStats;
}

const helmGroup = "helm.toolkit.fluxcd.io";
const cozystackGroup = "apps.cozystack.io";

/** An exact SemVer version (a HelmRepository chart version that needs no index to resolve). */
const exactVersion = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

const key = (kind: string, namespace: string, name: string) => `${kind}\u0000${namespace}\u0000${name}`;

/** Subjects by kind/namespace/name, for the sourceRef and valuesFrom lookups. */
class SubjectIndex {
  readonly #byKey = new Map<string, Subject>();
  constructor(subjects: readonly Subject[]) {
    for (const s of subjects) {
      const k = key(s.kind, s.namespace, s.name);
      if (!this.#byKey.has(k)) this.#byKey.set(k, s);
    }
  }
  get(kind: string, namespace: string, name: string): Subject | undefined {
    return this.#byKey.get(key(kind, namespace, name));
  }
}

/** What the chart of a HelmRelease is, or why it cannot be had offline from the repository. */
export type ChartResolution =
  | { chart: ChartSource; name: string; version: string; pointer: string }
  | { unavailable: string; hint: string; pointer: string };

/**
 * The chart a HelmRelease installs, resolved the way helm-controller's source references go:
 * `spec.chartRef` (OCIRepository, HelmChart, ExternalArtifact) or `spec.chart.spec` with a
 * HelmRepository (HTTP index or `type: oci`), a GitRepository (a path in this checkout) or a Bucket.
 */
export function resolveChart(release: Subject, index: SubjectIndex, root: string): ChartResolution {
  const object = release.object;
  const namespace = release.namespace;
  const chartRef = field(object, "spec", "chartRef");
  if (chartRef && typeof chartRef === "object") {
    const kind = stringField(chartRef, "kind") ?? "";
    const name = stringField(chartRef, "name") ?? "";
    const ns = stringField(chartRef, "namespace") ?? namespace;
    const pointer = "/spec/chartRef";
    if (kind === "OCIRepository") {
      const source = index.get("OCIRepository", ns, name);
      if (!source)
        return {
          unavailable: `OCIRepository ${ns}/${name} is not in the repository`,
          hint: "add the OCIRepository to the repository, or list it under validate.external",
          pointer,
        };
      const url = stringField(source.object, "spec", "url") ?? "";
      const ref = field(source.object, "spec", "ref");
      const digest = stringField(ref, "digest");
      const semver = stringField(ref, "semver");
      const tag = stringField(ref, "tag") ?? "latest";
      const chartName = url.split("/").pop() ?? url;
      const version = digest ?? semver ?? tag;
      return {
        chart: {
          type: "oci",
          url,
          ...(digest ? { digest } : semver ? { semver } : { tag }),
          digestTracking: true,
        },
        name: chartName,
        version,
        pointer,
      };
    }
    if (kind === "HelmChart") {
      const source = index.get("HelmChart", ns, name);
      if (!source)
        return {
          unavailable: `HelmChart ${ns}/${name} is not in the repository`,
          hint: "add the HelmChart to the repository",
          pointer,
        };
      return fromChartSpec(source.object, ns, index, root, pointer, "spec");
    }
    return {
      unavailable: `a chartRef of kind ${kind || "(none)"} (${ns}/${name}) is produced outside the repository`,
      hint: "nothing to fix; the chart is not rendered offline (use an OCIRepository or HelmRepository the repository defines to have it checked)",
      pointer,
    };
  }
  return fromChartSpec(object, namespace, index, root, "/spec/chart", "spec", "chart", "spec");
}

function fromChartSpec(
  object: Record<string, unknown>,
  namespace: string,
  index: SubjectIndex,
  root: string,
  pointer: string,
  ...specPath: string[]
): ChartResolution {
  const spec = field(object, ...specPath);
  const chart = stringField(spec, "chart") ?? "";
  const version = stringField(spec, "version") ?? "*";
  const sourceRef = field(spec, "sourceRef");
  const kind = stringField(sourceRef, "kind") ?? "HelmRepository";
  const name = stringField(sourceRef, "name") ?? "";
  const ns = stringField(sourceRef, "namespace") ?? namespace;
  if (!chart)
    return {
      unavailable: "the HelmRelease names no chart",
      hint: "set spec.chart.spec.chart or spec.chartRef",
      pointer,
    };
  if (kind === "HelmRepository") {
    const source = index.get("HelmRepository", ns, name);
    if (!source)
      return {
        unavailable: `HelmRepository ${ns}/${name} is not in the repository`,
        hint: "add the HelmRepository to the repository, or list it under validate.external",
        pointer,
      };
    const url = (stringField(source.object, "spec", "url") ?? "").replace(/\/+$/, "");
    if (stringField(source.object, "spec", "type") === "oci" || url.startsWith("oci://")) {
      return {
        chart: {
          type: "oci",
          url: `${url}/${chart}`,
          ...(exactVersion.test(version) ? { tag: version } : { semver: version }),
        },
        name: chart,
        version,
        pointer,
      };
    }
    return { chart: { type: "http", url, name: chart, version }, name: chart, version, pointer };
  }
  if (kind === "GitRepository") {
    const dir = path.resolve(root, chart);
    if (dir !== root && !dir.startsWith(`${root}${path.sep}`))
      return {
        unavailable: `the chart path ${chart} leaves the repository`,
        hint: "give the chart's path inside the repository",
        pointer: `${pointer}/spec/chart`,
      };
    return { chart: { type: "dir", path: dir }, name: path.posix.basename(chart), version, pointer };
  }
  return {
    unavailable: `charts from a ${kind} (${ns}/${name}) are not read offline`,
    hint: "nothing to fix; serve the chart from a HelmRepository or OCIRepository to have it rendered",
    pointer,
  };
}

/**
 * What each HelmRelease's render reads from the repository, by `HelmRelease/<namespace>/<name>`:
 * the release itself, its chart as resolved from the source objects (a directory chart relative to
 * root, also returned as `chartDir`) and the data of its valuesFrom sources. Two commits whose
 * fingerprints are equal render the release the same, unless the chart directory's files, the
 * platform (Kubernetes version, capabilities) or the renderer changed.
 */
export function releaseRenderInputs(
  subjects: readonly Subject[],
  root: string,
): Map<string, { fingerprint: string; chartDir?: string }> {
  const index = new SubjectIndex(subjects);
  const out = new Map<string, { fingerprint: string; chartDir?: string }>();
  for (const s of subjects) {
    if (!isKind(s, helmGroup, "HelmRelease")) continue;
    const resolution = resolveChart(s, index, root);
    const chartDir =
      "chart" in resolution && resolution.chart.type === "dir"
        ? path.relative(root, resolution.chart.path).split(path.sep).join("/") || "."
        : undefined;
    const chart =
      "chart" in resolution && resolution.chart.type === "dir"
        ? { ...resolution, chart: { ...resolution.chart, path: chartDir } }
        : resolution;
    out.set(`HelmRelease/${s.namespace}/${s.name}`, {
      fingerprint: JSON.stringify([s.object, chart, valuesSourcesOf(s, index)]),
      ...(chartDir !== undefined ? { chartDir } : {}),
    });
  }
  return out;
}

/** A SOPS-encrypted value, and the placeholder a render gets instead (a Flux-style variable name). */
const sopsValue = /ENC\[[A-Z0-9_]+,data:/;
const sopsValues = /ENC\[[A-Z0-9_]+,data:[^\]]*\]/g;
export const sopsVariable = "SOPS_ENCRYPTED_VALUE";
// biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder is a Flux-style variable
const sopsPlaceholder = "${SOPS_ENCRYPTED_VALUE}";

/** ConfigMaps and Secrets a HelmRelease's valuesFrom names, as the helper takes them. */
function valuesSourcesOf(
  release: Subject,
  index: SubjectIndex,
): { sources: ValuesSource[]; missing: string[]; encrypted: string[] } {
  const sources: ValuesSource[] = [];
  const missing: string[] = [];
  const encrypted: string[] = [];
  const refs = field(release.object, "spec", "valuesFrom");
  if (!Array.isArray(refs)) return { sources, missing, encrypted };
  for (const ref of refs) {
    const kind = stringField(ref, "kind");
    const name = stringField(ref, "name") ?? "";
    if (kind !== "ConfigMap" && kind !== "Secret") continue;
    const subject = index.get(kind, release.namespace, name);
    if (!subject) {
      if (field(ref, "optional") !== true) missing.push(`${kind} ${release.namespace}/${name}`);
      continue;
    }
    const data = dataOf(subject.object, kind);
    if (Object.hasOwn(subject.object, "sops") || Object.values(data).some((v) => sopsValue.test(v))) {
      // SOPS-encrypted: each ENC[…] value becomes a placeholder the schema stage knows it cannot
      // judge (fields holding it stay unchecked, with one info), never a false error.
      encrypted.push(`${kind} ${release.namespace}/${name}`);
      for (const [k, v] of Object.entries(data)) data[k] = v.replace(sopsValues, sopsPlaceholder);
    }
    sources.push({ kind, namespace: release.namespace, name, data });
  }
  return { sources, missing, encrypted };
}

function dataOf(object: Record<string, unknown>, kind: "ConfigMap" | "Secret"): Record<string, string> {
  const out: Record<string, string> = {};
  const data = field(object, "data");
  if (data && typeof data === "object") {
    for (const [k, v] of Object.entries(data)) {
      if (typeof v !== "string") continue;
      // SOPS encrypts a Secret's data values in place (ENC[…], not base64).
      out[k] = kind === "Secret" && !v.startsWith("ENC[") ? Buffer.from(v, "base64").toString("utf8") : v;
    }
  }
  const stringData = field(object, "stringData");
  if (kind === "Secret" && stringData && typeof stringData === "object") {
    for (const [k, v] of Object.entries(stringData)) if (typeof v === "string") out[k] = v;
  }
  return out;
}

/** The Capabilities version Helm takes: `v<major>.<minor>.<patch>`. */
export function helmKubeVersion(version: string): string {
  const v = version.replace(/^v/, "");
  const parts = v.split(".");
  return `v${parts[0] ?? "1"}.${parts[1] ?? "0"}.${parts[2] ?? "0"}`;
}

/** What cozystack-api names the HelmRelease of an app and which chart it installs (PLATFORM.md). */
const cozystackApps: Record<string, { prefix: string; chart: string; artifact: string }> = {
  VMDisk: {
    prefix: "vm-disk-",
    chart: "vm-disk",
    artifact: "cozystack-vm-disk-application-kubevirt-vm-disk",
  },
  VMInstance: {
    prefix: "vm-instance-",
    chart: "vm-instance",
    artifact: "cozystack-vm-instance-application-kubevirt-vm-instance",
  },
};

/**
 * The HelmRelease cozystack-api v1.6.2 stores for an app object (read from cozystack-api's
 * behaviour recorded in PLATFORM.md: `<prefix><name>`, values = the app's `.spec` verbatim,
 * valuesFrom the `cozystack-values` Secret, chartRef to the app's ExternalArtifact).
 */
export function cozystackHelmRelease(app: Subject): Record<string, unknown> | undefined {
  const known = cozystackApps[app.kind];
  if (!known) return undefined;
  return {
    apiVersion: "helm.toolkit.fluxcd.io/v2",
    kind: "HelmRelease",
    metadata: {
      name: `${known.prefix}${app.name}`,
      namespace: app.namespace,
      labels: {
        "apps.cozystack.io/application.group": cozystackGroup,
        "apps.cozystack.io/application.kind": app.kind,
        "apps.cozystack.io/application.name": app.name,
        "sharding.fluxcd.io/key": "tenants",
      },
    },
    spec: {
      chartRef: { kind: "ExternalArtifact", name: known.artifact, namespace: "cozy-system" },
      interval: "5m0s",
      maxHistory: 5,
      install: { strategy: { name: "RetryOnFailure", retryInterval: "30s" }, timeout: "10m0s" },
      upgrade: { strategy: { name: "RetryOnFailure", retryInterval: "30s" }, timeout: "10m0s" },
      values: field(app.object, "spec") ?? {},
      valuesFrom: [{ kind: "Secret", name: "cozystack-values" }],
    },
  };
}

/** The cluster values cozystack-api's `cozystack-values` Secret holds; empty ones render (PLATFORM.md). */
const cozystackValues = (namespace: string): ValuesSource => ({
  kind: "Secret",
  namespace,
  name: "cozystack-values",
  data: { "values.yaml": "_cluster: {}\n_namespace: {}\n" },
});

/** Where a pointer of an object the vm-instance/vm-disk chart rendered is written in the app. */
function cozystackPointer(kind: string): (pointer: string) => string {
  return (pointer) => {
    if (kind === "VMInstance") {
      if (pointer.includes("/interfaces") || pointer.includes("/networks")) return "/spec/networks";
      if (pointer.includes("/disks") || pointer.includes("/volumes")) return "/spec/disks";
      if (pointer.includes("/instancetype")) return "/spec/instanceType";
      if (pointer.includes("/preference")) return "/spec/instanceProfile";
      if (pointer.includes("runStrategy")) return "/spec/runStrategy";
    }
    if (kind === "VMDisk") {
      if (pointer.includes("/source")) return "/spec/source";
      if (pointer.includes("storageClassName")) return "/spec/storageClass";
      if (pointer.includes("/storage") || pointer.includes("/resources")) return "/spec/storage";
    }
    return "/spec";
  };
}

/** A pointer into the merged values, as written under the owner (HelmRelease spec.values or the app's spec). */
function valuesPointer(owner: Subject, valuesPath: string): string {
  const base = isKind(owner, helmGroup, "HelmRelease") ? "/spec/values" : "/spec";
  return `${base}${valuesPath === "/" ? "" : valuesPath}`;
}

/** Helm's template file shortened for a message: `chart/templates/x.yaml:12:3`. */
function templateWhere(error: RenderError): string {
  if (!error.template) return "";
  return ` (${error.template}${error.line ? `:${error.line}${error.column ? `:${error.column}` : ""}` : ""})`;
}

function ownerName(owner: Subject): string {
  return `${owner.kind} ${owner.namespace ? `${owner.namespace}/` : ""}${owner.name}`;
}

/**
 * Renders every HelmRelease and CozyStack app among the subjects. Objects the chart renders come
 * back as subjects owned by their release; render failures come back as findings at the release.
 */
export async function renderStage(
  subjects: readonly Subject[],
  options: RenderStageOptions,
): Promise<RenderStageResult> {
  const index = new SubjectIndex(subjects);
  const findings: Finding[] = [];
  const failures: { owner: Subject; message: string }[] = [];
  const out: Subject[] = [];
  const stats: RenderStats = {
    releases: 0,
    rendered: 0,
    failed: 0,
    unavailable: 0,
    objects: 0,
    cacheHits: 0,
    chartLoads: 0,
    renderCacheHits: 0,
  };
  const selected = (s: Subject) => options.select?.(s) ?? true;
  const releases = subjects.filter((s) => isKind(s, helmGroup, "HelmRelease") && selected(s));
  const apps = subjects.filter(
    (s) =>
      apiGroup(s.apiVersion) === cozystackGroup &&
      cozystackApps[s.kind] &&
      options.cozystackVersion?.(s) &&
      selected(s),
  );
  stats.releases = releases.length + apps.length;
  const fetch = options.chartFetch ?? {};
  const fetchFields = {
    ...(fetch.cacheDir ? { cacheDir: fetch.cacheDir } : {}),
    ...(fetch.offline ? { offline: true } : {}),
    ...(fetch.mirrors && fetch.mirrors.length > 0 ? { mirrors: [...fetch.mirrors] } : {}),
    ...(fetch.timeoutSeconds ? { timeoutSeconds: fetch.timeoutSeconds } : {}),
    ...(fetch.schemaFiles ? { schemaFiles: fetch.schemaFiles } : {}),
    ...(fetch.cacheDir && fetch.renderCache !== false ? { renderCache: true } : {}),
  };

  // The requests sent to flux-render and not yet answered, in the order they were sent.
  const inFlight: { chart: string }[] = [];
  // Every release and app counts, also those that never reach flux-render (no chart to be had).
  const progress: ChartProgress = {
    done: 0,
    total: releases.length + apps.length,
    fetched: 0,
    cached: 0,
    fetchedBytes: 0,
  };
  let started = false;
  const emitProgress = () => {
    const current = inFlight[0]?.chart;
    options.onChartProgress?.({ ...progress, ...(current ? { current } : {}) });
  };
  /** options.renderer.helm, with the stage's progress kept. */
  const helm = async (
    request: Parameters<HelmRenderer["helm"]>[0],
    name: string,
  ): Promise<HelmRenderResult> => {
    const entry = { chart: chartOrigin(request.chart, name) };
    inFlight.push(entry);
    if (!started) {
      started = true;
      emitProgress();
    }
    try {
      const response = await options.renderer.helm(request);
      if (response.chart?.cached || response.chart?.renderCached) progress.cached += 1;
      else if (response.chart) {
        progress.fetched += 1;
        progress.fetchedBytes += response.chart.size ?? 0;
      }
      return response;
    } finally {
      inFlight.splice(inFlight.indexOf(entry), 1);
    }
  };
  /** One release or app finished, rendered or not. */
  const finished = () => {
    progress.done += 1;
    if (started) emitProgress();
  };

  const record = (
    owner: Subject,
    response: HelmRenderResult,
    chartLabel: string,
    ownerPointer: (p: string) => string,
  ) => {
    options.onRendered?.({
      owner: ownerName(owner),
      chart: chartLabel,
      ok: !response.error,
      cached: response.chart?.cached,
      fetchMs: response.chart?.fetchMs,
      renderMs: response.chart?.renderMs,
      renderCached: response.chart?.renderCached === true,
    });
    if (response.chart) {
      stats.chartLoads += 1;
      if (response.chart.cached) stats.cacheHits += 1;
      if (response.chart.renderCached) stats.renderCacheHits += 1;
    }
    if (response.error) {
      stats.failed += 1;
      if (response.error.code !== "chart-unavailable")
        failures.push({ owner, message: response.error.message });
      if (response.error.code === "chart-unavailable") stats.unavailable += 1;
      // A HelmRelease helm-controller could not even decode (a field of the wrong type) is the
      // schema stage's finding, at that field: not a second one about the chart.
      if (/^release is not a HelmRelease/.test(response.error.message)) return [];
      // --strict: a chart that cannot be had leaves objects unchecked, which strict does not allow.
      findings.push(
        ...renderErrorFindings(owner, response.error, chartLabel).map((f) =>
          options.strict && f.rule === "helm/chart-unavailable" ? { ...f, severity: "error" as const } : f,
        ),
      );
      return [];
    }
    stats.rendered += 1;
    const chart = response.chart ? `${response.chart.name}@${response.chart.version}` : chartLabel;
    const namespace = response.namespace ?? owner.namespace;
    const rendered: Subject[] = [];
    for (const r of response.resources ?? []) {
      const object = r.object;
      const apiVersion = stringField(object, "apiVersion") ?? "";
      const kind = stringField(object, "kind") ?? "";
      const name = stringField(object, "metadata", "name") ?? "";
      rendered.push({
        apiVersion,
        kind,
        name,
        namespace: stringField(object, "metadata", "namespace") ?? namespace,
        object,
        resource: undefined,
        file: owner.file,
        build: owner.build,
        renderedBy: { owner, chart, ...(r.template ? { template: r.template } : {}), ownerPointer },
      });
    }
    stats.objects += rendered.length;
    out.push(...rendered);
    return rendered;
  };

  // HelmReleases: all requests go to the helper at once (it answers in order).
  const pending = releases.map((release) => renderRelease(release).finally(finished));
  async function renderRelease(release: Subject): Promise<void> {
    const resolution = resolveChart(release, index, options.root);
    if ("unavailable" in resolution) {
      stats.unavailable += 1;
      findings.push(unavailableFinding(release, resolution, options.strict));
      return;
    }
    let chart = resolution.chart;
    if (exactVersion.test(resolution.version) && options.pinnedChart) {
      const pinned = await options.pinnedChart(resolution.name, resolution.version.replace(/^v/, ""));
      if (pinned) chart = { type: "dir", path: pinned.path, contentDigest: pinned.digest };
    }
    const values = valuesSourcesOf(release, index);
    const response = await helm(
      {
        ...fetchFields,
        release: release.object,
        chart,
        valuesSources: values.sources,
        kubeVersion: helmKubeVersion(options.kubernetesVersion(release)),
        apiVersions: [...(await options.apiVersions(release))],
      },
      `${resolution.name} ${resolution.version}`,
    );
    const label = `${resolution.name}@${resolution.version}`;
    if (response.error && values.missing.length > 0) {
      // Values the cluster holds but the repository does not: a render that fails without them
      // says nothing about the chart, and is not reported as if it did.
      stats.unavailable += 1;
      findings.push(
        finding(
          "helm/values-unavailable",
          at(release, "/spec/valuesFrom"),
          `${ownerName(release)} not rendered: its valuesFrom ${values.missing.join(", ")} is not in the repository (${response.error.message.split("\n")[0]})`,
          "nothing to fix if the cluster creates it; add it to the repository (or mark the reference optional) to have the chart's output checked",
        ),
      );
      return;
    }
    if (values.missing.length > 0 && !response.error) {
      findings.push(
        finding(
          "helm/values-unavailable",
          at(release, "/spec/valuesFrom"),
          `${ownerName(release)}: rendered without ${values.missing.join(", ")} (not in the repository); fields they set are not checked`,
          "nothing to fix if the cluster creates it; add it to the repository to have those values checked",
        ),
      );
    }
    if (response.error && values.encrypted.length > 0 && response.error.code !== "chart-unavailable") {
      // Encrypted values the render only had placeholders for: a failure says nothing sure.
      stats.unavailable += 1;
      findings.push(
        finding(
          "helm/values-unavailable",
          at(release, "/spec/valuesFrom"),
          `${ownerName(release)} not rendered: its values from ${values.encrypted.join(", ")} are SOPS-encrypted (rendered with placeholders, the chart failed: ${response.error.message.split("\n")[0]})`,
          "nothing to fix; Flux decrypts them in the cluster",
        ),
      );
      return;
    }
    // No field of a rendered object maps back to one value in general: its findings land at
    // spec.values (the nearest line there is, when the release has none).
    const rendered = record(release, response, label, () => "/spec/values");
    if (values.encrypted.length > 0) {
      for (const s of rendered) s.unresolved = [...(s.unresolved ?? []), sopsVariable];
      findings.push(
        finding(
          "helm/values-unavailable",
          at(release, "/spec/valuesFrom"),
          `${ownerName(release)}: values from ${values.encrypted.join(", ")} are SOPS-encrypted: rendered with placeholders, the fields they reach are not schema-checked`,
          "nothing to fix; Flux decrypts them in the cluster",
        ),
      );
    }
  }

  // CozyStack apps: disks first, so the VMInstance's `lookup` of its DataVolume finds the one the
  // VMDisk renders, as it would in the cluster.
  const renderApp = async (app: Subject, lookup: Record<string, unknown>[]) => {
    const version = options.cozystackVersion?.(app) ?? "";
    const known = cozystackApps[app.kind];
    const release = cozystackHelmRelease(app);
    if (!known || !release) return [];
    const chartVersion = cozystackChartVersions[version];
    const pinned = chartVersion ? await options.pinnedChart?.(known.chart, chartVersion) : undefined;
    const label = `${known.chart}@${chartVersion ?? version}`;
    if (!pinned) {
      stats.unavailable += 1;
      findings.push(
        finding(
          "helm/chart-unavailable",
          at(app, "/kind"),
          `${ownerName(app)} not rendered: the schema lock pins no ${known.chart} chart for CozyStack ${version}`,
          "declare a CozyStack version the lock pins in platform.yaml (see `haos-tasks schemas sync --help`)",
        ),
      );
      return [];
    }
    const response = await helm(
      {
        ...fetchFields,
        release,
        chart: {
          type: "dir",
          path: pinned.path,
          contentDigest: pinned.digest,
          ...(chartVersion ? { versionOverride: chartVersion } : {}),
        },
        valuesSources: [cozystackValues(app.namespace)],
        kubeVersion: helmKubeVersion(options.kubernetesVersion(app)),
        apiVersions: [...(await options.apiVersions(app))],
        lookup,
      },
      `${known.chart} ${chartVersion ?? version}`,
    );
    return record(app, response, label, cozystackPointer(app.kind));
  };
  const lookupBase = (owner: Subject) => [
    ...subjects.filter((s) => lookupKinds.has(`${apiGroup(s.apiVersion)}/${s.kind}`)).map((s) => s.object),
    ...(options.stockObjects?.(owner) ?? []),
  ];
  const appsDone = (async () => {
    const disks = apps.filter((a) => a.kind === "VMDisk");
    const renderedDisks = (
      await Promise.all(disks.map((d) => renderApp(d, lookupBase(d)).finally(finished)))
    ).flat();
    const dataVolumes = renderedDisks.filter((s) => s.kind === "DataVolume").map((s) => s.object);
    await Promise.all(
      apps
        .filter((a) => a.kind !== "VMDisk")
        .map((a) => renderApp(a, [...lookupBase(a), ...dataVolumes]).finally(finished)),
    );
  })();
  await Promise.all([...pending, appsDone]);
  return { subjects: out, findings, failures, stats };
}

/**
 * A chart as a person names its origin: `oci://ghcr.io/bjw-s-labs/helm/app-template 4.1.1`; a chart
 * directory (pinned, or in the checkout) by `name` ("vm-disk 0.20.0").
 */
export function chartOrigin(chart: ChartSource, name: string): string {
  const version = (v: string | undefined) => (v ? ` ${v}` : "");
  if (chart.type === "oci") return `${chart.url}${version(chart.tag ?? chart.digest ?? chart.semver)}`;
  if (chart.type === "http") return `${chart.url.replace(/\/+$/, "")}/${chart.name}${version(chart.version)}`;
  return name;
}

/** Kinds CozyStack's charts look up in the cluster that a repository may hold. */
const lookupKinds = new Set([
  "instancetype.kubevirt.io/VirtualMachineClusterInstancetype",
  "instancetype.kubevirt.io/VirtualMachineClusterPreference",
  "cdi.kubevirt.io/DataVolume",
  "kubeovn.io/IP",
]);

function unavailableFinding(
  release: Subject,
  resolution: { unavailable: string; hint: string; pointer: string },
  strict: boolean | undefined,
): Finding {
  const f = finding(
    "helm/chart-unavailable",
    at(release, resolution.pointer),
    `${ownerName(release)} not rendered: ${resolution.unavailable}`,
    resolution.hint,
  );
  return strict ? { ...f, severity: "error" } : f;
}

/** A render failure as findings at the owner: schema errors at their value, the rest at the release. */
export function renderErrorFindings(owner: Subject, error: RenderError, chart: string): Finding[] {
  const name = ownerName(owner);
  switch (error.code) {
    case "values-schema": {
      const errors = error.schemaErrors?.length
        ? error.schemaErrors
        : [{ path: "/", message: error.message }];
      return errors.map((e) =>
        finding(
          "helm/values-schema",
          at(owner, valuesPointer(owner, e.path)),
          `${name}: ${e.path === "/" || e.path === "" ? "values" : e.path}: ${e.message} (values.schema.json of ${chart})`,
          "fix the value to match the chart's values schema",
        ),
      );
    }
    case "chart-unavailable":
      return [
        finding(
          "helm/chart-unavailable",
          at(owner, isKind(owner, helmGroup, "HelmRelease") ? chartPointer(owner) : "/kind"),
          `${name} not rendered: ${error.message}`,
          error.hint ??
            "check the chart name, version and source; offline, render once online or point --chart-mirror at a mirror",
        ),
      ];
    case "values-from":
      return [
        finding(
          "helm/values-from",
          at(owner, "/spec/valuesFrom"),
          `${name}: ${error.message}`,
          error.hint ?? "fix the valuesFrom reference (kind, name, valuesKey) or mark it optional",
        ),
      ];
    case "post-render":
      return [
        finding(
          "helm/post-render",
          at(owner, "/spec/postRenderers"),
          `${name}: post-render failed: ${error.message}`,
          error.hint ?? "fix the postRenderers patch (its target must match a rendered object)",
        ),
      ];
    default:
      return [
        finding(
          "helm/render",
          at(owner, isKind(owner, helmGroup, "HelmRelease") ? "/spec/values" : "/spec"),
          `${name}: ${chart} failed to render${templateWhere(error)}: ${error.message}`,
          error.hint ?? "fix the values the template reads (Helm's message names the template and the value)",
        ),
      ];
  }
}

function chartPointer(owner: Subject): string {
  return field(owner.object, "spec", "chartRef") ? "/spec/chartRef" : "/spec/chart";
}

/**
 * Helm's `.Capabilities.APIVersions` as the cluster would have them: every `group/version` and
 * `group/version/Kind` of the schemas the run knows (the catalog, the repository's CRDs), plus
 * the CRDs among the subjects and `--api-versions`.
 */
export function capabilityVersions(
  gvks: Iterable<string>,
  subjects: readonly Subject[],
  extra: readonly string[] = [],
): string[] {
  const out = new Set<string>(extra);
  const add = (apiVersion: string, kind: string) => {
    out.add(apiVersion);
    out.add(`${apiVersion}/${kind}`);
  };
  for (const gvk of gvks) {
    const slash = gvk.lastIndexOf("/");
    if (slash > 0) add(gvk.slice(0, slash), gvk.slice(slash + 1));
  }
  for (const s of subjects) {
    if (s.kind !== "CustomResourceDefinition") continue;
    const group = stringField(s.object, "spec", "group");
    const kind = stringField(s.object, "spec", "names", "kind");
    const versions = field(s.object, "spec", "versions");
    if (!group || !kind || !Array.isArray(versions)) continue;
    for (const v of versions) {
      const name = stringField(v, "name");
      if (name && field(v, "served") !== false) add(`${group}/${name}`, kind);
    }
  }
  return [...out].sort();
}
