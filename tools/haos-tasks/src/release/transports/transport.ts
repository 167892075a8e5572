import type { GitHubApi } from "../github-api.ts";
import type { ReleasePlan } from "../planner.ts";
import type { TransportName } from "./catalog.ts";

/**
 * How a plan reaches the remote. Every method checks the state it finds first, so a re-run after a
 * failure at any step continues where the last run stopped.
 */
export interface ReleaseTransport {
  name: TransportName;
  /** The GitHub releases API (both transports publish the release through it). */
  github: GitHubApi | undefined;
  /** Refuses what would make the release wrong: dirty tree, shallow clone, detached HEAD, behind. */
  preflight(plan: ReleasePlan): Promise<void>;
  /** Writes the planned files (git: into the working tree, atomically; github: nothing to do). */
  writeFiles(plan: ReleasePlan): Promise<void>;
  /** Makes the release commit and returns its SHA. */
  commit(plan: ReleasePlan): Promise<string>;
  /** Creates the release tag at `sha` (same SHA → done; another SHA → loud failure) and moves moving tags. */
  tag(plan: ReleasePlan, sha: string): Promise<void>;
  /** Publishes commit and tags to the remote (github: already there). */
  push(plan: ReleasePlan, sha: string): Promise<void>;
}
