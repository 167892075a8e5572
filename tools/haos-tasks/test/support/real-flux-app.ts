import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { KubeClient } from "../../src/kube/client.ts";
import { resourceKinds } from "../../src/kube/resources.ts";
import { loadPlatform, type Platform } from "../../src/platform/platform.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { startTestApiServer, type TestApiServer } from "./apiserver.ts";
import { type CozystackStandIn, cozystackInstancetype, startCozystackApi } from "./cozystack.ts";
import {
  type ArtifactServer,
  type FluxControllerName,
  type FluxControllers,
  fluxCrdTexts,
  type GitHttpServer,
  pinnedText,
  startArtifactServer,
  startFluxControllers,
  startGitHttpServer,
} from "./flux.ts";
import { createScratchRepo } from "./scratch-repo.ts";
import { SimulatedPlatform, type SimulatedPlatformOptions } from "./simulated-status.ts";
import { synthesizedCrds } from "./synthesized-crds.ts";
import { shippedServiceAccount, startHomeAssistantPage } from "./verify-harness.ts";

/**
 * apps/haos-enigma reconciled by real Flux: one API server, the three controllers, a git server
 * with a copy of this repository's app folder, the cozystack-api stand-in with the real charts,
 * and the simulated platform (CDI, KubeVirt, WorkloadMonitor, LoadBalancer, the HA page).
 */

const execFileAsync = promisify(execFile);
export const appRel = "apps/haos-enigma";

type Doc = Record<string, unknown> & { kind?: string; spec?: { names?: { kind?: string } } };
const docsOf = (text: string): Doc[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => Boolean(d) && typeof d?.kind === "string");

/** The published CRDs of the kinds the app applies beyond Flux's (declared versions, via the lock). */
export async function publishedAppCrds(p: Platform, appKinds: Set<string>): Promise<string[]> {
  const texts = [
    await pinnedText(`kube-ovn/${p.versions.kubeOvn}/charts/kube-ovn/templates/kube-ovn-crd.yaml`),
    await pinnedText(`kyverno/${p.versions.kyverno}/config/crds/kyverno/kyverno.io_clusterpolicies.yaml`),
  ];
  const multus = await pinnedText(`multus-cni/${p.versions.multus}/deployments/multus-daemonset-thick.yml`);
  const nad = docsOf(multus).find((d) => d.kind === "CustomResourceDefinition");
  if (!nad) throw new Error("multus-daemonset-thick.yml holds no CRD");
  texts.push(stringify(nad));
  const vmBundle = await pinnedText(
    `cozystack/${p.versions.cozystack}/packages/system/victoria-metrics-operator/charts/victoria-metrics-operator/charts/crds/crds/crd.yaml`,
  );
  const used = docsOf(vmBundle).filter((d) => appKinds.has(String(d.spec?.names?.kind)));
  texts.push(used.map((d) => stringify(d)).join("---\n"));
  return texts;
}

/**
 * Every CRD the app and verify need, from the pinned sources: all of Flux's, the published CRDs of
 * the kinds the app applies (Kube-OVN, Kyverno, Multus, VictoriaMetrics), and the KubeVirt, CDI,
 * instancetype and CozyStack kinds synthesized from their pinned OpenAPI.
 */
export async function installAppCrds(server: TestApiServer, platformDecl?: Platform): Promise<void> {
  const p = platformDecl ?? (await loadPlatform(appRel, toolsRepoRoot));
  const built = (
    await execFileAsync("kubectl", ["kustomize", path.join(toolsRepoRoot, appRel)], { maxBuffer: 16 << 20 })
  ).stdout;
  const kinds = new Set(docsOf(built).map((d) => String(d.kind)));
  await server.installCrds([
    ...(await fluxCrdTexts()),
    ...(await publishedAppCrds(p, kinds)),
    ...(await synthesizedCrds({
      cozystack: p.versions.cozystack,
      kubevirt: p.versions.kubevirt,
      cdi: p.versions.cdi,
    })),
  ]);
}

export interface AppRepo {
  /** The working tree (verify runs here: `--app apps/haos-enigma`). */
  work: string;
  appDir: string;
  /** git in the working tree. */
  git(...args: string[]): string;
  /** Writes files under the app folder (undefined deletes), commits, returns the SHA (not pushed). */
  commit(message: string, files: Record<string, string | undefined>): string;
  /** Pushes main to the served repository. */
  push(): void;
  read(file: string): string;
}

/**
 * A real git repository holding this repository's apps/haos-enigma, served over smart HTTP. The
 * only changes: the GitRepository's URL (the served repository) and a short interval.
 */
export function appRepo(gitRoot: string, gitServer: GitHttpServer, interval = "10s"): AppRepo {
  const bare = createScratchRepo({ dir: path.join(gitRoot, "setup.git"), bare: true });
  const work = createScratchRepo("haos-flux-work-");
  const appDir = path.join(work.dir, appRel);
  mkdirSync(path.dirname(appDir), { recursive: true });
  cpSync(path.join(toolsRepoRoot, appRel), appDir, { recursive: true });
  const gitrepo = path.join(appDir, "gitrepository-setup.yaml");
  const original = readFileSync(gitrepo, "utf8");
  const changed = original
    .replace(/^( {2}url: ).*$/m, `$1${gitServer.url("setup.git")}`)
    .replace(/^( {2}interval: ).*$/m, `$1${interval}`);
  if (changed === original) throw new Error("gitrepository-setup.yaml: url/interval not found");
  writeFileSync(gitrepo, changed);
  work.commit("feat: haos-enigma (GitRepository URL and interval pointed at the test server)");
  work.git("remote", "add", "origin", bare.dir);
  const repo: AppRepo = {
    work: work.dir,
    appDir: appRel,
    git: work.git,
    commit: (message, files) =>
      work.commit(
        message,
        Object.fromEntries(
          Object.entries(files).map(([file, text]) => [path.join(appRel, file), text ?? null]),
        ),
      ),
    push() {
      work.git("push", "-q", "-f", "origin", "HEAD:main");
    },
    read: (file) => readFileSync(path.join(appDir, file), "utf8"),
  };
  repo.push();
  return repo;
}

export interface RealFluxApp {
  server: TestApiServer;
  flux: FluxControllers;
  repo: AppRepo;
  standIn: CozystackStandIn;
  platform: SimulatedPlatform;
  /** The shipped verify ServiceAccount's kubeconfig. */
  kubeconfig: string;
  pageUrl: string;
  /** Times of the setup steps (ms). */
  timings: Record<string, number>;
  /** Controller logs and the simulated writes, for a failing test. */
  logs(): string;
  /** Polls `done` every 100 ms until it holds (throws naming `what` after timeoutMs). */
  waitFor(what: string, timeoutMs: number, done: () => Promise<boolean>): Promise<void>;
  /** Waits until Kustomization haos-enigma's lastAppliedRevision is `sha` (throws after timeoutMs). */
  waitApplied(sha: string, timeoutMs?: number): Promise<void>;
  /**
   * Pushes a commit without the VMDisk and VMInstance, waits until Flux has pruned them and
   * helm-controller has uninstalled the VM, then commits them back (NOT pushed) and returns that
   * commit: its rollout is a fresh install (HelmReleases, import, VM start, address, app).
   */
  reinstallCommit(label: string): Promise<string>;
  stop(): Promise<void>;
}

export interface RealFluxAppOptions {
  /** RetryOnFailure's retryInterval on the stand-in's HelmReleases (CozyStack: 30s). */
  retryInterval?: string;
  diskReleaseDelayMs?: number;
  simulated?: Omit<SimulatedPlatformOptions, "namespace">;
  /** All three by default. */
  controllers?: readonly FluxControllerName[];
}

/** Starts everything and applies the app's Flux wiring (GitRepository + Kustomization) once. */
export async function startRealFluxApp(options: RealFluxAppOptions = {}): Promise<RealFluxApp> {
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const mark = (what: string, since: number) => {
    timings[what] = Date.now() - since;
  };
  const platformDecl = await loadPlatform(appRel, toolsRepoRoot);
  const server = await startTestApiServer();
  mark("apiServer", t0);
  const cleanups: Array<() => Promise<void>> = [() => server.stop()];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  };
  try {
    let t = Date.now();
    await installAppCrds(server, platformDecl);
    mark("crds", t);
    const kubeconfig = await shippedServiceAccount(server);
    const it = await server.kubectl(["apply", "-f", "-"], {
      input: await cozystackInstancetype("u1.medium"),
    });
    if (it.exitCode !== 0) throw new Error(`u1.medium: ${it.stderr}`);
    t = Date.now();
    const flux = await startFluxControllers(
      server,
      options.controllers ? { controllers: options.controllers } : {},
    );
    cleanups.push(() => flux.stop());
    mark("controllers", t);
    const artifacts: ArtifactServer = await startArtifactServer();
    cleanups.push(() => artifacts.close());
    t = Date.now();
    const standIn = await startCozystackApi(server, artifacts, {
      tenants: [platformDecl.cluster.tenantNamespace],
      ...(options.retryInterval ? { retryInterval: options.retryInterval } : {}),
      ...(options.diskReleaseDelayMs ? { diskReleaseDelayMs: options.diskReleaseDelayMs } : {}),
    });
    cleanups.push(() => standIn.stop());
    mark("cozystack", t);
    const platform = new SimulatedPlatform(server, {
      namespace: platformDecl.cluster.tenantNamespace,
      ...options.simulated,
    });
    platform.start();
    cleanups.push(() => platform.stop());
    const page = await startHomeAssistantPage("answers");
    cleanups.push(() => page.close());
    const gitRoot = mkdtempSync(path.join(os.tmpdir(), "haos-flux-git-"));
    const gitServer = await startGitHttpServer(gitRoot);
    cleanups.push(() => gitServer.close());
    const repo = appRepo(gitRoot, gitServer);
    // Bootstrap, as `flux bootstrap` would: the GitRepository and Kustomization from the repo
    // (Flux then applies the whole folder, these two included).
    const applied = await server.kubectl([
      "apply",
      "-f",
      path.join(repo.work, appRel, "gitrepository-setup.yaml"),
      "-f",
      path.join(repo.work, appRel, "kustomization-root.yaml"),
    ]);
    if (applied.exitCode !== 0) throw new Error(`bootstrap apply failed: ${applied.stderr}`);
    mark("total", t0);
    const admin = new KubeClient(server.adminKubeConfig());
    const until = async (what: string, timeoutMs: number, done: () => Promise<boolean>) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const waitApplied = (sha: string, timeoutMs = 120_000) =>
      until(`Kustomization haos-enigma applied ${sha}`, timeoutMs, async () => {
        const k = await admin.get(resourceKinds.kustomization, "flux-system", "haos-enigma");
        const status = k?.status as { lastAppliedRevision?: string } | undefined;
        return status?.lastAppliedRevision === `main@sha1:${sha}`;
      });
    const reinstallCommit = async (label: string) => {
      const kustomization = repo.read("kustomization.yaml");
      const without = kustomization
        .replace("  - vmdisk-haos.yaml\n", "")
        .replace("  - vminstance-haos.yaml\n", "");
      if (without === kustomization) throw new Error("kustomization.yaml lists no vmdisk/vminstance");
      const removed = repo.commit(`chore: remove the VM (${label})`, { "kustomization.yaml": without });
      repo.push();
      await waitApplied(removed);
      await until("VirtualMachine vm-instance-haos uninstalled", 60_000, async () => {
        const [vm, dv] = await Promise.all([
          admin.get(resourceKinds.virtualMachine, "tenant-root", "vm-instance-haos"),
          admin.get(resourceKinds.dataVolume, "tenant-root", "vm-disk-haos"),
        ]);
        return !vm && !dv;
      });
      return repo.commit(`feat: restore the VM (${label})`, { "kustomization.yaml": kustomization });
    };
    return {
      server,
      waitFor: until,
      waitApplied,
      reinstallCommit,
      flux,
      repo,
      standIn,
      platform,
      kubeconfig,
      pageUrl: page.url,
      timings,
      logs: () =>
        `${flux.logs(40)}\n--- simulated writes\n${platform.writes.slice(-40).join("\n")}\n--- kube-apiserver\n${server.logs().split("\n").slice(-10).join("\n")}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Reads objects as JSON through kubectl (admin). */
export async function kubectlJson(
  server: TestApiServer,
  ...args: string[]
): Promise<Record<string, unknown>> {
  const r = await server.kubectl(["get", ...args, "-o", "json"]);
  if (r.exitCode !== 0) throw new Error(`kubectl get ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}
