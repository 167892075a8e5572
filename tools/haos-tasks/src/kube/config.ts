import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import { HintedError } from "../errors.ts";

export class KubeConfigError extends HintedError {
  /** The file the problem is in, when there is one. */
  readonly file: string | undefined;
  constructor(message: string, hint: string, file?: string) {
    super(message, hint);
    this.file = file;
  }
}

const credentialsHint =
  "pass --kubeconfig <file>, set $KUBECONFIG, or run on the in-cluster runner with serviceAccountName: haos-verify-runner";

/** Where client-node's default order would read from, for messages: $KUBECONFIG, ~/.kube/config. */
function defaultSource(env: NodeJS.ProcessEnv): string | undefined {
  if (env.KUBECONFIG) return `$KUBECONFIG (${env.KUBECONFIG})`;
  const home = path.join(os.homedir(), ".kube", "config");
  return existsSync(home) ? home : undefined;
}

/** The context problems client-node passes over in silence (it just has no current cluster then). */
function contextProblem(kc: KubeConfig, source: string): KubeConfigError | undefined {
  const names = kc.getContexts().map((c) => c.name);
  const known = names.length > 0 ? `it defines: ${names.join(", ")}` : "it defines no context at all";
  const current = kc.getCurrentContext();
  if (!current) {
    return new KubeConfigError(
      `${source} sets no current-context (${known})`,
      `set one: kubectl config use-context <name> --kubeconfig ${source}`,
      source,
    );
  }
  const context = kc.getContextObject(current);
  if (!context) {
    return new KubeConfigError(
      `${source}: current-context '${current}' names no context (${known})`,
      names.length > 0
        ? `point current-context at one of them: kubectl config use-context ${names[0]} --kubeconfig ${source}`
        : "add the context (kubectl config set-context) or use the kubeconfig your cluster gave you",
      source,
    );
  }
  if (!kc.getCluster(context.cluster)) {
    const clusters = kc.getClusters().map((c) => c.name);
    return new KubeConfigError(
      `${source}: context '${current}' names cluster '${context.cluster}', which is not defined (clusters: ${clusters.join(", ") || "none"})`,
      "fix the context's cluster field or add the cluster entry",
      source,
    );
  }
  if (context.user && !kc.getUser(context.user)) {
    return new KubeConfigError(
      `${source}: context '${current}' names user '${context.user}', which is not defined`,
      "fix the context's user field or add the user entry",
      source,
    );
  }
  return undefined;
}

/**
 * Loads credentials: `--kubeconfig` when given, else client-node's default order ($KUBECONFIG,
 * ~/.kube/config, the in-cluster ServiceAccount). Names the file and the context a problem is in,
 * and refuses client-node's silent fallback to http://localhost:8080, which would only ever fail
 * later as "unreachable".
 */
export function loadKubeConfig(kubeconfigPath: string | undefined, env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  const source = kubeconfigPath ?? defaultSource(env);
  if (kubeconfigPath && !existsSync(kubeconfigPath)) {
    throw new KubeConfigError(
      `the kubeconfig ${kubeconfigPath} does not exist`,
      "pass the path of an existing kubeconfig to --kubeconfig",
      kubeconfigPath,
    );
  }
  try {
    if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
    else kc.loadFromDefault();
  } catch (error) {
    throw new KubeConfigError(
      `cannot load the kubeconfig ${source ?? "(default)"}: ${error instanceof Error ? error.message : String(error)}`,
      "fix the file (it must be a YAML kubeconfig), or pass another with --kubeconfig",
      source,
    );
  }
  const cluster = kc.getCurrentCluster();
  const inCluster = !kubeconfigPath && !env.KUBECONFIG && kc.getCurrentContext() === "inClusterContext";
  if (source && !inCluster) {
    const problem = contextProblem(kc, source);
    if (problem) throw problem;
  }
  if (
    !cluster ||
    (cluster.name === "cluster" && cluster.server === "http://localhost:8080" && !kubeconfigPath)
  ) {
    throw new KubeConfigError(
      "no Kubernetes credentials found ($KUBECONFIG, ~/.kube/config and the in-cluster ServiceAccount are all absent)",
      credentialsHint,
    );
  }
  if (!cluster.server) {
    throw new KubeConfigError(
      `${source ?? "the kubeconfig"}: cluster '${cluster.name}' has no server address`,
      "set clusters[].cluster.server, e.g. https://10.0.0.1:6443",
      source,
    );
  }
  return kc;
}
