/**
 * `npm run bench:verify`: how fast `haos-tasks verify` knows, and what it costs the API server.
 *
 * On REAL Flux (source-, kustomize- and helm-controller from .tools/bin, reconciling a copy of
 * apps/haos-enigma served over git smart HTTP; CozyStack's real charts rendered by helm-controller;
 * test/support/real-flux-app.ts), each run removes the app's VMDisk/VMInstance (prune → uninstall)
 * and restores them in the next commit, so every measured rollout is a fresh install. Four watchers
 * follow the same rollout side by side:
 *   - haos-tasks verify (a fresh CLI process, as the shipped ServiceAccount, through a counting
 *     proxy so every request it makes is seen);
 *   - the Action's verify (dist/index.js), the same way;
 *   - a 2 s poll loop, like `flux reconcile`'s wait (kubectl get of the Kustomization and the VM);
 *   - a 10 s loop in the style of a `kubectl wait` retry script.
 * Each one's figure is the time from the rollout's last status write to that watcher's exit: the
 * later of Flux's Kustomization Ready=True for the commit (seen through a watch) and the last
 * simulated CDI/KubeVirt/WorkloadMonitor/LoadBalancer write. A quiet window (a commit that is never
 * pushed) measures API requests per minute while waiting.
 *
 * Targets: verify p95 < 1 s; ≤ 6 requests/min while waiting besides watch streams; peak RSS < 150 MB.
 *
 *   BENCH_RUNS=3 BENCH_WAIT_S=30 npm run bench:verify   (shorter)
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { KubeClient } from "../src/kube/client.ts";
import { resourceKinds } from "../src/kube/resources.ts";
import { startBundledAction } from "../test/integration/action-harness.ts";
import type { TestApiServer } from "../test/support/apiserver.ts";
import { type RealFluxApp, startRealFluxApp } from "../test/support/real-flux-app.ts";
import { startApiProxy, tokenKubeconfig } from "../test/support/verify-harness.ts";
import { percentile } from "./support.ts";

const runs = Number(process.env.BENCH_RUNS ?? 10);
const waitSeconds = Number(process.env.BENCH_WAIT_S ?? 60);
const cli = path.resolve(import.meta.dirname, "..", "bin", "haos-tasks.js");

interface Exited {
  code: number | null;
  at: number;
  stdout: string;
  stderr: string;
}

function exited(child: ChildProcess): Promise<Exited> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) =>
    child.on("exit", (code) => resolve({ code, at: Date.now(), stdout, stderr })),
  );
}

/** Resolves once the child has printed a line matching `pattern` on stderr. */
function printed(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stderr?.on("data", (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) resolve();
    });
    child.on("exit", (code) => reject(new Error(`exited ${code} before printing ${pattern}:\n${seen}`)));
  });
}

/**
 * The peers: a shell loop of kubectl gets every `interval` seconds until Flux applied `sha` and the
 * VM is ready. Each loop starts at a random point of its period, as a poller does relative to a
 * rollout it did not start, so its samples spread over the period instead of sharing one phase.
 */
function pollLoop(
  kubeconfig: string,
  names: { kustomization: string; vm: string },
  sha: string,
  interval: number,
): ChildProcess {
  const script = `
sleep "$6"
n=0
while :; do
  n=$((n+1))
  applied=$(kubectl --kubeconfig "$1" -n flux-system get kustomizations.kustomize.toolkit.fluxcd.io "$2" -o jsonpath='{.status.lastAppliedRevision}')
  ready=$(kubectl --kubeconfig "$1" -n tenant-root get virtualmachines.kubevirt.io "$3" -o jsonpath='{.status.ready}' 2>/dev/null)
  if [ "$applied" = "main@sha1:$4" ] && [ "$ready" = true ]; then echo "$n"; exit 0; fi
  echo "poll $n" >&2
  sleep "$5"
done`;
  return spawn(
    "bash",
    [
      "-c",
      script,
      "poll",
      kubeconfig,
      names.kustomization,
      names.vm,
      sha,
      String(interval),
      (Math.random() * interval).toFixed(2),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
}

const names = { kustomization: "haos-enigma", vm: "vm-instance-haos" };

/** When Kustomization haos-enigma first shows lastAppliedRevision = sha with Ready=True (a watch). */
function fluxReady(admin: KubeClient, sha: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let stopWatch: (() => void) | undefined;
    void admin.list(resourceKinds.kustomization, "flux-system").then(async (list) => {
      stopWatch = await admin.watch(
        resourceKinds.kustomization,
        "flux-system",
        list.resourceVersion,
        { fieldSelector: `metadata.name=${names.kustomization}` },
        (event) => {
          const status = event.object?.status as
            | { lastAppliedRevision?: string; conditions?: Array<{ type: string; status: string }> }
            | undefined;
          if (
            status?.lastAppliedRevision === `main@sha1:${sha}` &&
            status.conditions?.some((c) => c.type === "Ready" && c.status === "True")
          ) {
            stopWatch?.();
            resolve(Date.now());
          }
        },
        (error) => {
          if (error) reject(error);
        },
      );
    }, reject);
  });
}

interface Counter {
  requests: { at: number; watch: boolean }[];
  kubeconfig: string;
  close: () => Promise<void>;
}

/** A counting proxy in front of the API server, with a kubeconfig for the shipped ServiceAccount through it. */
async function countingProxy(server: TestApiServer, token: string): Promise<Counter> {
  const requests: Counter["requests"] = [];
  const proxy = await startApiProxy(server, {
    onRequest: (_method, url) =>
      requests.push({ at: Date.now(), watch: url.searchParams.get("watch") === "true" }),
  });
  return { requests, kubeconfig: tokenKubeconfig(proxy.url, token), close: proxy.close };
}

interface Verdict {
  code: number | null;
  at: number;
  report: { stats: { maxRssBytes: number } };
  log: string;
}

async function main(): Promise<void> {
  const env: RealFluxApp = await startRealFluxApp({ retryInterval: "2s" });
  const counters: Counter[] = [];
  try {
    const admin = new KubeClient(env.server.adminKubeConfig());
    const { token } = await env.server.serviceAccount("tenant-root", "haos-verify-runner");
    const cliProxy = await countingProxy(env.server, token);
    const actionProxy = await countingProxy(env.server, token);
    counters.push(cliProxy, actionProxy);
    const timeout = `${waitSeconds + 180}s`;

    /** Both of our watchers on `sha`: the CLI (moon's verify task) and the Action (deploy-verify.yml). */
    const start = async (sha: string) => {
      const child = spawn(
        process.execPath,
        [
          cli,
          "verify",
          "--format",
          "json",
          "--app",
          env.repo.appDir,
          "--revision",
          sha,
          "--kubeconfig",
          cliProxy.kubeconfig,
          "--app-url",
          env.pageUrl,
          "--timeout",
          timeout,
        ],
        {
          cwd: env.repo.work,
          env: { ...process.env, GITHUB_SHA: "", GITHUB_ACTIONS: "", GITHUB_STEP_SUMMARY: "" },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      const cliStarted = printed(child, / source +running /);
      const cliDone: Promise<Verdict> = exited(child).then((e) => ({
        code: e.code,
        at: e.at,
        report: e.code === 0 ? JSON.parse(e.stdout) : { stats: { maxRssBytes: 0 } },
        log: e.stderr,
      }));
      let actionStarted: () => void = () => {};
      const actionReady = new Promise<void>((resolve) => {
        actionStarted = resolve;
      });
      const step = startBundledAction(
        {
          command: "verify",
          app: env.repo.appDir,
          kubeconfig: actionProxy.kubeconfig,
          "app-url": env.pageUrl,
          timeout,
        },
        {
          workspace: env.repo.work,
          sha,
          onStdout: (text) => {
            if (/ source +running /.test(text)) actionStarted();
          },
        },
      );
      const actionDone: Promise<Verdict> = step.done.then((r) => ({
        code: r.code,
        at: Date.now(),
        report: JSON.parse(r.outputs["verify-report"] ?? '{"stats":{"maxRssBytes":0}}'),
        log: r.stdout,
      }));
      await Promise.all([cliStarted, actionReady]);
      return { cliDone, actionDone };
    };
    const check = (name: string, v: Verdict): Verdict => {
      if (v.code !== 0) throw new Error(`${name} exited ${v.code}:\n${v.log}\n${env.logs()}`);
      return v;
    };

    const samples = {
      cli: [] as number[],
      action: [] as number[],
      poll2: [] as number[],
      poll10: [] as number[],
      cliFlux: [] as number[],
      cliSim: [] as number[],
    };
    const rss = { cli: 0, action: 0 };
    // Round 0 pays the controllers' and charts' cold caches: not sampled.
    for (let i = 0; i <= runs; i++) {
      const sha = await env.reinstallCommit(`bench round ${i}`);
      const readyAt = fluxReady(admin, sha);
      const { cliDone, actionDone } = await start(sha);
      const peers = [2, 10].map((s) => exited(pollLoop(env.server.kubeconfigPath, names, sha, s)));
      env.repo.push();
      const [ours, action, two, ten] = await Promise.all([cliDone, actionDone, ...peers]);
      if (!ours || !action || !two || !ten) throw new Error("a watcher did not report");
      check("haos-tasks verify", ours);
      check("the Action's verify", action);
      const flux = await readyAt;
      const lastSim = Math.max(env.platform.lastWriteAt, env.standIn.lastStatusWriteAt());
      const last = Math.max(flux, lastSim);
      if (i === 0) continue;
      rss.cli = Math.max(rss.cli, ours.report.stats.maxRssBytes);
      rss.action = Math.max(rss.action, action.report.stats.maxRssBytes);
      samples.cli.push(ours.at - last);
      samples.action.push(action.at - last);
      samples.poll2.push(two.at - last);
      samples.poll10.push(ten.at - last);
      samples.cliFlux.push(ours.at - flux);
      samples.cliSim.push(ours.at - lastSim);
      process.stderr.write(
        `run ${i}/${runs} (last write: ${flux >= lastSim ? "Flux Ready=True" : "simulated"}): CLI ${samples.cli.at(-1)} ms, Action ${samples.action.at(-1)} ms, 2 s loop ${samples.poll2.at(-1)} ms, 10 s loop ${samples.poll10.at(-1)} ms\n`,
      );
    }

    // Quiet window: both watchers wait for a commit that is not pushed yet; count what they ask.
    process.stderr.write(`quiet window: ${waitSeconds} s with nothing changing\n`);
    const quietSha = env.repo.commit("docs: the quiet window", {
      "README.md": `${env.repo.read("README.md")}\nquiet\n`,
    });
    const { cliDone, actionDone } = await start(quietSha);
    const peers = [2, 10].map((s) => {
      const child = pollLoop(env.server.kubeconfigPath, names, quietSha, s);
      return { child, done: exited(child) };
    });
    const settle = 5_000;
    await new Promise((r) => setTimeout(r, settle));
    const from = Date.now();
    await new Promise((r) => setTimeout(r, waitSeconds * 1000));
    const to = Date.now();
    const perMinute = (count: number, ms = to - from) => (count * 60_000) / ms;
    const window = (c: Counter) => c.requests.filter((r) => r.at >= from && r.at < to);
    const rpm = {
      cli: perMinute(window(cliProxy).filter((r) => !r.watch).length),
      action: perMinute(window(actionProxy).filter((r) => !r.watch).length),
    };
    const watches = window(cliProxy).filter((r) => r.watch).length;
    env.repo.push();
    const [quietCli, quietAction] = await Promise.all([cliDone, actionDone]);
    for (const p of peers) p.child.kill();
    const peerPolls = await Promise.all(
      peers.map(async (p) => ((await p.done).stderr.match(/^poll \d+$/gm) ?? []).length),
    );
    rss.cli = Math.max(rss.cli, check("haos-tasks verify", quietCli).report.stats.maxRssBytes);
    rss.action = Math.max(rss.action, check("the Action's verify", quietAction).report.stats.maxRssBytes);
    // Each peer poll is two GETs; the loops started `settle` ms before the window.
    const peerRpm = peerPolls.map((polls) => perMinute(polls * 2, to - from + settle));

    const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    const row = (name: string, list: number[], requests: number, memory?: number) =>
      `  ${name.padEnd(46)} ${fmt(percentile(list, 0.5)).padStart(8)} ${fmt(percentile(list, 0.95)).padStart(8)} ${fmt(Math.max(...list)).padStart(8)} ${requests.toFixed(1).padStart(8)}  ${memory ? mb(memory) : "-"}`;
    console.log(
      `verify benchmark: ${runs} fresh installs on real Flux (source-, kustomize-, helm-controller; CozyStack's real charts), all watchers on the same rollout; detection = the rollout's last status write (Flux Ready=True or the last simulated write, whichever is later) → watcher exit; quiet window ${waitSeconds} s; controllers' peak RSS (KiB) ${JSON.stringify(env.flux.peakRssKiB())}`,
    );
    console.log(
      `  ${"watcher".padEnd(46)} ${"p50".padStart(8)} ${"p95".padStart(8)} ${"max".padStart(8)} ${"req/min".padStart(8)}  peak RSS`,
    );
    console.log(row("haos-tasks verify (CLI, bin/haos-tasks.js)", samples.cli, rpm.cli, rss.cli));
    console.log(row("the Action's verify (dist/index.js, node24)", samples.action, rpm.action, rss.action));
    console.log(row("2 s poll loop (flux reconcile style)", samples.poll2, peerRpm[0] ?? 0));
    console.log(row("10 s loop (kubectl wait retry style)", samples.poll10, peerRpm[1] ?? 0));
    console.log(
      `  req/min: requests while waiting, besides watch streams (the CLI (re)opened ${watches} watches in the window)`,
    );
    console.log(
      `  CLI split: Flux Ready=True → exit p50 ${fmt(percentile(samples.cliFlux, 0.5))}, p95 ${fmt(percentile(samples.cliFlux, 0.95))}; last simulated write → exit p50 ${fmt(percentile(samples.cliSim, 0.5))}, p95 ${fmt(percentile(samples.cliSim, 0.95))}`,
    );
    const p95 = Math.max(percentile(samples.cli, 0.95), percentile(samples.action, 0.95));
    const worstRpm = Math.max(rpm.cli, rpm.action);
    const targets = [
      [`verify p95 ${fmt(p95)} (target < 1 s)`, p95 < 1000],
      [`${worstRpm.toFixed(1)} requests/min while waiting (target ≤ 6)`, worstRpm <= 6],
      [
        `peak RSS: Action ${mb(rss.action)}, CLI ${mb(rss.cli)} (target < 150 MB)`,
        rss.action < 150 * 1024 * 1024 && rss.cli < 150 * 1024 * 1024,
      ],
    ] as const;
    for (const [what, ok] of targets) console.log(`target: ${what} — ${ok ? "met" : "MISSED"}`);
    process.exitCode = targets.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    for (const c of counters) await c.close();
    await env.stop();
  }
}

await main();
