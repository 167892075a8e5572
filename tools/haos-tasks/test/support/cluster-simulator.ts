import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { KubeClient, type KubeObject } from "../../src/kube/client.ts";
import { resourceKinds } from "../../src/kube/resources.ts";
import { fetchSource, findSource, readSchemaLock, resolveMirror } from "../../src/schemas/sources.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import type { TestApiServer } from "./apiserver.ts";

/**
 * A scripted stand-in for the controllers verify follows: it writes objects and their status
 * through the status subresource the way source-controller, kustomize-controller, helm-controller,
 * cozystack-api, CDI and KubeVirt do, on a timeline the test chooses.
 */

const testCrd = (
  group: string,
  version: string,
  plural: string,
  kind: string,
): string => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: { plural: ${plural}, singular: ${kind.toLowerCase()}, kind: ${kind}, listKind: ${kind}List }
  versions:
    - name: ${version}
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, x-kubernetes-preserve-unknown-fields: true }
            status: { type: object, x-kubernetes-preserve-unknown-fields: true }
`;

/**
 * Installs the published Flux CRDs (pinned in schemas.lock.json) and minimal test CRDs for the
 * KubeVirt, CDI and CozyStack kinds. In a real cluster apps.cozystack.io is an aggregated API;
 * here it is a CRD, which is why the verifier's polling of that group is what gets exercised.
 */
export async function installVerifyCrds(server: TestApiServer): Promise<void> {
  const lock = await readSchemaLock();
  const mirror = resolveMirror(undefined);
  const flux = await Promise.all(
    [
      "source.toolkit.fluxcd.io_gitrepositories.yaml",
      "kustomize.toolkit.fluxcd.io_kustomizations.yaml",
      "helm.toolkit.fluxcd.io_helmreleases.yaml",
    ].map(async (suffix) =>
      (await fetchSource(findSource(lock, suffix), mirror ? { mirror } : {})).toString("utf8"),
    ),
  );
  const handWritten = [
    testCrd("apps.cozystack.io", "v1alpha1", "vmdisks", "VMDisk"),
    testCrd("apps.cozystack.io", "v1alpha1", "vminstances", "VMInstance"),
    testCrd("cdi.kubevirt.io", "v1beta1", "datavolumes", "DataVolume"),
    testCrd("kubevirt.io", "v1", "virtualmachines", "VirtualMachine"),
    testCrd("kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance"),
  ];
  await server.installCrds([...flux, handWritten.join("---\n")]);
}

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
  repoRoot: string;
  appDir: string;
  /** Commits: an old one, the target, a descendant of the target, and one on an unrelated branch. */
  commits: { old: string; target: string; descendant: string; unrelated: string };
  names: { gitRepository: string; kustomization: string; app: string };
}

/** git in `cwd` with a fixed identity (test repositories need no user config). */
export const git = (cwd: string, ...args: string[]): string =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@t",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@t",
    },
  }).trim();

/**
 * A git repository holding a Flux app folder like apps/haos-enigma (its own names, so scenarios
 * can share one API server), with the commits the scenarios need.
 */
export function writeAppFixture(
  id: string,
  options: { canonicalFluxNames?: boolean; wait?: boolean } = {},
): AppFixture {
  const repoRoot = mkdtempSync(path.join(os.tmpdir(), `haos-verify-${id}-`));
  const appDir = "apps/haos-enigma";
  const dir = path.join(repoRoot, appDir);
  mkdirSync(dir, { recursive: true });
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
  git(repoRoot, "init", "-q", "-b", "main");
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  git(repoRoot, "add", ".");
  git(repoRoot, "commit", "-q", "-m", "feat: haos");
  const old = git(repoRoot, "rev-parse", "HEAD");
  writeFileSync(path.join(dir, "README.md"), "target\n");
  git(repoRoot, "add", ".");
  git(repoRoot, "commit", "-q", "-m", "feat: target");
  const target = git(repoRoot, "rev-parse", "HEAD");
  git(repoRoot, "checkout", "-q", "-b", "other", old);
  writeFileSync(path.join(dir, "OTHER.md"), "other\n");
  git(repoRoot, "add", ".");
  git(repoRoot, "commit", "-q", "-m", "chore: unrelated");
  const unrelated = git(repoRoot, "rev-parse", "HEAD");
  git(repoRoot, "checkout", "-q", "main");
  writeFileSync(path.join(dir, "README.md"), "descendant\n");
  git(repoRoot, "commit", "-q", "-am", "fix: later");
  const descendant = git(repoRoot, "rev-parse", "HEAD");
  git(repoRoot, "checkout", "-q", target);
  return { repoRoot, appDir, commits: { old, target, descendant, unrelated }, names };
}

type Status = "True" | "False" | "Unknown";
const condition = (type: string, status: Status, reason: string, message: string, generation = 1) => ({
  type,
  status,
  reason,
  message,
  observedGeneration: generation,
  lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
});
const rev = (sha: string): string => `main@sha1:${sha}`;

/** Plays the controllers for one AppFixture's objects. */
export class ClusterSimulator {
  readonly admin: KubeClient;
  readonly fixture: AppFixture;
  readonly tenant = "tenant-root";
  readonly flux = "flux-system";
  readonly disk: string;
  readonly instance: string;
  /** When the decisive status write happened (the test measures detection from here). */
  decisiveAt = 0;

  constructor(server: TestApiServer, fixture: AppFixture) {
    this.admin = new KubeClient(server.adminKubeConfig());
    this.fixture = fixture;
    this.disk = `vm-disk-${fixture.names.app}`;
    this.instance = `vm-instance-${fixture.names.app}`;
  }

  /** Marks the next write as the one that decides the verdict. */
  decisive(): void {
    this.decisiveAt = Date.now();
  }

  private async status(
    kind: keyof typeof resourceKinds,
    ns: string,
    name: string,
    status: unknown,
  ): Promise<void> {
    await this.admin.mergePatch(resourceKinds[kind], ns, name, { status }, "status");
  }

  /** Bootstrap: the Flux objects exist with the old commit applied. */
  async bootstrap(): Promise<void> {
    const { names, commits } = this.fixture;
    await this.admin.create(resourceKinds.gitRepository, this.flux, {
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name: names.gitRepository, namespace: this.flux },
      spec: { interval: "5m", url: "https://github.com/example/setup", ref: { branch: "main" } },
    });
    await this.admin.create(resourceKinds.kustomization, this.flux, {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name: names.kustomization, namespace: this.flux },
      spec: {
        interval: "30m",
        path: "./apps/haos-enigma",
        prune: true,
        wait: true,
        sourceRef: { kind: "GitRepository", name: names.gitRepository },
      },
    });
    await this.source(commits.old);
    await this.kustomizationApplied(commits.old);
  }

  /** source-controller stored an artifact for `sha`. */
  async source(sha: string, handledReconcileAt?: string): Promise<void> {
    await this.status("gitRepository", this.flux, this.fixture.names.gitRepository, {
      observedGeneration: 1,
      ...(handledReconcileAt ? { lastHandledReconcileAt: handledReconcileAt } : {}),
      artifact: {
        revision: rev(sha),
        digest: `sha256:${createHash("sha256").update(sha).digest("hex")}`,
        path: `gitrepository/flux-system/${this.fixture.names.gitRepository}/${sha}.tar.gz`,
        url: `http://source-controller.flux-system.svc.cluster.local./gitrepository/${sha}.tar.gz`,
        lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      },
      conditions: [
        condition("Ready", "True", "Succeeded", `stored artifact for revision '${rev(sha)}'`),
        condition("ArtifactInStorage", "True", "Succeeded", `stored artifact for revision '${rev(sha)}'`),
      ],
    });
  }

  private async kustomization(status: Record<string, unknown>): Promise<void> {
    await this.status("kustomization", this.flux, this.fixture.names.kustomization, {
      observedGeneration: 1,
      ...status,
    });
  }

  /**
   * kustomize-controller, as observed on the real controller (PLATFORM.md "Flux"): Ready stays
   * Unknown "Reconciliation in progress" for the whole reconcile; the progress goes on Reconciling,
   * the health checks on a separate Healthy condition. Healthy is not reset when the next revision
   * starts, so the previous commit's Healthy=True is still there while the target is fetched.
   */
  async kustomizationApplying(sha: string, previous: string): Promise<void> {
    const inProgress = condition("Ready", "Unknown", "Progressing", "Reconciliation in progress");
    const leftover = condition("Healthy", "True", "Succeeded", "Health check passed in 20.04s");
    await this.kustomization({
      lastAttemptedRevision: rev(previous),
      lastAppliedRevision: rev(previous),
      conditions: [
        inProgress,
        condition(
          "Reconciling",
          "True",
          "Progressing",
          `Fetching manifests for revision ${rev(sha)} with a timeout of 15m0s`,
        ),
        leftover,
      ],
    });
    await this.kustomization({
      lastAttemptedRevision: rev(sha),
      conditions: [
        inProgress,
        condition(
          "Reconciling",
          "True",
          "Progressing",
          `Building manifests for revision ${rev(sha)} with a timeout of 15m0s`,
        ),
        leftover,
      ],
    });
    const running = `Running health checks for revision ${rev(sha)} with a timeout of 15m0s`;
    await this.kustomization({
      conditions: [
        inProgress,
        condition("Reconciling", "True", "Progressing", running),
        condition("Healthy", "Unknown", "Progressing", running),
      ],
    });
  }

  /** Healthy=True, then Ready=True "Applied revision" one update BEFORE lastAppliedRevision. */
  async kustomizationApplied(sha: string): Promise<void> {
    const done = [
      condition("Ready", "True", "ReconciliationSucceeded", `Applied revision: ${rev(sha)}`),
      condition("Healthy", "True", "Succeeded", "Health check passed in 1.02s"),
    ];
    await this.kustomization({ lastAttemptedRevision: rev(sha), conditions: done });
    await this.kustomization({
      lastAttemptedRevision: rev(sha),
      lastAppliedRevision: rev(sha),
      conditions: done,
    });
  }

  /**
   * Ready=False with `reason` while Reconciling=True/ProgressingWithRetry (Flux retries every
   * retryInterval); a failed health check also sets Healthy=False. `stalled` only for the terminal
   * reasons Flux stalls on (InvalidCELExpression, AccessDenied, FeatureGateDisabled).
   */
  async kustomizationFailed(
    sha: string,
    applied: string,
    reason: string,
    message: string,
    stalled = false,
  ): Promise<void> {
    await this.kustomization({
      lastAttemptedRevision: rev(sha),
      lastAppliedRevision: rev(applied),
      conditions: [
        condition("Ready", "False", reason, message),
        ...(stalled
          ? [condition("Stalled", "True", reason, message)]
          : [condition("Reconciling", "True", "ProgressingWithRetry", `retrying in 2m0s: ${message}`)]),
        ...(reason === "HealthCheckFailed" ? [condition("Healthy", "False", reason, message)] : []),
      ],
    });
  }

  /** kustomize-controller applies the app objects; cozystack-api stores each as a HelmRelease. */
  async createApps(): Promise<void> {
    const { app } = this.fixture.names;
    for (const [kind, appKind, name, chart, file] of [
      ["vmDisk", "VMDisk", this.disk, "vm-disk", "vmdisk.yaml"],
      ["vmInstance", "VMInstance", this.instance, "vm-instance", "vminstance.yaml"],
    ] as const) {
      // The committed spec: kustomize-controller applies it, cozystack-api copies it into the values.
      const spec =
        (
          parse(readFileSync(path.join(this.fixture.repoRoot, this.fixture.appDir, file), "utf8")) as {
            spec?: Record<string, unknown>;
          }
        ).spec ?? {};
      await this.admin.create(resourceKinds[kind], this.tenant, {
        apiVersion: "apps.cozystack.io/v1alpha1",
        kind: appKind,
        metadata: { name: app, namespace: this.tenant },
        spec,
      });
      await this.admin.create(resourceKinds.helmRelease, this.tenant, {
        apiVersion: "helm.toolkit.fluxcd.io/v2",
        kind: "HelmRelease",
        metadata: { name, namespace: this.tenant },
        spec: {
          interval: "5m",
          chart: {
            spec: {
              chart,
              sourceRef: { kind: "HelmRepository", name: "cozystack-apps", namespace: "cozy-public" },
            },
          },
          install: { strategy: { name: "RetryOnFailure", retryInterval: "30s" }, timeout: "10m0s" },
          upgrade: { strategy: { name: "RetryOnFailure", retryInterval: "30s" }, timeout: "10m0s" },
          values: spec,
          valuesFrom: [{ kind: "Secret", name: "cozystack-values" }],
        },
      });
    }
  }

  /**
   * helm-controller under RetryOnFailure: Ready+Released True/InstallSucceeded, or a failed render:
   * Ready=False + Released=False/InstallFailed with `status.failures` counting (no installFailures);
   * "retrying" is the moment between two attempts, Ready flipped to Unknown, Released still False.
   */
  async helmRelease(
    name: string,
    state: "ready" | "failed" | "retrying",
    message = "",
    failures = 1,
  ): Promise<void> {
    const released =
      state === "ready"
        ? condition(
            "Released",
            "True",
            "InstallSucceeded",
            `Helm install succeeded for release ${this.tenant}/${name}.v1`,
          )
        : condition("Released", "False", "InstallFailed", message);
    const ready =
      state === "ready"
        ? condition(
            "Ready",
            "True",
            "InstallSucceeded",
            `Helm install succeeded for release ${this.tenant}/${name}.v1`,
          )
        : state === "failed"
          ? condition("Ready", "False", "InstallFailed", message)
          : condition("Ready", "Unknown", "Progressing", "Running 'install' action with timeout of 10m0s");
    await this.status("helmRelease", this.tenant, name, {
      observedGeneration: state === "ready" ? 1 : -1,
      ...(state === "ready" ? {} : { failures }),
      conditions: [
        ready,
        released,
        ...(state === "ready"
          ? []
          : [condition("Reconciling", "True", "ProgressingWithRetry", "retrying after 30s")]),
      ],
    });
  }

  /** CDI creates the DataVolume and its PVC. */
  async createDisk(): Promise<void> {
    await this.admin.create(resourceKinds.dataVolume, this.tenant, {
      apiVersion: "cdi.kubevirt.io/v1beta1",
      kind: "DataVolume",
      metadata: { name: this.disk, namespace: this.tenant },
      spec: {
        source: { http: { url: "https://example.invalid/haos.qcow2.xz" } },
        storage: { resources: { requests: { storage: "32Gi" } } },
      },
    });
    await this.admin.create(resourceKinds.persistentVolumeClaim, this.tenant, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: this.disk, namespace: this.tenant },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "32Gi" } } },
    });
  }

  async dataVolume(
    phase: string,
    progress: string,
    running?: { status: Status; reason: string; message: string },
    restartCount = 0,
  ): Promise<void> {
    await this.status("dataVolume", this.tenant, this.disk, {
      phase,
      progress,
      restartCount,
      conditions: [
        condition("Bound", phase === "Pending" ? "False" : "True", "Bound", "PVC Bound"),
        condition(
          "Running",
          running?.status ?? (phase === "ImportInProgress" ? "True" : "False"),
          running?.reason ?? (phase === "Succeeded" ? "Completed" : "Pod is running"),
          running?.message ?? "",
        ),
        condition(
          "Ready",
          phase === "Succeeded" ? "True" : "False",
          phase === "Succeeded" ? "" : "TransferRunning",
          "",
        ),
      ],
    });
  }

  async pvcBound(): Promise<void> {
    await this.status("persistentVolumeClaim", this.tenant, this.disk, {
      phase: "Bound",
      accessModes: ["ReadWriteOnce"],
      capacity: { storage: "32Gi" },
    });
  }

  /** KubeVirt: the VirtualMachine, its VMI, and the chart's Service. */
  async createVm(): Promise<void> {
    await this.admin.create(resourceKinds.virtualMachine, this.tenant, {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      metadata: { name: this.instance, namespace: this.tenant },
      spec: { runStrategy: "Always" },
    });
    await this.admin.create(resourceKinds.service, this.tenant, {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: this.instance,
        namespace: this.tenant,
        annotations: { "networking.cozystack.io/wholeIP": "true" },
      },
      spec: {
        type: "LoadBalancer",
        externalTrafficPolicy: "Local",
        selector: { "app.kubernetes.io/instance": this.instance },
        ports: [{ port: 65535 }],
      },
    });
  }

  async vm(
    printableStatus: string,
    ready: boolean,
    failure?: { reason: string; message: string },
  ): Promise<void> {
    await this.status("virtualMachine", this.tenant, this.instance, {
      printableStatus,
      ready,
      conditions: [
        condition(
          "Ready",
          ready ? "True" : "False",
          ready ? "" : (failure?.reason ?? "NotReady"),
          failure?.message ?? "",
        ),
        ...(failure ? [condition("Failure", "True", failure.reason, failure.message)] : []),
      ],
    });
  }

  async vmi(phase: string, interfaces: Array<{ name: string; ipAddress?: string }>): Promise<void> {
    const existing = await this.admin.get(resourceKinds.virtualMachineInstance, this.tenant, this.instance);
    if (!existing) {
      await this.admin.create(resourceKinds.virtualMachineInstance, this.tenant, {
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstance",
        metadata: { name: this.instance, namespace: this.tenant },
        spec: {},
      });
    }
    await this.status("virtualMachineInstance", this.tenant, this.instance, {
      phase,
      interfaces: interfaces.map((i) => ({
        ...i,
        ...(i.ipAddress ? { ipAddresses: [i.ipAddress] } : {}),
        infoSource: "domain, guest-agent",
      })),
      guestOSInfo: { name: "Home Assistant OS", prettyName: "Home Assistant OS 17.0" },
      conditions: [condition("Ready", "True", "", ""), condition("AgentConnected", "True", "", "")],
    });
  }

  async serviceIp(ip: string): Promise<void> {
    await this.status("service", this.tenant, this.instance, {
      loadBalancer: { ingress: [{ ip, ipMode: "VIP" }] },
    });
  }

  /** An Event the way controllers record them (diagnostics read these). */
  async event(
    kind: string,
    name: string,
    ns: string,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    annotations: Record<string, string> = {},
  ): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await this.admin.create(resourceKinds.event, ns, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { generateName: `${name}.`, namespace: ns, annotations },
      involvedObject: { kind, name, namespace: ns },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: "simulator" },
    });
  }

  /** The happy path from a pushed commit to a running VM; `stopAfter: "disk"` ends once the disk is ready. */
  async rollout(
    sha: string,
    options: {
      stepMs?: number;
      lanIp?: string;
      wholeIp?: string;
      skipSource?: boolean;
      stopAfter?: "disk";
    } = {},
  ): Promise<void> {
    const step = (): Promise<void> => new Promise((r) => setTimeout(r, options.stepMs ?? 100));
    if (!options.skipSource) await this.source(sha);
    await step();
    await this.kustomizationApplying(sha, this.fixture.commits.old);
    await this.createApps();
    await step();
    await this.helmRelease(this.disk, "ready");
    await this.helmRelease(this.instance, "ready");
    await this.createDisk();
    await step();
    await this.dataVolume("ImportInProgress", "45.23%");
    await step();
    await this.dataVolume("Succeeded", "100.0%");
    await this.pvcBound();
    if (options.stopAfter === "disk") return;
    await this.finishRollout(sha, options);
  }

  /** The second half of rollout(): the VM starts, gets its addresses, and Flux reports Ready. */
  async finishRollout(
    sha: string,
    options: { stepMs?: number; lanIp?: string; wholeIp?: string } = {},
  ): Promise<void> {
    const step = (): Promise<void> => new Promise((r) => setTimeout(r, options.stepMs ?? 100));
    await this.createVm();
    await step();
    await this.vm("Starting", false);
    await this.serviceIp(options.wholeIp ?? "192.168.50.101");
    await step();
    await this.vmi("Running", [
      { name: "default", ipAddress: "10.244.0.17" },
      { name: "haos-underlay", ipAddress: options.lanIp ?? "192.168.50.60" },
    ]);
    await this.kustomizationApplied(sha);
    this.decisive();
    await this.vm("Running", true);
  }

  /**
   * Plays source-controller's side of `reconcile.fluxcd.io/requestedAt`: every new value of the
   * annotation on the GitRepository is handed to `handle` (which writes the status it fetched).
   */
  serveReconcileRequests(handle: (requestedAt: string) => Promise<void>): { stop: () => void } {
    let stopped = false;
    let last: string | undefined;
    const loop = async (): Promise<void> => {
      while (!stopped) {
        const repo = await this.admin.get(
          resourceKinds.gitRepository,
          this.flux,
          this.fixture.names.gitRepository,
        );
        const value = repo?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"];
        if (value && value !== last) {
          last = value;
          await handle(value);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    void loop();
    return {
      stop: () => {
        stopped = true;
      },
    };
  }

  /** CDI's importer pod for the disk, its container waiting with `reason`. */
  async importerPod(reason: string, restartCount: number): Promise<void> {
    const name = `importer-${this.disk}`;
    await this.admin.create(resourceKinds.pod, this.tenant, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: this.tenant, labels: { app: "containerized-data-importer" } },
      spec: { containers: [{ name: "importer", image: "quay.io/kubevirt/cdi-importer:v1.64.0" }] },
    });
    await this.status("pod", this.tenant, name, {
      phase: "Running",
      containerStatuses: [
        {
          name: "importer",
          image: "quay.io/kubevirt/cdi-importer:v1.64.0",
          imageID: "",
          ready: false,
          restartCount,
          started: false,
          state: { waiting: { reason, message: "back-off restarting failed container" } },
          lastState: { terminated: { exitCode: 1, reason: "Error" } },
        },
      ],
    });
  }
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

export type { KubeObject };

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
