import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../tools/paths.ts";
import { type Renderer, startRenderer } from "./helper.ts";

/**
 * The real flux-render on a real chart: bjw-s app-template 4.1.0 with common 4.1.0 as charts/common,
 * staged from the upstream mirror into a temporary directory (never into the repository).
 */
const mirror = process.env.HAOS_TASKS_SCHEMA_MIRROR ?? path.resolve(toolsRepoRoot, "../shared/upstream");

const release = {
  apiVersion: "helm.toolkit.fluxcd.io/v2",
  kind: "HelmRelease",
  metadata: { name: "echo", namespace: "apps" },
  spec: {
    chart: {
      spec: { chart: "app-template", version: "4.1.0", sourceRef: { kind: "HelmRepository", name: "bjw-s" } },
    },
    values: {
      controllers: {
        main: { containers: { main: { image: { repository: "ghcr.io/example/echo", tag: "1.2.3" } } } },
      },
      service: { main: { controller: "main", ports: { http: { port: 8080 } } } },
      route: {
        main: {
          parentRefs: [{ name: "gateway", namespace: "network" }],
          rules: [{ backendRefs: [{ identifier: "main", port: 8080 }] }],
        },
      },
    },
  },
};

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startRenderer (tools/bootstrap/go/flux-render)", () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "flux-render-client-"));
  const chart = path.join(tmp, "app-template");
  let renderer: Renderer;

  beforeAll(async () => {
    const bjws = path.join(mirror, "bjw-s-labs/helm-charts");
    cpSync(path.join(bjws, "app-template-4.1.0/charts/other/app-template"), chart, { recursive: true });
    cpSync(path.join(bjws, "common-4.1.0/charts/library/common"), path.join(chart, "charts/common"), {
      recursive: true,
    });
    renderer = await startRenderer({ env: process.env });
  });
  afterAll(async () => {
    await renderer?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("reports the library versions it links", () => {
    expect(renderer.versions).toMatchObject({ helm: "v4.2.4", chartutil: "v1.27.2", envsubst: "v1.7.0" });
  });

  it("renders a HelmRelease with the declared capabilities, and reports schema errors as pointers", async () => {
    const request = {
      release,
      chart: { type: "dir" as const, path: chart },
      kubeVersion: "v1.34.0",
      offline: true,
      schemaMirrors: [mirror],
    };
    const plain = await renderer.helm(request);
    expect(plain.error).toBeUndefined();
    const route = plain.resources.find((r) => r.object.kind === "HTTPRoute");
    expect(route?.object.apiVersion).toBe("gateway.networking.k8s.io/v1alpha2");
    expect(route?.template).toBe("app-template/templates/common.yaml");
    expect((route?.object.metadata as { labels?: Record<string, string> } | undefined)?.labels).toMatchObject(
      {
        "helm.toolkit.fluxcd.io/name": "echo",
        "helm.toolkit.fluxcd.io/namespace": "apps",
      },
    );

    const withGateway = await renderer.helm({
      ...request,
      apiVersions: ["gateway.networking.k8s.io/v1/HTTPRoute"],
    });
    expect(withGateway.resources.find((r) => r.object.kind === "HTTPRoute")?.object.apiVersion).toBe(
      "gateway.networking.k8s.io/v1",
    );

    const bad = structuredClone(release);
    (bad.spec.values.controllers.main as Record<string, unknown>).type = "deploymentt";
    const failed = await renderer.helm({ ...request, release: bad });
    expect(failed.error?.code).toBe("values-schema");
    expect(failed.error?.schemaErrors?.map((e) => e.path)).toContain("/controllers/main/type");
  });

  it("answers from the render cache what a fresh render answers, and renders again when an input changes", async () => {
    const cacheDir = path.join(tmp, "render-cache");
    const request = {
      release,
      chart: { type: "dir" as const, path: chart },
      kubeVersion: "v1.34.0",
      offline: true,
      schemaMirrors: [mirror],
      cacheDir,
      renderCache: true,
    };
    const strip = (r: Awaited<ReturnType<Renderer["helm"]>>) => {
      const { cached, fetchMs, renderMs, renderCached, ...chartInfo } = r.chart ?? ({} as never);
      return { ...r, chart: chartInfo };
    };
    const fresh = await renderer.helm(request);
    expect(fresh.error).toBeUndefined();
    expect(fresh.chart?.renderCached).toBeUndefined();
    const hit = await renderer.helm(request);
    expect(hit.chart?.renderCached).toBe(true);
    expect(strip(hit)).toEqual(strip(fresh));
    // The same request without the cache renders, with the same answer.
    const { renderCache, ...uncached } = request;
    const again = await renderer.helm(uncached);
    expect(again.chart?.renderCached).toBeUndefined();
    expect(strip(again)).toEqual(strip(fresh));
    // Values, capabilities, the Kubernetes version: each is a miss.
    const otherValues = structuredClone(release);
    otherValues.spec.values.service.main.ports.http.port = 9090;
    for (const changed of [
      { ...request, release: otherValues },
      { ...request, apiVersions: ["gateway.networking.k8s.io/v1/HTTPRoute"] },
      { ...request, kubeVersion: "v1.33.0" },
    ]) {
      const r = await renderer.helm(changed);
      expect(r.error).toBeUndefined();
      expect(r.chart?.renderCached).toBeUndefined();
    }
  });

  it("substitutes as Flux does", async () => {
    const text =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Flux's ${VAR} syntax, not a template literal
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${SET:+alt}\n  b: ${EMPTY:+alt}\n";
    const [result] = await renderer.envsubst([{ text, vars: { SET: "x", EMPTY: "" } }]);
    expect(result?.object?.data).toEqual({ a: "x", b: "alt" });
  });

  it("builds a Flux Kustomization without writing into the source", async () => {
    const source = path.join(tmp, "source");
    mkdirSync(path.join(source, "apps/web"), { recursive: true });
    writeFileSync(
      path.join(source, "apps/web/cm.yaml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
    );
    const result = await renderer.kustomize({
      root: source,
      path: "apps/web",
      spec: { targetNamespace: "x" },
    });
    expect(result.error).toBeUndefined();
    expect(result.kustomization).toBe("created");
    expect(result.resources).toEqual([
      {
        origin: { path: "cm.yaml" },
        object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web", namespace: "x" } },
      },
    ]);
    expect(existsSync(path.join(source, "apps/web/kustomization.yaml"))).toBe(false);
    const missing = await renderer.kustomize({ root: source, path: "../outside" });
    expect(missing.error?.code).toBe("bad-request");
  });

  it("never outlives its parent, even one killed with SIGKILL", async () => {
    // A child node process starts a renderer, prints its pid, then waits forever.
    const script = `
      import { startRenderer } from ${JSON.stringify(path.join(import.meta.dirname, "helper.ts"))};
      const r = await startRenderer({ env: process.env });
      console.log(r.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = execa(process.execPath, ["--input-type=module", "-e", script], { reject: false });
    const pid = await new Promise<number>((resolve, reject) => {
      parent.stdout?.on("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      parent.catch(reject);
    });
    expect(pidAlive(pid)).toBe(true);
    parent.kill("SIGKILL");
    await parent;
    const deadline = Date.now() + 5000;
    while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // A zombie waiting for its reaper counts as gone: /proc says so.
    const zombie = existsSync(`/proc/${pid}/status`)
      ? (await execa("cat", [`/proc/${pid}/status`])).stdout
      : "";
    expect(pidAlive(pid) && !/State:\s+Z/.test(zombie)).toBe(false);
  });
});
