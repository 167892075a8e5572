import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fetchSource, findSource, readSchemaLock, resolveMirror } from "../../src/schemas/sources.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import type { TestApiServer } from "./apiserver.ts";
import { freePort, type ManagedProcess, startManaged } from "./processes.ts";
import { sourceFetch } from "./upstream-schemas.ts";

/**
 * Real Flux on the test API server: source-, kustomize- and helm-controller as plain processes
 * (built by tools/bootstrap into .tools/bin), a smart-HTTP git server and an artifact file server on
 * 127.0.0.1, and the published Flux CRDs read through schemas.lock.json. Reusable by any test that
 * needs Flux to reconcile something for real (verify scenarios, chart rendering).
 */

export const fluxControllerNames = ["source-controller", "kustomize-controller", "helm-controller"] as const;
export type FluxControllerName = (typeof fluxControllerNames)[number];

/** The controller binary in .tools/bin, or an error that names the bootstrap command. */
export function fluxControllerPath(name: FluxControllerName): string {
  const dirs = [process.env.HAOS_TASKS_TOOLS_DIR, path.join(toolsRepoRoot, ".tools", "bin")].filter(
    (d): d is string => Boolean(d),
  );
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    `${name} not found (looked in ${dirs.join(", ")}); run \`npm run bootstrap -- flux\` (builds the pinned Flux controllers into .tools/bin)`,
  );
}

/** Every Flux CRD pinned in schemas.lock.json (source, kustomize, helm, notification). */
export async function fluxCrdTexts(): Promise<string[]> {
  const lock = await readSchemaLock();
  const mirror = resolveMirror(undefined, process.env);
  const wanted = lock.sources.filter((s) =>
    /\/fluxcd\/[a-z-]+-controller\/[^/]+\/config\/crd\/bases\/[a-z.]+\.toolkit\.fluxcd\.io_[a-z]+\.yaml$/.test(
      s.url,
    ),
  );
  return await Promise.all(
    wanted.map(async (s) => (await fetchSource(s, sourceFetch(mirror))).toString("utf8")),
  );
}

/** Installs every pinned Flux CRD (HelmChart, Bucket, ExternalArtifact and notification included). */
export async function installFluxCrds(server: TestApiServer): Promise<void> {
  await server.installCrds(await fluxCrdTexts());
}

/** A read of one pinned upstream file (through the mirror), by URL suffix. */
export async function pinnedText(suffix: string): Promise<string> {
  const lock = await readSchemaLock();
  const mirror = resolveMirror(undefined, process.env);
  return (await fetchSource(findSource(lock, suffix), sourceFetch(mirror))).toString("utf8");
}

export interface FluxControllers {
  /** source-controller's artifact storage, http://127.0.0.1:<port> (kustomize/helm download from it). */
  storageUrl: string;
  /** ms from spawn until each controller's /readyz answered 200. */
  startupMs: Partial<Record<FluxControllerName, number>>;
  /** The last lines of every controller's log (for a failing test's message). */
  logs(lines?: number): string;
  /** Peak resident set size (VmHWM) per controller, in KiB, read from /proc. */
  peakRssKiB(): Partial<Record<FluxControllerName, number>>;
  stop(): Promise<void>;
}

export interface StartFluxOptions {
  controllers?: readonly FluxControllerName[];
  /** Concurrent reconciles per controller (Flux's default is 4; the tests' apps are tiny). */
  concurrent?: number;
  /** Extra flags per controller. */
  extraArgs?: Partial<Record<FluxControllerName, string[]>>;
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

async function waitHealthy(url: string, proc: ManagedProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  let exited: number | null | undefined;
  void proc.exited.then((code) => {
    exited = code;
  });
  while (Date.now() < until) {
    if (exited !== undefined)
      throw new Error(`${proc.name} exited with ${exited}\n${tail(proc.logPath, 40)}`);
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${proc.name} not ready on ${url} after ${deadlineMs} ms\n${tail(proc.logPath, 40)}`);
}

/**
 * Starts the controllers against `server` as PLATFORM.md records they run: KUBECONFIG (admin),
 * RUNTIME_NAMESPACE=flux-system, no leader election, all namespaces watched, loopback metrics and
 * health ports, source-controller's storage served on 127.0.0.1, helm-controller with the
 * ExternalArtifact feature gate (CozyStack's HelmReleases use chartRef ExternalArtifact).
 */
export async function startFluxControllers(
  server: TestApiServer,
  options: StartFluxOptions = {},
): Promise<FluxControllers> {
  const names = options.controllers ?? fluxControllerNames;
  const binaries = names.map((n) => [n, fluxControllerPath(n)] as const);
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-flux-"));
  // source-controller refuses a --storage-path that does not exist yet.
  mkdirSync(path.join(dir, "storage"));
  const created = await server.kubectl(["create", "namespace", "flux-system"]);
  if (created.exitCode !== 0 && !/AlreadyExists/.test(created.stderr))
    throw new Error(`creating flux-system failed: ${created.stderr}`);
  // freePort() closes the port before a controller binds it: another process can take it in
  // between (a busy CI machine). A controller that exits on "address already in use" is started
  // again on new ports; any other failure stops the suite.
  let storagePort = await freePort();
  const env = { ...process.env, KUBECONFIG: server.kubeconfigPath, RUNTIME_NAMESPACE: "flux-system" };
  const procs: ManagedProcess[] = [];
  const startupMs: FluxControllers["startupMs"] = {};
  const concurrent = String(options.concurrent ?? 4);
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => p.stop()));
  };
  const startOne = async (name: FluxControllerName, bin: string, attempt: number): Promise<void> => {
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    const args = [
      "--enable-leader-election=false",
      "--watch-all-namespaces=true",
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      `--health-addr=127.0.0.1:${healthPort}`,
      `--concurrent=${concurrent}`,
      "--log-level=info",
      "--log-encoding=json",
      ...(name === "source-controller"
        ? [
            `--storage-path=${path.join(dir, "storage")}`,
            `--storage-addr=127.0.0.1:${storagePort}`,
            `--storage-adv-addr=127.0.0.1:${storagePort}`,
          ]
        : []),
      ...(name === "helm-controller" ? ["--feature-gates=ExternalArtifact=true"] : []),
      ...(options.extraArgs?.[name] ?? []),
    ];
    const started = Date.now();
    const logPath = path.join(dir, `${name}${attempt > 1 ? `-${attempt}` : ""}.log`);
    const proc = startManaged(name, bin, args, logPath, { env });
    procs.push(proc);
    try {
      await waitHealthy(`http://127.0.0.1:${healthPort}/readyz`, proc, 60_000);
    } catch (error) {
      if (attempt >= 3 || !/address already in use/.test(tail(logPath, 40))) throw error;
      await proc.stop();
      procs.splice(procs.indexOf(proc), 1);
      if (name === "source-controller") storagePort = await freePort();
      return await startOne(name, bin, attempt + 1);
    }
    startupMs[name] = Date.now() - started;
  };
  try {
    await Promise.all(binaries.map(([name, bin]) => startOne(name, bin, 1)));
  } catch (error) {
    await stop();
    throw error;
  }
  const storageUrl = `http://127.0.0.1:${storagePort}`;
  return {
    storageUrl,
    startupMs,
    logs(lines = 60) {
      return procs.map((p) => `--- ${p.name} (${p.logPath})\n${tail(p.logPath, lines)}`).join("\n");
    },
    peakRssKiB() {
      const out: Partial<Record<FluxControllerName, number>> = {};
      for (const p of procs) {
        try {
          const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.child.pid}/status`, "utf8"))?.[1];
          if (hwm) out[p.name as FluxControllerName] = Number(hwm);
        } catch {
          // the process is gone
        }
      }
      return out;
    },
    stop,
  };
}

export interface GitHttpServer {
  /** http://127.0.0.1:<port>/<name> for a repository under the served root. */
  url(name: string): string;
  /** Requests served (upload-pack fetches and ref advertisements). */
  requests(): number;
  close(): Promise<void>;
}

/**
 * Git over smart HTTP on 127.0.0.1: `git http-backend` (CGI) behind a tiny node HTTP server,
 * serving every repository under `root` (read-only, no auth). Enough for source-controller.
 */
export async function startGitHttpServer(root: string): Promise<GitHttpServer> {
  let count = 0;
  const server = http.createServer((req, res) => {
    count += 1;
    const url = new URL(req.url ?? "/", "http://git");
    const child = spawn("git", ["http-backend"], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        ...(req.headers["content-length"] ? { CONTENT_LENGTH: req.headers["content-length"] } : {}),
        ...(req.headers["content-encoding"]
          ? { HTTP_CONTENT_ENCODING: req.headers["content-encoding"] }
          : {}),
        ...(typeof req.headers["git-protocol"] === "string"
          ? { GIT_PROTOCOL: req.headers["git-protocol"] }
          : {}),
        REMOTE_ADDR: "127.0.0.1",
        REMOTE_USER: "",
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString("utf8").split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const key = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (key.toLowerCase() === "status") status = Number.parseInt(value, 10) || 200;
        else res.setHeader(key, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("close", (code) => {
      if (!headersDone) {
        res.writeHead(500);
        res.end(`git http-backend exited ${code}: ${stderr}`);
      } else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ArtifactServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Copies a file in and returns the artifact fields Flux expects (url, path, digest, size). */
  publish(file: string, name: string): { url: string; path: string; digest: string; size: number };
  close(): Promise<void>;
}

/** A static file server on 127.0.0.1 for artifacts that source-controller does not produce. */
export async function startArtifactServer(): Promise<ArtifactServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-artifacts-"));
  const server = http.createServer((req, res) => {
    const file = path.join(dir, path.basename(new URL(req.url ?? "/", "http://a").pathname));
    if (!existsSync(file)) {
      res.writeHead(404);
      res.end("not found");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    publish(file, name) {
      const bytes = readFileSync(file);
      writeFileSync(path.join(dir, name), bytes);
      return {
        url: `${url}/${name}`,
        path: name,
        digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
        size: bytes.length,
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `tar -czf` of `dir` as `<chartName>/…`: the archive layout Helm's loader.LoadArchive reads. */
export async function packageChartDir(dir: string, chartName: string): Promise<string> {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), "haos-chart-")), `${chartName}.tgz`);
  const staging = path.dirname(dir);
  const base = path.basename(dir);
  await new Promise<void>((resolve, reject) => {
    const child = spawn("tar", ["-czf", out, "-C", staging, `--transform=s,^${base},${chartName},`, base], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`tar failed: ${err}`))));
  });
  return out;
}

/**
 * Serves a chart directory to helm-controller as an ExternalArtifact: packages it (tar.gz), puts it
 * on the artifact server, and creates/updates the ExternalArtifact `namespace/name` with the artifact
 * status a producer writes (revision = the chart version, Ready=True). HelmReleases point at it with
 * `chartRef: {kind: ExternalArtifact, name, namespace}`.
 */
export async function serveChartAsExternalArtifact(
  server: TestApiServer,
  artifacts: ArtifactServer,
  options: { chartDir: string; chartName: string; version: string; name: string; namespace: string },
): Promise<{ revision: string; digest: string }> {
  const tgz = await packageChartDir(options.chartDir, options.chartName);
  const published = artifacts.publish(tgz, `${options.name}-${options.version}.tgz`);
  const ns = await server.kubectl(["create", "namespace", options.namespace]);
  if (ns.exitCode !== 0 && !/AlreadyExists/.test(ns.stderr)) throw new Error(ns.stderr);
  const object = {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "ExternalArtifact",
    metadata: { name: options.name, namespace: options.namespace },
    spec: {},
  };
  const applied = await server.kubectl(
    ["apply", "--server-side", "--field-manager=test-producer", "-f", "-"],
    {
      input: JSON.stringify(object),
    },
  );
  if (applied.exitCode !== 0) throw new Error(`creating ExternalArtifact failed: ${applied.stderr}`);
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const status = {
    status: {
      observedGeneration: 1,
      artifact: {
        ...published,
        revision: options.version,
        lastUpdateTime: now,
      },
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "Succeeded",
          message: `stored artifact for revision '${options.version}'`,
          observedGeneration: 1,
          lastTransitionTime: now,
        },
      ],
    },
  };
  const patched = await server.kubectl(
    [
      "patch",
      "externalartifact.source.toolkit.fluxcd.io",
      options.name,
      "-n",
      options.namespace,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify(status),
    ],
    {},
  );
  if (patched.exitCode !== 0) throw new Error(`writing ExternalArtifact status failed: ${patched.stderr}`);
  return { revision: options.version, digest: published.digest };
}
