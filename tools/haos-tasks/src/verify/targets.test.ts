import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadPlatform } from "../platform/platform.ts";
import { toolsRepoRoot } from "../tools/paths.ts";
import { resolveTargets, TargetError } from "./targets.ts";

const repo = mkdtempSync(path.join(os.tmpdir(), "haos-targets-"));
afterAll(() => rmSync(repo, { recursive: true, force: true }));

describe("verify's targets from the app's manifests", () => {
  it("names the file of a manifest verify cannot read, with the fix", async () => {
    const app = path.join(repo, "apps", "broken");
    mkdirSync(app, { recursive: true });
    writeFileSync(
      path.join(app, "vminstance.yaml"),
      "apiVersion: apps.cozystack.io/v1alpha1\nkind: VMInstance\nspec: *spec\n",
    );
    const platform = await loadPlatform("apps/haos-enigma", toolsRepoRoot);
    const result = resolveTargets("apps/broken", repo, platform);
    await expect(result).rejects.toBeInstanceOf(TargetError);
    await expect(result).rejects.toThrow(/apps\/broken\/vminstance\.yaml: invalid YAML: Unresolved alias/);
  });
});
