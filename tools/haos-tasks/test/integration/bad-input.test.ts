/**
 * The hostile bad-input sweep of issue 27, kept as a suite: each case runs through the real CLI
 * (in-process through main(), or as its own process where timing or signals are the point) and
 * states what a user must get — a finding at file:line or a clear error, the right exit class,
 * nothing silently lost, nothing left running, every deadline kept.
 */
import { type ChildProcess, type ChildProcessByStdio, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.ts";
import { DIFF_MARKER } from "../../src/diff/markdown.ts";
import { ReleaseError } from "../../src/release/errors.ts";
import { createGitTransport } from "../../src/release/transports/git.ts";
import { toolPath, toolsRepoRoot } from "../../src/tools/paths.ts";
import { createReleaseFixture, type ReleaseFixture } from "../github-double/release-fixture.ts";
import { runCli } from "../support/cli.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";
import { type AppFixture, tokenKubeconfig, writeAppFixture } from "../support/verify-harness.ts";
import { runBundledAction, sourceEntry } from "./action-harness.ts";

const bin = path.join(toolsRepoRoot, "tools", "haos-tasks", "bin", "haos-tasks.js");
const scratch: ScratchRepo[] = [];
/** Processes a failing case may leave behind (the old code did): killed by pid at the end. */
const leftovers = new Set<number>();
afterAll(() => {
  for (const r of scratch) r.remove();
  for (const pid of leftovers) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

function repo(files: Record<string, string>): string {
  const r = createScratchRepo("haos-bad-input-");
  scratch.push(r);
  r.write(files);
  return r.dir;
}

const configMap = (name: string, data = "  k: v\n") =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\ndata:\n${data}`;
const kustomization = (...resources: string[]) =>
  `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}`).join("\n")}\n`;
const env = { ...process.env, GITHUB_ACTIONS: "", GITHUB_STEP_SUMMARY: "" };

interface JsonReport {
  findings: { file: string; line: number; rule: string; message: string }[];
  stats: { objects: number };
}

async function validateJson(
  dir: string,
): Promise<{ code: number; report: JsonReport; stderr: string; ms: number }> {
  const begun = performance.now();
  const run = await runCli(["validate", "--format", "json"], { cwd: dir, env });
  const ms = performance.now() - begun;
  let report: JsonReport;
  try {
    report = JSON.parse(run.stdout) as JsonReport;
  } catch {
    report = { findings: [], stats: { objects: 0 } };
  }
  return { code: run.code, report, stderr: run.stderr, ms };
}
const at = (report: JsonReport) => report.findings.map((f) => `${f.file}:${f.line} ${f.rule}`).sort();

describe("kustomize cycles are reported as kustomize and Flux report them, their objects never vanish", () => {
  it("a kustomization that includes itself: a finding at the entry, exit 1", async () => {
    const dir = repo({
      "apps/self/kustomization.yaml": kustomization(".", "cm.yaml"),
      "apps/self/cm.yaml": configMap("self"),
    });
    const { code, report } = await validateJson(dir);
    expect(at(report)).toContain("apps/self/kustomization.yaml:4 build/kustomize");
    expect(report.findings.map((f) => f.message).join("\n")).toMatch(/cycle detected/);
    // The objects of the cycle are still checked file by file.
    expect(report.stats.objects).toBe(1);
    expect(code).toBe(1);
  });

  it("two kustomizations that include each other: one cycle finding, exit 1", async () => {
    const dir = repo({
      "apps/a/kustomization.yaml": kustomization("../b", "cm.yaml"),
      "apps/a/cm.yaml": configMap("a"),
      "apps/b/kustomization.yaml": kustomization("../a", "cm.yaml"),
      "apps/b/cm.yaml": configMap("b"),
    });
    const { code, report } = await validateJson(dir);
    const cycles = report.findings.filter((f) => /cycle detected/.test(f.message));
    expect(cycles.map((f) => `${f.file}:${f.line}`)).toEqual(["apps/a/kustomization.yaml:4"]);
    expect(report.stats.objects).toBe(2);
    expect(code).toBe(1);
  });
});

describe("input limits: what could exhaust a helper is a finding at the file and never reaches it", () => {
  const bomb = [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: bomb",
    "  namespace: default",
    "data:",
    '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...["b", "c", "d", "e", "f", "g", "h", "i"].map(
      (n, i) => `  ${n}: &${n} [${Array(9).fill(`*${"abcdefgh"[i]}`).join(",")}]`,
    ),
    "",
  ].join("\n");
  const deep = (levels: number) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n  namespace: default\ndata:\n  k: ${"[".repeat(levels)}${"]".repeat(levels)}\n`;

  it("an alias bomb lint flags is not built: a finding at the file, the other apps checked", async () => {
    const dir = repo({
      "apps/bomb/kustomization.yaml": kustomization("cm.yaml"),
      "apps/bomb/cm.yaml": bomb,
      "apps/ok/kustomization.yaml": kustomization("cm.yaml"),
      "apps/ok/cm.yaml": configMap("ok"),
    });
    const { code, report, ms } = await validateJson(dir);
    expect(at(report)).toEqual([
      "apps/bomb/cm.yaml:1 yaml/limits",
      "apps/bomb/kustomization.yaml:4 build/kustomize",
    ]);
    expect(report.findings.find((f) => f.rule === "build/kustomize")?.message).toMatch(
      /reads apps\/bomb\/cm\.yaml:1: aliases expand/,
    );
    expect(report.stats.objects).toBe(1);
    expect(code).toBe(1);
    expect(ms).toBeLessThan(20_000);
  });

  it("the same under the kubectl engine: kubectl is never handed a build that reads the bomb", async () => {
    const dir = repo({
      "apps/bomb/kustomization.yaml": kustomization("cm.yaml"),
      "apps/bomb/cm.yaml": bomb,
      // Reached also through another kustomization: what a build reads counts, not its own files.
      "apps/outer/kustomization.yaml": kustomization("../bomb", "cm.yaml"),
      "apps/outer/cm.yaml": configMap("outer"),
      "apps/ok/kustomization.yaml": kustomization("cm.yaml"),
      "apps/ok/cm.yaml": configMap("ok"),
    });
    // kubectl with its memory capped (2 GiB): a regression that hands it the bomb fails here
    // instead of growing without bound on the machine.
    const shim = mkdtempSync(path.join(os.tmpdir(), "haos-bad-input-kubectl-"));
    const realKubectl = execFileSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim();
    writeFileSync(path.join(shim, "kubectl"), `#!/bin/sh\nulimit -v 2097152\nexec ${realKubectl} "$@"\n`, {
      mode: 0o755,
    });
    const validate = async (engine: "in-process" | "kubectl") => {
      const begun = performance.now();
      const child = spawn(process.execPath, [bin, "validate", "--format", "json"], {
        cwd: dir,
        env: { ...env, HAOS_TASKS_KUSTOMIZE: engine, PATH: `${shim}:${process.env.PATH ?? ""}` },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      return { code, report: JSON.parse(stdout) as JsonReport, ms: performance.now() - begun };
    };
    try {
      for (const engine of ["in-process", "kubectl"] as const) {
        const { code, report, ms } = await validate(engine);
        expect(at(report), engine).toEqual([
          "apps/bomb/cm.yaml:1 yaml/limits",
          "apps/bomb/kustomization.yaml:4 build/kustomize",
        ]);
        expect(report.findings.find((f) => f.rule === "build/kustomize")?.message, engine).toMatch(
          /reads apps\/bomb\/cm\.yaml:1: aliases expand/,
        );
        // apps/ok, and apps/outer's own file checked on its own: outer is not built either.
        expect(report.stats.objects, engine).toBe(2);
        expect(code, engine).toBe(1);
        expect(ms, engine).toBeLessThan(20_000);
      }
    } finally {
      rmSync(shim, { recursive: true, force: true });
    }
  });

  it("a 10,000-deep document is a finding at its line; the helper survives, no build is lost", async () => {
    const dir = repo({
      "apps/deep/kustomization.yaml": kustomization("cm.yaml"),
      "apps/deep/cm.yaml": deep(10_000),
      "apps/ok/kustomization.yaml": kustomization("cm.yaml"),
      "apps/ok/cm.yaml": configMap("ok"),
    });
    const { code, report, stderr } = await validateJson(dir);
    expect(stderr).not.toMatch(/kustomize-build exited/);
    expect(at(report)).toContain("apps/deep/cm.yaml:7 yaml/limits");
    expect(report.stats.objects).toBe(1);
    expect(code).toBe(1);
  });

  it("the kustomize helper answers a result it cannot encode as that root's error and goes on", async () => {
    const dir = repo({
      "apps/deep/kustomization.yaml": kustomization("cm.yaml"),
      "apps/deep/cm.yaml": deep(9_999),
      "apps/ok/kustomization.yaml": kustomization("cm.yaml"),
      "apps/ok/cm.yaml": configMap("ok"),
    });
    const helper = spawn(toolPath("kustomize-build", process.env), [], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    helper.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    helper.stdin.end(
      `${JSON.stringify({ id: 1, dir: path.join(dir, "apps/deep") })}\n${JSON.stringify({ id: 2, dir: path.join(dir, "apps/ok") })}\n`,
    );
    const status = await new Promise<number | null>((resolve) => helper.on("close", resolve));
    const lines = out
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => JSON.parse(l) as { id: number; error?: unknown });
    expect(lines.map((l) => [l.id, l.error !== undefined])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(status).toBe(0);
  });

  it("an object over the 1 MiB the API server stores is a finding at its line", async () => {
    const dir = repo({
      "apps/big/kustomization.yaml": kustomization("small.yaml", "big.yaml"),
      "apps/big/small.yaml": configMap("small"),
      "apps/big/big.yaml": `${configMap("other")}---\n${configMap("big", `  k: "${"x".repeat(2 * 1024 * 1024)}"\n`)}`,
    });
    const { code, report } = await validateJson(dir);
    expect(at(report)).toEqual(["apps/big/big.yaml:9 manifest/too-large"]);
    expect(report.stats.objects).toBe(3);
    expect(code).toBe(1);
  });
});

describe("symlinks are reported, never followed twice or skipped silently", () => {
  it("a link to ../.. below the target and a two-link loop", async () => {
    const dir = repo({ "apps/x/cm.yaml": configMap("x") });
    symlinkSync("../..", path.join(dir, "apps/x/up"));
    symlinkSync("loop-b", path.join(dir, "apps/x/loop-a"));
    symlinkSync("loop-a", path.join(dir, "apps/x/loop-b"));
    const run = await runCli(["validate", "apps/x", "--format", "json"], { cwd: dir, env });
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(at(report)).toEqual([
      "apps/x/loop-a:1 references/symlink",
      "apps/x/loop-b:1 references/symlink",
      "apps/x/up:1 references/symlink",
    ]);
    expect(report.stats.objects).toBe(1);
  });
});

describe("Flux paths resolve inside the source root", () => {
  it("a spec.path above the root is a finding at spec.path, nothing outside is read", async () => {
    const flux = (name: string, specPath: string) =>
      `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  path: ${specPath}\n  prune: true\n`;
    const r = createScratchRepo("haos-bad-input-flux-");
    scratch.push(r);
    const outside = `${r.dir}-outside`;
    mkdirSync(outside);
    writeFileSync(path.join(outside, "cm.yaml"), configMap("outside", "  k: [1]\n"));
    r.write({
      "clusters/flux.yaml": `${flux("out", `../${path.basename(outside)}`)}---\n${flux("all", "../../../../..")}`,
      "apps/a/cm.yaml": configMap("a"),
    });
    try {
      const { code, report, ms } = await validateJson(r.dir);
      expect(at(report)).toEqual([
        "clusters/flux.yaml:11 references/flux-path",
        "clusters/flux.yaml:24 references/flux-path",
      ]);
      expect(report.findings.map((f) => f.message).join("\n")).toMatch(/leaves the source root/);
      expect(code).toBe(1);
      expect(ms).toBeLessThan(20_000);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

/** Processes whose parent is `pid` and whose command is `name` (from /proc). */
function childrenOf(pid: number, name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (comm === name && Number(fields[1]) === pid) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** Running (not a zombie waiting for its reaper). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

const gitIn = async (dir: string, ...args: string[]) =>
  execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("every child process dies with haos-tasks", () => {
  // One kustomization kustomize takes many seconds to build (3,000 objects in one file).
  let slow: string;
  beforeAll(() => {
    slow = repo({
      "apps/slow/kustomization.yaml": kustomization("cm.yaml"),
      "apps/slow/cm.yaml": Array.from({ length: 3000 }, (_, i) => configMap(`c${i}`)).join("---\n"),
    });
  });

  async function signalMidBuild(signal: NodeJS.Signals): Promise<{ helpers: number[]; survivors: number[] }> {
    const child: ChildProcess = spawn(process.execPath, [bin, "validate"], {
      cwd: slow,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const pid = child.pid as number;
    let helpers: number[] = [];
    for (let i = 0; i < 200 && !/build: kustomize/.test(stderr); i++) await sleep(50);
    await sleep(500);
    helpers = childrenOf(pid, "kustomize-build");
    for (const h of helpers) leftovers.add(h);
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill(signal);
    await exited;
    await sleep(1000);
    const survivors = helpers.filter(alive);
    // What the old code left running is ended here, so the next case starts on an idle machine.
    for (const pid of survivors) process.kill(pid, "SIGKILL");
    return { helpers, survivors };
  }

  it("SIGTERM to validate's pid alone ends its kustomize helpers", async () => {
    const { helpers, survivors } = await signalMidBuild("SIGTERM");
    expect(helpers.length).toBeGreaterThan(0);
    expect(survivors).toEqual([]);
  });

  it("SIGKILL of validate ends its kustomize helpers within a second", async () => {
    const { helpers, survivors } = await signalMidBuild("SIGKILL");
    expect(helpers.length).toBeGreaterThan(0);
    expect(survivors).toEqual([]);
  });
});

interface Served {
  url: string;
  close: () => Promise<void>;
}

async function serve(handler: (socket: net.Socket) => void): Promise<Served> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    handler(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function httpServe(handler: http.RequestListener): Promise<Served> {
  const server = http.createServer(handler);
  const sockets = new Set<net.Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A 200 JSON answer that never ends: `open`, then `item` over and over as fast as the socket takes it. */
function endlessJson(open: string, item: string): Promise<Served> {
  return httpServe((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write(open);
    const chunk = item.repeat(4000);
    const pump = () => {
      while (res.write(chunk)) {
        // fill the socket
      }
      res.once("drain", pump);
    };
    res.on("error", () => {});
    pump();
  });
}

/** `haos-tasks verify …` as its own process: the exit time is the figure. */
function verifyBin(fixture: AppFixture, server: string, ...extra: string[]) {
  const begun = performance.now();
  const child = spawn(
    process.execPath,
    [
      bin,
      "verify",
      "--app",
      fixture.appDir,
      "--revision",
      fixture.commits.target,
      "--kubeconfig",
      tokenKubeconfig(server, "t"),
      "--format",
      "json",
      ...extra,
    ],
    {
      cwd: fixture.repoRoot,
      env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir() },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  return collected(child, begun);
}

describe("verify keeps its deadline and names what answered, whatever answers", () => {
  let fixture: AppFixture;
  const servers: Served[] = [];
  beforeAll(() => {
    fixture = writeAppFixture("bad-input");
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    if (fixture && existsSync(fixture.repoRoot)) rmSync(fixture.repoRoot, { recursive: true, force: true });
  });

  it("--timeout 597h is a usage error, not a deadline that fires at once", async () => {
    const run = await verifyBin(fixture, "http://127.0.0.1:9", "--timeout", "597h");
    expect(run.stderr).toMatch(/--timeout must be at most 596h/);
    expect(run.code).toBe(2);
  });

  it("an HTML 200 (a proxy, a captive portal): exit 5 at once, naming the URL", async () => {
    const s = await httpServe((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html><body>Please log in</body></html>");
    });
    servers.push(s);
    const run = await verifyBin(fixture, s.url, "--timeout", "20s");
    expect(run.stdout).toContain(`${s.url}/`);
    expect(run.stdout).toMatch(/did not answer as a Kubernetes API server: HTTP 200 with text\/html/);
    expect(run.code).toBe(5);
    expect(run.ms).toBeLessThan(10_000);
  });

  it("JSON that is no Kubernetes list: exit 5 at once, naming the URL", async () => {
    const s = await httpServe((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"hello":"world"}');
    });
    servers.push(s);
    const run = await verifyBin(fixture, s.url, "--timeout", "20s");
    expect(run.stdout).toMatch(
      /did not answer as a Kubernetes API server: the answer to a list is JSON without `items`/,
    );
    expect(run.code).toBe(5);
    expect(run.ms).toBeLessThan(10_000);
  });

  it("an endless JSON body: ends within a second of --timeout at the latest, diagnosed as such", async () => {
    const s = await endlessJson('{"kind":"List","items":[', '{"metadata":{"name":"x"}},');
    servers.push(s);
    const run = await verifyBin(fixture, s.url, "--timeout", "5s");
    expect(run.ms).toBeLessThan(6_000 + 1_500);
    expect(run.stdout).not.toMatch(/not found/);
    expect(run.stdout).toMatch(/over 16 MiB/);
    expect(run.code).toBe(5);
  });

  it("--unreachable-after 2s against a server that accepts and stays silent: exit 5 after about 2 s", async () => {
    const s = await serve(() => {});
    servers.push(s);
    const run = await verifyBin(fixture, s.url, "--timeout", "20s", "--unreachable-after", "2s");
    expect(run.code).toBe(5);
    expect(run.ms).toBeLessThan(2_000 + 3_000);
  });

  it("a port that does not speak HTTP: exit 5 naming the URL", async () => {
    const s = await serve((socket) => socket.end("SSH-2.0-OpenSSH_9.6\r\n"));
    servers.push(s);
    const run = await verifyBin(fixture, s.url, "--timeout", "20s");
    expect(run.stdout).toContain(s.url);
    expect(run.stdout).toMatch(/not HTTP/);
    expect(run.code).toBe(5);
    expect(run.ms).toBeLessThan(10_000);
  });
});

/** A repository with one release component and a commit whose subject carries terminal escapes. */
function releaseRepo(): ScratchRepo {
  const r = createScratchRepo("haos-bad-input-release-");
  scratch.push(r);
  r.write({
    "apps/a/cm.yaml": configMap("a"),
    "apps/a/version.txt": "0.1.0\n",
    ".haos-tasks.yaml": "release:\n  components:\n    a:\n      path: apps/a\n",
  });
  r.commit("feat: a");
  r.git("commit", "--quiet", "--allow-empty", "-m", "fix(a): \x1b[31mred\x1b[0m \x1b]0;pwned\x07subject");
  r.git("remote", "add", "origin", "https://github.com/acme/home.git");
  return r;
}

describe("text from commits cannot drive the terminal", () => {
  it("ESC sequences in a commit subject are shown escaped by release plan", async () => {
    const { dir } = releaseRepo();
    const run = await runCli(["release", "plan"], { cwd: dir, env: { ...env, GITHUB_TOKEN: "" } });
    expect(run.stdout).toContain("fix(a): \\x1b[31mred\\x1b[0m \\x1b]0;pwned\\x07subject");
    expect(run.stdout.includes("\x1b") || run.stdout.includes("\x07")).toBe(false);
    expect(run.code).toBe(0);
  });
});

describe("text from commits reaches CHANGELOG.md and the GitHub release inert", () => {
  let f: ReleaseFixture | undefined;
  afterAll(async () => f?.close());

  it("ESC and BEL in a subject are written as visible escapes, nothing raw is pushed", async () => {
    f = await createReleaseFixture();
    await f.repo.commit("fix(vm): \x1b[31mred\x1b[0m \x1b]0;pwned\x07title", {
      "apps/haos-enigma/vm.yaml": "memory: 8Gi\n",
    });
    const run = await runCli(["release", "apply", "--transport", "git", "--component", "haos-enigma"], {
      cwd: f.repo.dir,
      env: { ...env, ...f.env },
    });
    expect(run.code).toBe(0);
    const changelog = readFileSync(path.join(f.repo.dir, "apps/haos-enigma/CHANGELOG.md"), "utf8");
    expect(changelog).toContain("* **vm:** \\x1b[31mred\\x1b[0m \\x1b]0;pwned\\x07title (");
    const body = f.github.releases.map((r) => r.body ?? "").join("\n");
    expect(body).toContain("\\x1b[31mred");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
    const raw = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
    expect(raw.test(changelog)).toBe(false);
    expect(raw.test(body)).toBe(false);
  });
});

/** Whether this machine lets an unprivileged user namespace bind-mount a folder read-only. */
function readOnlyMountWorks(): boolean {
  const probe = mkdtempSync(path.join(os.tmpdir(), "haos-bad-input-ro-"));
  try {
    execFileSync(
      "unshare",
      ["-rm", "sh", "-c", 'mount --bind -o ro "$1" "$1" && ! touch "$1/x" 2>/dev/null', "sh", probe],
      {
        stdio: "ignore",
      },
    );
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** `haos-tasks …` as its own process in a mount namespace where `dir` is read-only (EROFS, even for root). */
function inReadOnlyCheckout(dir: string, args: string[], extraEnv: NodeJS.ProcessEnv) {
  const begun = performance.now();
  const child = spawn(
    "unshare",
    [
      "-rm",
      "sh",
      "-c",
      'mount --bind -o ro "$1" "$1" && shift && exec "$@"',
      "sh",
      dir,
      process.execPath,
      bin,
      ...args,
    ],
    { cwd: dir, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] },
  );
  return collected(child, begun);
}

describe("a checkout release apply cannot write to is an I/O error naming the file, nothing half-written", () => {
  let f: ReleaseFixture | undefined;
  afterAll(async () => f?.close());

  // A real EROFS needs an unprivileged mount namespace (root ignores file modes); where the
  // machine forbids one, the test is skipped and says why (the three cases below run everywhere).
  const readOnly = readOnlyMountWorks();
  it.skipIf(!readOnly)(
    `a read-only checkout (EROFS): exit 2, not 'unreachable'${readOnly ? "" : " (skipped: `unshare -rm` cannot bind-mount read-only here: no unprivileged user namespaces)"}`,
    async () => {
      f = await createReleaseFixture();
      const head = f.repo.git("rev-parse", "HEAD");
      const run = await inReadOnlyCheckout(
        f.repo.dir,
        ["release", "apply", "--transport", "git", "--component", "haos-enigma"],
        f.env,
      );
      expect(run.stderr).toMatch(/read-only file system/i);
      expect(run.stderr).not.toMatch(/credentials|unreachable/i);
      expect(run.code).toBe(2);
      expect(f.repo.git("status", "--porcelain")).toBe("");
      expect(f.repo.git("rev-parse", "HEAD")).toBe(head);
      expect(await gitIn(f.origin, "tag", "--list")).not.toContain("haos-enigma-v1.1.0");
      // Only the app's folder read-only: the fetch passes, the files cannot be written.
      const files = await inReadOnlyCheckout(
        path.join(f.repo.dir, "apps/haos-enigma"),
        ["release", "apply", "--transport", "git", "--component", "haos-enigma"],
        f.env,
      );
      expect(files.stderr).toMatch(
        /cannot write apps\/haos-enigma\/\S+ \(EROFS: .*\); nothing was changed\n {2}fix: run in a writable checkout/,
      );
      expect(files.code).toBe(2);
      expect(f.repo.git("status", "--porcelain", "--untracked-files=all")).toBe("");
    },
  );

  /** `release apply` of the fixture's app, in-process (the temporary files carry this process's pid). */
  const apply = (r: ReleaseFixture) =>
    runCli(["release", "apply", "--transport", "git", "--component", "haos-enigma"], {
      cwd: r.repo.dir,
      env: { ...env, ...r.env },
    });

  it("git cannot write .git/FETCH_HEAD (a folder in the way): exit 2 naming it, not 'check credentials'", async () => {
    const r = await createReleaseFixture();
    try {
      rmSync(path.join(r.repo.dir, ".git/FETCH_HEAD"), { force: true });
      mkdirSync(path.join(r.repo.dir, ".git/FETCH_HEAD"));
      const run = await apply(r);
      expect(run.stderr).toMatch(
        /git fetch cannot use \.git\/FETCH_HEAD, a local I\/O error: .*Is a directory/,
      );
      expect(run.stderr).not.toMatch(/credentials/);
      expect(run.code).toBe(2);
    } finally {
      await r.close();
    }
  });

  it("a file of the release cannot be written: exit 2 naming it, every file as it was, no temporary file", async () => {
    const r = await createReleaseFixture();
    try {
      const head = r.repo.git("rev-parse", "HEAD");
      // Where the CHANGELOG's temporary file goes, a folder (a stand-in for any write error: root
      // ignores permissions, and a read-only mount needs a namespace): it fails after version.txt's.
      const inTheWay = path.join(r.repo.dir, `apps/haos-enigma/.CHANGELOG.md.haos-tasks-${process.pid}.tmp`);
      mkdirSync(path.join(inTheWay, "keep"), { recursive: true });
      writeFileSync(path.join(inTheWay, "keep", ".gitignore"), "*\n");
      const run = await apply(r);
      expect(run.stderr).toMatch(
        /cannot write apps\/haos-enigma\/CHANGELOG\.md \(EEXIST: .*\); nothing was changed/,
      );
      expect(run.stderr).toContain(
        `fix: remove apps/haos-enigma/${path.basename(inTheWay)} (left by an earlier run), then run apply again`,
      );
      expect(run.code).toBe(2);
      expect(r.repo.git("status", "--porcelain")).toBe("");
      expect(
        readdirSync(path.join(r.repo.dir, "apps/haos-enigma")).filter((n) => n.endsWith(".tmp")),
      ).toEqual([path.basename(inTheWay)]);
      expect(r.repo.git("rev-parse", "HEAD")).toBe(head);
    } finally {
      await r.close();
    }
  });

  it("a rename that fails puts back the files renamed before it: never a version.txt without its CHANGELOG", async () => {
    const r = await createReleaseFixture();
    try {
      const plan = await r.plan();
      const config = (await loadConfig(r.repo.dir)).release;
      const transport = createGitTransport({ root: r.repo.dir, config, github: undefined });
      // After the plan, CHANGELOG.md becomes an (empty) folder: its rename fails, version.txt's went first.
      const changelog = path.join(r.repo.dir, "apps/haos-enigma/CHANGELOG.md");
      rmSync(changelog);
      mkdirSync(changelog);
      const error = await transport.writeFiles(plan).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReleaseError);
      expect((error as ReleaseError).message).toMatch(
        /^cannot write apps\/haos-enigma\/CHANGELOG\.md \(EISDIR: /,
      );
      expect((error as ReleaseError).exitCode).toBe(2);
      expect(readFileSync(path.join(r.repo.dir, "apps/haos-enigma/version.txt"), "utf8")).toBe("1.0.0\n");
      expect(
        readdirSync(path.join(r.repo.dir, "apps/haos-enigma")).filter((n) => n.endsWith(".tmp")),
      ).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it("git cannot take the commit (a stale index.lock): exit 2 naming it; once it is gone a rerun releases", async () => {
    const r = await createReleaseFixture();
    try {
      const lock = path.join(r.repo.dir, ".git/index.lock");
      writeFileSync(lock, "");
      const run = await apply(r);
      expect(run.stderr).toMatch(
        /git add cannot use .*\.git\/index\.lock, a local I\/O error: .*File exists/,
      );
      expect(run.stderr).toMatch(/fix: another git process is working in this repository/);
      expect(run.code).toBe(2);
      rmSync(lock);
      const again = await apply(r);
      expect(again.stdout).toMatch(/released haos-enigma v1\.1\.0/);
      expect(again.code).toBe(0);
    } finally {
      await r.close();
    }
  });
});

describe("tag ancestry is ancestry, whatever the commit dates say", () => {
  /** A tag a-v0.1.0, then six fixes dated before it (a skewed clock, a rebase): the tag is HEAD's ancestor. */
  function skewedRepo(): ScratchRepo {
    const r = createScratchRepo("haos-bad-input-skew-");
    scratch.push(r);
    r.commit(
      "feat(a): first",
      {
        "apps/a/cm.yaml": configMap("a"),
        "apps/a/version.txt": "0.1.0\n",
        ".haos-tasks.yaml": "release:\n  components:\n    a:\n      path: apps/a\n",
      },
      { date: new Date("2026-03-10T00:00:00Z") },
    );
    r.tag("a-v0.1.0", { annotated: true });
    for (let i = 1; i <= 6; i++) {
      r.commit(
        `fix(a): skewed ${i}`,
        { [`apps/a/f${i}.txt`]: `${i}\n` },
        { date: new Date(`2026-03-0${i}T00:00:00Z`) },
      );
    }
    return r;
  }

  interface PlanJson {
    status: string;
    previous?: { tag: string };
    release?: { version: string; notes: string };
  }
  const expectReleased = (plan: PlanJson | undefined) => {
    expect(plan?.status).toBe("release");
    expect(plan?.release?.version).toBe("0.1.1");
    expect(plan?.previous?.tag).toBe("a-v0.1.0");
    expect(plan?.release?.notes.match(/skewed \d/g)).toHaveLength(6);
    expect(plan?.release?.notes).not.toContain("first");
  };

  it("six commits after the tag dated before it: the plan finds the tag and releases them", async () => {
    const r = skewedRepo();
    const run = await runCli(["release", "plan", "--format", "json"], {
      cwd: r.dir,
      env: { ...env, GITHUB_TOKEN: "" },
    });
    expect(run.code).toBe(0);
    expectReleased((JSON.parse(run.stdout) as { plans: PlanJson[] }).plans[0]);
  });

  it("release plan with GitHub unreachable says so (a warning), not nothing", async () => {
    const r = skewedRepo();
    const run = await runCli(["release", "plan"], {
      cwd: r.dir,
      env: {
        ...env,
        GITHUB_TOKEN: "t",
        GITHUB_REPOSITORY: "acme/home",
        GITHUB_API_URL: "http://127.0.0.1:9",
      },
    });
    expect(run.stdout).toMatch(/release\/github-unreadable/);
    expect(run.stdout).toMatch(
      /GitHub did not answer \(.*127\.0\.0\.1:9.*\); release apply needs it to publish a-v0\.1\.1/,
    );
    expect(run.code).toBe(0);
  });

  it("the same when git's --merged walk stops on dates (older gits): the plan does not ask it", async () => {
    const r = skewedRepo();
    // A git whose `for-each-ref --merged=HEAD` leaves out tags dated after HEAD, as the sweep's did.
    const shim = mkdtempSync(path.join(os.tmpdir(), "haos-bad-input-git-"));
    const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(
      path.join(shim, "git"),
      `#!/bin/sh\ncase " $* " in\n*" --merged=HEAD "*)\n  head=$(${realGit} log -1 --format=%ct HEAD)\n  ${realGit} for-each-ref --merged=HEAD '--format=%(refname:strip=2) %(*committerdate:unix)%(committerdate:unix)' refs/tags | awk -v h="$head" '{ if (substr($2, 1, 10) + 0 <= h) print $1 }'\n  exit 0 ;;\nesac\nexec ${realGit} "$@"\n`,
      { mode: 0o755 },
    );
    try {
      const child = spawn(process.execPath, [bin, "release", "plan", "--format", "json"], {
        cwd: r.dir,
        env: { ...env, GITHUB_TOKEN: "", PATH: `${shim}:${process.env.PATH ?? ""}` },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      expect(code).toBe(0);
      expectReleased((JSON.parse(stdout) as { plans: PlanJson[] }).plans[0]);
    } finally {
      rmSync(shim, { recursive: true, force: true });
    }
  });
});

describe("the GitHub API client names what answered", () => {
  it("an HTML 200 from GITHUB_API_URL: exit 5 naming the URL, nothing pushed", async () => {
    const r = releaseRepo();
    const head = r.git("rev-parse", "HEAD");
    const s = await httpServe((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>portal</html>");
    });
    try {
      const run = await runCli(["release", "apply", "--transport", "git"], {
        cwd: r.dir,
        env: { ...env, GITHUB_TOKEN: "t", GITHUB_REPOSITORY: "acme/home", GITHUB_API_URL: s.url },
      });
      expect(run.stderr).toContain(
        `${s.url}/repos/acme/home did not answer as the GitHub API: HTTP 200 with text/html`,
      );
      expect(run.code).toBe(5);
      expect(r.git("rev-parse", "HEAD")).toBe(head);
    } finally {
      await s.close();
    }
  });

  it("an endless body: exit 5 naming the URL once the answer passes 64 MiB, not a crash at the 30 s deadline", async () => {
    const r = releaseRepo();
    const head = r.git("rev-parse", "HEAD");
    const s = await endlessJson('{"full_name":"acme/home","description":"', "x".repeat(64));
    try {
      const begun = performance.now();
      const run = await runCli(["release", "apply", "--transport", "git"], {
        cwd: r.dir,
        env: { ...env, GITHUB_TOKEN: "t", GITHUB_REPOSITORY: "acme/home", GITHUB_API_URL: s.url },
      });
      expect(run.stderr).toContain(
        `${s.url}/repos/acme/home did not answer as the GitHub API: HTTP 200 with an answer over 64 MiB`,
      );
      expect(performance.now() - begun).toBeLessThan(20_000);
      expect(run.code).toBe(5);
      expect(r.git("rev-parse", "HEAD")).toBe(head);
    } finally {
      await s.close();
    }
  });
});

describe("the Action's sticky comment goes through the same GitHub client (src/github/request.ts)", () => {
  const comment = (apiUrl: string, dir: string) =>
    runBundledAction(
      { command: "comment", body: `${DIFF_MARKER}\n### haos-tasks diff: 1 object in 1 owner` },
      {
        workspace: dir,
        entry: sourceEntry,
        eventName: "pull_request",
        event: { number: 7, pull_request: { number: 7 } },
        githubToken: "t",
        env: { GITHUB_API_URL: apiUrl },
      },
    );

  it("an HTML 200 from GITHUB_API_URL: the step fails naming the URL, not as a bug in haos-tasks", async () => {
    const dir = repo({ "apps/a/cm.yaml": configMap("a") });
    const s = await httpServe((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>portal</html>");
    });
    try {
      const run = await comment(s.url, dir);
      const errors = run.errors.join("\n");
      expect(errors).toContain(
        `${s.url}/repos/acme/home/issues/7/comments?per_page=100&page=1 did not answer as the GitHub API: HTTP 200 with text/html`,
      );
      expect(errors).not.toMatch(/internal error/);
      expect(run.code).toBe(1);
    } finally {
      await s.close();
    }
  });

  it("an endless body: the step fails naming the URL once the answer passes 64 MiB, not at the 30 s deadline", async () => {
    const dir = repo({ "apps/a/cm.yaml": configMap("a") });
    const s = await endlessJson("[", '{"id":1,"body":"x","html_url":"h","user":null},');
    try {
      const begun = performance.now();
      const run = await comment(s.url, dir);
      expect(run.errors.join("\n")).toContain(
        `${s.url}/repos/acme/home/issues/7/comments?per_page=100&page=1 did not answer as the GitHub API: HTTP 200 with an answer over 64 MiB`,
      );
      expect(performance.now() - begun).toBeLessThan(20_000);
      expect(run.code).toBe(1);
    } finally {
      await s.close();
    }
  });
});

describe("wrong settings are usage errors (exit 2) that say what is accepted", () => {
  it("--kubernetes-version 1.99: no schemas pinned, exit 2 (not a finding at platform.yaml:1:1)", async () => {
    const dir = repo({ "apps/a/cm.yaml": configMap("a") });
    const run = await runCli(["validate", "--kubernetes-version", "1.99"], { cwd: dir, env });
    expect(run.stderr).toMatch(/--kubernetes-version 1\.99 has no schemas pinned .*pinned: 1\.\d+/);
    expect(run.code).toBe(2);
  });

  it("GITHUB_API_URL='not a url': exit 2 naming it (not a pass, not 5 'unreachable')", async () => {
    const { dir } = releaseRepo();
    const run = await runCli(["release", "plan"], {
      cwd: dir,
      env: { ...env, GITHUB_API_URL: "not a url", GITHUB_TOKEN: "t" },
    });
    expect(run.stderr).toMatch(/GITHUB_API_URL must be an http\(s\) URL/);
    expect(run.code).toBe(2);
  });
});

describe("outside a git repository every command says so as a usage error", () => {
  it("release plan outside git: exit 2 naming the folder (as diff and validate), the same in the Action", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "haos-bad-input-nogit-"));
    try {
      const run = await runCli(["release", "plan"], { cwd: dir, env });
      expect(run.stderr).toContain(`${dir} is not inside a git checkout`);
      expect(run.stderr).toMatch(/fix: run inside the git repository/);
      expect(run.code).toBe(2);
      const action = await runBundledAction(
        { command: "version-bump" },
        { workspace: dir, entry: sourceEntry },
      );
      expect(action.stdout).toContain(`${dir} is not inside a git checkout`);
      expect(action.stdout).toMatch(/check out the repository first/);
      expect(action.code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("schema locations that cannot be read are said, also when paths are given", () => {
  it("a --schema-location folder that does not exist: a schema/source finding with the paths", async () => {
    const dir = repo({
      "apps/x/widget.yaml":
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: default\nspec:\n  size: 1\n",
    });
    const run = await runCli(
      ["validate", "apps/x", "--schema-location", "./missing/{{ .ResourceKind }}.json", "--format", "json"],
      { cwd: dir, env },
    );
    const report = JSON.parse(run.stdout) as JsonReport;
    const source = report.findings.find((f) => f.rule === "schema/source");
    expect(source?.file).toBe(".haos-tasks.yaml");
    expect(source?.message).toMatch(/the folder .*\/missing does not exist/);
  });
});

describe("Flux substitution errors sit at their line", () => {
  it("an unclosed ${A is a finding at the line that holds it", async () => {
    const dir = repo({
      "clusters/flux.yaml": [
        "apiVersion: kustomize.toolkit.fluxcd.io/v1",
        "kind: Kustomization",
        "metadata:",
        "  name: app",
        "  namespace: flux-system",
        "spec:",
        "  interval: 10m",
        "  sourceRef:",
        "    kind: GitRepository",
        "    name: flux-system",
        "  path: ./apps/a",
        "  prune: true",
        "  postBuild:",
        "    substitute:",
        "      A: x",
        "",
      ].join("\n"),
      "apps/a/kustomization.yaml": kustomization("cm.yaml"),
      "apps/a/cm.yaml": configMap("a", "  ok: fine\n  bad: prefix-${A\n"),
    });
    const { code, report } = await validateJson(dir);
    expect(at(report)).toContain("apps/a/cm.yaml:8 flux/substitution");
    expect(code).toBe(1);
  });
});

describe("kustomize's refusals of a kustomization's own fields sit at the field", () => {
  it.each(["in-process", "kubectl"])(
    "helmCharts (%s engine): a finding at the helmCharts key naming the fix",
    async (engine) => {
      const dir = repo({
        "apps/h/kustomization.yaml": [
          "apiVersion: kustomize.config.k8s.io/v1beta1",
          "kind: Kustomization",
          "resources:",
          "  - cm.yaml",
          "helmCharts:",
          "  - name: podinfo",
          "    repo: https://stefanprodan.github.io/podinfo",
          "    version: 6.0.0",
          "",
        ].join("\n"),
        "apps/h/cm.yaml": configMap("h"),
      });
      const run = await runCli(["validate", "--format", "json"], {
        cwd: dir,
        env: { ...env, ...(engine === "kubectl" ? { HAOS_TASKS_KUSTOMIZE: "kubectl" } : {}) },
      });
      const report = JSON.parse(run.stdout) as JsonReport & { findings: { hint?: string }[] };
      expect(at(report)).toEqual(["apps/h/kustomization.yaml:5 build/kustomize"]);
      const [helm] = report.findings;
      expect(helm?.message).toMatch(/HelmChartInflationGenerator: must specify --enable-helm$/);
      expect(helm?.message).not.toContain("version: 6.0.0");
      expect(helm?.hint).toMatch(/HelmRelease/);
      expect(run.code).toBe(1);
    },
  );
});

describe("the Action sets its outputs on every exit and refuses what it cannot read", () => {
  it("install-tools: maybe is refused, whatever the command needs", async () => {
    const dir = repo({ "apps/a/cm.yaml": configMap("a") });
    const run = await runBundledAction({ command: "validate", "install-tools": "maybe" }, { workspace: dir });
    expect(run.stdout).toMatch(/input 'install-tools' must be true or false \(got 'maybe'\)/);
    expect(run.code).toBe(1);
  });

  it("a validate that cannot run still sets errors and warnings (empty: unknown, never 0)", async () => {
    const dir = repo({ "README.md": "no YAML here\n" });
    const run = await runBundledAction({ command: "validate", paths: "." }, { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({ errors: "", warnings: "" });
  });

  it("a release that fails before publishing sets release-created=false and the rest", async () => {
    const dir = repo({ "apps/a/cm.yaml": configMap("a") });
    const run = await runBundledAction({ command: "release" }, { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({ "release-created": "false", releases: "[]", version: "" });
  });
});

/** A child's exit code, its whole output and the time since `begun`, once it has closed. */
function collected(
  child: ChildProcessByStdio<null, Readable, Readable>,
  begun: number,
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => {
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - begun }));
  });
}
