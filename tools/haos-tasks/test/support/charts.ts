import { randomBytes } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { toolPath } from "../../src/tools/paths.ts";
import { freePort, type ManagedProcess, startManaged } from "./processes.ts";

/**
 * Chart supply for tests, with the real tools only: the CNCF distribution `registry` as the OCI
 * chart registry, a plain static-file HTTP chart repository (what a Helm repository is: archives
 * plus index.yaml), and Helm's own CLI (`helm package`, `helm push`, `helm repo index`,
 * `helm pull`, `helm template`) as the client — the binaries tools/bootstrap builds (registry
 * v3.1.2, helm v4.2.4 = the Helm SDK helm-controller v1.6.4 links). Everything listens on
 * 127.0.0.1; Helm's and Docker's config, cache and data live in a temporary directory per Helm
 * call, never the user's.
 */

/**
 * The environment Helm runs with: every Helm and Docker location under `home` (so nothing reads or
 * writes ~/.config/helm, ~/.cache/helm or ~/.docker), plus `extra`.
 */
export function helmEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const config = path.join(home, "config");
  const cache = path.join(home, "cache");
  const data = path.join(home, "data");
  return {
    ...process.env,
    HELM_CONFIG_HOME: config,
    HELM_CACHE_HOME: cache,
    HELM_DATA_HOME: data,
    HELM_REGISTRY_CONFIG: path.join(config, "registry", "config.json"),
    HELM_REPOSITORY_CONFIG: path.join(config, "repositories.yaml"),
    HELM_REPOSITORY_CACHE: path.join(cache, "repository"),
    HELM_PLUGINS: path.join(data, "plugins"),
    DOCKER_CONFIG: path.join(home, "docker"),
    ...extra,
  };
}

/**
 * Runs Helm's CLI (.tools/bin/helm) with a fresh Helm/Docker home of its own, removed afterwards
 * (no call here needs state from an earlier one: pushes to 127.0.0.1 need no login, `--repo`
 * pulls read the index each time). A non-zero exit is an error carrying the command and output.
 */
export async function helm(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  const home = mkdtempSync(path.join(os.tmpdir(), "haos-helm-home-"));
  try {
    const result = await execa(toolPath("helm", process.env), args, {
      env: helmEnv(home, options.env),
      extendEnv: false,
      reject: false,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    if (result.exitCode !== 0) {
      throw new Error(
        `helm ${args.join(" ")} exited ${result.exitCode}:\n${result.stderr}\n${result.stdout}`,
      );
    }
    return { stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** `helm package <chartDir> --destination <destination>`; the archive's path. */
export async function packageChart(chartDir: string, destination: string): Promise<string> {
  mkdirSync(destination, { recursive: true });
  const { stdout } = await helm(["package", chartDir, "--destination", destination]);
  const archive = /saved it to: (.+\.tgz)\s*$/m.exec(stdout)?.[1];
  if (!archive || !existsSync(archive)) throw new Error(`helm package ${chartDir}: no archive in\n${stdout}`);
  return archive;
}

export interface Registry {
  /** 127.0.0.1:<port>: the host of its oci:// references. */
  host: string;
  /** oci://127.0.0.1:<port> */
  url: string;
  /** The registry's scratch directory (config, log, storage, the archives pushChart packaged); close() removes it. */
  dir: string;
  /** The registry's filesystem storage. */
  storageDir: string;
  /** The registry's process id (it leads its own process group). */
  pid: number;
  /** Every request in the registry's access log, as `METHOD path status`, oldest first. */
  requests(): string[];
  /** The registry's log (access log and its own messages). */
  logs(): string;
  /** Stops the registry (its whole process group) and removes its directory. */
  close(): Promise<void>;
}

/**
 * Starts the real CNCF distribution registry on 127.0.0.1 at a free port: filesystem storage in a
 * temporary directory, no auth, plain HTTP, access log on; resolves once `/v2/` answers 200 (from
 * this registry: its access log shows the request). A port taken between choosing and binding it
 * (other test processes pick ports too) is retried on another port.
 */
export async function startRegistry(): Promise<Registry> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRegistryOnce();
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortTakenError)) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startRegistryOnce(): Promise<Registry> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-registry-"));
  const storageDir = path.join(dir, "storage");
  const logPath = path.join(dir, "registry.log");
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  // distribution's configuration (docs: configuration.md): env REGISTRY_* overrides the file; the
  // file here holds everything, so nothing in the environment changes it.
  const configPath = path.join(dir, "config.yml");
  writeFileSync(
    configPath,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: false",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${storageDir}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${host}`,
      // Signs upload state; set, so the registry does not warn that it generated one.
      `  secret: ${randomBytes(16).toString("hex")}`,
      "",
    ].join("\n"),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    // distribution initialises OpenTelemetry; with no exporter configured it would send traces to
    // localhost:4318 (OTLP's default) and log every failed export.
    OTEL_TRACES_EXPORTER: "none",
  };
  const proc: ManagedProcess = startManaged(
    "registry",
    toolPath("registry", process.env),
    ["serve", configPath],
    logPath,
    { env, processGroup: true },
  );
  const logs = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");
  const requests = () =>
    logs()
      .split("\n")
      .flatMap((line) => {
        // Apache combined log format: … "GET /v2/… HTTP/1.1" 200 …
        const m = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /.exec(line);
        return m ? [`${m[1]} ${m[2]} ${m[3]}`] : [];
      });
  const fail = async (error: Error): Promise<never> => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  };
  let exitCode: number | null | undefined;
  void proc.exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exitCode !== undefined) {
      const log = logs();
      const message = `registry exited (${exitCode}) before serving on ${host}:\n${log}`;
      return await fail(
        /address already in use/.test(log) ? new PortTakenError(message) : new Error(message),
      );
    }
    const status = await new Promise<number>((resolve) => {
      const req = http.get(`http://${host}/v2/`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", () => resolve(0));
      req.setTimeout(2000, () => req.destroy());
    });
    if (status === 200) {
      // The access log line reaches the log file just after the response: wait for it (2 s).
      const until = Date.now() + 2000;
      while (!requests().includes("GET /v2/ 200") && exitCode === undefined && Date.now() < until)
        await new Promise((r) => setTimeout(r, 20));
      if (requests().includes("GET /v2/ 200")) break;
      if (exitCode !== undefined) continue;
      return await fail(new PortTakenError(`another server answers on ${host}`));
    }
    if (Date.now() > deadline)
      return await fail(
        new Error(`registry on ${host} did not answer /v2/ within 30 s (last status ${status}):\n${logs()}`),
      );
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    url: `oci://${host}`,
    dir,
    storageDir,
    pid: proc.child.pid as number,
    logs,
    requests,
    async close() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PushedChart {
  name: string;
  version: string;
  /** The OCI tag (`+` in a version becomes `_`, as Helm tags it). */
  tag: string;
  /** oci://127.0.0.1:<port>/<repoPath>/<name>: what `helm pull`/a HelmRepository `type: oci` names. */
  reference: string;
  /** The manifest digest `helm push` reported (sha256:…). */
  digest: string;
  /** The archive `helm package` made and `helm push` uploaded. */
  archive: string;
}

/** Chart.yaml's name and version (the archive is named after them). */
function chartMeta(chartDir: string): { name: string; version: string } {
  const text = readFileSync(path.join(chartDir, "Chart.yaml"), "utf8");
  const field = (key: string) => new RegExp(`^${key}:\\s*["']?([^"'\\s#]+)`, "m").exec(text)?.[1];
  const name = field("name");
  const version = field("version");
  if (!name || !version) throw new Error(`${chartDir}/Chart.yaml: no name or version`);
  return { name, version };
}

/**
 * Packages a chart directory with `helm package` and pushes it with Helm's own client:
 * `helm push <tgz> oci://127.0.0.1:<port>/<repoPath> --plain-http`, so it is served as
 * `<repoPath>/<name>:<version>`.
 */
export async function pushChart(
  registry: Registry,
  chartDir: string,
  repoPath: string,
): Promise<PushedChart> {
  const { name, version } = chartMeta(chartDir);
  const archive = await packageChart(chartDir, mkdtempSync(path.join(registry.dir, "package-")));
  const target = `${registry.url}/${repoPath.replace(/^\/+|\/+$/g, "")}`;
  const { stdout, stderr } = await helm(["push", archive, target, "--plain-http"]);
  const digest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(`${stdout}\n${stderr}`)?.[1];
  if (!digest) throw new Error(`helm push ${archive}: no digest in\n${stdout}\n${stderr}`);
  return { name, version, tag: version.replace(/\+/g, "_"), reference: `${target}/${name}`, digest, archive };
}

export interface ServedChart {
  name: string;
  version: string;
  /** The archive in the repository directory. */
  archive: string;
  /** Its download URL as index.yaml lists it. */
  url: string;
}

export interface ChartRepository {
  /** http://127.0.0.1:<port>/ — a HelmRepository's `spec.url`, `helm pull --repo`'s argument. */
  url: string;
  /** The served directory: the archives and index.yaml. */
  dir: string;
  charts: ServedChart[];
  /** Packages more charts into the repository and rebuilds index.yaml (e.g. a version bump). */
  add(chartDirs: string[]): Promise<ServedChart[]>;
  /** Every request served, as `METHOD path status`. */
  requests(): string[];
  close(): Promise<void>;
}

/**
 * A Helm chart repository on 127.0.0.1: each chart packaged with `helm package`, index.yaml built
 * with `helm repo index --url http://127.0.0.1:<port>/`, the directory served as static files by
 * node:http (GET and HEAD; anything else 405, an unknown path 404).
 */
export async function startChartRepository(chartDirs: string[]): Promise<ChartRepository> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-chart-repo-"));
  const log: string[] = [];
  const server = http.createServer((req, res) => {
    const done = (status: number) => log.push(`${req.method} ${req.url} ${status}`);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return done(405);
    }
    const name = decodeURIComponent(new URL(req.url ?? "/", "http://repo").pathname).replace(/^\/+/, "");
    const file = path.join(dir, name);
    if (!name || name.includes("/") || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return done(404);
    }
    res.writeHead(200, {
      "content-type": name.endsWith(".yaml") ? "application/yaml" : "application/gzip",
      "content-length": statSync(file).size,
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
    done(200);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}/`;
  const charts: ServedChart[] = [];

  const add = async (dirs: string[]): Promise<ServedChart[]> => {
    const added: ServedChart[] = [];
    for (const chartDir of dirs) {
      const { name, version } = chartMeta(chartDir);
      const archive = await packageChart(chartDir, dir);
      added.push({ name, version, archive, url: `${url}${path.basename(archive)}` });
    }
    await helm(["repo", "index", dir, "--url", url]);
    charts.push(...added);
    return added;
  };
  try {
    await add(chartDirs);
  } catch (error) {
    server.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    dir,
    charts,
    add,
    requests: () => [...log],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

/**
 * `helm pull` of one chart version into `destination`; returns the archive's path. `chart` is an
 * `oci://127.0.0.1:<port>/…/<name>` reference (pulled over plain HTTP) or, with `repo`, a chart
 * name in the HTTP chart repository at that URL.
 */
export async function pullChart(
  chart: string,
  version: string,
  options: { destination: string; repo?: string },
): Promise<string> {
  const out = options.destination;
  mkdirSync(out, { recursive: true });
  const before = new Set(readdirSync(out));
  const args = ["pull", chart, "--version", version, "--destination", out];
  if (options.repo) args.push("--repo", options.repo);
  else if (chart.startsWith("oci://")) args.push("--plain-http");
  await helm(args);
  const pulled = readdirSync(out).filter((f) => f.endsWith(".tgz") && !before.has(f));
  if (pulled.length !== 1)
    throw new Error(`helm ${args.join(" ")}: expected one new archive in ${out}, got ${pulled.join(", ")}`);
  return path.join(out, pulled[0] as string);
}
