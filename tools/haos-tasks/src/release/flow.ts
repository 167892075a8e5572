/**
 * The release flow both shells run (`haos-tasks release plan|apply`, the Action's `version-bump`
 * and `release`): find the repository and its components, then one component at a time plan
 * against the HEAD the previous release left → stop if blocked → choose the transport → apply.
 * It yields each component's outcome as data; the shells render them and map them to exit codes
 * or step outputs.
 */

import { loadConfig } from "../config/load.ts";
import { HintedError } from "../errors.ts";
import { repositoryRoot } from "../git/repository.ts";
import type { PhaseEvent } from "../phases.ts";
import { type ApplyResult, applyRelease } from "./apply.ts";
import type { ReleaseConfig } from "./config.ts";
import type { ReleasePlan } from "./planner.ts";
import { findComponent, readPlanInput } from "./snapshot.ts";
import type { TransportChoice } from "./transports/catalog.ts";
import { chooseTransport } from "./transports/index.ts";
import { planWorkspace } from "./workspace.ts";

export interface ReleaseFlowOptions {
  /** A directory inside the repository (its top level is the root). */
  cwd: string;
  /** The fix when `cwd` is not inside a git repository, in the shell's words. */
  outsideRepositoryHint: string;
  /** One component (default: every component, in the configuration's order). */
  component?: string;
  /** A prerelease identifier (isPrereleaseId): 1.2.0-rc.1, rc.2, … */
  prerelease?: string;
  /**
   * Where the GitHub credentials and target come from: GITHUB_TOKEN or GH_TOKEN,
   * GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_ACTIONS (for `auto`).
   */
  env: NodeJS.ProcessEnv;
  /** Plan only: every component's plan, nothing applied (blocked plans do not stop the run). */
  dryRun?: boolean;
  /** How to commit and tag (default: release.transport). */
  transport?: TransportChoice;
  /** Each apply step of each component, as it happens. */
  onEvent?: (component: string, event: PhaseEvent) => void;
}

/** What happened to one component. */
export type ReleaseOutcome =
  /** dryRun: the plan (its status says release, resume, up-to-date or blocked). */
  | { status: "planned"; plan: ReleasePlan }
  /** The plan is blocked: nothing was applied and the run stops here. */
  | { status: "blocked"; plan: ReleasePlan }
  /** Applied: released, up to date, or another run published it. */
  | { status: "applied"; plan: ReleasePlan; result: ApplyResult; steps: string[] }
  /** A step (or choosing the transport) failed with an expected error; the run stops here. */
  | { status: "failed"; plan: ReleasePlan; error: HintedError; steps: string[] };

/** A prerelease identifier: alphanumerics and hyphens, not all digits (rc, beta, alpha-1). */
export function isPrereleaseId(value: string): boolean {
  return /^[0-9A-Za-z-]+$/.test(value) && !/^\d+$/.test(value);
}

/** One progress line: `[component] phase: status — detail`. */
export function progressLine(component: string, event: PhaseEvent): string {
  return `[${component}] ${event.phase}: ${event.status} — ${event.detail}`;
}

/**
 * Plans (and unless dryRun applies) each component in turn, yielding its outcome. A blocked plan
 * or a failed step ends the run after its outcome. Errors before a component has a plan — not a
 * repository, a bad configuration, an unknown component, a plan that cannot be read — are thrown,
 * as are unexpected errors.
 */
export async function* releaseComponents(options: ReleaseFlowOptions): AsyncGenerator<ReleaseOutcome> {
  const root = await repositoryRoot(options.cwd, options.outsideRepositoryHint);
  const { release: config } = await loadConfig(root);
  const names =
    options.component !== undefined
      ? [findComponent(config, options.component).name]
      : config.components.map((c) => c.name);
  for (const name of names) {
    // Planned only now: against the HEAD the previous component's release left.
    const plan = await planComponent(root, config, name, options);
    if (options.dryRun) {
      yield { status: "planned", plan };
      continue;
    }
    if (plan.status === "blocked") {
      yield { status: "blocked", plan };
      return;
    }
    const steps: string[] = [];
    try {
      const transport = chooseTransport(options.transport ?? config.transport, {
        root,
        config,
        env: options.env,
        ...(plan.repository ? { repository: plan.repository } : {}),
      });
      const result = await applyRelease(plan, transport, {
        onEvent: (event) => {
          if (event.status === "succeeded") steps.push(event.phase);
          options.onEvent?.(plan.component, event);
        },
      });
      yield { status: "applied", plan, result, steps };
    } catch (error) {
      if (!(error instanceof HintedError)) throw error;
      yield { status: "failed", plan, error, steps };
      return;
    }
  }
}

function planComponent(
  root: string,
  config: ReleaseConfig,
  name: string,
  options: ReleaseFlowOptions,
): Promise<ReleasePlan> {
  return planWorkspace(config, name, (n) =>
    readPlanInput(root, config, findComponent(config, n), {
      env: options.env,
      ...(options.prerelease !== undefined ? { prerelease: options.prerelease } : {}),
    }),
  );
}

/** Every outcome of a run, collected (for the shells that report once at the end). */
export async function collect(outcomes: AsyncIterable<ReleaseOutcome>): Promise<ReleaseOutcome[]> {
  const all: ReleaseOutcome[] = [];
  for await (const outcome of outcomes) all.push(outcome);
  return all;
}
