import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApiServer, type TestApiServer } from "../support/apiserver.ts";
import {
  type ArtifactServer,
  type FluxControllers,
  type GitHttpServer,
  installFluxCrds,
  serveChartAsExternalArtifact,
  startArtifactServer,
  startFluxControllers,
  startGitHttpServer,
} from "../support/flux.ts";
import { createScratchRepo } from "../support/scratch-repo.ts";

// The real-Flux fixture itself (test/support/flux.ts), as other tests use it: source-controller
// fetching over smart HTTP from 127.0.0.1, helm-controller rendering a chart directory served as an
// ExternalArtifact into the API server.
describe("real-Flux fixture", () => {
  let server: TestApiServer;
  let flux: FluxControllers;
  let git: GitHttpServer;
  let artifacts: ArtifactServer;
  const root = mkdtempSync(path.join(os.tmpdir(), "haos-fixture-git-"));

  const until = async <T>(what: string, read: () => Promise<T | undefined>, ms = 60_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const value = await read();
      if (value !== undefined) return value;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${flux.logs(30)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const json = async (...args: string[]) => {
    const r = await server.kubectl(["get", ...args, "-o", "json"]);
    return r.exitCode === 0 ? (JSON.parse(r.stdout) as { status?: Record<string, unknown> }) : undefined;
  };

  beforeAll(async () => {
    server = await startTestApiServer();
    await installFluxCrds(server);
    flux = await startFluxControllers(server, { controllers: ["source-controller", "helm-controller"] });
    git = await startGitHttpServer(root);
    artifacts = await startArtifactServer();
  }, 120_000);
  afterAll(async () => {
    await artifacts?.close();
    await git?.close();
    await flux?.stop();
    await server?.stop();
  });

  it("each controller is ready within seconds of its start", () => {
    expect(Object.keys(flux.startupMs).sort()).toEqual(["helm-controller", "source-controller"]);
    for (const ms of Object.values(flux.startupMs)) expect(ms).toBeLessThan(30_000);
  });

  it("source-controller stores an artifact for the pushed commit of a repository served over smart HTTP", async () => {
    const bare = createScratchRepo({ dir: path.join(root, "demo.git"), bare: true });
    const work = createScratchRepo("haos-fixture-work-");
    const sha = work.commit("demo", { "README.md": "demo\n" });
    work.git("push", "-q", bare.dir, "HEAD:main");
    const applied = await server.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        metadata: { name: "demo", namespace: "flux-system" },
        spec: { interval: "1m", url: git.url("demo.git"), ref: { branch: "main" } },
      }),
    });
    expect(applied.exitCode, applied.stderr).toBe(0);
    const revision = await until("the artifact", async () => {
      const repo = await json("gitrepository", "-n", "flux-system", "demo");
      return (repo?.status?.artifact as { revision?: string } | undefined)?.revision;
    });
    expect(revision).toBe(`main@sha1:${sha}`);
    expect(git.requests()).toBeGreaterThan(0);
  });

  it("helm-controller renders a chart directory served as an ExternalArtifact", async () => {
    const chart = path.join(mkdtempSync(path.join(os.tmpdir(), "haos-fixture-chart-")), "demo");
    mkdirSync(path.join(chart, "templates"), { recursive: true });
    writeFileSync(path.join(chart, "Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 0.1.0\n");
    writeFileSync(
      path.join(chart, "templates", "cm.yaml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
    );
    await serveChartAsExternalArtifact(server, artifacts, {
      chartDir: chart,
      chartName: "demo",
      version: "0.1.0",
      name: "demo-chart",
      namespace: "flux-system",
    });
    const applied = await server.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "helm.toolkit.fluxcd.io/v2",
        kind: "HelmRelease",
        metadata: { name: "demo", namespace: "flux-system" },
        spec: {
          interval: "5m",
          chartRef: { kind: "ExternalArtifact", name: "demo-chart", namespace: "flux-system" },
          values: { greeting: "hello" },
        },
      }),
    });
    expect(applied.exitCode, applied.stderr).toBe(0);
    const data = await until("the rendered ConfigMap", async () => {
      const cm = (await json("configmap", "-n", "flux-system", "demo")) as
        | { data?: Record<string, string> }
        | undefined;
      return cm?.data;
    });
    expect(data).toEqual({ greeting: "hello" });
    const released = await until("Released=True", async () => {
      const hr = await json("helmrelease", "-n", "flux-system", "demo");
      const conditions = (hr?.status?.conditions ?? []) as Array<{
        type: string;
        status: string;
        reason: string;
      }>;
      return conditions.find((c) => c.type === "Released" && c.status === "True");
    });
    expect(released.reason).toBe("InstallSucceeded");
  });
});
