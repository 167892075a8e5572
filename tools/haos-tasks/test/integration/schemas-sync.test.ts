import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadPlatform } from "../../src/platform/platform.ts";
import { ensureSchemaCatalog } from "../../src/schemas/catalog.ts";
import { defaultLockPath, mirrorPathFor, readSchemaLock, resolveMirror } from "../../src/schemas/sources.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { runCli } from "../support/cli.ts";

const mirror = resolveMirror(undefined, process.env);
// Without a mirror these tests would download from GitHub; the title says why they were skipped.
const skipped = mirror ? "" : " (skipped: HAOS_TASKS_SCHEMA_MIRROR is not set)";
const tmpRoots: string[] = [];
const tmp = (prefix: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpRoots.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of tmpRoots) rmSync(dir, { recursive: true, force: true });
});

const run = (argv: string[], env: NodeJS.ProcessEnv) =>
  runCli(["schemas", "sync", ...argv], { cwd: toolsRepoRoot, env });

/** Everything below a directory, relative, for "nothing half-written" checks. */
const listing = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : [];

describe.runIf(mirror)(`haos-tasks schemas sync${skipped}`, () => {
  it("syncs through the mirror, then reports the catalog up to date (text and JSON)", async () => {
    const cache = tmp("haos-sync-cache-");
    const env = { HAOS_TASKS_CACHE_DIR: cache };
    const first = await run(["--mirror", String(mirror)], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/26 sources verified, \d{3} schemas written in [\d.]+ s/);
    expect(first.stdout).toContain("cozystack: v1.6.2");
    expect(first.stderr).toMatch(/sources: .*kube-ovn-crd\.yaml \(\d+ kinds\)/);
    const again = await run(["--mirror", String(mirror), "--format", "json"], env);
    expect(again.code).toBe(0);
    const json = JSON.parse(again.stdout) as {
      synced: boolean;
      schemas: number;
      location: string;
      dir: string;
    };
    expect(json.synced).toBe(false);
    expect(json.schemas).toBeGreaterThan(200);
    expect(json.dir.startsWith(path.join(cache, "schemas"))).toBe(true);
    expect(json.location).toBe(`${json.dir}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`);
    const forced = await run(["--mirror", String(mirror), "--force", "--format", "json"], env);
    expect((JSON.parse(forced.stdout) as { synced: boolean }).synced).toBe(true);
    expect(listing(path.join(cache, "schemas")).filter((f) => /\.(tmp|old)-/.test(f))).toEqual([]);
  });

  it("a sha256 mismatch exits 2 naming the file, both digests and the fix; nothing is written", async () => {
    const lock = await readSchemaLock();
    const first = lock.sources[0];
    if (!first || !mirror) throw new Error("empty lock");
    const badMirror = tmp("haos-bad-mirror-");
    const target = mirrorPathFor(badMirror, first.url);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(mirrorPathFor(mirror, first.url), target);
    const bytes = readFileSync(target);
    bytes[100] = (bytes[100] ?? 0) ^ 0x01;
    writeFileSync(target, bytes);
    const cache = tmp("haos-sync-cache-");

    const result = await run(["--mirror", badMirror], { HAOS_TASKS_CACHE_DIR: cache });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(target);
    expect(result.stderr).toContain(first.sha256);
    expect(result.stderr).toMatch(/sha256 [0-9a-f]{64} does not match the lock/);
    expect(result.stderr).toMatch(/fix: .*re-pin/);
    expect(listing(path.join(cache, "schemas"))).toEqual([]);
    expect(listing(path.join(cache, "sources"))).toEqual([]);
  });

  it("--from-cluster with --mirror is a usage error", async () => {
    const result = await run(["--from-cluster", "--mirror", "x"], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--from-cluster reads the cluster's CRDs: drop --mirror/);
  });

  it("a file missing from the mirror exits 2 with the path it expected (JSON error too)", async () => {
    const empty = tmp("haos-empty-mirror-");
    const result = await run(["--mirror", empty, "--format", "json"], {
      HAOS_TASKS_CACHE_DIR: tmp("haos-sync-cache-"),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`not in the mirror \\(expected ${empty}/fluxcd/`));
    expect((JSON.parse(result.stdout) as { ok: boolean; hint: string }).hint).toMatch(/--mirror/);
  });

  it("follows --app's platform.yaml: another CozyStack line gives another catalog; an unpinned version is refused", async () => {
    const text = readFileSync(path.join(toolsRepoRoot, "apps/haos-enigma/platform.yaml"), "utf8");
    const app = tmp("haos-app-");
    writeFileSync(path.join(app, "platform.yaml"), text.replace(/cozystack: v[\d.]+/, "cozystack: v0.41.11"));
    const env = { HAOS_TASKS_CACHE_DIR: tmp("haos-sync-cache-"), HAOS_TASKS_SCHEMA_MIRROR: mirror };
    const v0 = await run(["--app", app, "--format", "json"], env);
    expect(v0.code, v0.stderr).toBe(0);
    const v1 = await run(["--format", "json"], env);
    const [a, b] = [JSON.parse(v0.stdout), JSON.parse(v1.stdout)] as { key: string; cozystack: string }[];
    expect(a?.cozystack).toBe("v0.41.11");
    expect(a?.key).not.toBe(b?.key);

    writeFileSync(path.join(app, "platform.yaml"), text.replace(/kyverno: v[\d.]+/, "kyverno: v1.20.0"));
    const unpinned = await run(["--app", app], env);
    expect(unpinned.code).toBe(2);
    expect(unpinned.stderr).toMatch(
      /kyverno\/kyverno is not pinned in schemas.lock.json \(pinned: v1.19.0\)/,
    );
    expect(unpinned.stderr).toMatch(/fix: add the kyverno\/kyverno sources/);
  });
});

describe.runIf(mirror)(`ensureSchemaCatalog${skipped}`, () => {
  it("a changed lock gives a new key and a fresh sync; concurrent syncs of one key leave one complete catalog", async () => {
    const platform = await loadPlatform("apps/haos-enigma", toolsRepoRoot);
    const cacheRoot = tmp("haos-catalog-");
    // What a crashed sync left (dead pid) goes; a live sync's temp dir stays.
    const dead = path.join(cacheRoot, "0123456789abcdef.tmp-999999999-1");
    const live = path.join(cacheRoot, `0123456789abcdef.tmp-${process.pid}-1`);
    mkdirSync(dead);
    mkdirSync(live);
    const [x, y] = await Promise.all([
      ensureSchemaCatalog({ env: process.env, platform, cacheRoot }),
      ensureSchemaCatalog({ env: process.env, platform, cacheRoot }),
    ]);
    expect(x.key).toBe(y.key);
    expect(readdirSync(cacheRoot).sort()).toEqual([path.basename(live), x.key].sort());
    rmSync(live, { recursive: true });
    expect(existsSync(path.join(x.dir, "catalog.json"))).toBe(true);

    const lock = JSON.parse(readFileSync(defaultLockPath, "utf8")) as { sources: { url: string }[] };
    lock.sources = lock.sources.filter((s) => !s.url.includes("mutatingpolicies"));
    const lockPath = path.join(tmp("haos-lock-"), "schemas.lock.json");
    writeFileSync(lockPath, JSON.stringify(lock));
    const changed = await ensureSchemaCatalog({ env: process.env, platform, cacheRoot, lockPath });
    expect(changed.key).not.toBe(x.key);
    expect(changed.synced).toBe(true);
    expect(changed.kinds.has("policies.kyverno.io/v1alpha1/MutatingPolicy")).toBe(false);
    expect(x.kinds.size - changed.kinds.size).toBeGreaterThan(0);
  });
});
