import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import type { TestApiServer } from "./apiserver.ts";
import { createScratchRepo, type ScratchRepo } from "./scratch-repo.ts";

/**
 * What the verify tests share that is not a controller: the shipped ServiceAccount, a proxy and
 * kubeconfigs in front of the test API server, a checkout with an app folder for the suites that
 * never reach Flux (bad kubeconfigs, unreachable or failing APIs, help), the Home Assistant page,
 * and `haos-tasks verify` run in-process. Everything a controller writes comes from real Flux
 * (real-flux-app.ts) or, for what cannot run here, from simulated-status.ts.
 */

/** Applies the shipped RBAC and returns a kubeconfig for its ServiceAccount. */
export async function shippedServiceAccount(server: TestApiServer): Promise<string> {
  for (const ns of ["flux-system", "tenant-root"]) await server.kubectl(["create", "namespace", ns]);
  const rbac = path.join(toolsRepoRoot, "apps", "verify-runner", "rbac-verify-runner.yaml");
  const applied = await server.kubectl(["apply", "-f", rbac]);
  if (applied.exitCode !== 0) throw new Error(`applying ${rbac} failed: ${applied.stderr}`);
  return (await server.serviceAccount("tenant-root", "haos-verify-runner")).kubeconfigPath;
}

/**
 * A plain-HTTP proxy on 127.0.0.1 in front of the test API server. `expireFirstWatch` rewrites
 * the first watch request's resourceVersion to "1", far older than the server keeps: the real
 * kube-apiserver then answers 410 Gone ("too old resource version"), as after an etcd compaction.
 */
export async function startApiProxy(
  server: TestApiServer,
  options: {
    expireFirstWatch?: boolean;
    /** Sees every request (the benchmark counts them). */
    onRequest?: (method: string, url: URL) => void;
  } = {},
): Promise<{ url: string; rewritten: () => number; close: () => Promise<void> }> {
  let rewritten = 0;
  const target = new URL(server.url);
  const proxy = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    options.onRequest?.(req.method ?? "GET", url);
    if (options.expireFirstWatch && rewritten === 0 && url.searchParams.get("watch") === "true") {
      url.searchParams.set("resourceVersion", "1");
      rewritten += 1;
    }
    const upstream = https.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers: { ...req.headers, host: target.host },
        ca: server.caPem,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // Node holds the headers until the first body byte: a quiet watch would look like an
        // API server that never answers (the client gives up after its answer timeout).
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    rewritten: () => rewritten,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

/** A kubeconfig for `server` (a URL) with a bearer token (client-node wants skip-TLS for http://). */
export function tokenKubeconfig(server: string, token: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "haos-kubeconfig-")), "config");
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server}\n${server.startsWith("http:") ? "    insecure-skip-tls-verify: true\n" : ""}users:\n- name: u\n  user:\n    token: ${token}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n`,
  );
  return file;
}

export interface AppFixture {
  /** The repository (checked out at the target commit); repoRoot is its directory. */
  repo: ScratchRepo;
  repoRoot: string;
  appDir: string;
  /** Commits: an old one, the target, a descendant of the target, and one on an unrelated branch. */
  commits: { old: string; target: string; descendant: string; unrelated: string };
  names: { gitRepository: string; kustomization: string; app: string };
}

/**
 * A git repository holding a Flux app folder like apps/haos-enigma (its own names, so scenarios
 * can share one API server), with the commits the scenarios need.
 */
export function writeAppFixture(
  id: string,
  options: { canonicalFluxNames?: boolean; wait?: boolean } = {},
): AppFixture {
  const repo = createScratchRepo(`haos-verify-${id}-`);
  const repoRoot = repo.dir;
  const appDir = "apps/haos-enigma";
  const names = {
    gitRepository: options.canonicalFluxNames ? "setup" : `setup-${id}`,
    kustomization: options.canonicalFluxNames ? "haos-enigma" : `haos-enigma-${id}`,
    app: `haos-${id}`,
  };
  const files: Record<string, string> = {
    "kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gitrepository.yaml\n  - kustomization-root.yaml\n  - vmdisk.yaml\n  - vminstance.yaml\n`,
    "gitrepository.yaml": `apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: ${names.gitRepository}\n  namespace: flux-system\nspec:\n  interval: 5m\n  url: https://github.com/example/setup\n  ref:\n    branch: main\n`,
    "kustomization-root.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${names.kustomization}\n  namespace: flux-system\nspec:\n  interval: 30m\n  sourceRef:\n    kind: GitRepository\n    name: ${names.gitRepository}\n  path: ./apps/haos-enigma\n  prune: true\n  wait: ${options.wait ?? true}\n  timeout: 15m\n`,
    "vmdisk.yaml": `apiVersion: apps.cozystack.io/v1alpha1\nkind: VMDisk\nmetadata:\n  name: ${names.app}\n  namespace: tenant-root\nspec:\n  source:\n    http:\n      url: https://example.invalid/haos.qcow2.xz\n  storage: 32Gi\n`,
    "vminstance.yaml": `apiVersion: apps.cozystack.io/v1alpha1\nkind: VMInstance\nmetadata:\n  name: ${names.app}\n  namespace: tenant-root\nspec:\n  runStrategy: Always\n  instanceType: u1.medium\n  instanceProfile: haos\n  disks:\n    - name: ${names.app}\n  external: true\n  externalMethod: WholeIP\n  networks:\n    - name: haos-underlay\n`,
    // The real declaration: verify's expectations (WholeIP, LAN CIDR, underlay NIC) follow from it.
    "platform.yaml": readFileSync(path.join(toolsRepoRoot, "apps", "haos-enigma", "platform.yaml"), "utf8"),
  };
  const inApp = (name: string) => `${appDir}/${name}`;
  const old = repo.commit(
    "feat: haos",
    Object.fromEntries(Object.entries(files).map(([name, text]) => [inApp(name), text])),
  );
  const target = repo.commit("feat: target", { [inApp("README.md")]: "target\n" });
  repo.branch("other", old);
  const unrelated = repo.commit("chore: unrelated", { [inApp("OTHER.md")]: "other\n" });
  repo.git("checkout", "-q", "main");
  const descendant = repo.commit("fix: later", { [inApp("README.md")]: "descendant\n" });
  repo.git("checkout", "-q", target);
  return { repo, repoRoot, appDir, commits: { old, target, descendant, unrelated }, names };
}

/** A local stand-in for the Home Assistant page (127.0.0.1 only), or one that never answers. */
export async function startHomeAssistantPage(
  mode: "answers" | "silent",
): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((_req, res) => {
    if (mode === "silent") return;
    res.writeHead(200, { "content-type": "text/html" });
    res.end(
      "<!DOCTYPE html><html><head><title>Home Assistant</title></head><body><home-assistant></home-assistant></body></html>",
    );
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The parsed --format json report. */
  report: {
    outcome: string;
    failedPhase: string | null;
    detail: string;
    hint: string | null;
    revision: { target: string; supersededBy?: string };
    phases: Array<{
      phase: string;
      status: string;
      startedAt: string | null;
      durationMs: number | null;
      detail: string;
    }>;
    diagnostics: {
      conditions: Array<{ object: string; type: string; status: string; reason: string }>;
      events: Array<{ object: string; reason: string; message: string }>;
      fluxEvents: Array<{ object: string; reason: string }>;
      pods: Array<{ name: string }>;
      notes: string[];
    } | null;
    stats: { requests: number; watchStreams: number; requestsPerMinute: number; maxRssBytes: number };
  };
  /** When main() returned. */
  endedAt: number;
}

/**
 * Starts `haos-tasks verify … --format json` in-process (the real CLI entry). `started` resolves
 * once the verifier has listed the cluster and entered its first phase, so a scenario's timeline
 * does not race ahead of it; `done` resolves with the exit code and the parsed report.
 */
export function startVerifyCli(
  args: string[],
  cwd: string,
): { started: Promise<void>; done: Promise<CliRun>; printed: (pattern: RegExp) => Promise<void> } {
  let stderr = "";
  const waiting: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const check = () => {
    for (const w of waiting.splice(0)) {
      if (w.pattern.test(stderr)) w.resolve();
      else waiting.push(w);
    }
  };
  /** Resolves once the verifier's progress output matches (or it has ended). */
  const printed = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      waiting.push({ pattern, resolve });
      check();
    });
  const started = printed(/ source +running /);
  const done = runVerifyCli(args, cwd, (text) => {
    stderr += text;
    check();
  }).finally(() => {
    for (const w of waiting.splice(0)) w.resolve();
  });
  return { started, done, printed };
}

/** Runs `haos-tasks verify … --format json` in-process (the real CLI entry) and parses its report. */
export async function runVerifyCli(
  args: string[],
  cwd: string,
  onStderr?: (text: string) => void,
): Promise<CliRun> {
  const { main } = await import("../../src/cli/main.ts");
  let stdout = "";
  let stderr = "";
  const code = await main(["verify", "--format", "json", ...args], {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
      onStderr?.(t);
    },
    env: { ...process.env, GITHUB_SHA: "", GITHUB_STEP_SUMMARY: "", GITHUB_ACTIONS: "" },
    cwd,
    isTTY: false,
  });
  const endedAt = Date.now();
  let report: CliRun["report"];
  try {
    report = JSON.parse(stdout) as CliRun["report"];
  } catch {
    throw new Error(`verify printed no JSON report (exit ${code})\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
  return { code, stdout, stderr, report, endedAt };
}
