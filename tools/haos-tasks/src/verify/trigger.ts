import type { KubeObject } from "../kube/client.ts";
import { text } from "./phases/types.ts";

const requestedAtAnnotation = "reconcile.fluxcd.io/requestedAt";

/** What the verifier last asked a Flux object to do. */
export interface ReconcileRequest {
  value: string;
  at: number;
}

/**
 * Whether to (re-)request a reconcile of a Flux object that has not reached the target yet: once
 * at first; again when the controller handled our request but fetched an older HEAD (the push
 * race), after `retryMs`; and again after `staleMs` when it has not handled it at all.
 */
export function shouldRequestReconcile(
  object: KubeObject | undefined,
  last: ReconcileRequest | undefined,
  now: number,
  retryMs = 3_000,
  staleMs = 30_000,
): boolean {
  if (!object) return false;
  if (!last) return true;
  const handled = text(object, "status", "lastHandledReconcileAt") === last.value;
  return now - last.at >= (handled ? retryMs : staleMs);
}

/** The merge patch that asks Flux to reconcile now (what `flux reconcile` sends). */
export function reconcilePatch(value: string): { metadata: { annotations: Record<string, string> } } {
  return { metadata: { annotations: { [requestedAtAnnotation]: value } } };
}
