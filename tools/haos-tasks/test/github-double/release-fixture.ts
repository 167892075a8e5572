/**
 * A release scenario: a scripted repository with a bare origin and the GitHub double over that
 * origin, plus `apply()` that plans and applies exactly as `haos-tasks release apply` does.
 */

import { loadConfig } from "../../src/config/load.ts";
import { type ApplyResult, applyRelease } from "../../src/release/apply.ts";
import { planRelease, type ReleasePlan } from "../../src/release/planner.ts";
import { findComponent, readPlanInput } from "../../src/release/snapshot.ts";
import { chooseTransport } from "../../src/release/transports/index.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";
import { type FaultPoint, withFault } from "./release-faults.ts";
import { type GitHubDouble, startGitHubDouble } from "./server.ts";

export const fixtureConfig = `release:
  components:
    haos-enigma:
      path: apps/haos-enigma
      makeLatest: false
    repository:
      path: .
      tags: ["v{version}"]
      majorTag: "v{major}"
      commitMessage: "chore(release): {version}"
`;

export const initialChangelog =
  "# Changelog\n\nNotes for every release.\n\n## 1.0.0 (2025-12-01)\n\n\n### Features\n\n* first ✓\n";

export interface ReleaseFixture {
  repo: ScratchRepo;
  origin: string;
  github: GitHubDouble;
  env: NodeJS.ProcessEnv;
  /** Plans `component` in `dir` (default: the fixture repo) and applies it. */
  apply(options?: {
    component?: string;
    transport?: "git" | "github";
    /** Dies at this step (InjectedFault), as a killed job would: to prove a re-run completes. */
    failAt?: FaultPoint;
    dir?: string;
  }): Promise<ApplyResult>;
  plan(component?: string, dir?: string): Promise<ReleasePlan>;
  close(): Promise<void>;
}

/** Both components at 1.0.0, then a feature in the app and a fix in the tools, pushed to origin. */
export async function createReleaseFixture(): Promise<ReleaseFixture> {
  const repo = createScratchRepo("haos-release-");
  await repo.commit("chore: initial import", {
    ".haos-tasks.yaml": fixtureConfig,
    "version.txt": "1.0.0\n",
    "CHANGELOG.md": initialChangelog,
    "apps/haos-enigma/version.txt": "1.0.0\n",
    "apps/haos-enigma/CHANGELOG.md": initialChangelog,
    "apps/haos-enigma/vm.yaml": "memory: 4Gi\n",
    "tools/cli.ts": "export {};\n",
  });
  await repo.tag("v1.0.0", { annotated: true });
  await repo.tag("haos-enigma-v1.0.0", { annotated: true });
  await repo.commit("feat(vm): 6 GiB of memory for add-ons", { "apps/haos-enigma/vm.yaml": "memory: 6Gi\n" });
  await repo.commit("fix(cli): exit 2 on bad flags\n\nRefs #7", { "tools/cli.ts": "export const x = 1;\n" });
  const origin = repo.addBareOrigin({ prefix: "haos-release-origin-" }).dir;
  const github = await startGitHubDouble({ bare: origin });
  const env: NodeJS.ProcessEnv = {
    GITHUB_TOKEN: github.token,
    GITHUB_REPOSITORY: github.repository,
    GITHUB_API_URL: github.url,
  };
  const plan = async (component = "haos-enigma", dir = repo.dir) => {
    const config = (await loadConfig(dir)).release;
    return planRelease(await readPlanInput(dir, config, findComponent(config, component), { env }));
  };
  return {
    repo,
    origin,
    github,
    env,
    plan,
    async apply(options = {}) {
      const dir = options.dir ?? repo.dir;
      const config = (await loadConfig(dir)).release;
      const p = await plan(options.component ?? "haos-enigma", dir);
      const transport = chooseTransport(options.transport ?? "git", {
        root: dir,
        config,
        env,
        ...(p.repository ? { repository: p.repository } : {}),
      });
      return applyRelease(p, options.failAt ? withFault(transport, options.failAt) : transport);
    },
    async close() {
      await github.close();
      await repo.remove();
      const { rm } = await import("node:fs/promises");
      await rm(origin, { recursive: true, force: true });
    },
  };
}
