import type { ScheduledPhase } from "../engine.ts";
import { addressPhase } from "./address.ts";
import { appPhase } from "./app.ts";
import { diskPhase } from "./disk.ts";
import { kustomizationPhase } from "./kustomization.ts";
import { releasesPhase } from "./releases.ts";
import { sourcePhase } from "./source.ts";
import type { PhaseName } from "./types.ts";
import { underlayPhase } from "./underlay.ts";
import { vmPhase } from "./vm.ts";

/** Default per-phase timeouts: an image import is the slow part. */
export const defaultPhaseTimeouts: Record<PhaseName, number> = {
  source: 5 * 60_000,
  kustomization: 15 * 60_000,
  releases: 10 * 60_000,
  disk: 30 * 60_000,
  vm: 10 * 60_000,
  address: 5 * 60_000,
  app: 10 * 60_000,
  underlay: 5 * 60_000,
};

/** The rollout phases in order, with their timeouts. */
export function buildPhases(
  appUrl: string,
  timeouts: Partial<Record<PhaseName, number>> = {},
): ScheduledPhase[] {
  return [
    sourcePhase,
    kustomizationPhase,
    releasesPhase,
    diskPhase,
    vmPhase,
    addressPhase,
    appPhase(appUrl),
    underlayPhase,
  ].map((phase) => ({ ...phase, timeoutMs: timeouts[phase.name] ?? defaultPhaseTimeouts[phase.name] }));
}
