import type { KubeObject } from "../../kube/client.ts";
import { lookup } from "../../kube/store.ts";
import { describeCondition, getCondition, isObservedCurrent } from "../conditions.ts";
import { commitOf, relationOf } from "../revision.ts";
import { type PhaseDefinition, type PhaseInput, short, text, type Verdict } from "./types.ts";

/** source: the GitRepository's artifact is the target commit (or a descendant of it). */
export function evaluateSource(
  gitRepository: KubeObject | undefined,
  input: Pick<PhaseInput, "target" | "relation" | "targets">,
): Verdict {
  const { namespace, name } = input.targets.gitRepository;
  if (!gitRepository) return { state: "waiting", detail: `GitRepository ${namespace}/${name} not found` };
  const revision = text(gitRepository, "status", "artifact", "revision");
  const stalled = getCondition(gitRepository, "Stalled");
  // A stall observed at an older generation was about the spec being replaced: wait for the new one.
  if (stalled?.status === "True" && isObservedCurrent(gitRepository, stalled)) {
    return {
      state: "failed",
      detail: `GitRepository ${namespace}/${name} is stalled: ${describeCondition(stalled)}`,
      hint: "fix the GitRepository spec (URL, ref, secretRef); source-controller will not retry as is",
      objects: [{ kind: "gitRepository", namespace, name }],
    };
  }
  const relation = relationOf(input.target, revision, input.relation);
  if (relation === "same") return { state: "done", detail: `artifact at ${revision}`, data: { revision } };
  if (relation === "descendant") {
    return {
      state: "done",
      detail: `superseded: artifact at ${revision}, a descendant of ${short(input.target)} (git merge-base --is-ancestor)`,
      supersededBy: commitOf(revision) ?? "",
      data: { revision },
    };
  }
  const ready = getCondition(gitRepository, "Ready");
  const why = ready && ready.status !== "True" ? `; ${describeCondition(ready)}` : "";
  const unknown = relation === "unknown" ? " (ancestry unknown: the commit is not in the local clone)" : "";
  return {
    state: "waiting",
    detail: `artifact at ${revision ? short(commitOf(revision) ?? revision) : "(none)"}${unknown}, waiting for ${short(input.target)}${why}`,
    data: { revision },
  };
}

export const sourcePhase: PhaseDefinition = {
  name: "source",
  reads: ["gitRepository"],
  evaluate(input) {
    const { namespace, name } = input.targets.gitRepository;
    return evaluateSource(lookup(input.snapshot, "gitRepository", namespace, name), input);
  },
};
