// Shared by the phase evaluators' table tests: a target commit, an older one, and the app's Flux objects.
import type { VerifyTargets } from "../../src/verify/targets.ts";

export const T = "a".repeat(40);
export const OLD = "b".repeat(40);
export const targets = {
  gitRepository: { namespace: "flux-system", name: "setup" },
  kustomization: { namespace: "flux-system", name: "haos-enigma", wait: true },
} as VerifyTargets;
export const input = { target: T, relation: () => undefined, targets };
