import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { HintedError } from "../errors.ts";
import { MissingToolError, pinnedVersions, toolPath, toolsRepoRoot } from "../tools/paths.ts";
import type { ActionContext } from "./context.ts";
import { getBoolean, getOptional, InputError } from "./inputs.ts";

const execFileAsync = promisify(execFile);

/**
 * Makes kubeconform resolvable through toolPath() (HAOS_TASKS_TOOLS_DIR): the `tools-dir` input,
 * else the checkout's .tools/bin, else PATH, else — with `install-tools` and Go on PATH — a
 * `go install` of the version pinned in tools/bootstrap/versions.env into the runner's tool cache.
 */
export async function ensureKubeconform(ctx: ActionContext): Promise<string> {
  const explicit = getOptional("tools-dir", ctx.env);
  if (explicit) {
    const dir = path.resolve(ctx.cwd, explicit);
    if (!existsSync(path.join(dir, "kubeconform"))) {
      throw new InputError("tools-dir", `has no kubeconform in ${dir}`);
    }
    ctx.env.HAOS_TASKS_TOOLS_DIR = dir;
  } else if (existsSync(path.join(ctx.cwd, ".tools", "bin", "kubeconform"))) {
    ctx.env.HAOS_TASKS_TOOLS_DIR = path.join(ctx.cwd, ".tools", "bin");
  }
  try {
    return toolPath("kubeconform", ctx.env);
  } catch (error) {
    if (!(error instanceof MissingToolError)) throw error;
  }
  const version = pinnedVersions(toolsRepoRoot).KUBECONFORM_VERSION;
  const fix =
    "add actions/setup-go before this step (the Action then installs it), or set the `tools-dir` input to a folder with kubeconform";
  if (!getBoolean("install-tools", ctx.env, true) || !version) {
    throw new HintedError("kubeconform not found (tools-dir, .tools/bin, PATH)", fix);
  }
  const gobin = path.join(ctx.env.RUNNER_TOOL_CACHE ?? ctx.env.RUNNER_TEMP ?? ctx.cwd, "haos-tasks", "bin");
  mkdirSync(gobin, { recursive: true });
  ctx.log(`kubeconform not found: go install github.com/yannh/kubeconform/cmd/kubeconform@${version}`);
  try {
    await execFileAsync("go", ["install", `github.com/yannh/kubeconform/cmd/kubeconform@${version}`], {
      env: { ...ctx.env, GOBIN: gobin, GOFLAGS: "-trimpath" },
    });
  } catch (error) {
    const reason = (error as { code?: string }).code === "ENOENT" ? "Go is not on PATH" : String(error);
    throw new HintedError(`kubeconform not found and cannot be installed: ${reason}`, fix, { cause: error });
  }
  ctx.env.HAOS_TASKS_TOOLS_DIR = gobin;
  return toolPath("kubeconform", ctx.env);
}

/**
 * Makes validate's in-process kustomize available: kustomize-build from the tools dir, .tools/bin
 * or PATH; else — with `install-tools` and Go on PATH — built from this Action's own
 * tools/bootstrap/go/kustomize-build into the runner's tool cache; else validate builds with
 * `kubectl kustomize` (HAOS_TASKS_KUSTOMIZE=kubectl), which GitHub's hosted runners ship.
 */
export async function ensureKustomizeBuild(ctx: ActionContext): Promise<void> {
  try {
    toolPath("kustomize-build", ctx.env);
    return;
  } catch (error) {
    if (!(error instanceof MissingToolError)) throw error;
  }
  const source = path.join(toolsRepoRoot, "tools", "bootstrap", "go", "kustomize-build");
  const gobin = path.join(ctx.env.RUNNER_TOOL_CACHE ?? ctx.env.RUNNER_TEMP ?? ctx.cwd, "haos-tasks", "bin");
  if (getBoolean("install-tools", ctx.env, true) && existsSync(source)) {
    mkdirSync(gobin, { recursive: true });
    ctx.log("kustomize-build not found: go build from tools/bootstrap/go/kustomize-build");
    try {
      await execFileAsync("go", ["build", "-trimpath", "-o", path.join(gobin, "kustomize-build"), "."], {
        cwd: source,
        env: ctx.env,
      });
      ctx.env.PATH = `${gobin}${path.delimiter}${ctx.env.PATH ?? ""}`;
      return;
    } catch (error) {
      const reason = (error as { code?: string }).code === "ENOENT" ? "Go is not on PATH" : String(error);
      ctx.log(`kustomize-build cannot be built (${reason})`);
    }
  }
  ctx.log(
    "validate: building kustomizations with `kubectl kustomize` (slower; add actions/setup-go to build in-process)",
  );
  ctx.env.HAOS_TASKS_KUSTOMIZE = "kubectl";
}

/**
 * Makes validate's chart renderer available: flux-render from the tools dir, .tools/bin or PATH;
 * else — with `install-tools` and Go on PATH — built from this Action's own
 * tools/bootstrap/go/flux-render into the runner's tool cache (minutes the first time; Go's build
 * cache, e.g. actions/setup-go's, keeps later runs short). Returns false when it cannot be had:
 * validate then reports the HelmReleases it leaves unrendered instead of failing the job.
 */
export async function ensureFluxRender(ctx: ActionContext): Promise<boolean> {
  try {
    toolPath("flux-render", ctx.env);
    return true;
  } catch (error) {
    if (!(error instanceof MissingToolError)) throw error;
  }
  const source = path.join(toolsRepoRoot, "tools", "bootstrap", "go", "flux-render");
  const gobin = path.join(ctx.env.RUNNER_TOOL_CACHE ?? ctx.env.RUNNER_TEMP ?? ctx.cwd, "haos-tasks", "bin");
  if (getBoolean("install-tools", ctx.env, true) && existsSync(source)) {
    mkdirSync(gobin, { recursive: true });
    ctx.log("flux-render not found: go build from tools/bootstrap/go/flux-render");
    try {
      await execFileAsync("go", ["build", "-trimpath", "-o", path.join(gobin, "flux-render"), "."], {
        cwd: source,
        env: ctx.env,
      });
      ctx.env.PATH = `${gobin}${path.delimiter}${ctx.env.PATH ?? ""}`;
      return true;
    } catch (error) {
      const reason = (error as { code?: string }).code === "ENOENT" ? "Go is not on PATH" : String(error);
      ctx.log(`flux-render cannot be built (${reason})`);
    }
  }
  return false;
}
