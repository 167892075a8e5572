import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { HintedError } from "../errors.ts";
import { MissingToolError, pinnedVersions, toolPath, toolsRepoRoot } from "../tools/paths.ts";
import type { ActionContext } from "./context.ts";
import { getBoolean, getOptional, InputError } from "./inputs.ts";

const execFileAsync = promisify(execFile);

/** The runner's folder for tools this Action installs or builds (kept by the tool cache). */
function installDir(ctx: ActionContext): string {
  return path.join(ctx.env.RUNNER_TOOL_CACHE ?? ctx.env.RUNNER_TEMP ?? ctx.cwd, "haos-tasks", "bin");
}

/**
 * Where the Action looks for its tools before PATH: the `tools-dir` input, else the checkout's
 * .tools/bin (as toolPath's HAOS_TASKS_TOOLS_DIR, passed, never set on the environment).
 */
function lookupEnv(ctx: ActionContext): NodeJS.ProcessEnv {
  const explicit = getOptional("tools-dir", ctx.env);
  if (explicit) {
    const dir = path.resolve(ctx.cwd, explicit);
    if (!existsSync(path.join(dir, "kubeconform"))) {
      throw new InputError("tools-dir", `has no kubeconform in ${dir}`);
    }
    return { ...ctx.env, HAOS_TASKS_TOOLS_DIR: dir };
  }
  const checkout = path.join(ctx.cwd, ".tools", "bin");
  return existsSync(path.join(checkout, "kubeconform"))
    ? { ...ctx.env, HAOS_TASKS_TOOLS_DIR: checkout }
    : ctx.env;
}

/** The tools validate runs, resolved once by the Action and passed in its options. */
export interface ValidateTools {
  kubeconform: string;
  /** The in-process kustomize helper, or `kubectl kustomize` when it cannot be had. */
  kustomize: KustomizeChoice;
  /** flux-render; undefined when it cannot be had (validate reports the charts not rendered). */
  fluxRender: string | undefined;
}

export type KustomizeChoice = { kustomize: "in-process"; kustomizeBuild: string } | { kustomize: "kubectl" };

/** kubeconform, kustomize-build and flux-render, found or installed (see each ensure…). */
export async function ensureValidateTools(ctx: ActionContext): Promise<ValidateTools> {
  const env = lookupEnv(ctx);
  const kubeconform = await ensureKubeconform(ctx, env);
  // Installed into the tool cache: the helpers a former run built there are found there too.
  const next =
    path.dirname(kubeconform) === installDir(ctx) ? { ...env, HAOS_TASKS_TOOLS_DIR: installDir(ctx) } : env;
  return {
    kubeconform,
    kustomize: await ensureKustomizeBuild(ctx, next),
    fluxRender: await ensureFluxRender(ctx, next),
  };
}

/**
 * kubeconform: from the `tools-dir` input, else the checkout's .tools/bin, else PATH, else — with
 * `install-tools` and Go on PATH — a `go install` of the version pinned in
 * tools/bootstrap/versions.env into the runner's tool cache. Returns its path.
 */
export async function ensureKubeconform(
  ctx: ActionContext,
  env: NodeJS.ProcessEnv = lookupEnv(ctx),
): Promise<string> {
  try {
    return toolPath("kubeconform", env);
  } catch (error) {
    if (!(error instanceof MissingToolError)) throw error;
  }
  const version = pinnedVersions(toolsRepoRoot).KUBECONFORM_VERSION;
  const fix =
    "add actions/setup-go before this step (the Action then installs it), or set the `tools-dir` input to a folder with kubeconform";
  if (!getBoolean("install-tools", ctx.env, true) || !version) {
    throw new HintedError("kubeconform not found (tools-dir, .tools/bin, PATH)", fix);
  }
  const gobin = installDir(ctx);
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
  return toolPath("kubeconform", { ...env, HAOS_TASKS_TOOLS_DIR: gobin });
}

/**
 * validate's (and diff's) in-process kustomize: kustomize-build from the tools dir, .tools/bin
 * or PATH; else — with `install-tools` and Go on PATH — built from this Action's own
 * tools/bootstrap/go/kustomize-build into the runner's tool cache; else `kubectl kustomize`,
 * which GitHub's hosted runners ship.
 */
export async function ensureKustomizeBuild(
  ctx: ActionContext,
  env: NodeJS.ProcessEnv = lookupEnv(ctx),
): Promise<KustomizeChoice> {
  const built = await ensureGoTool(ctx, env, "kustomize-build");
  if (built) return { kustomize: "in-process", kustomizeBuild: built };
  ctx.log(
    "validate: building kustomizations with `kubectl kustomize` (slower; add actions/setup-go to build in-process)",
  );
  return { kustomize: "kubectl" };
}

/**
 * validate's chart renderer: flux-render from the tools dir, .tools/bin or PATH; else — with
 * `install-tools` and Go on PATH — built from this Action's own tools/bootstrap/go/flux-render
 * into the runner's tool cache (minutes the first time; Go's build cache, e.g.
 * actions/setup-go's, keeps later runs short). Undefined when it cannot be had: validate then
 * reports the HelmReleases it leaves unrendered instead of failing the job.
 */
export async function ensureFluxRender(
  ctx: ActionContext,
  env: NodeJS.ProcessEnv = lookupEnv(ctx),
): Promise<string | undefined> {
  return await ensureGoTool(ctx, env, "flux-render");
}

/** A helper of this repository's tools/bootstrap/go: found, else built; undefined if neither. */
async function ensureGoTool(
  ctx: ActionContext,
  env: NodeJS.ProcessEnv,
  tool: "kustomize-build" | "flux-render",
): Promise<string | undefined> {
  try {
    return toolPath(tool, env);
  } catch (error) {
    if (!(error instanceof MissingToolError)) throw error;
  }
  const source = path.join(toolsRepoRoot, "tools", "bootstrap", "go", tool);
  const gobin = installDir(ctx);
  if (getBoolean("install-tools", ctx.env, true) && existsSync(source)) {
    mkdirSync(gobin, { recursive: true });
    ctx.log(`${tool} not found: go build from tools/bootstrap/go/${tool}`);
    try {
      await execFileAsync("go", ["build", "-trimpath", "-o", path.join(gobin, tool), "."], {
        cwd: source,
        env: ctx.env,
      });
      return path.join(gobin, tool);
    } catch (error) {
      const reason = (error as { code?: string }).code === "ENOENT" ? "Go is not on PATH" : String(error);
      ctx.log(`${tool} cannot be built (${reason})`);
    }
  }
  return undefined;
}
