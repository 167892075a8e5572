import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MissingToolError } from "../tools/paths.ts";
import { buildInProcess, KustomizeBuilder, KustomizeHelperError } from "./kustomize-inprocess.ts";

// The real helper (npm run bootstrap -- validate builds it), on real kustomization directories.
const tmp = mkdtempSync(path.join(os.tmpdir(), "haos-kustomize-inprocess-"));
const write = (rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
  writeFileSync(path.join(tmp, rel), text);
};
const dir = (rel: string) => path.join(tmp, rel);

beforeAll(() => {
  write("base/kustomization.yaml", "resources: [deployment.yaml]\n");
  write(
    "base/deployment.yaml",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n",
  );
  write(
    "overlay/kustomization.yaml",
    [
      "namespace: shop",
      "resources: [../base, service.yaml]",
      "configMapGenerator:",
      "  - name: settings",
      "    literals: [LOG=debug]",
      "patchesStrategicMerge: [replicas.yaml]",
      "",
    ].join("\n"),
  );
  write(
    "overlay/service.yaml",
    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n",
  );
  write(
    "overlay/replicas.yaml",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n",
  );
  write("broken/kustomization.yaml", "resources: [missing.yaml]\n");
  write("traced/kustomization.yaml", "buildMetadata: [originAnnotations]\nresources: [cm.yaml]\n");
  write("traced/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("KustomizeBuilder (tools/bootstrap/go/kustomize-build)", () => {
  it("builds many roots over two helpers, in order, each object with its origin", async () => {
    const builder = await KustomizeBuilder.start({ env: process.env, workers: 2 });
    try {
      expect(builder.apiVersion).toBe("v0.20.1");
      const results = await builder.buildAll([dir("overlay"), dir("base"), dir("broken"), dir("overlay")]);
      expect(results.map((r) => r.dir)).toEqual([dir("overlay"), dir("base"), dir("broken"), dir("overlay")]);
      const [overlay, base, broken, again] = results;
      // Legacy order (kubectl's default): ConfigMap, Service, Deployment.
      expect(
        overlay?.resources.map((r) => `${r.object.kind}/${(r.object.metadata as { name: string }).name}`),
      ).toEqual([
        "ConfigMap/settings-ttchg99576", // the hash kubectl kustomize gives the same generator
        "Service/web",
        "Deployment/web",
      ]);
      expect(overlay?.resources.map((r) => r.origin)).toEqual([
        {
          configuredIn: "kustomization.yaml",
          // kubectl's origin annotation for the same generator names no builtin generator.
          configuredBy: { apiVersion: "builtin", kind: "ConfigMapGenerator" },
        },
        { path: "service.yaml" },
        { path: "../base/deployment.yaml" },
      ]);
      const deployment = overlay?.resources[2]?.object as {
        metadata: Record<string, unknown>;
        spec: { replicas: number };
      };
      expect(deployment.spec.replicas).toBe(3);
      // The origin annotation used for tracing is not left on the object.
      expect(deployment.metadata).toEqual({ name: "web", namespace: "shop" });
      expect(overlay?.warnings).toEqual([expect.stringContaining("'patchesStrategicMerge' is deprecated")]);
      expect(base?.warnings).toEqual([]);
      expect(base?.resources).toHaveLength(1);
      // A failing root is a result, not a rejection, and the roots after it still build.
      expect(broken?.resources).toEqual([]);
      expect(broken?.error?.message).toMatch(/^accumulating resources: .*'missing\.yaml'/);
      expect(again?.resources).toHaveLength(3);
    } finally {
      await builder.close();
    }
  });

  it("keeps origin annotations a kustomization asked for, and returns kubectl's YAML on request", async () => {
    const [traced] = await buildInProcess([dir("traced")], { env: process.env, yaml: true });
    const metadata = traced?.resources[0]?.object.metadata as { annotations: Record<string, string> };
    expect(metadata.annotations["config.kubernetes.io/origin"]).toBe("path: cm.yaml\n");
    expect(traced?.yaml).toBe(
      "apiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n  annotations:\n    config.kubernetes.io/origin: |\n      path: cm.yaml\n  name: c\n",
    );
  });

  it("carries the YAML text of objects that hold a Flux variable, for postBuild substitution", async () => {
    const variable = ["$", "{N:=1}"].join("");
    write("vars/kustomization.yaml", "resources: [cm.yaml, plain.yaml]\n");
    write(
      "vars/cm.yaml",
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v}\ndata: {replicas: "${variable}"}\n`,
    );
    write("vars/plain.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\ndata: {a: b}\n");
    const [vars] = await buildInProcess([dir("vars")], { env: process.env });
    // Legacy order sorts the two ConfigMaps by name: p, then v.
    expect(vars?.resources.map((r) => r.text)).toEqual([
      undefined,
      `apiVersion: v1\ndata:\n  replicas: ${variable}\nkind: ConfigMap\nmetadata:\n  name: v\n`,
    ]);
  });

  it("reaches outside the root only with loadRestrictor none (Flux's setting)", async () => {
    write("outside/kustomization.yaml", "resources: [../base/deployment.yaml]\n");
    const [rootOnly, none] = [
      ...(await buildInProcess([dir("outside")], { env: process.env })),
      ...(await buildInProcess([dir("outside")], { env: process.env, loadRestrictor: "none" })),
    ];
    expect(rootOnly?.error?.message).toContain("is not in or below");
    expect(none?.error).toBeUndefined();
    expect(none?.resources[0]?.origin).toEqual({ path: "../base/deployment.yaml" });
  });

  it("ends its helpers on close", async () => {
    const builder = await KustomizeBuilder.start({ env: process.env, workers: 2 });
    const pids = builder.pids;
    expect(pids).toHaveLength(2);
    await builder.close();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it("names the bootstrap command when the helper is missing", async () => {
    const error = await KustomizeBuilder.start({
      env: process.env,
      binary: path.join(tmp, "no-such-helper"),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(MissingToolError);
    expect((error as MissingToolError).hint).toContain("npm run bootstrap -- validate");
  });

  it("gives each helper one Go processor when there is a helper per core, unless the caller set GOMAXPROCS", async () => {
    // A helper that reports its GOMAXPROCS as its kustomize API version.
    const fake = path.join(tmp, "procs-helper");
    writeFileSync(fake, `#!/bin/sh\necho "{\\"ready\\":true,\\"api\\":\\"$GOMAXPROCS\\"}"\ncat >/dev/null\n`);
    chmodSync(fake, 0o755);
    const cores = os.availableParallelism();
    // The environment is the test's own: a GOMAXPROCS the CI machine exports must not leak in.
    const clean = { PATH: process.env.PATH ?? "" };
    const procsOf = async (workers: number, env: NodeJS.ProcessEnv = clean) => {
      const builder = await KustomizeBuilder.start({ binary: fake, workers, env });
      await builder.close();
      return builder.apiVersion;
    };
    expect(await procsOf(cores)).toBe("1");
    expect(await procsOf(cores * 4)).toBe("1");
    if (cores > 1) expect(await procsOf(1)).toBe("");
    expect(await procsOf(cores, { ...clean, GOMAXPROCS: "3" })).toBe("3");
  });

  it("rejects pending builds with the helper's stderr when it dies", async () => {
    const fake = path.join(tmp, "dying-helper");
    writeFileSync(
      fake,
      `#!/bin/sh\necho '{"ready":true,"api":"v0"}'\nread line\necho 'fatal: out of memory' >&2\nexit 3\n`,
    );
    chmodSync(fake, 0o755);
    const builder = await KustomizeBuilder.start({ env: process.env, binary: fake, workers: 1 });
    const error = await builder.build(dir("base")).catch((e) => e);
    expect(error).toBeInstanceOf(KustomizeHelperError);
    expect(String(error.message)).toMatch(/exited \(code 3\) with 1 builds unanswered: fatal: out of memory/);
    await builder.close();
  });
});
