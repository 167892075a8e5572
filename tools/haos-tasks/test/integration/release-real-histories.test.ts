/**
 * Issue 12, items 1–10 and 12: each case of the replay on real release-please / semantic-release
 * histories, reproduced on a scripted history in a real repository. Every test fails on the
 * planner before the fix it names.
 */
import { readFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import { planRelease, type ReleasePlan } from "../../src/release/planner.ts";
import { findComponent, readPlanInput } from "../../src/release/snapshot.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";

const repos: ScratchRepo[] = [];
afterAll(async () => {
  await Promise.all(repos.map((r) => r.remove()));
});

const twoComponents = (app = "", top = "") => `release:
  repository: acme/home
${top}  components:
    haos-enigma:
      path: apps/haos-enigma
      makeLatest: false
${app}    repository:
      path: .
      tags: ["v{version}"]
      commitMessage: "chore(release): {version}"
`;

/** A repository whose components are released at `version` (tags v… and haos-enigma-v…). */
async function releasedRepo(version: string, config = twoComponents()): Promise<ScratchRepo> {
  const repo = createScratchRepo("haos-release-real-");
  repos.push(repo);
  await repo.commit("chore: initial import", {
    ".haos-tasks.yaml": config,
    "version.txt": `${version}\n`,
    "CHANGELOG.md": "# Changelog\n",
    "apps/haos-enigma/version.txt": `${version}\n`,
    "apps/haos-enigma/vm.yaml": "memory: 4Gi\n",
    "tools/a.ts": "export {};\n",
  });
  await repo.tag(`v${version}`, { annotated: true });
  await repo.tag(`haos-enigma-v${version}`, { annotated: true });
  return repo;
}

async function plan(
  repo: ScratchRepo,
  component = "repository",
  options: { prerelease?: string } = {},
): Promise<ReleasePlan> {
  const config = parseConfig(await readFile(`${repo.dir}/.haos-tasks.yaml`, "utf8")).release;
  return planRelease(
    await readPlanInput(repo.dir, config, findComponent(config, component), {
      now: new Date("2026-03-04T12:00:00Z"),
      env: {},
      ...options,
    }),
  );
}

let n = 0;
const touch = () => ({ [`tools/file-${n++}.ts`]: `export const n = ${n};\n` });
const reason = (p: ReleasePlan, sha: string) => p.excluded.find((c) => c.sha === sha)?.reason ?? "";

describe("item 1: a GitHub revert merged with squash", () => {
  it("cancels the reverted pull request in the same range: nothing to release", async () => {
    const repo = await releasedRepo("1.0.0");
    const fix = await repo.commit("fix: x (#122)", touch());
    const revert = await repo.commit('Revert "fix: x" (#123)\n\nReverts acme/home#122', touch());
    const p = await plan(repo);
    expect(p.status).toBe("up-to-date");
    expect(reason(p, fix)).toBe(`reverted by ${revert.slice(0, 7)} in this release: both cancel`);
    expect(reason(p, revert)).toBe(`reverts ${fix.slice(0, 7)}, which is in this release too: both cancel`);
  });

  it("issue 25: a GitHub revert of a pull request released before releases nothing, as release-please", async () => {
    const repo = await releasedRepo("1.0.0");
    await repo.git("tag", "-d", "v1.0.0");
    await repo.commit("fix: x (#122)", touch());
    await repo.tag("v1.0.0", { annotated: true });
    const revert = await repo.commit('Revert "fix: x" (#123)\n\nReverts acme/home#122', touch());
    const p = await plan(repo);
    // release-please's parser cannot read the header: no entry, no bump (before: 1.0.1 with Reverts).
    expect(p.status).toBe("up-to-date");
    expect(reason(p, revert)).toMatch(/^GitHub revert of a change not in this range/);
    // A plain git revert (no ` (#n)`) still releases under Reverts, as conventional-changelog reads it.
    await repo.commit('Revert "fix: x"\n\nThis reverts commit 1234567.', touch());
    expect((await plan(repo)).release?.notes).toContain('### Reverts\n\n* Revert "fix: x" (');
  });
});

describe("item 2: two spaces after the colon", () => {
  it("`feat:  pass …` is a feature: 6.1.0, not 6.0.1", async () => {
    const repo = await releasedRepo("6.0.0");
    await repo.commit("fix: a", touch());
    const feat = await repo.commit("feat:  pass the token through", touch());
    const p = await plan(repo);
    expect(p.release?.version).toBe("6.1.0");
    expect(p.release?.notes).toContain(`* pass the token through (`);
    expect(p.considered.find((c) => c.sha === feat)?.description).toBe("pass the token through");
  });
});

describe("item 3: a breaking change in a hidden type", () => {
  it("is listed under BREAKING CHANGES and in its own type's section, as release-please does", async () => {
    const repo = await releasedRepo("1.4.0");
    await repo.commit("refactor!: drop the v1 config loader", touch());
    await repo.commit("build(deps)!: require Node 24", touch());
    const p = await plan(repo);
    expect(p.release?.version).toBe("2.0.0");
    const notes = p.release?.notes ?? "";
    expect(notes).toMatch(
      /### ⚠ BREAKING CHANGES\n\n\* \*\*deps:\*\* require Node 24\n\* drop the v1 config loader\n/,
    );
    expect(notes).toContain("### Code Refactoring\n\n* drop the v1 config loader (");
    expect(notes).toContain("### Build System\n\n* **deps:** require Node 24 (");
  });
});

describe("item 4: deps is hidden by default, as release-please", () => {
  it("a range of only deps: commits releases nothing; with a fix it is a patch without a Dependencies section", async () => {
    const repo = await releasedRepo("1.0.0");
    await repo.commit("deps: bump yaml to 2.8.1", touch());
    await repo.commit("deps(ci): bump actions/checkout", touch());
    const only = await plan(repo);
    expect(only.status).toBe("up-to-date");
    expect(only.bump?.reason).toContain("none of 2 commit(s) has a release effect");
    expect(only.considered[0]?.why).toBe("type deps has no release effect (hidden in the changelog)");
    await repo.commit("fix: y", touch());
    const withFix = await plan(repo);
    expect(withFix.release?.version).toBe("1.0.1");
    expect(withFix.release?.notes).not.toContain("Dependencies");
  });
});

describe("item 5: --prerelease beta after alpha tags on the same commits", () => {
  it("gives 1.2.0-beta.1, as semantic-release did", async () => {
    const repo = await releasedRepo("1.1.0");
    const feat = await repo.commit("feat: new", touch());
    // What apply leaves for the alpha: its release commit, tagged.
    await repo.commit("chore(release): 1.2.0-alpha.1", {
      "version.txt": "1.2.0-alpha.1\n",
      "CHANGELOG.md": "# Changelog\n\n## 1.2.0-alpha.1\n",
    });
    await repo.tag("v1.2.0-alpha.1", { annotated: true });
    expect((await plan(repo, "repository", { prerelease: "alpha" })).status).toBe("up-to-date");
    const beta = await plan(repo, "repository", { prerelease: "beta" });
    expect(beta.release).toMatchObject({ version: "1.2.0-beta.1", prerelease: true });
    expect(beta.considered.map((c) => c.sha)).toEqual([feat]);
    expect(beta.excluded.map((c) => c.reason)).toEqual(["release commit"]);
    expect(beta.release?.notes).toContain("compare/v1.1.0...v1.2.0-beta.1");
  });
});

describe("item 6 / issue 25: footers only in the last paragraph; only footers reference issues", () => {
  it("renders `, closes` for the footer block's `Fixes #1716`, not for `Resolves #967` mid-body, as release-please", async () => {
    const repo = await releasedRepo("2.3.0");
    const fix = await repo.commit(
      "fix(auth): keep the session on reload (#1720)\n\nResolves #967\n\nThe session was dropped when the page reloaded.\nFixes #1716\n\nReviewed-by: Z",
      touch(),
    );
    const p = await plan(repo);
    const considered = p.considered.find((c) => c.sha === fix);
    expect(considered?.footers).toEqual([
      { token: "Fixes", separator: " #", value: "1716" },
      { token: "Reviewed-by", separator: ": ", value: "Z" },
    ]);
    expect(p.release?.notes).toContain(
      `* **auth:** keep the session on reload ([#1720](https://github.com/acme/home/issues/1720)) ([${fix.slice(0, 7)}](https://github.com/acme/home/commit/${fix})), closes [#1716](https://github.com/acme/home/issues/1716)\n`,
    );
    // js-sdk core v1.3.0: `Fixes #956` followed by prose and a trailer is body text: no `, closes`.
    const body = await repo.commit(
      "fix: y\n\nFixes #956\n\nmore text\n\nSigned-off-by: A <a@example.invalid>",
      touch(),
    );
    expect((await plan(repo)).release?.notes).toContain(
      `* y ([${body.slice(0, 7)}](https://github.com/acme/home/commit/${body}))\n`,
    );
  });
});

describe("item 7: the release-commit pattern is not anchored at the end", () => {
  const config = twoComponents().replace(
    'commitMessage: "chore(release): {version}"',
    'commitMessage: "chore(main): release core {version}"',
  );

  it("a squash title `chore(main): release core 1.2.0 (#927)` is a release commit", async () => {
    const repo = await releasedRepo("1.1.0", config);
    await repo.commit("feat: x", touch());
    const squash = await repo.commit("chore(main): release core 1.2.0 (#927)", {
      "version.txt": "1.2.0\n",
      "CHANGELOG.md": "# Changelog\n\n## 1.2.0 (2026-03-01)\n\n* x\n",
    });
    const pending = await plan(repo);
    expect(pending.status).toBe("resume");
    expect(pending.release?.version).toBe("1.2.0");
    expect(pending.commit?.sha).toBe(squash);
    await repo.tag("v1.2.0", { annotated: true });
    await repo.commit("chore(main): release core 1.2.0 again (#930)", touch());
    expect(reason(await plan(repo), (await repo.git("rev-parse", "HEAD")).trim())).toBe("release commit");
  });
});

describe("item 8: squash bodies holding several conventional messages", () => {
  it("are split as release-please splits them: a nested `feat!:` makes 4.0.0", async () => {
    const repo = await releasedRepo("3.2.1");
    const squash = await repo.commit(
      "chore: merge the v4 branch (#501)\n\nfeat(api)!: remove the deprecated v3 endpoints\nfix: close the stream on error",
      touch(),
    );
    const p = await plan(repo);
    expect(p.release?.version).toBe("4.0.0");
    expect(p.considered.map((c) => [c.sha, c.type, c.nested])).toEqual([
      [squash, "chore", undefined],
      [squash, "feat", 1],
      [squash, "fix", 2],
    ]);
    expect(p.release?.notes).toContain("* **api:** remove the deprecated v3 endpoints\n");
    expect(p.release?.notes).toContain(
      `### Bug Fixes\n\n* close the stream on error ([${squash.slice(0, 7)}]`,
    );
  });
});

describe("item 9: per-component releaseAs", () => {
  it("forces haos-enigma to 1.0.0, then asks to remove it once released", async () => {
    const config = twoComponents('      releaseAs: "1.0.0"\n');
    const repo = await releasedRepo("0.3.0", config);
    await repo.commit("fix(vm): y", { "apps/haos-enigma/vm.yaml": "memory: 5Gi\n" });
    const first = await plan(repo, "haos-enigma");
    expect(first.release?.version).toBe("1.0.0");
    expect(first.bump?.reason).toBe("releaseAs: 1.0.0 in .haos-tasks.yaml");
    expect((await plan(repo, "repository")).status).toBe("up-to-date");
    await repo.tag("haos-enigma-v1.0.0", { annotated: true });
    await repo.commit("fix(vm): z", { "apps/haos-enigma/vm.yaml": "memory: 6Gi\n" });
    const after = await plan(repo, "haos-enigma");
    expect(after.release?.version).toBe("1.0.1");
    expect(after.findings.find((f) => f.rule === "release/release-as-done")?.hint).toContain(
      "remove releaseAs",
    );
  });
});

describe("item 10: messages in terms of the configured types and paths", () => {
  it("nothing to release names the configured releasing types", async () => {
    const config = `${twoComponents()}  types:
    - { type: feat, section: Features, bump: minor }
    - { type: security, section: Security, bump: patch }
    - { type: chore, section: Chores, hidden: true }
`;
    const repo = await releasedRepo("1.0.0", config);
    await repo.commit("chore: tidy", touch());
    await repo.commit("fix: not configured here", touch());
    const p = await plan(repo);
    expect(p.status).toBe("up-to-date");
    expect(p.bump?.reason).toBe(
      "nothing to release: none of 2 commit(s) has a release effect: the configured types that release are feat (minor), security (patch) or a breaking change",
    );
    expect(p.considered.map((c) => c.why)).toEqual([
      "type fix is not in the configured types: hidden, no release effect",
      "type chore has no release effect (hidden in the changelog)",
    ]);
  });

  it("says 'excluded' only of files the component's excludes drop, and names files no component owns", async () => {
    const config = `release:
  components:
    haos-enigma:
      path: apps/haos-enigma
      excludes: ["apps/haos-enigma/docs"]
`;
    const repo = await releasedRepo("1.0.0", config);
    const docs = await repo.commit("fix: doc typo", { "apps/haos-enigma/docs/a.md": "a\n" });
    const tool = await repo.commit("fix: tool", touch());
    const p = await plan(repo, "haos-enigma");
    expect(reason(p, docs)).toBe(
      "out of scope: files haos-enigma's excludes drop: apps/haos-enigma/docs/a.md",
    );
    expect(reason(p, tool)).toMatch(
      /^out of scope: files no component's path or extraPaths covers: tools\/file-/,
    );
  });

  it("a release: section with settings and no components means the default component", () => {
    const config = parseConfig("release:\n  bumpMinorPreMajor: true\n").release;
    expect(config.components.map((c) => [c.name, c.path])).toEqual([["repository", "."]]);
    expect(config.policy.bumpMinorPreMajor).toBe(true);
    expect(parseConfig("release:\n").release.components.map((c) => c.name)).toEqual(["repository"]);
  });
});

describe("item 12: the first release of an existing version", () => {
  const config = `release:
  repository: acme/home
  bumpMinorPreMajor: true
  components:
    haos-enigma:
      path: apps/haos-enigma
      tags: ["haos-enigma-v{version}", "haos-enigma@{version}"]
      commitMessage: "chore(release): haos-enigma {version}"
`;
  const changelog = "# Changelog\n\n## 0.1.0 (2026-02-01)\n\n### Features\n\n* the VM\n";

  async function untagged(extra = ""): Promise<{ repo: ScratchRepo; setter: string }> {
    const repo = createScratchRepo("haos-release-bootstrap-");
    repos.push(repo);
    await repo.commit("feat(vm): the VM", {
      ".haos-tasks.yaml": config + extra,
      "apps/haos-enigma/vm.yaml": "a\n",
    });
    const setter = await repo.commit("docs: version 0.1.0", {
      "apps/haos-enigma/version.txt": "0.1.0\n",
      "apps/haos-enigma/CHANGELOG.md": changelog,
    });
    await repo.commit("fix(vm): later", { "apps/haos-enigma/vm.yaml": "b\n" });
    return { repo, setter };
  }

  it("plans 'tag 0.1.0 at the commit that set it', not 0.2.0 with the 0.1.0 commits again", async () => {
    const { repo, setter } = await untagged();
    const p = await plan(repo, "haos-enigma");
    expect(p.status).toBe("resume");
    expect(p.summary).toBe(
      `haos-enigma: unfinished release 0.1.0: tag 0.1.0 at ${setter.slice(0, 7)}, the commit that set it`,
    );
    expect(p.release).toMatchObject({ version: "0.1.0", tag: "haos-enigma-v0.1.0" });
    expect(p.release?.notes).toBe("## 0.1.0 (2026-02-01)\n\n### Features\n\n* the VM\n");
    expect(p.commit?.sha).toBe(setter);
    expect(p.steps).toEqual(["tag", "push", "draft-release", "publish-release"]);
    expect(p.considered.map((c) => c.header)).toEqual(["fix(vm): later"]);
    // Once tagged, the next plan counts only what came after it.
    await repo.tag("haos-enigma-v0.1.0", { annotated: true, at: setter });
    const next = await plan(repo, "haos-enigma");
    expect(next.release?.version).toBe("0.1.1");
    expect(next.considered.map((c) => c.header)).toEqual(["fix(vm): later"]);
  });

  it("takes an explicit bootstrapSha (or lastReleaseSha) from the config", async () => {
    const repo = createScratchRepo("haos-release-bootstrap-");
    repos.push(repo);
    const first = await repo.commit("feat(vm): the VM", {
      "apps/haos-enigma/vm.yaml": "a\n",
      "apps/haos-enigma/version.txt": "0.1.0\n",
    });
    await repo.commit("fix(vm): later", { "apps/haos-enigma/vm.yaml": "b\n" });
    await repo.commit("chore: config", {
      ".haos-tasks.yaml": config.replace(
        '      commitMessage: "chore(release): haos-enigma {version}"\n',
        `      commitMessage: "chore(release): haos-enigma {version}"\n      lastReleaseSha: ${first}\n`,
      ),
    });
    const p = await plan(repo, "haos-enigma");
    expect(p.status).toBe("resume");
    expect(p.commit?.sha).toBe(first);
    expect(p.bump?.reason).toContain(
      `bootstrapSha ${first.slice(0, 7)} (release.components.haos-enigma) released 0.1.0`,
    );
    expect(
      () => parseConfig(`release:\n  components:\n    x:\n      path: x\n      bootstrapSha: nope\n`).release,
    ).toThrow(/bootstrapSha must be a commit SHA/);
  });
});
