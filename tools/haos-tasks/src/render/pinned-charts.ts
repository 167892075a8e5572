import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import {
  type FetchOptions,
  fetchSource,
  type LockedSource,
  type SchemaLock,
  SourceError,
} from "../schemas/sources.ts";
import { toolsRepoRoot } from "../tools/paths.ts";

/**
 * Helm charts whose every file schemas.lock.json pins (by URL and sha256): which charts they are
 * (`pinnedCharts`, from the lock's URLs alone) and a chart directory assembled from them, with its
 * library dependencies under charts/ as the publisher packages it (`stagePinnedChart`, into a
 * content-addressed cache). The charts are what the renderer renders and what the tests serve from
 * a real OCI registry and HTTP chart repository; the bytes are never copied into the repository.
 */

export interface PinnedChartFile {
  /** Path inside the chart directory (`templates/vm.yaml`). */
  path: string;
  source: LockedSource;
}

export interface PinnedChart {
  /** The chart's name (its directory in the upstream repository = Chart.yaml `name`). */
  name: string;
  /** The version the staged Chart.yaml carries (and `helm package` names the archive by). */
  version: string;
  /**
   * Chart.yaml ships a placeholder version that the publisher's build replaces with `version`
   * (CozyStack: `version: 0.0.0 # Placeholder`). Otherwise Chart.yaml must already say `version`.
   */
  stampVersion: boolean;
  /** The locked URL prefix the files come from (ends with `/`). */
  origin: string;
  /** Every locked file of the chart, sorted by path. */
  files: PinnedChartFile[];
  /** Library charts staged under `charts/<name>/`, as the published package carries them. */
  dependencies: PinnedChart[];
}

/** The chart version cozystack-api's ExternalArtifacts carry, per CozyStack release tag. */
export const cozystackChartVersions: Readonly<Record<string, string>> = { "v1.6.2": "1.6.2+312b60c99a2f" };

/** Where staged charts are kept, one directory per content digest (gitignored). */
export const defaultPinnedChartCacheDir = path.join(toolsRepoRoot, ".cache", "haos-tasks", "pinned-charts");

const raw = "https://raw.githubusercontent.com/";

interface Found {
  family: "cozystack" | "arc" | "bjw-s";
  tag: string;
  /** cozystack: apps|library; bjw-s: other|library|…; arc: "charts". */
  category: string;
  name: string;
  origin: string;
  files: PinnedChartFile[];
}

/**
 * The URL layouts of the chart publishers the lock pins charts of. Each names the chart directory
 * (origin), its tag, its category and the file's path inside the chart.
 */
const layouts: Array<{ family: Found["family"]; re: RegExp }> = [
  // cozystack/cozystack <tag>/packages/{apps,library}/<name>/…
  {
    family: "cozystack",
    re: /^https:\/\/raw\.githubusercontent\.com\/cozystack\/cozystack\/(?<tag>[^/]+)\/packages\/(?<category>apps|library)\/(?<name>[^/]+)\/(?<path>.+)$/,
  },
  // actions/actions-runner-controller gha-runner-scale-set-<version>/charts/<name>/…
  {
    family: "arc",
    re: /^https:\/\/raw\.githubusercontent\.com\/actions\/actions-runner-controller\/(?<tag>gha-runner-scale-set-[^/]+)\/(?<category>charts)\/(?<name>[^/]+)\/(?<path>.+)$/,
  },
  // bjw-s-labs/helm-charts <name>-<version>/charts/<category>/<name>/…
  {
    family: "bjw-s",
    re: /^https:\/\/raw\.githubusercontent\.com\/bjw-s-labs\/helm-charts\/(?<tag>[^/]+)\/charts\/(?<category>[^/]+)\/(?<name>[^/]+)\/(?<path>.+)$/,
  },
];

/** bjw-s charts that depend on a library chart of the same version (app-template → common). */
const bjwsLibraryOf: Readonly<Record<string, string>> = { "app-template": "common" };

/**
 * Every complete chart the lock pins (its Chart.yaml among the files), with its dependencies,
 * derived from the lock's URLs alone. Library charts appear as dependencies only (they cannot be
 * installed). Pure: data in, data out.
 */
export function pinnedCharts(lock: SchemaLock): PinnedChart[] {
  const found = new Map<string, Found>();
  for (const source of lock.sources) {
    for (const { family, re } of layouts) {
      const m = re.exec(source.url)?.groups;
      if (!m?.tag || !m.category || !m.name || !m.path) continue;
      const origin = source.url.slice(0, source.url.length - m.path.length);
      let entry = found.get(origin);
      if (!entry) {
        entry = { family, tag: m.tag, category: m.category, name: m.name, origin, files: [] };
        found.set(origin, entry);
      }
      entry.files.push({ path: m.path, source });
      break;
    }
  }
  const complete = [...found.values()].filter((f) => f.files.some((file) => file.path === "Chart.yaml"));
  const find = (family: Found["family"], tag: string, category: string, name: string) =>
    complete.find((f) => f.family === family && f.tag === tag && f.category === category && f.name === name);
  const sortFiles = (files: PinnedChartFile[]) => [...files].sort((a, b) => (a.path < b.path ? -1 : 1));
  const missing = (what: string, origin: string, needed: string) =>
    new SourceError(
      `schemas.lock.json: ${what} at ${origin} needs ${needed}, and the lock pins no Chart.yaml there`,
      `pin every file of ${needed} (URL and sha256) in schemas.lock.json beside the chart's`,
    );

  const charts: PinnedChart[] = [];
  for (const f of complete) {
    const base = { name: f.name, origin: f.origin, files: sortFiles(f.files) };
    if (f.family === "cozystack") {
      if (f.category !== "apps") continue;
      const version = cozystackChartVersions[f.tag];
      if (!version) {
        throw new SourceError(
          `schemas.lock.json pins the CozyStack ${f.tag} chart ${f.name}, but the version cozystack-api's artifacts carry at ${f.tag} is not known`,
          `add "${f.tag}" to cozystackChartVersions in src/render/pinned-charts.ts (the chart version of an ExternalArtifact of that release)`,
        );
      }
      // Each CozyStack app has charts/cozy-lib, a symlink to ../../library/cozy-lib in the repository.
      const lib = find("cozystack", f.tag, "library", "cozy-lib");
      const libOrigin = `${raw}cozystack/cozystack/${f.tag}/packages/library/cozy-lib/`;
      if (!lib) throw missing(`CozyStack chart ${f.name}`, f.origin, libOrigin);
      charts.push({
        ...base,
        version,
        stampVersion: true,
        dependencies: [
          {
            name: "cozy-lib",
            // cozy-lib keeps its placeholder version inside the app's package.
            version: "0.0.0",
            stampVersion: false,
            origin: lib.origin,
            files: sortFiles(lib.files),
            dependencies: [],
          },
        ],
      });
    } else if (f.family === "arc") {
      charts.push({
        ...base,
        version: f.tag.slice("gha-runner-scale-set-".length),
        stampVersion: false,
        dependencies: [],
      });
    } else {
      if (f.category === "library" || !f.tag.startsWith(`${f.name}-`)) continue;
      const version = f.tag.slice(f.name.length + 1);
      const dependencies: PinnedChart[] = [];
      const libName = bjwsLibraryOf[f.name];
      if (libName) {
        const lib = find("bjw-s", `${libName}-${version}`, "library", libName);
        const libOrigin = `${raw}bjw-s-labs/helm-charts/${libName}-${version}/charts/library/${libName}/`;
        if (!lib) throw missing(`bjw-s chart ${f.name} ${version}`, f.origin, libOrigin);
        dependencies.push({
          name: libName,
          version,
          stampVersion: false,
          origin: lib.origin,
          files: sortFiles(lib.files),
          dependencies: [],
        });
      }
      charts.push({ ...base, version, stampVersion: false, dependencies });
    }
  }
  return charts.sort((a, b) => (a.name === b.name ? cmp(a.version, b.version) : cmp(a.name, b.name)));
}

/** The pinned chart `name` at `version`, or an error listing the versions the lock pins. */
export function pinnedChart(lock: SchemaLock, name: string, version: string): PinnedChart {
  const charts = pinnedCharts(lock);
  const found = charts.find((c) => c.name === name && c.version === version);
  if (found) return found;
  const versions = charts.filter((c) => c.name === name).map((c) => c.version);
  throw new SourceError(
    `schemas.lock.json pins no chart ${name} ${version}${versions.length > 0 ? ` (it pins ${versions.join(", ")})` : ""}`,
    "pin every file of the chart (URL and sha256) in schemas.lock.json, or use a pinned version",
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");

/** The content digest of a staged chart: its name, version and every file's path and sha256, deps included. */
export function pinnedChartDigest(chart: PinnedChart): string {
  const describe = (c: PinnedChart): unknown => ({
    name: c.name,
    version: c.version,
    stampVersion: c.stampVersion,
    files: c.files.map((f) => [f.path, f.source.sha256]),
    dependencies: c.dependencies.map(describe),
  });
  return sha256(JSON.stringify({ layout: 1, chart: describe(chart) }));
}

/**
 * A staged pinned chart: its directory and its content digest (pinnedChartDigest), which the
 * renderer takes for the directory's files (its render cache is answered without reading them).
 */
export interface PinnedChartDir {
  path: string;
  digest: string;
}

/** Beside the chart directory in a cache entry: every staged file's sha256, to prove the entry intact. */
const manifestName = "staged-files.json";

/**
 * The chart's directory, assembled from its locked files (fetched with `fetchOptions`: source
 * cache, mirror or network, sha256-verified) under `cacheDir/<digest>/<name>`, its dependencies
 * under charts/. Written to a temporary directory and renamed into place, so a reader never sees a
 * partial chart and concurrent stagings agree; an existing entry is used only when every file still
 * has the bytes it was staged with (else it is staged again).
 */
export async function stagePinnedChart(
  chart: PinnedChart,
  fetchOptions: FetchOptions,
  cacheDir: string = defaultPinnedChartCacheDir,
): Promise<string> {
  const digest = pinnedChartDigest(chart);
  const entry = path.join(cacheDir, digest);
  const dir = path.join(entry, chart.name);
  if (await intact(entry)) return dir;

  await mkdir(cacheDir, { recursive: true });
  const tmp = path.join(cacheDir, `.${digest}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const staged: Record<string, string> = {};
    await writeChart(chart, path.join(tmp, chart.name), chart.name, fetchOptions, staged);
    await writeFile(path.join(tmp, manifestName), `${JSON.stringify(staged, null, 2)}\n`);
    try {
      await rename(tmp, entry);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
      // Another staging won the race (use its entry), or a damaged entry is in the way (replace it).
      if (!(await intact(entry))) {
        const stale = `${tmp}.stale`;
        try {
          await rename(entry, stale);
          await rename(tmp, entry);
        } catch (replacing) {
          if (!(await intact(entry))) throw replacing; // else a concurrent staging replaced it first
        }
        await rm(stale, { recursive: true, force: true });
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

async function writeChart(
  chart: PinnedChart,
  dir: string,
  rel: string,
  fetchOptions: FetchOptions,
  staged: Record<string, string>,
): Promise<void> {
  for (const file of chart.files) {
    const target = path.join(dir, file.path);
    if (!target.startsWith(dir + path.sep)) {
      throw new SourceError(`${file.source.url}: path '${file.path}' leaves the chart`, "fix the lock entry");
    }
    let bytes: Buffer = await fetchSource(file.source, fetchOptions);
    if (file.path === "Chart.yaml") bytes = checkChartYaml(chart, bytes);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, bytes);
    staged[`${rel}/${file.path}`] = sha256(bytes);
  }
  for (const dep of chart.dependencies) {
    await writeChart(
      dep,
      path.join(dir, "charts", dep.name),
      `${rel}/charts/${dep.name}`,
      fetchOptions,
      staged,
    );
  }
}

/**
 * Chart.yaml as staged: the version stamped where the publisher stamps it, then checked against
 * what `pinnedCharts` derived from the URLs — name, version, and every declared dependency present
 * under charts/ at the declared version — so a lock whose URLs and files disagree is an error, not
 * a chart that renders something else.
 */
function checkChartYaml(chart: PinnedChart, bytes: Buffer): Buffer {
  const url = `${chart.origin}Chart.yaml`;
  let text = bytes.toString("utf8");
  // CozyStack's build sets the version line (Chart.yaml ships `version: 0.0.0 # Placeholder…`).
  if (chart.stampVersion) text = text.replace(/^version: .*$/m, `version: ${chart.version}`);
  const meta = parse(text) as {
    name?: unknown;
    version?: unknown;
    dependencies?: Array<{ name?: unknown; version?: unknown; alias?: unknown }>;
  } | null;
  const fail = (what: string) =>
    new SourceError(
      `${url}: ${what}`,
      "the lock's URLs and the chart's Chart.yaml disagree: check the pinned files (and src/render/pinned-charts.ts's layouts)",
    );
  if (meta?.name !== chart.name) throw fail(`name is '${String(meta?.name)}', expected '${chart.name}'`);
  if (String(meta.version) !== chart.version)
    throw fail(`version is '${String(meta.version)}', expected '${chart.version}'`);
  for (const declared of meta.dependencies ?? []) {
    const dep = chart.dependencies.find((d) => d.name === declared.name);
    if (!dep) throw fail(`declares the dependency '${String(declared.name)}', which the lock does not pin`);
    // A range (~4.1, >=1.0) is resolved by `helm dependency update`; the publishers here pin exact versions.
    if (
      /^v?\d+\.\d+\.\d+/.test(String(declared.version)) &&
      String(declared.version).replace(/^v/, "") !== dep.version
    )
      throw fail(
        `declares ${dep.name} ${String(declared.version)}, but the lock pins ${dep.name} ${dep.version}`,
      );
  }
  return Buffer.from(text, "utf8");
}

/** True when `entry` holds exactly the files its manifest lists, each with its recorded sha256. */
async function intact(entry: string): Promise<boolean> {
  let manifest: Record<string, string>;
  try {
    manifest = JSON.parse(await readFile(path.join(entry, manifestName), "utf8")) as Record<string, string>;
  } catch {
    return false;
  }
  const files = (await readdir(entry, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => path.relative(entry, path.join(d.parentPath, d.name)))
    .filter((f) => f !== manifestName);
  if (files.length !== Object.keys(manifest).length) return false;
  for (const file of files) {
    const want = manifest[file];
    if (!want) return false;
    try {
      if (sha256(await readFile(path.join(entry, file))) !== want) return false;
    } catch {
      return false;
    }
  }
  return true;
}
