import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandIO } from "../../src/cli/command.ts";
import { main } from "../../src/cli/main.ts";
import { convertCrdYaml } from "../../src/schemas/convert/crd.ts";
import { ClusterSchemaError, syncFromCluster } from "../../src/schemas/from-cluster.ts";
import { strictSchema } from "../../src/schemas/strict.ts";
import { toolPath, toolsRepoRoot } from "../../src/tools/paths.ts";
import { startTestApiServer, type TestApiServer } from "../support/apiserver.ts";
import { upstreamText } from "../support/upstream-schemas.ts";

describe("schemas sync --from-cluster against a real kube-apiserver", () => {
  let server: TestApiServer;
  let crdText: string;
  const cacheRoot = mkdtempSync(path.join(os.tmpdir(), "haos-from-cluster-"));

  beforeAll(async () => {
    crdText = await upstreamText("kube-ovn-crd.yaml");
    server = await startTestApiServer();
    await server.installCrds([crdText]);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(cacheRoot, { recursive: true, force: true });
  });

  it("converts the served CRDs exactly like the pinned document", async () => {
    const catalog = await syncFromCluster({
      env: process.env,
      kubeConfig: server.adminKubeConfig(),
      cacheRoot,
    });
    expect(catalog.synced).toBe(true);
    const expected = convertCrdYaml(crdText);
    expect(catalog.kinds.size).toBe(expected.length);
    const subnet = expected.find((s) => s.kind === "Subnet");
    const file = catalog.kinds.get("kubeovn.io/v1/Subnet");
    if (!subnet || !file) throw new Error("Subnet missing");
    const written = JSON.parse(await import("node:fs/promises").then((fs) => fs.readFile(file, "utf8")));
    // The API server returns the schema it stored; converting either gives the same strict schema.
    expect(written).toEqual(
      JSON.parse(JSON.stringify(strictSchema(subnet.schema, { ...subnet, origin: "crd" }))),
    );

    const again = await syncFromCluster({
      env: process.env,
      kubeConfig: server.adminKubeConfig(),
      cacheRoot,
    });
    expect(again.synced).toBe(false);
    expect(again.key).toBe(catalog.key);
  });

  it("the cluster catalog drives kubeconform: excludeIps passes, a root-level typo fails", async () => {
    const catalog = await syncFromCluster({
      env: process.env,
      kubeConfig: server.adminKubeConfig(),
      cacheRoot,
    });
    const subnet = (extra: string) =>
      `apiVersion: kubeovn.io/v1\nkind: Subnet\nmetadata: { name: haos-underlay }\nspec: { cidrBlock: 192.168.50.0/25, excludeIps: [192.168.50.1] }\n${extra}`;
    const run = (yaml: string) =>
      execa(
        toolPath("kubeconform", process.env),
        ["-strict", "-schema-location", catalog.location, "-output", "json", "-"],
        {
          input: yaml,
          reject: false,
        },
      );
    expect((await run(subnet(""))).exitCode).toBe(0);
    const bad = await run(subnet("spce: {}\n"));
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain("additional properties 'spce' not allowed");
  });

  it("credentials without list on CRDs get a 403 naming the permission", async () => {
    const sa = await server.serviceAccount("schemas-test", "nobody");
    const kc = new KubeConfig();
    kc.loadFromFile(sa.kubeconfigPath);
    const error = await syncFromCluster({ env: process.env, kubeConfig: kc, cacheRoot }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClusterSchemaError);
    expect((error as ClusterSchemaError).message).toMatch(/HTTP 403/);
    expect((error as ClusterSchemaError).hint).toMatch(/list on customresourcedefinitions/);
  });

  it("the CLI reads $KUBECONFIG; an unreachable server exits 2 with the fix", async () => {
    let stdout = "";
    let stderr = "";
    const io = (env: NodeJS.ProcessEnv): CommandIO => ({
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
      env,
      cwd: toolsRepoRoot,
      isTTY: false,
    });
    const env = { KUBECONFIG: server.kubeconfigPath, HAOS_TASKS_CACHE_DIR: cacheRoot };
    expect(await main(["schemas", "sync", "--from-cluster", "--format", "json"], io(env))).toBe(0);
    expect((JSON.parse(stdout) as { schemas: number }).schemas).toBeGreaterThan(15);

    await server.stopApiServer();
    stderr = "";
    expect(await main(["schemas", "sync", "--from-cluster"], io(env))).toBe(2);
    expect(stderr).toMatch(/cannot reach the API server https:\/\/127\.0\.0\.1:\d+/);
    expect(stderr).toMatch(/fix: check \$KUBECONFIG/);
  });
});
