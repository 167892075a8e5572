import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildStage, planBuilds } from "../validate/build-stage.ts";
import { buildUnitKey, cachedBatch, cachedBuild } from "./build-cache.ts";
import type { BuildResult, BuiltResource } from "./kustomize-build.ts";
import { loadWorkspace } from "./workspace.ts";

// The build cache keeps each kustomize build unit's objects under a key made of everything the
// build reads. These tests hold the key to that (every file of the closure, the unit's Flux
// options, kustomization file variants; nothing else), and run the real kustomize-build helper
// through buildStage twice to show a kept build answers what a fresh one does — and that an edit
// anywhere in the closure is built again.

const tmp = mkdtempSync(path.join(os.tmpdir(), "haos-build-cache-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let repos = 0;
function repo(files: Record<string, string>): string {
  const root = path.join(tmp, `repo-${repos++}`);
  write(root, files);
  return root;
}
function write(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
}

const cm = (name: string, value = "1") =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${value}"\n`;

const base: Record<string, string> = {
  "clusters/main/ks.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app
  namespace: flux-system
spec:
  interval: 1h
  path: ./apps/app
  targetNamespace: team
  components:
    - ../../components/common
  sourceRef:
    kind: GitRepository
    name: flux-system
`,
  "clusters/main/kustomization.yaml": "resources:\n  - ks.yaml\n",
  "apps/app/kustomization.yaml":
    "resources:\n  - ../base\n  - cm.yaml\npatches:\n  - path: patch.yaml\nconfigMapGenerator:\n  - name: gen\n    files:\n      - settings.conf\n",
  "apps/app/cm.yaml": cm("app"),
  "apps/app/patch.yaml":
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  patched: yes-it-is\n",
  "apps/app/settings.conf": "a=1\n",
  "apps/base/kustomization.yaml": "resources:\n  - cm.yaml\n",
  "apps/base/cm.yaml": cm("base"),
  "components/common/kustomization.yaml":
    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - cm.yaml\n",
  "components/common/cm.yaml": cm("common"),
  "apps/other/kustomization.yaml": "resources:\n  - cm.yaml\n",
  "apps/other/cm.yaml": cm("other"),
};

async function keyOf(root: string, dir = "apps/app"): Promise<string | undefined> {
  const workspace = await loadWorkspace(["."], { cwd: root, root });
  const plan = planBuilds(workspace, process.env);
  const unit = plan.units.find((u) => u.dir === dir);
  if (!unit) throw new Error(`no unit ${dir}: ${plan.units.map((u) => u.dir).join(", ")}`);
  return buildUnitKey(unit, plan.byDir, workspace, "helper-1");
}

describe("buildUnitKey", () => {
  it("changes with every file the build reads, and with nothing else", async () => {
    const root = repo(base);
    const first = await keyOf(root);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await keyOf(root)).toBe(first);
    // Outside the closure: the same key.
    write(root, { "apps/other/cm.yaml": cm("other", "2"), "apps/app/unlisted.yaml": cm("x") });
    expect(await keyOf(root)).toBe(first);
    const seen = new Set([first]);
    for (const [file, text] of Object.entries({
      "apps/app/cm.yaml": cm("app", "2"), // a resource
      "apps/base/cm.yaml": cm("base", "2"), // a resource of an included kustomization
      "components/common/cm.yaml": cm("common", "2"), // a Flux component's resource
      "apps/app/patch.yaml": base["apps/app/patch.yaml"]?.replace("yes-it-is", "no") ?? "", // a patch
      "apps/app/settings.conf": "a=2\n", // a generator's file (not YAML)
      "apps/base/kustomization.yml": "resources: []\n", // a second kustomization file (kustomize fails)
    })) {
      write(root, { [file]: text });
      const key = await keyOf(root);
      expect(seen.has(key as string), `${file} did not change the key`).toBe(false);
      seen.add(key as string);
    }
  });

  it("changes with the unit's Flux options and the helper", async () => {
    const root = repo(base);
    const first = await keyOf(root);
    write(root, {
      "clusters/main/ks.yaml":
        base["clusters/main/ks.yaml"]?.replace("targetNamespace: team", "targetNamespace: other") ?? "",
    });
    expect(await keyOf(root)).not.toBe(first);
    const workspace = await loadWorkspace(["."], { cwd: root, root });
    const plan = planBuilds(workspace, process.env);
    const unit = plan.units.find((u) => u.dir === "apps/app");
    if (!unit) throw new Error("no unit");
    expect(buildUnitKey(unit, plan.byDir, workspace, "helper-2")).not.toBe(
      buildUnitKey(unit, plan.byDir, workspace, "helper-1"),
    );
  });

  it("is undefined for what the key cannot see: a remote resource, transformers", async () => {
    const remote = repo({
      ...base,
      "apps/app/kustomization.yaml":
        "resources:\n  - https://github.com/example/x//deploy?ref=v1\n  - cm.yaml\n",
    });
    expect(await keyOf(remote)).toBeUndefined();
    const transformers = repo({
      ...base,
      "apps/app/kustomization.yaml": "resources:\n  - cm.yaml\ntransformers:\n  - labels.yaml\n",
      "apps/app/labels.yaml":
        "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\nlabels:\n  a: b\nfieldSpecs:\n  - path: metadata/labels\n    create: true\n",
    });
    expect(await keyOf(transformers)).toBeUndefined();
  });
});

describe("cachedBuild", () => {
  const resource = (build: string, name: string): BuiltResource => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    name,
    namespace: "",
    object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name } },
    build,
    origin: `${build}/cm.yaml`,
    configuredIn: undefined,
  });

  it("builds only what it does not keep, keeps no failure, and answers in the order asked", async () => {
    const cache = { dir: path.join(tmp, "cache-order"), identity: "helper-1" };
    const asked: string[][] = [];
    const build = async (dirs: readonly string[]): Promise<BuildResult> => {
      asked.push([...dirs]);
      return {
        resources: dirs
          .filter((d) => d !== "bad")
          .flatMap((d) => [resource(d, `${d}-1`), resource(d, `${d}-2`)]),
        failures: dirs.includes("bad") ? [{ dir: "bad", message: "boom" }] : [],
      };
    };
    const keyOf = (d: string) => `key-${d}`;
    const first = await cachedBuild(["a", "bad", "b"], keyOf, cache, build);
    const second = await cachedBuild(["b", "bad", "a", "c"], keyOf, cache, build);
    expect(asked).toEqual([
      ["a", "bad", "b"],
      ["bad", "c"],
    ]);
    expect(first.resources.map((r) => r.name)).toEqual(["a-1", "a-2", "b-1", "b-2"]);
    expect(second.resources.map((r) => r.name)).toEqual(["b-1", "b-2", "a-1", "a-2", "c-1", "c-2"]);
    expect(second.failures).toEqual([{ dir: "bad", message: "boom" }]);
    expect(readdirSync(cache.dir).sort()).toEqual(["key-a.json", "key-b.json", "key-c.json"]);
  });

  it("treats an unreadable or foreign entry as a miss", async () => {
    const cache = { dir: path.join(tmp, "cache-corrupt"), identity: "helper-1" };
    mkdirSync(cache.dir, { recursive: true });
    writeFileSync(path.join(cache.dir, "key-a.json"), '{"key": "key-a", "resources": [');
    writeFileSync(path.join(cache.dir, "key-b.json"), JSON.stringify({ key: "key-x", resources: [] }));
    let built = 0;
    const result = await cachedBuild(
      ["a", "b"],
      (d) => `key-${d}`,
      cache,
      async (dirs) => {
        built += dirs.length;
        return { resources: dirs.map((d) => resource(d, d)), failures: [] };
      },
    );
    expect(built).toBe(2);
    expect(result.resources.map((r) => r.name)).toEqual(["a", "b"]);
  });
});

describe("cachedBatch", () => {
  it("sends only the items it does not keep, in order, and answers every item in place", async () => {
    const cache = { dir: path.join(tmp, "batch"), identity: "render-1" };
    const sent: string[][] = [];
    const upper = cachedBatch(async (items: readonly string[]) => {
      sent.push([...items]);
      return items.map((i) => i.toUpperCase());
    }, cache);
    expect(await upper(["a", "b"])).toEqual(["A", "B"]);
    expect(await upper(["c", "a", "d", "b"])).toEqual(["C", "A", "D", "B"]);
    expect(await upper(["a", "d"])).toEqual(["A", "D"]);
    expect(sent).toEqual([
      ["a", "b"],
      ["c", "d"],
    ]);
    const other = cachedBatch(async (items: readonly string[]) => items.map(() => "other"), {
      ...cache,
      identity: "render-2",
    });
    expect(await other(["a"])).toEqual(["other"]);
  });
});

describe("buildStage with the build cache (the real kustomize-build helper)", () => {
  it("answers from the cache what a fresh build gives, and builds again what an edit touched", async () => {
    const root = repo(base);
    const cacheDir = path.join(tmp, "stage-cache");
    const run = async (cache: boolean) => {
      const workspace = await loadWorkspace(["."], { cwd: root, root });
      const stats = { hits: 0, misses: 0 };
      const stage = await buildStage(workspace, {
        env: process.env,
        ...(cache ? { buildCache: cacheDir, buildCacheStats: stats } : {}),
      });
      const objects = stage.built.resources.map((r) => ({
        build: r.build,
        origin: r.origin,
        object: r.object,
      }));
      return { objects, failures: stage.built.failures, stats };
    };
    const fresh = await run(false);
    const filling = await run(true);
    const kept = await run(true);
    expect(filling.stats.hits).toBe(0);
    expect(filling.stats.misses).toBeGreaterThanOrEqual(2);
    expect(kept.stats.misses).toBe(0);
    expect(kept.stats.hits).toBe(filling.stats.misses);
    expect(kept.objects).toEqual(fresh.objects);
    expect(filling.objects).toEqual(fresh.objects);
    // An edit in the component: that unit is built again and shows it.
    write(root, { "components/common/cm.yaml": cm("common", "edited") });
    const edited = await run(true);
    expect(edited.stats.misses).toBe(1);
    const common = edited.objects.find(
      (o) => (o.object.metadata as { name?: string }).name === "common" && o.build === "apps/app",
    );
    expect(common?.object.data).toEqual({ v: "edited" });
    expect(edited.objects).toEqual((await run(false)).objects);
  });
});
