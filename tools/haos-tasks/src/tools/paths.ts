import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HintedError } from "../errors.ts";

/** The repository checkout that holds this package (tools/haos-tasks/src/tools → ../../../..). */
export const toolsRepoRoot = path.resolve(fileURLToPath(new URL("../../../..", import.meta.url)));

export type ToolName =
  | "kubeconform"
  | "kustomize-build"
  | "flux-render"
  | "actionlint"
  | "etcd"
  | "kube-apiserver"
  | "registry"
  | "helm"
  | "kyverno"
  | "zizmor";

/** Tool → bootstrap group that installs it, for the fix printed when it is missing. */
const installHint: Record<ToolName, string> = {
  kubeconform: "npm run bootstrap -- validate",
  "kustomize-build": "npm run bootstrap -- validate",
  "flux-render": "npm run bootstrap -- validate",
  actionlint: "npm run bootstrap -- actionlint",
  etcd: "npm run bootstrap -- test",
  "kube-apiserver": "npm run bootstrap -- test",
  registry: "npm run bootstrap -- test",
  helm: "npm run bootstrap -- test",
  kyverno: "npm run bootstrap -- test",
  zizmor: "npm run bootstrap -- zizmor",
};

export class MissingToolError extends HintedError {
  readonly tool: ToolName;
  constructor(tool: ToolName, searched: string) {
    const hint = `run \`${installHint[tool]}\` (installs the pinned version into .tools/bin)`;
    super(`${tool} not found (looked in ${searched} and on PATH); ${hint}`, hint);
    this.tool = tool;
  }
}

/**
 * Absolute path of a pinned tool: `HAOS_TASKS_TOOLS_DIR` of the environment given (the edge's:
 * the CLI's io.env, the Action's lookup), then the repository's .tools/bin, then its PATH.
 */
export function toolPath(tool: ToolName, env: NodeJS.ProcessEnv): string {
  const dirs = [env.HAOS_TASKS_TOOLS_DIR, path.join(toolsRepoRoot, ".tools", "bin")].filter(
    (d): d is string => Boolean(d),
  );
  for (const dir of dirs) {
    const candidate = path.join(dir, tool);
    if (existsSync(candidate)) return candidate;
  }
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, tool);
    if (existsSync(candidate)) return candidate;
  }
  throw new MissingToolError(tool, dirs.join(", "));
}

/** The pinned versions from tools/bootstrap/versions.env. */
export function pinnedVersions(root: string = toolsRepoRoot): Record<string, string> {
  const text = readFileSync(path.join(root, "tools", "bootstrap", "versions.env"), "utf8");
  const versions: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) versions[m[1]] = m[2];
  }
  return versions;
}

/** What identifies a tool binary's answers (for the caches keyed by it): its path, size and modification time (undefined when it cannot be looked at). */
export function binaryIdentity(binary: string): string | undefined {
  try {
    const st = statSync(binary);
    return `${binary}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}
