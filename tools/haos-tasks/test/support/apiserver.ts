import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { toolPath } from "../../src/tools/paths.ts";
import { freePort, type ManagedProcess, startManaged } from "./processes.ts";

const execFileAsync = promisify(execFile);

export interface KubectlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** A real etcd + kube-apiserver on 127.0.0.1, RBAC on, with a ServiceAccount token issuer. */
export interface TestApiServer {
  /** https://127.0.0.1:<port> */
  url: string;
  /** Admin (system:masters) kubeconfig file. */
  kubeconfigPath: string;
  adminToken: string;
  /** The server's CA bundle (PEM), also embedded in every kubeconfig this fixture writes. */
  caPem: string;
  /** A client-node KubeConfig for the admin. */
  adminKubeConfig(): KubeConfig;
  /**
   * Mints a token for a ServiceAccount through the TokenRequest API (creating the namespace and
   * the ServiceAccount when missing) and writes a kubeconfig for it.
   */
  serviceAccount(namespace: string, name: string): Promise<{ token: string; kubeconfigPath: string }>;
  /** Runs the machine's kubectl against this server (admin unless `kubeconfig` is given). */
  kubectl(args: string[], options?: { input?: string; kubeconfig?: string }): Promise<KubectlResult>;
  /** Applies CRDs (file paths or YAML text) server-side and waits until they are Established. */
  installCrds(sources: string[]): Promise<void>;
  /** Stops and starts kube-apiserver on the same port and etcd (watches drop, state survives). */
  restartApiServer(): Promise<void>;
  /** Stops kube-apiserver only (for "API unreachable" scenarios). */
  stopApiServer(): Promise<void>;
  stop(): Promise<void>;
  logs(): string;
}

export interface StartOptions {
  /** Extra kube-apiserver flags. */
  apiServerArgs?: string[];
}

function kubeconfigYaml(url: string, caPem: string, user: string, token: string): string {
  const ca = Buffer.from(caPem).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: test",
    "  cluster:",
    `    server: ${url}`,
    `    certificate-authority-data: ${ca}`,
    "users:",
    `- name: ${user}`,
    "  user:",
    `    token: ${token}`,
    "contexts:",
    "- name: test",
    "  context:",
    "    cluster: test",
    `    user: ${user}`,
    "current-context: test",
    "",
  ].join("\n");
}

async function waitReady(url: string, token: string, deadlineMs: number, what: () => string): Promise<void> {
  const until = Date.now() + deadlineMs;
  let last = "";
  while (Date.now() < until) {
    last = await new Promise<string>((resolve) => {
      const req = https.get(
        `${url}/readyz`,
        { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2000 },
        (res) => {
          res.resume();
          resolve(String(res.statusCode));
        },
      );
      req.on("error", (e) => resolve(e.message));
      req.on("timeout", () => req.destroy(new Error("timeout")));
    });
    if (last === "200") return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`kube-apiserver not ready after ${deadlineMs} ms (last: ${last})\n${what()}`);
}

async function waitEtcd(port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd not healthy on 127.0.0.1:${port} after ${deadlineMs} ms`);
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Starts etcd and kube-apiserver; call `stop()` in afterAll. */
export async function startTestApiServer(options: StartOptions = {}): Promise<TestApiServer> {
  const etcdBin = toolPath("etcd", process.env);
  const apiServerBin = toolPath("kube-apiserver", process.env);
  const dir = mkdtempSync(path.join(os.tmpdir(), "haos-apiserver-"));
  const [etcdClientPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];

  const etcd = startManaged(
    "etcd",
    etcdBin,
    [
      "--name=test",
      `--data-dir=${path.join(dir, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=test=http://127.0.0.1:${etcdPeerPort}`,
      "--unsafe-no-fsync",
      "--log-level=error",
    ],
    path.join(dir, "etcd.log"),
  );
  await waitEtcd(etcdClientPort, 30_000);

  const adminToken = randomBytes(24).toString("hex");
  writeFileSync(path.join(dir, "tokens.csv"), `${adminToken},test-admin,test-admin,"system:masters"\n`);
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(path.join(dir, "sa.key"), privateKey.export({ type: "pkcs1", format: "pem" }));
  writeFileSync(path.join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
  const certDir = path.join(dir, "certs");
  const url = `https://127.0.0.1:${apiPort}`;
  const apiArgs = [
    `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${apiPort}`,
    `--cert-dir=${certDir}`,
    "--authorization-mode=RBAC",
    `--token-auth-file=${path.join(dir, "tokens.csv")}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${path.join(dir, "sa.pub")}`,
    `--service-account-signing-key-file=${path.join(dir, "sa.key")}`,
    "--service-cluster-ip-range=10.96.0.0/16",
    // No controller-manager runs, so nothing creates `default` ServiceAccounts for pods.
    "--disable-admission-plugins=ServiceAccount",
    "--endpoint-reconciler-type=none",
    "--profiling=false",
    "--v=1",
    ...(options.apiServerArgs ?? []),
  ];
  let apiServer: ManagedProcess | undefined;
  const apiLog = path.join(dir, "kube-apiserver.log");
  const startApi = async (): Promise<void> => {
    apiServer = startManaged("kube-apiserver", apiServerBin, apiArgs, apiLog);
    const exitedEarly = apiServer.exited.then((code) => {
      throw new Error(`kube-apiserver exited with ${code}\n${tail(apiLog)}`);
    });
    await Promise.race([waitReady(url, adminToken, 90_000, () => tail(apiLog)), exitedEarly]);
    exitedEarly.catch(() => {});
  };
  try {
    await startApi();
  } catch (error) {
    await apiServer?.stop();
    await etcd.stop();
    throw error;
  }

  // kube-apiserver writes a self-signed CA and serving cert into --cert-dir.
  const caPem = readFileSync(path.join(certDir, "apiserver.crt"), "utf8");
  const kubeconfigPath = path.join(dir, "admin.kubeconfig");
  writeFileSync(kubeconfigPath, kubeconfigYaml(url, caPem, "admin", adminToken));

  const kubectl = async (
    args: string[],
    opts: { input?: string; kubeconfig?: string } = {},
  ): Promise<KubectlResult> => {
    const child = execFileAsync("kubectl", ["--kubeconfig", opts.kubeconfig ?? kubeconfigPath, ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    if (opts.input !== undefined) {
      child.child.stdin?.end(opts.input);
    }
    try {
      const { stdout, stderr } = await child;
      return { stdout, stderr, exitCode: 0 };
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; code?: number };
      return {
        stdout: e.stdout ?? "",
        stderr: e.stderr ?? "",
        exitCode: typeof e.code === "number" ? e.code : 1,
      };
    }
  };

  const server: TestApiServer = {
    url,
    kubeconfigPath,
    adminToken,
    caPem,
    adminKubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    async serviceAccount(namespace, name) {
      const manifest = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\n`;
      const applied = await kubectl(["apply", "-f", "-"], { input: manifest });
      if (applied.exitCode !== 0) throw new Error(`creating ServiceAccount failed: ${applied.stderr}`);
      const minted = await kubectl(["create", "token", name, "-n", namespace, "--duration=1h"]);
      if (minted.exitCode !== 0) throw new Error(`TokenRequest failed: ${minted.stderr}`);
      const token = minted.stdout.trim();
      const file = path.join(dir, `sa-${namespace}-${name}.kubeconfig`);
      writeFileSync(file, kubeconfigYaml(url, caPem, `system:serviceaccount:${namespace}:${name}`, token));
      return { token, kubeconfigPath: file };
    },
    kubectl,
    async installCrds(sources) {
      // One apply and one wait for all of them: each kubectl start costs ~0.3 s on these cores.
      const files = sources.map((source, i) => {
        if (!source.includes("\n")) return source;
        const file = path.join(dir, `crds-${Date.now()}-${i}.yaml`);
        writeFileSync(file, source);
        return file;
      });
      if (files.length === 0) return;
      const applied = await kubectl([
        "apply",
        "--server-side",
        "--force-conflicts",
        ...files.flatMap((f) => ["-f", f]),
      ]);
      if (applied.exitCode !== 0)
        throw new Error(
          `installing CRDs from ${sources.map((s) => s.slice(0, 60)).join(", ")} failed:\n${applied.stderr}`,
        );
      const names = applied.stdout
        .split("\n")
        .map((l) => /^customresourcedefinition\.apiextensions\.k8s\.io\/(\S+)/.exec(l)?.[1])
        .filter((n): n is string => Boolean(n));
      if (names.length === 0) return;
      // kubectl wait fails at once ("status.conditions accessor error: <nil>") on a CRD the
      // apiextensions controller has not written a status for yet: ask again until it has.
      const until = Date.now() + 60_000;
      for (;;) {
        const waited = await kubectl([
          "wait",
          "--for=condition=Established",
          "--timeout=60s",
          ...names.map((n) => `crd/${n}`),
        ]);
        if (waited.exitCode === 0) break;
        if (!/accessor error/.test(waited.stderr) || Date.now() > until)
          throw new Error(`CRDs not Established: ${waited.stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async restartApiServer() {
      await apiServer?.stop();
      await startApi();
    },
    async stopApiServer() {
      await apiServer?.stop();
    },
    async stop() {
      await apiServer?.stop();
      await etcd.stop();
      if (!process.env.HAOS_TASKS_KEEP_APISERVER_DIR) rmSync(dir, { recursive: true, force: true });
    },
    logs() {
      return tail(apiLog, 200);
    },
  };
  return server;
}
