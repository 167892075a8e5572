/**
 * planRelease on plain PlanInput (no git): the version decision, resume detection and the issue-12
 * rules as a table. The git-backed tests in test/integration/release-*.test.ts cover reading.
 */
import { describe, expect, it } from "vitest";
import { componentWithDefaults, defaultPolicy } from "./config.ts";
import { type PlanInput, planRelease } from "./planner.ts";
import type { GitCommit, TagRef } from "./read-repository.ts";

const root = componentWithDefaults({ name: "repository", path: "." });
const hex = (i: number) => i.toString(16).padStart(40, "0");

/** Commits newest first from messages (oldest last); each changes one file of the repository. */
function commits(...messages: string[]): GitCommit[] {
  return messages.map((message, i) => ({
    sha: hex(1000 + messages.length - i),
    parents: [hex(999 + messages.length - i)],
    date: "2026-03-01T00:00:00Z",
    message,
    files: [`src/f${i}.ts`],
  }));
}

function input(over: Partial<PlanInput> & { commits: GitCommit[] }): PlanInput {
  const tags: TagRef[] = [{ name: "v1.0.0", sha: hex(1), reachable: true }];
  return {
    component: root,
    components: [root],
    policy: defaultPolicy,
    state: { head: over.commits[0]?.sha ?? hex(1), branch: "main", shallow: false },
    tags,
    versionFile: "1.0.0\n",
    releaseCommits: {},
    hasGitHubToken: true,
    repository: "acme/home",
    serverUrl: "https://github.com",
    now: new Date("2026-03-04T12:00:00Z"),
    ...over,
  };
}

describe("planRelease on plain input", () => {
  it.each([
    ["feat:  two spaces (item 2)", commits("feat:  two spaces"), "1.1.0"],
    ["refactor!: hidden but breaking (item 3)", commits("refactor!: x"), "2.0.0"],
    ["deps only (item 4)", commits("deps: bump a", "deps: bump b"), undefined],
    ["deps and fix (item 4)", commits("deps: bump a", "fix: b"), "1.0.1"],
    ["squash body with a nested feat!: (item 8)", commits("chore: squash (#5)\n\nfeat!: y\nfix: z"), "2.0.0"],
    [
      "nested block (item 8)",
      commits("chore: deps\n\nBEGIN_NESTED_COMMIT\nfeat: nested\nEND_NESTED_COMMIT"),
      "1.1.0",
    ],
    [
      "squash revert in range (item 1)",
      commits('Revert "fix: x" (#7)\n\nReverts acme/home#6', "fix: x (#6)"),
      undefined,
    ],
    ["git revert by header in range (item 1)", commits('Revert "fix: y"', "fix: y"), undefined],
    [
      "trailer-only footers do not release (item 8)",
      commits("docs: x\n\nReviewed-by: Z\nSigned-off-by: Y"),
      undefined,
    ],
  ])("%s", (_name, list, version) => {
    const plan = planRelease(input({ commits: list }));
    expect(plan.release?.version).toBe(version);
    expect(plan.status).toBe(version ? "release" : "up-to-date");
  });

  it("a release commit with a squash suffix and no tag is resumed (item 7)", () => {
    const component = componentWithDefaults({
      name: "core",
      path: ".",
      commitMessage: "chore(main): release core {version}",
    });
    const list = commits("chore(main): release core 1.1.0 (#927)", "feat: x");
    const sha = list[0]?.sha as string;
    const plan = planRelease(
      input({
        component,
        components: [component],
        commits: list,
        releaseCommits: {
          [sha]: {
            message: list[0]?.message ?? "",
            versionFile: "1.1.0\n",
            changelog: "## 1.1.0\n",
            date: "",
          },
        },
      }),
    );
    expect(plan).toMatchObject({ status: "resume", release: { version: "1.1.0" }, commit: { sha } });
  });

  it("configured releaseAs wins over the commits, and is ignored once released (item 9)", () => {
    const forced = { ...root, releaseAs: "3.0.0" };
    expect(
      planRelease(input({ component: forced, components: [forced], commits: commits("fix: a") })).release
        ?.version,
    ).toBe("3.0.0");
    const done = { ...root, releaseAs: "1.0.0" };
    const plan = planRelease(input({ component: done, components: [done], commits: commits("fix: a") }));
    expect(plan.release?.version).toBe("1.0.1");
    expect(plan.findings.map((f) => f.rule)).toContain("release/release-as-done");
  });

  it("a tag whose GitHub release is missing plans as unfinished; a draft as publish (item 11)", () => {
    const files = {
      message: "chore(release): 1.0.0",
      versionFile: "1.0.0\n",
      changelog: "# C\n\n## 1.0.0 (2026-01-01)\n\n* a\n",
      date: "",
    };
    const base = input({ commits: [], releaseCommits: { [hex(1)]: files }, previousFiles: files });
    const missing = planRelease({ ...base, githubRelease: { tag: "v1.0.0", state: "missing" } });
    expect(missing).toMatchObject({
      status: "resume",
      unfinished: "create the release",
      summary: "repository: unfinished release 1.0.0: create the release",
      steps: ["draft-release", "publish-release"],
      release: { tag: "v1.0.0", notes: "## 1.0.0 (2026-01-01)\n\n* a\n" },
    });
    expect(planRelease({ ...base, githubRelease: { tag: "v1.0.0", state: "draft" } }).unfinished).toBe(
      "publish the draft release",
    );
    expect(planRelease({ ...base, githubRelease: { tag: "v1.0.0", state: "published" } }).status).toBe(
      "up-to-date",
    );
    const unknown = planRelease({
      ...base,
      githubRelease: { tag: "v1.0.0", state: "unknown", error: "503" },
    });
    expect(unknown.status).toBe("up-to-date");
    expect(unknown.findings.map((f) => f.rule)).toEqual(["release/github-unreadable"]);
  });

  it("no tag, but the version was released at a commit: tag it there (item 12)", () => {
    const plan = planRelease(
      input({
        tags: [],
        commits: commits("fix: after"),
        bootstrap: {
          sha: hex(7),
          source: "version-file",
          message: "chore: 0.1.0",
          versionFile: "0.1.0\n",
          changelog: "## 0.1.0\n\n* a\n",
          date: "",
        },
        versionFile: "0.1.0\n",
      }),
    );
    expect(plan).toMatchObject({
      status: "resume",
      release: { version: "0.1.0", tag: "v0.1.0", notes: "## 0.1.0\n\n* a\n" },
      commit: { sha: hex(7) },
    });
  });

  it("--prerelease beta after alpha continues from the stable tag (item 5)", () => {
    const tags: TagRef[] = [
      { name: "v1.0.0", sha: hex(1), reachable: true },
      { name: "v1.1.0-alpha.1", sha: hex(1002), reachable: true },
    ];
    // Commits since v1.0.0 (what snapshot.ts reads for the beta channel): the feat and the alpha's release commit.
    const list = commits("chore(release): 1.1.0-alpha.1", "feat: x");
    const plan = planRelease(
      input({ tags, commits: list, prerelease: "beta", versionFile: "1.1.0-alpha.1\n" }),
    );
    expect(plan.release?.version).toBe("1.1.0-beta.1");
  });
});
