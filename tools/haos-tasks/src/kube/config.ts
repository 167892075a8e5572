import { KubeConfig } from "@kubernetes/client-node/dist/config.js";

export class KubeConfigError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

/**
 * Loads credentials: `--kubeconfig` when given, else client-node's default order ($KUBECONFIG,
 * ~/.kube/config, the in-cluster ServiceAccount). Refuses client-node's silent fallback to
 * http://localhost:8080, which would only ever fail later as "unreachable".
 */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
    else kc.loadFromDefault();
  } catch (error) {
    throw new KubeConfigError(
      `cannot load the kubeconfig ${kubeconfigPath ?? "(default)"}: ${error instanceof Error ? error.message : String(error)}`,
      "pass --kubeconfig <file>, set $KUBECONFIG, or run inside the cluster with a ServiceAccount",
    );
  }
  const cluster = kc.getCurrentCluster();
  if (
    !cluster ||
    (cluster.name === "cluster" && cluster.server === "http://localhost:8080" && !kubeconfigPath)
  ) {
    throw new KubeConfigError(
      "no Kubernetes credentials found ($KUBECONFIG, ~/.kube/config and the in-cluster ServiceAccount are all absent)",
      "pass --kubeconfig <file>, set $KUBECONFIG, or run on the in-cluster runner with serviceAccountName: haos-verify-runner",
    );
  }
  return kc;
}
