/**
 * The vocabulary of long operations (verify's rollout phases, release apply steps): each step
 * emits PhaseEvents; reporters render them and nothing else.
 */
export type PhaseStatus = "pending" | "running" | "progress" | "succeeded" | "failed" | "timeout" | "skipped";

export interface PhaseEvent {
  phase: string;
  status: PhaseStatus;
  /** One line a person can read: what is happening or what went wrong. */
  detail: string;
  /** Milliseconds since the operation started. */
  elapsed: number;
  /** Optional structured data (object names, revision, progress percent). */
  data?: Record<string, unknown>;
}
