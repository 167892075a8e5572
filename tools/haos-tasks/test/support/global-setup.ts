import { toolPath } from "../../src/tools/paths.ts";

/**
 * Fails the whole run up front, with the fix, when a pinned tool the suite needs is missing —
 * instead of every integration test failing on its own.
 */
export default function setup(): void {
  for (const tool of ["kubeconform", "kustomize-build", "etcd", "kube-apiserver"] as const) toolPath(tool);
}
