import { toolPath } from "../../src/tools/paths.ts";
import { fluxControllerNames, fluxControllerPath } from "./flux.ts";

/**
 * Fails the whole run up front, with the fix, when a pinned tool the suite needs is missing —
 * instead of every integration test failing on its own. The Flux controllers are part of the
 * `test` bootstrap group: the real-Flux scenarios never skip.
 */
export default function setup(): void {
  for (const tool of [
    "kubeconform",
    "kustomize-build",
    "flux-render",
    "etcd",
    "kube-apiserver",
    "registry",
    "helm",
    "kyverno",
  ] as const)
    toolPath(tool, process.env);
  for (const controller of fluxControllerNames) fluxControllerPath(controller);
}
