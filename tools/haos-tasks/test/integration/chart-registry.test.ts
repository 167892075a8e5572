import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { pinnedChart, stagePinnedChart } from "../../src/render/pinned-charts.ts";
import { readSchemaLock, resolveMirror } from "../../src/schemas/sources.ts";
import {
  type ChartRepository,
  helm,
  type PushedChart,
  pullChart,
  pushChart,
  type Registry,
  startChartRepository,
  startRegistry,
} from "../support/charts.ts";
import { freePort } from "../support/processes.ts";
import { sourceFetch } from "../support/upstream-schemas.ts";

// The pinned charts (schemas.lock.json, through the mirror) served the two ways home-ops
// repositories get them — an OCI registry (the real CNCF distribution registry, `helm push`) and
// an HTTP chart repository (`helm repo index` + static files) — and pulled back with `helm pull`,
// the client helm-controller's SDK is (Helm v4.2.4). This is the supply the renderer's tests and
// `--chart-mirror` read from.

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const tarList = async (archive: string) => (await execa("tar", ["-tzf", archive])).stdout.split("\n").sort();

let scratch: string;
let registry: Registry;
let repository: ChartRepository;
const staged = new Map<string, string>(); // `<name>@<version>` → chart directory
const pushed = new Map<string, PushedChart>();
const wanted = [
  ["app-template", "4.1.0", "bjw-s-labs/helm"],
  ["app-template", "4.1.1", "bjw-s-labs/helm"],
  ["vm-instance", "1.6.2+312b60c99a2f", "cozystack"],
] as const;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "haos-chart-registry-"));
  const lock = await readSchemaLock();
  const mirror = resolveMirror(undefined, process.env);
  for (const [name, version] of wanted) {
    staged.set(
      `${name}@${version}`,
      await stagePinnedChart(pinnedChart(lock, name, version), sourceFetch(mirror)),
    );
  }
  registry = await startRegistry();
  for (const [name, version, repoPath] of wanted)
    pushed.set(
      `${name}@${version}`,
      await pushChart(registry, staged.get(`${name}@${version}`) as string, repoPath),
    );
  repository = await startChartRepository([...staged.values()]);
}, 120_000);

afterAll(async () => {
  await registry?.close();
  await repository?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("pinned charts in a real OCI registry (distribution v3, helm push)", () => {
  it("pushes each chart as <repoPath>/<name>:<version> and pulls it back byte-identical", async () => {
    for (const [name, version, repoPath] of wanted) {
      const chart = pushed.get(`${name}@${version}`) as PushedChart;
      expect(chart.reference).toBe(`oci://${registry.host}/${repoPath}/${name}`);
      const pulled = await pullChart(chart.reference, version, { destination: path.join(scratch, "oci") });
      expect(path.basename(pulled)).toBe(`${name}-${version}.tgz`);
      expect(sha256(pulled), `${name} ${version}`).toBe(sha256(chart.archive));
      // The layer is in the registry's own storage, by its digest.
      const hex = sha256(pulled);
      expect(
        existsSync(
          path.join(registry.storageDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data"),
        ),
      ).toBe(true);
    }
    // Helm's own client spoke the distribution API: the push, then the pull by tag.
    const requests = registry.requests();
    expect(requests).toContain("PUT /v2/bjw-s-labs/helm/app-template/manifests/4.1.1 201");
    expect(requests).toContain("GET /v2/bjw-s-labs/helm/app-template/manifests/4.1.1 200");
    // A `+` is not allowed in an OCI tag: Helm tags 1.6.2+312b60c99a2f as 1.6.2_312b60c99a2f.
    expect(pushed.get("vm-instance@1.6.2+312b60c99a2f")?.tag).toBe("1.6.2_312b60c99a2f");
    expect(requests).toContain("PUT /v2/cozystack/vm-instance/manifests/1.6.2_312b60c99a2f 201");
  });

  it("reports the manifest digest the registry serves for the tag", async () => {
    const chart = pushed.get("app-template@4.1.0") as PushedChart;
    const response = await fetch(`http://${registry.host}/v2/bjw-s-labs/helm/app-template/manifests/4.1.0`, {
      method: "HEAD",
      headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("docker-content-digest")).toBe(chart.digest);
  });

  it("carries the library dependencies inside each package", async () => {
    const appTemplate = await tarList((pushed.get("app-template@4.1.1") as PushedChart).archive);
    expect(appTemplate).toContain("app-template/charts/common/Chart.yaml");
    expect(appTemplate).toContain("app-template/templates/common.yaml");
    // .helmignore applies, as in the publisher's own `helm package` (schemas/, *.gotmpl).
    expect(appTemplate.filter((f) => f.includes("/schemas/helmrelease") || f.endsWith(".gotmpl"))).toEqual(
      [],
    );
    const vmInstance = await tarList((pushed.get("vm-instance@1.6.2+312b60c99a2f") as PushedChart).archive);
    expect(vmInstance).toContain("vm-instance/charts/cozy-lib/Chart.yaml");
    expect(vmInstance).toContain("vm-instance/templates/vm.yaml");
  });
});

describe("pinned charts in an HTTP chart repository (helm repo index, static files)", () => {
  it("indexes every chart at its 127.0.0.1 URL", () => {
    const index = parse(readFileSync(path.join(repository.dir, "index.yaml"), "utf8")) as {
      entries: Record<string, Array<{ version: string; urls: string[]; digest: string }>>;
    };
    expect(Object.keys(index.entries).sort()).toEqual(["app-template", "vm-instance"]);
    expect(index.entries["app-template"]?.map((e) => e.version).sort()).toEqual(["4.1.0", "4.1.1"]);
    for (const served of repository.charts) {
      const entry = index.entries[served.name]?.find((e) => e.version === served.version);
      expect(entry?.urls).toEqual([served.url]);
      expect(served.url.startsWith(repository.url)).toBe(true);
      expect(entry?.digest).toBe(sha256(served.archive));
    }
  });

  it("serves them to helm pull --repo byte-identical", async () => {
    for (const served of repository.charts) {
      const pulled = await pullChart(served.name, served.version, {
        repo: repository.url,
        destination: path.join(scratch, "http", served.version),
      });
      expect(sha256(pulled), `${served.name} ${served.version}`).toBe(sha256(served.archive));
    }
    expect(repository.requests()).toContain("GET /index.yaml 200");
    expect(repository.requests()).toContain("GET /app-template-4.1.1.tgz 200");
  });

  it("adds a version later (a chart bump) and re-indexes", async () => {
    const bumped = await startChartRepository([staged.get("app-template@4.1.0") as string]);
    try {
      const destination = path.join(scratch, "bump");
      await expect(pullChart("app-template", "4.1.1", { repo: bumped.url, destination })).rejects.toThrow(
        /chart "app-template" version "4\.1\.1" not found/,
      );
      await bumped.add([staged.get("app-template@4.1.1") as string]);
      const pulled = await pullChart("app-template", "4.1.1", { repo: bumped.url, destination });
      expect(sha256(pulled)).toBe(sha256(bumped.charts[1]?.archive as string));
    } finally {
      await bumped.close();
    }
  });
});

describe("helm template of the pulled app-template, offline", () => {
  const values = {
    controllers: {
      main: {
        containers: { main: { image: { repository: "ghcr.io/home-operations/radarr", tag: "5.26.2" } } },
      },
    },
    service: { main: { controller: "main", ports: { http: { port: 7878 } } } },
  };

  /** Offline for certain: any proxied request goes to a closed port on 127.0.0.1. */
  async function offlineEnv(): Promise<NodeJS.ProcessEnv> {
    const closed = `http://127.0.0.1:${await freePort()}`;
    return { HTTPS_PROXY: closed, HTTP_PROXY: closed, https_proxy: closed, http_proxy: closed, NO_PROXY: "" };
  }

  it.each(["4.1.0", "4.1.1"])("renders app-template %s from the registry's archive", async (version) => {
    const archive = await pullChart(`${registry.url}/bjw-s-labs/helm/app-template`, version, {
      destination: path.join(scratch, "template", version),
    });
    const valuesFile = path.join(scratch, `values-${version}.json`);
    writeFileSync(valuesFile, JSON.stringify(values));
    // app-template's values.schema.json is a $ref to the common library's schema by URL, which
    // Helm fetches at render time: offline that is skipped explicitly here (the renderer resolves
    // it from the chart's own files instead; see the next test).
    const { stdout } = await helm(
      ["template", "radarr", archive, "--namespace", "media", "-f", valuesFile, "--skip-schema-validation"],
      { env: await offlineEnv() },
    );
    const objects = parseAllDocuments(stdout)
      .map((d) => d.toJSON() as { kind: string; metadata: { name: string; namespace?: string } } | null)
      .filter((o) => o !== null);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      "Deployment/radarr",
      "Service/radarr",
    ]);
    const deployment = objects.find((o) => o.kind === "Deployment") as unknown as {
      metadata: { labels: Record<string, string> };
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    expect(deployment.spec.template.spec.containers[0]?.image).toBe("ghcr.io/home-operations/radarr:5.26.2");
    expect(deployment.metadata.labels["helm.sh/chart"]).toBe(`app-template-${version}`);
  });

  it("fails offline without --skip-schema-validation: Helm fetches the $ref'd common schema by URL", async () => {
    const archive = await pullChart(`${registry.url}/bjw-s-labs/helm/app-template`, "4.1.1", {
      destination: path.join(scratch, "template-schema"),
    });
    await expect(helm(["template", "radarr", archive], { env: await offlineEnv() })).rejects.toThrow(
      /raw\.githubusercontent\.com\/bjw-s-labs\/helm-charts\/common-4\.1\.1\/charts\/library\/common\/values\.schema\.json/,
    );
  });
});

describe("the registry process", () => {
  it("is gone, with its process group, after close()", async () => {
    const other = await startRegistry();
    const pid = other.pid;
    expect(() => process.kill(-pid, 0)).not.toThrow();
    await other.close();
    expect(() => process.kill(-pid, 0)).toThrow(/ESRCH/);
    expect(existsSync(other.dir)).toBe(false);
  });
});
