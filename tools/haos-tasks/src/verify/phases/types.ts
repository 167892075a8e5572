import type { KubeObject } from "../../kube/client.ts";
import type { KindKey, ObjectRef } from "../../kube/resources.ts";
import type { ClusterSnapshot } from "../../kube/store.ts";
import type { RelationOf } from "../revision.ts";
import type { VerifyTargets } from "../targets.ts";

/** The rollout phases, in order. */
export const phaseNames = [
  "source",
  "kustomization",
  "releases",
  "disk",
  "vm",
  "address",
  "app",
  "underlay",
] as const;
export type PhaseName = (typeof phaseNames)[number];

/** What one evaluation of a phase concludes. Evaluators are pure: same input, same verdict. */
export type Verdict =
  | { state: "waiting"; detail: string; data?: Record<string, unknown> }
  | {
      state: "done";
      detail: string;
      data?: Record<string, unknown>;
      /** Done enough to go on, but must still settle (Flux health checks running). */
      provisional?: boolean;
      /** A descendant of the target was found instead of the target itself. */
      supersededBy?: string;
    }
  | { state: "skipped"; detail: string }
  | { state: "failed"; detail: string; hint?: string; data?: Record<string, unknown>; objects?: ObjectRef[] };

/** The result of an HTTP probe of the Home Assistant page (made at the edge, judged here). */
export interface AppProbe {
  url: string;
  /** HTTP status, when the server answered. */
  status?: number;
  looksLikeHomeAssistant: boolean;
  /** Connection error or what the answer looked like instead. */
  reason?: string;
  durationMs: number;
}

export interface PhaseInput {
  snapshot: ClusterSnapshot;
  /** The snapshot when the phase started: rising counters are measured against it. */
  baseline: ClusterSnapshot;
  targets: VerifyTargets;
  /** The commit to verify (full SHA). */
  target: string;
  relation: RelationOf;
  /** Latest app probe (app phase only). */
  probe?: AppProbe;
  /** DataVolume restarts with Running=False at which an import counts as failed. */
  importRestartLimit: number;
}

export interface PhaseDefinition {
  name: PhaseName;
  /** Kinds this phase reads: the engine keeps them freshest (polls, safety re-lists) while it runs. */
  reads: readonly KindKey[];
  evaluate(input: PhaseInput): Verdict;
}

/** A field path into a plain object; undefined when any step is missing. */
export function field(object: KubeObject | undefined, ...steps: string[]): unknown {
  let current: unknown = object;
  for (const step of steps) {
    if (!current || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** A string field, or undefined. */
export function text(object: KubeObject | undefined, ...steps: string[]): string | undefined {
  const value = field(object, ...steps);
  return typeof value === "string" ? value : undefined;
}

/** A number field, or undefined. */
export function num(object: KubeObject | undefined, ...steps: string[]): number | undefined {
  const value = field(object, ...steps);
  return typeof value === "number" ? value : undefined;
}

/** The first 7 characters of a commit, as git prints it. */
export function short(sha: string | undefined): string {
  return sha ? sha.slice(0, 7) : "(none)";
}

/** Combines per-object verdicts: any failure wins, then waiting, else done. */
export function combine(
  parts: Array<{ label: string; verdict: Verdict }>,
  doneDetail: (details: string) => string,
): Verdict {
  const failed = parts.find((p) => p.verdict.state === "failed");
  if (failed) return failed.verdict;
  const details = parts
    .map((p) => (parts.length > 1 ? `${p.label}: ${p.verdict.detail}` : p.verdict.detail))
    .join("; ");
  if (parts.some((p) => p.verdict.state === "waiting")) return { state: "waiting", detail: details };
  return { state: "done", detail: doneDetail(details) };
}
