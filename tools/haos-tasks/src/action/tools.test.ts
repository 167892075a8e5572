import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../tools/paths.ts";
import type { ActionContext } from "./context.ts";
import { ensureValidateTools } from "./tools.ts";
import { validateOptions } from "./validate.ts";

const toolsDir = path.join(toolsRepoRoot, ".tools", "bin");
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function context(env: NodeJS.ProcessEnv): ActionContext & { logs: string[] } {
  dir = mkdtempSync(path.join(os.tmpdir(), "haos-tasks-action-tools-"));
  const logs: string[] = [];
  return {
    env,
    cwd: dir,
    logs,
    setOutput: () => {},
    summary: async () => {},
    log: (line) => logs.push(line),
    annotate: () => {},
  };
}

describe("the Action's validate tools", () => {
  it("are resolved once and passed in the options, the environment left as it was", async () => {
    const env: NodeJS.ProcessEnv = { "INPUT_TOOLS-DIR": toolsDir, "INPUT_INSTALL-TOOLS": "false", PATH: "" };
    const before = { ...env };
    const ctx = context(env);
    const tools = await ensureValidateTools(ctx);
    expect(tools).toEqual({
      kubeconform: path.join(toolsDir, "kubeconform"),
      kustomize: { kustomize: "in-process", kustomizeBuild: path.join(toolsDir, "kustomize-build") },
      fluxRender: path.join(toolsDir, "flux-render"),
    });
    expect(env).toEqual(before);
    const options = validateOptions(ctx, tools);
    expect(options).toMatchObject({
      env,
      kubeconform: tools.kubeconform,
      kustomize: "in-process",
      kustomizeBuild: tools.kustomize.kustomize === "in-process" ? tools.kustomize.kustomizeBuild : "",
      fluxRender: tools.fluxRender,
    });
    expect(options.renderer).toBeUndefined();
  });

  it("without the helpers: kubectl kustomize and no renderer, as options", () => {
    const ctx = context({});
    const options = validateOptions(ctx, {
      kubeconform: "/opt/kubeconform",
      kustomize: { kustomize: "kubectl" },
      fluxRender: undefined,
    });
    expect(options).toMatchObject({ kubeconform: "/opt/kubeconform", kustomize: "kubectl", renderer: false });
    expect(options.kustomizeBuild).toBeUndefined();
    expect(options.fluxRender).toBeUndefined();
    expect(ctx.env).toEqual({});
  });
});
