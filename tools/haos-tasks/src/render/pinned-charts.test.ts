import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  type LockedSource,
  mirrorPathFor,
  readSchemaLock,
  resolveMirror,
  type SchemaLock,
} from "../schemas/sources.ts";
import {
  type PinnedChart,
  pinnedChart,
  pinnedChartDigest,
  pinnedCharts,
  stagePinnedChart,
} from "./pinned-charts.ts";

const scratch = mkdtempSync(path.join(os.tmpdir(), "haos-pinned-charts-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let cacheCount = 0;
const freshCache = () => path.join(scratch, `cache-${++cacheCount}`);

const lock = await readSchemaLock();
const mirror = resolveMirror(undefined, process.env);
const fetchOptions = { ...(mirror ? { mirror } : {}), cacheDir: path.join(scratch, "sources") };
const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Every file under dir, relative, sorted. */
function walk(dir: string, prefix = ""): string[] {
  return readdirSync(dir)
    .flatMap((name) =>
      statSync(path.join(dir, name)).isDirectory()
        ? walk(path.join(dir, name), `${prefix}${name}/`)
        : [`${prefix}${name}`],
    )
    .sort();
}

const summary = (c: PinnedChart): unknown => ({
  name: c.name,
  version: c.version,
  dependencies: c.dependencies.map(summary),
});
const chart = (name: string, version: string) => pinnedChart(lock, name, version);

describe("pinnedCharts", () => {
  it("lists every chart the lock pins completely, with its library dependencies, from the URLs", () => {
    expect(pinnedCharts(lock).map(summary)).toEqual([
      {
        name: "app-template",
        version: "4.1.0",
        dependencies: [{ name: "common", version: "4.1.0", dependencies: [] }],
      },
      {
        name: "app-template",
        version: "4.1.1",
        dependencies: [{ name: "common", version: "4.1.1", dependencies: [] }],
      },
      { name: "gha-runner-scale-set", version: "0.14.2", dependencies: [] },
      { name: "gha-runner-scale-set-controller", version: "0.14.2", dependencies: [] },
      {
        name: "vm-disk",
        version: "1.6.2+312b60c99a2f",
        dependencies: [{ name: "cozy-lib", version: "0.0.0", dependencies: [] }],
      },
      {
        name: "vm-instance",
        version: "1.6.2+312b60c99a2f",
        dependencies: [{ name: "cozy-lib", version: "0.0.0", dependencies: [] }],
      },
    ]);
    const appTemplate = chart("app-template", "4.1.1");
    expect(appTemplate.origin).toBe(
      "https://raw.githubusercontent.com/bjw-s-labs/helm-charts/app-template-4.1.1/charts/other/app-template/",
    );
    expect(appTemplate.dependencies[0]?.origin).toBe(
      "https://raw.githubusercontent.com/bjw-s-labs/helm-charts/common-4.1.1/charts/library/common/",
    );
    expect(appTemplate.files.map((f) => f.path)).toContain("templates/common.yaml");
    // CozyStack v0.41.11's vm-instance files (schema and templates, no Chart.yaml) are no chart.
    expect(pinnedCharts(lock).some((c) => c.origin.includes("/v0.41.11/"))).toBe(false);
  });

  it.skipIf(!mirror)("holds every file of each chart directory the mirror has", () => {
    for (const c of pinnedCharts(lock)) {
      for (const part of [c, ...c.dependencies]) {
        const dir = path.dirname(mirrorPathFor(mirror as string, `${part.origin}Chart.yaml`));
        expect(part.files.map((f) => f.path).sort(), part.origin).toEqual(walk(dir));
      }
    }
  });

  const source = (url: string): LockedSource => ({
    url,
    sha256: "0".repeat(64),
    bytes: 1,
    kind: "reference",
    license: "Apache-2.0",
  });
  const lockOf = (...urls: string[]): SchemaLock => ({ version: 1, sources: urls.map(source) });
  const bjws = "https://raw.githubusercontent.com/bjw-s-labs/helm-charts/";

  it("is data in, data out: a lock of URLs alone gives the charts", () => {
    const charts = pinnedCharts(
      lockOf(
        `${bjws}app-template-9.0.0/charts/other/app-template/Chart.yaml`,
        `${bjws}app-template-9.0.0/charts/other/app-template/templates/common.yaml`,
        `${bjws}common-9.0.0/charts/library/common/Chart.yaml`,
        "https://raw.githubusercontent.com/actions/actions-runner-controller/gha-runner-scale-set-1.2.3/charts/gha-runner-scale-set/Chart.yaml",
        // not a chart: only part of one is pinned
        "https://raw.githubusercontent.com/actions/actions-runner-controller/gha-runner-scale-set-1.2.3/charts/gha-runner-scale-set-controller/crds/x.yaml",
      ),
    );
    expect(charts.map(summary)).toEqual([
      {
        name: "app-template",
        version: "9.0.0",
        dependencies: [{ name: "common", version: "9.0.0", dependencies: [] }],
      },
      { name: "gha-runner-scale-set", version: "1.2.3", dependencies: [] },
    ]);
    expect(charts[0]?.files.map((f) => f.path)).toEqual(["Chart.yaml", "templates/common.yaml"]);
  });

  it("names the missing library when a chart's dependency is not pinned", () => {
    expect(() =>
      pinnedCharts(lockOf(`${bjws}app-template-9.0.0/charts/other/app-template/Chart.yaml`)),
    ).toThrow(
      /app-template 9\.0\.0 .* needs https:\/\/raw\.githubusercontent\.com\/bjw-s-labs\/helm-charts\/common-9\.0\.0\/charts\/library\/common\//,
    );
    expect(() =>
      pinnedCharts(
        lockOf(
          "https://raw.githubusercontent.com/cozystack/cozystack/v1.6.2/packages/apps/vm-disk/Chart.yaml",
        ),
      ),
    ).toThrow(/needs .*\/v1\.6\.2\/packages\/library\/cozy-lib\//);
  });

  it("finds one chart by name and version, or names the versions it pins", () => {
    expect(pinnedChart(lock, "app-template", "4.1.0").origin).toContain("/app-template-4.1.0/");
    expect(() => pinnedChart(lock, "app-template", "4.2.0")).toThrow(
      "schemas.lock.json pins no chart app-template 4.2.0 (it pins 4.1.0, 4.1.1)",
    );
  });

  it("refuses a CozyStack release whose artifact version it does not know, naming where to add it", () => {
    const cozy = "https://raw.githubusercontent.com/cozystack/cozystack/v9.9.9/packages/";
    expect(() =>
      pinnedCharts(lockOf(`${cozy}apps/vm-disk/Chart.yaml`, `${cozy}library/cozy-lib/Chart.yaml`)),
    ).toThrow(/CozyStack v9\.9\.9 chart vm-disk/);
  });
});

describe("stagePinnedChart", () => {
  it("assembles app-template with common under charts/, byte for byte the locked files", async () => {
    const c = chart("app-template", "4.1.1");
    const dir = await stagePinnedChart(c, fetchOptions, freshCache());
    expect(path.basename(dir)).toBe("app-template");
    expect(path.basename(path.dirname(dir))).toBe(pinnedChartDigest(c));
    const expected = [
      ...c.files.map((f) => [f.path, f.source.sha256]),
      ...(c.dependencies[0]?.files ?? []).map((f) => [`charts/common/${f.path}`, f.source.sha256]),
    ].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
    expect(walk(dir).map((f) => [f, sha(readFileSync(path.join(dir, f)))])).toEqual(expected);
    expect(parse(readFileSync(path.join(dir, "charts/common/Chart.yaml"), "utf8")).version).toBe("4.1.1");
  });

  it("stamps CozyStack's chart version and places cozy-lib under charts/", async () => {
    const dir = await stagePinnedChart(
      chart("vm-instance", "1.6.2+312b60c99a2f"),
      fetchOptions,
      freshCache(),
    );
    const meta = parse(readFileSync(path.join(dir, "Chart.yaml"), "utf8"));
    expect(meta).toMatchObject({ name: "vm-instance", version: "1.6.2+312b60c99a2f", appVersion: "0.12.0" });
    expect(parse(readFileSync(path.join(dir, "charts/cozy-lib/Chart.yaml"), "utf8"))).toMatchObject({
      name: "cozy-lib",
      type: "library",
    });
    expect(walk(dir)).toContain("charts/cozy-lib/templates/_resources.tpl");
    expect(walk(dir)).toContain("templates/vm.yaml");
  });

  it("reuses an intact entry, restages a damaged one, and leaves no temporary directories", async () => {
    const cache = freshCache();
    const c = chart("gha-runner-scale-set", "0.14.2");
    const dir = await stagePinnedChart(c, fetchOptions, cache);
    const values = path.join(dir, "values.yaml");
    const mtime = statSync(values).mtimeMs;
    expect(await stagePinnedChart(c, fetchOptions, cache)).toBe(dir);
    expect(statSync(values).mtimeMs).toBe(mtime);
    // Edited in place (a test that wrote into the shared directory): staged again from the lock.
    writeFileSync(values, "edited: true\n");
    expect(await stagePinnedChart(c, fetchOptions, cache)).toBe(dir);
    expect(sha(readFileSync(values))).toBe(c.files.find((f) => f.path === "values.yaml")?.source.sha256);
    // An extra file is damage too (it would be packaged into the chart).
    writeFileSync(path.join(dir, "templates", "extra.yaml"), "kind: ConfigMap\n");
    await stagePinnedChart(c, fetchOptions, cache);
    expect(walk(dir)).not.toContain("templates/extra.yaml");
    expect(readdirSync(cache)).toEqual([pinnedChartDigest(c)]);
  });

  it("gives concurrent stagings one directory", async () => {
    const cache = freshCache();
    const c = chart("vm-disk", "1.6.2+312b60c99a2f");
    const dirs = await Promise.all([1, 2, 3, 4].map(() => stagePinnedChart(c, fetchOptions, cache)));
    expect(new Set(dirs).size).toBe(1);
    expect(readdirSync(cache)).toEqual([pinnedChartDigest(c)]);
    expect(walk(dirs[0] as string)).toContain("templates/dv.yaml");
  });

  it("refuses a chart whose Chart.yaml declares another dependency version than the one staged", async () => {
    // app-template 4.1.0 with the common 4.1.1 library: Helm would render the wrong library.
    const wrong: PinnedChart = {
      ...chart("app-template", "4.1.0"),
      dependencies: chart("app-template", "4.1.1").dependencies,
    };
    await expect(stagePinnedChart(wrong, fetchOptions, freshCache())).rejects.toThrow(
      /app-template-4\.1\.0\/charts\/other\/app-template\/Chart\.yaml: declares common 4\.1\.0, but the lock pins common 4\.1\.1/,
    );
    const renamed: PinnedChart = { ...chart("gha-runner-scale-set", "0.14.2"), version: "0.14.3" };
    await expect(stagePinnedChart(renamed, fetchOptions, freshCache())).rejects.toThrow(
      /version is '0\.14\.2', expected '0\.14\.3'/,
    );
  });

  it("fails naming the file when the mirror lacks a locked file, and caches nothing", async () => {
    const empty = mkdtempSync(path.join(scratch, "empty-mirror-"));
    const cache = freshCache();
    await expect(
      stagePinnedChart(
        chart("gha-runner-scale-set", "0.14.2"),
        { mirror: empty, cacheDir: path.join(scratch, "none") },
        cache,
      ),
    ).rejects.toThrow(/gha-runner-scale-set\/.*: not in the mirror/);
    expect(readdirSync(cache)).toEqual([]);
  });
});
