/**
 * Kubernetes conditions the way fluxcd/pkg runtime/conditions reads them: a small vocabulary,
 * pure functions, and a condition counts only for the generation it was observed at.
 */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

/** Flux's reasons on Ready=False that mean "the target will not be applied as is". */
export const FluxReason = {
  ArtifactFailed: "ArtifactFailed",
  BuildFailed: "BuildFailed",
  ReconciliationFailed: "ReconciliationFailed",
  PruneFailed: "PruneFailed",
  HealthCheckFailed: "HealthCheckFailed",
  DependencyNotReady: "DependencyNotReady",
  ReconciliationSucceeded: "ReconciliationSucceeded",
  Progressing: "Progressing",
} as const;

interface WithStatus {
  metadata?: { generation?: number };
  status?: unknown;
}

/** The object's status.conditions as typed values (malformed entries skipped). */
export function conditionsOf(object: WithStatus | undefined): Condition[] {
  const list = (object?.status as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (c): c is Condition =>
      Boolean(c) && typeof (c as Condition).type === "string" && typeof (c as Condition).status === "string",
  );
}

/** The condition of a type, or undefined. */
export function getCondition(object: WithStatus | undefined, type: string): Condition | undefined {
  return conditionsOf(object).find((c) => c.type === type);
}

/** status.observedGeneration, when the controller writes it. */
export function observedGeneration(object: WithStatus | undefined): number | undefined {
  const og = (object?.status as { observedGeneration?: unknown } | undefined)?.observedGeneration;
  return typeof og === "number" ? og : undefined;
}

/**
 * True when the controller has seen the current spec: the condition's (or else the status's)
 * observedGeneration equals metadata.generation. Objects without generations count as current.
 */
export function isObservedCurrent(object: WithStatus | undefined, condition?: Condition): boolean {
  const generation = object?.metadata?.generation;
  if (generation === undefined) return true;
  const observed = condition?.observedGeneration ?? observedGeneration(object);
  return observed === generation;
}

/**
 * ` (observed at generation 2, spec is at 3)` when the condition is from an older spec, else "":
 * says why a failure-looking condition is only waited on.
 */
export function staleNote(object: WithStatus | undefined, condition?: Condition): string {
  if (isObservedCurrent(object, condition)) return "";
  const observed = condition?.observedGeneration ?? observedGeneration(object);
  return ` (observed at generation ${observed ?? "(none)"}, spec is at ${object?.metadata?.generation})`;
}

/** `Ready=False (BuildFailed): message`, for details and the condition table. */
export function describeCondition(condition: Condition | undefined, type = condition?.type ?? "?"): string {
  if (!condition) return `${type} not reported`;
  const reason = condition.reason ? ` (${condition.reason})` : "";
  const message = condition.message ? `: ${firstLine(condition.message)}` : "";
  return `${condition.type}=${condition.status}${reason}${message}`;
}

/** The first line of a controller message, shortened: Flux messages can be pages long. */
export function firstLine(text: string, max = 240): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
