/**
 * Differential test against the peers our users know: conventional-recommended-bump with the
 * conventionalcommits preset, and git-cliff --bumped-version (default configuration), on generated
 * histories in real repositories. Where we differ on purpose, the case is listed below with both
 * answers, so a change on either side shows up here.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { Bumper } from "conventional-recommended-bump";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parseReleaseConfig } from "../../src/release/config.ts";
import { planRelease } from "../../src/release/planner.ts";
import { findComponent, readPlanInput } from "../../src/release/snapshot.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { createScriptedRepo, type ScriptedRepo } from "../github-double/scripted-repo.ts";

const run = promisify(execFile);
const gitCliff = path.join(toolsRepoRoot, "node_modules", ".bin", "git-cliff");
type Level = "major" | "minor" | "patch" | "none";

const repos: ScriptedRepo[] = [];
afterAll(async () => {
  await Promise.all(repos.map((r) => r.remove()));
});

async function history(messages: readonly string[]): Promise<ScriptedRepo> {
  const repo = await createScriptedRepo("haos-release-diff-");
  repos.push(repo);
  await repo.commit("chore: start", { "version.txt": "1.2.3\n", "CHANGELOG.md": "# Changelog\n" });
  await repo.tag("v1.2.3", { annotated: true });
  let i = 0;
  for (const message of messages) await repo.commit(message, { [`src/f${i++}.ts`]: `${i}\n` });
  return repo;
}

function levelOf(version: string | undefined): Level {
  if (!version) return "none";
  if (version.startsWith("2.0.0")) return "major";
  if (version.startsWith("1.3.0")) return "minor";
  if (version.startsWith("1.2.4")) return "patch";
  throw new Error(`unexpected version ${version}`);
}

async function ours(repo: ScriptedRepo): Promise<Level> {
  const config = parseReleaseConfig("release: {}\n");
  const plan = planRelease(
    await readPlanInput(repo.dir, config, findComponent(config, "repository"), { env: {} }),
  );
  return levelOf(plan.release?.version);
}

async function conventionalRecommendedBump(repo: ScriptedRepo): Promise<Level> {
  const result = await new Bumper(repo.dir).loadPreset("conventionalcommits").bump();
  return "releaseType" in result && result.releaseType ? (result.releaseType as Level) : "none";
}

async function cliff(repo: ScriptedRepo): Promise<Level> {
  const { stdout } = await run(gitCliff, ["--bumped-version"], {
    cwd: repo.dir,
    env: { ...process.env, NO_COLOR: "1" },
  });
  const version = stdout.trim().replace(/^v/, "");
  return version === "1.2.3" ? "none" : levelOf(version);
}

/** Messages on which the specification, release-please and both peers agree. */
const agreed = [
  "feat: add a thing",
  "feat(api): add an endpoint",
  "fix: repair a thing",
  "fix(cli): exit code",
  "perf: faster",
  "feat!: drop the old API",
  "fix(api)!: change the error shape",
  "chore!: drop support for Node 6\n\nBREAKING CHANGE: use JavaScript features not available in Node 6.",
  "feat: allow provided config object to extend other configs\n\nBREAKING CHANGE: `extends` key in config file is now used for extending other config files",
  "fix: x\n\nBREAKING-CHANGE: synonym footer",
  "fix: prevent racing of requests\n\nIntroduce a request id.\n\nRemove timeouts.\n\nReviewed-by: Z\nRefs: #123",
  "docs: correct spelling of CHANGELOG",
  "chore: tidy",
  "refactor: move code",
  "test: more tests",
];
const releasable = /^(feat|fix|perf)|!:|BREAKING/;

describe("differential: same bump as the peers on generated histories", () => {
  it("agrees with conventional-recommended-bump (conventionalcommits) and git-cliff", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...agreed), { minLength: 1, maxLength: 6 }),
        async (messages) => {
          const repo = await history(messages);
          const [a, b] = await Promise.all([ours(repo), conventionalRecommendedBump(repo)]);
          expect(a, messages.join(" | ")).toBe(b);
          // git-cliff bumps patch for any commit; compare only where something is releasable.
          if (messages.some((m) => releasable.test(m)))
            expect(a, messages.join(" | ")).toBe(await cliff(repo));
        },
      ),
      { numRuns: 15, seed: 20261123 },
    );
    // 15 generated repositories, each planned by three tools: 5–8 s on this 2-core machine.
  }, 60_000);
});

describe("differential: intended differences, both answers pinned", () => {
  it.each([
    {
      why: "a revert of a commit in the same range cancels it (as conventional-recommended-bump; git-cliff still counts the feat)",
      messages: ["feat: short-lived", "REVERT_PREVIOUS"],
      ours: "none",
      crb: "none",
      cliff: "minor",
    },
    {
      why: "`breaking change:` in lower case is not breaking (spec §15); the preset matches note keywords case-insensitively",
      messages: ["fix: x\n\nbreaking change: lower case"],
      ours: "patch",
      crb: "major",
    },
    {
      why: "Release-As: forces the version (release-please semantics); the peers ignore it",
      messages: ["fix: x", "chore: release 3.0.0\n\nRelease-As: 3.0.0"],
      ours: "release-as 3.0.0",
      crb: "patch",
    },
    {
      why: "only hidden types (docs, chore, …): no release, as release-please; git-cliff bumps patch",
      messages: ["docs: a", "chore: b"],
      ours: "none",
      crb: "none",
      cliff: "patch",
    },
  ])("$why", async (c) => {
    const repo = await history([]);
    let last = "";
    for (const [i, m] of c.messages.entries()) {
      const message =
        m === "REVERT_PREVIOUS" ? `Revert "${c.messages[i - 1]}"\n\nThis reverts commit ${last}.` : m;
      last = await repo.commit(message, { [`src/r${i}.ts`]: `${i}\n` });
    }
    if (c.ours.startsWith("release-as")) {
      const config = parseReleaseConfig("release: {}\n");
      const plan = planRelease(
        await readPlanInput(repo.dir, config, findComponent(config, "repository"), { env: {} }),
      );
      expect(plan.release?.version).toBe(c.ours.split(" ")[1]);
    } else {
      expect(await ours(repo)).toBe(c.ours);
    }
    expect(await conventionalRecommendedBump(repo)).toBe(c.crb);
    if (c.cliff) expect(await cliff(repo)).toBe(c.cliff);
  });
});

/**
 * Where we differ from release-please on purpose: each case pins our answer (computed here) and
 * release-please's (read from its source and stated, since release-please needs GitHub to run),
 * and, where it can run here, conventional-recommended-bump's (semantic-release's analyzer preset).
 * `haos-tasks release --help` lists the same differences.
 */
describe("differential: deliberate differences from release-please, both answers pinned", () => {
  async function planOf(repo: ScriptedRepo) {
    const config = parseReleaseConfig("release: {}\n");
    return planRelease(
      await readPlanInput(repo.dir, config, findComponent(config, "repository"), { env: {} }),
    );
  }

  it("a squash-merged GitHub revert cancels the reverted pull request", async () => {
    const repo = await history([]);
    await repo.commit("fix: x (#122)", { "src/a.ts": "a\n" });
    await repo.commit('Revert "fix: x" (#123)\n\nReverts acme/home#122', { "src/a.ts": "b\n" });
    const answers = {
      ours: levelOf((await planOf(repo)).release?.version),
      // src/commit.ts: @conventional-commits/parser cannot parse `Revert "…"` (no `type:`), so the
      // revert is dropped and the fix releases a patch.
      releasePlease: "patch",
      crb: await conventionalRecommendedBump(repo),
    };
    expect(answers).toEqual({ ours: "none", releasePlease: "patch", crb: "patch" });
  });

  it("a merge commit's own message does not count; the merged commits do", async () => {
    const repo = await history([]);
    await repo.git("switch", "-q", "-c", "topic");
    await repo.commit("fix: on the branch", { "src/t.ts": "t\n" });
    await repo.git("switch", "-q", "main");
    await repo.git("merge", "-q", "--no-ff", "-m", "feat: merge the topic", "topic");
    const plan = await planOf(repo);
    // release-please reads every commit of the range, the merge's `feat:` message too: minor.
    const answers = { ours: levelOf(plan.release?.version), releasePlease: "minor" };
    expect(answers).toEqual({ ours: "patch", releasePlease: "minor" });
    expect(plan.excluded[0]?.reason).toBe("merge commit: its changes count through the merged commits");
  });

  it("a stable release after prereleases lists every change since the previous stable release", async () => {
    const repo = await history([]);
    await repo.commit("feat: early", { "src/a.ts": "a\n" });
    await repo.commit("chore(release): 1.3.0-rc.1", { "version.txt": "1.3.0-rc.1\n" });
    await repo.tag("v1.3.0-rc.1", { annotated: true });
    await repo.commit("fix: late", { "src/b.ts": "b\n" });
    const notes = (await planOf(repo)).release?.notes ?? "";
    const listed = (text: string) => ["early", "late"].filter((d) => text.includes(`* ${d} (`));
    // release-please's notes of 1.3.0 start at its latest release, v1.3.0-rc.1: only "late".
    expect({ ours: listed(notes), releasePlease: ["late"] }).toEqual({
      ours: ["early", "late"],
      releasePlease: ["late"],
    });
  });

  it("commits sort by scope then description by code unit, unscoped first, whatever the commit order", async () => {
    const order = async (messages: string[]) => {
      const repo = await history(messages);
      const notes = (await planOf(repo)).release?.notes ?? "";
      return notes
        .split("\n")
        .filter((l) => l.startsWith("* "))
        .map((l) => l.replace(/ \(.*$/, ""));
    };
    const expected = ["* Zebra", "* apple", "* **a:** one", "* **b:** two"];
    expect(await order(["fix(b): two", "fix: apple", "fix(a): one", "fix: Zebra"])).toEqual(expected);
    expect(await order(["fix: Zebra", "fix(a): one", "fix: apple", "fix(b): two"])).toEqual(expected);
    // release-please (compare-func over scope, subject) compares a null scope as equal to any
    // scope, so its order of these four depends on the order of the commits: no single answer.
  });
});
