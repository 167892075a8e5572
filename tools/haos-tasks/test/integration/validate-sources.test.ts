import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KubectlMissingError } from "../../src/manifests/kustomize-build.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { validate } from "../../src/validate/pipeline.ts";

// The platform rules read the stock instancetype/preference names from locked upstream sources.
// Called as a library (no fetch options), validate must find them where the schema catalog does:
// through HAOS_TASKS_SCHEMA_MIRROR into HAOS_TASKS_CACHE_DIR, never straight from the network.
describe("validate reads locked sources through the environment's mirror and cache", () => {
  const saved = process.env.HAOS_TASKS_CACHE_DIR;
  let cache: string | undefined;
  afterEach(async () => {
    if (saved === undefined) delete process.env.HAOS_TASKS_CACHE_DIR;
    else process.env.HAOS_TASKS_CACHE_DIR = saved;
    if (cache) await rm(cache, { recursive: true, force: true });
  });

  const mirror = process.env.HAOS_TASKS_SCHEMA_MIRROR;
  it.runIf(mirror)(
    mirror
      ? "with an empty cache and no network: the real app's platform rules run, the cache fills"
      : "(skipped: needs HAOS_TASKS_SCHEMA_MIRROR, the offline source of the locked files)",
    async () => {
      cache = await mkdtemp(path.join(os.tmpdir(), "haos-validate-sources-"));
      process.env.HAOS_TASKS_CACHE_DIR = cache;
      const result = await validate({ env: process.env, targets: ["apps/haos-enigma"], cwd: toolsRepoRoot });
      expect(result.findings).toEqual([]);
      expect(result.stats.objects).toBeGreaterThanOrEqual(20);
      // The instancetypes and preferences templates, verified and cached by sha256.
      expect((await readdir(path.join(cache, "sources"))).length).toBeGreaterThanOrEqual(2);
    },
  );
});

describe("validate without kubectl", () => {
  it("stops with the install fix instead of reporting a finding per kustomization", async () => {
    const run = validate({
      env: process.env,
      targets: ["apps/haos-enigma"],
      cwd: toolsRepoRoot,
      kubectl: "/nonexistent/kubectl",
    });
    await expect(run).rejects.toBeInstanceOf(KubectlMissingError);
    await expect(run).rejects.toMatchObject({ hint: expect.stringMatching(/install kubectl/) });
  });
});
