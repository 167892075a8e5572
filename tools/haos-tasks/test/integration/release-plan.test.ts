import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { ReleaseConfig } from "../../src/release/config.ts";
import { planRelease, type ReleasePlan } from "../../src/release/planner.ts";
import { findComponent, readPlanInput } from "../../src/release/snapshot.ts";
import { runCli } from "../support/cli.ts";
import { cloneScratchRepo, createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";

const configText = (extra = "") => `release:
  repository: acme/home
${extra}  components:
    haos-enigma:
      path: apps/haos-enigma
      makeLatest: false
    repository:
      path: .
      tags: ["v{version}"]
      majorTag: "v{major}"
      commitMessage: "chore(release): {version}"
`;

const repos: ScratchRepo[] = [];
afterAll(async () => {
  await Promise.all(repos.map((r) => r.remove()));
});

/** A repository with both components released at `version` (tags v<version> and haos-enigma-v<version>). */
async function releasedRepo(version: string, extraConfig = ""): Promise<ScratchRepo> {
  const repo = createScratchRepo("haos-release-");
  repos.push(repo);
  await repo.commit("chore: initial import", {
    ".haos-tasks.yaml": configText(extraConfig),
    "version.txt": `${version}\n`,
    "CHANGELOG.md": "# Changelog\n",
    "apps/haos-enigma/version.txt": `${version}\n`,
    "apps/haos-enigma/kustomization.yaml": "resources: []\n",
    "tools/a.ts": "export {};\n",
  });
  await repo.tag(`v${version}`, { annotated: true });
  await repo.tag(`haos-enigma-v${version}`);
  return repo;
}

async function plan(
  repo: ScratchRepo,
  component = "repository",
  options: { prerelease?: string } = {},
): Promise<ReleasePlan> {
  const { readFile } = await import("node:fs/promises");
  const config: ReleaseConfig = parseConfig(await readFile(`${repo.dir}/.haos-tasks.yaml`, "utf8")).release;
  const input = await readPlanInput(repo.dir, config, findComponent(config, component), {
    now: new Date("2026-03-04T12:00:00Z"),
    env: {},
    ...options,
  });
  return planRelease(input);
}

let n = 0;
const touch = () => ({ [`tools/file-${n++}.ts`]: `export const n = ${n};\n` });

describe("every Conventional Commits 1.0.0 example, in a real repository at 1.4.2", () => {
  it.each([
    [
      "feat: allow provided config object to extend other configs\n\nBREAKING CHANGE: `extends` key in config file is now used for extending other config files",
      "2.0.0",
      "BREAKING CHANGE footer",
    ],
    ["feat!: send an email to the customer when a product is shipped", "2.0.0", "`!` in the header"],
    ["feat(api)!: send an email to the customer when a product is shipped", "2.0.0", "`!` in the header"],
    [
      "chore!: drop support for Node 6\n\nBREAKING CHANGE: use JavaScript features not available in Node 6.",
      "2.0.0",
      "`!` and BREAKING CHANGE footer",
    ],
    ["docs: correct spelling of CHANGELOG", undefined, "no release effect"],
    ["feat(lang): add Polish language", "1.5.0", "type feat"],
    [
      "fix: prevent racing of requests\n\nIntroduce a request id and a reference to latest request. Dismiss\nincoming responses other than from latest request.\n\nRemove timeouts which were used to mitigate the racing issue but are\nobsolete now.\n\nReviewed-by: Z\nRefs: #123",
      "1.4.3",
      "type fix",
    ],
  ])("%s → %s", async (message, next, why) => {
    const repo = await releasedRepo("1.4.2");
    const sha = await repo.commit(message, touch());
    const p = await plan(repo);
    expect(p.considered.map((c) => c.sha)).toEqual([sha]);
    expect(p.considered[0]?.why).toContain(why);
    expect(p.release?.version).toBe(next);
    expect(p.status).toBe(next ? "release" : "up-to-date");
    if (next === "2.0.0") {
      expect(p.release?.notes).toContain("### ⚠ BREAKING CHANGES");
      expect(p.release?.movingTags).toEqual(["v2"]);
    }
  });
});

describe("release plan on scripted histories", () => {
  it("scopes commits by path: the app's files go to haos-enigma only, the rest to the repository", async () => {
    const repo = await releasedRepo("1.0.0");
    const app = await repo.commit("feat(vm): more memory", { "apps/haos-enigma/vm.yaml": "a: 1\n" });
    const tool = await repo.commit("fix: tool crash", touch());
    const both = await repo.commit("fix: shared rename", {
      "apps/haos-enigma/vm.yaml": "a: 2\n",
      "tools/b.ts": "x\n",
    });
    const enigma = await plan(repo, "haos-enigma");
    expect(enigma.considered.map((c) => c.sha)).toEqual([both, app]);
    expect(enigma.excluded.find((c) => c.sha === tool)?.reason).toContain(
      "changes only files of repository: tools/",
    );
    expect(enigma.release).toMatchObject({
      version: "1.1.0",
      tag: "haos-enigma-v1.1.0",
      releaseName: "haos-enigma v1.1.0",
      makeLatest: false,
      movingTags: [],
    });
    const root = await plan(repo, "repository");
    expect(root.considered.map((c) => c.sha)).toEqual([both, tool]);
    expect(root.release).toMatchObject({
      version: "1.0.1",
      tag: "v1.0.1",
      movingTags: ["v1"],
      makeLatest: true,
    });
  });

  it("lists merges, non-conventional commits and revert pairs with the reason, and releases a revert of released work", async () => {
    const repo = await releasedRepo("2.0.0");
    const released = (await repo.git("rev-parse", "HEAD")).trim();
    await repo.git("switch", "-q", "-c", "topic");
    const topic = await repo.commit("fix: on a branch", touch());
    await repo.git("switch", "-q", "main");
    const feat = await repo.commit("feat: short-lived", touch());
    await repo.git("revert", "--no-edit", feat);
    const revertSha = (await repo.git("rev-parse", "HEAD")).trim();
    await repo.git("merge", "-q", "--no-ff", "-m", "Merge branch 'topic'", "topic");
    const merge = (await repo.git("rev-parse", "HEAD")).trim();
    const wip = await repo.commit("WIP stuff", touch());
    const oldRevert = await repo.commit(
      `revert: chore: initial import\n\nThis reverts commit ${released}.`,
      touch(),
    );
    const p = await plan(repo);
    const reason = (sha: string) => p.excluded.find((c) => c.sha === sha)?.reason ?? "";
    expect(reason(merge)).toContain("merge commit");
    expect(reason(wip)).toContain("not a Conventional Commit: no `type: ` prefix");
    expect(reason(feat)).toContain(`reverted by ${revertSha.slice(0, 7)}`);
    expect(reason(revertSha)).toContain(`reverts ${feat.slice(0, 7)}`);
    expect(p.considered.map((c) => c.sha)).toEqual([oldRevert, topic]);
    expect(p.release?.version).toBe("2.0.1");
    expect(p.release?.notes).toContain("### Reverts");
  });

  it("a revert of a revert restores the original change", async () => {
    const repo = await releasedRepo("1.0.0");
    const feat = await repo.commit("feat: comes back", touch());
    await repo.git("revert", "--no-edit", feat);
    const r1 = (await repo.git("rev-parse", "HEAD")).trim();
    await repo.git("revert", "--no-edit", r1);
    const p = await plan(repo);
    expect(p.considered.map((c) => c.sha)).toEqual([feat]);
    expect(p.release?.version).toBe("1.1.0");
  });

  it("honours Release-As, including on an empty commit, and refuses a version that goes backwards", async () => {
    const repo = await releasedRepo("0.9.0");
    await repo.commit("fix: x", touch());
    await repo.commit("chore: release 1.0.0\n\nRelease-As: 1.0.0");
    expect((await plan(repo)).release?.version).toBe("1.0.0");
    await repo.commit("chore: oops\n\nRelease-As: 0.1.0");
    const blocked = await plan(repo);
    expect(blocked.status).toBe("blocked");
    expect(blocked.findings[0]?.message).toContain("not greater than 0.9.0");
  });

  it("Release-As with --prerelease names the target of the prerelease: 2.0.0-rc.1, rc.2, then 2.0.0", async () => {
    const repo = await releasedRepo("1.4.0");
    await repo.commit("feat: next major\n\nRelease-As: 2.0.0", touch());
    const rc1 = await plan(repo, "repository", { prerelease: "rc" });
    expect(rc1.release).toMatchObject({ version: "2.0.0-rc.1", prerelease: true });
    expect(rc1.bump?.reason).toContain("as a rc prerelease");
    await repo.tag("v2.0.0-rc.1");
    await repo.commit("fix: follow-up", touch());
    expect((await plan(repo, "repository", { prerelease: "rc" })).release?.version).toBe("2.0.0-rc.2");
    await repo.tag("v2.0.0-rc.2");
    expect((await plan(repo)).release?.version).toBe("2.0.0");
  });

  it("Release-As naming a prerelease is taken verbatim, refused with another --prerelease, and graduates once tagged", async () => {
    const repo = await releasedRepo("1.4.0");
    await repo.commit("chore: next\n\nRelease-As: 2.0.0-rc.1");
    expect((await plan(repo)).release?.version).toBe("2.0.0-rc.1");
    const beta = await plan(repo, "repository", { prerelease: "beta" });
    expect(beta.status).toBe("blocked");
    expect(beta.findings[0]?.message).toContain("--prerelease asks for 'beta'");
    await repo.tag("v2.0.0-rc.1");
    const stable = await plan(repo);
    expect(stable.release?.version).toBe("2.0.0");
    expect(stable.bump?.reason).toContain("graduates v2.0.0-rc.1");
  });

  it("applies the pre-1.0 policy options", async () => {
    const plain = await releasedRepo("0.3.0");
    await plain.commit("feat!: new API", touch());
    expect((await plan(plain)).release?.version).toBe("1.0.0");
    const minor = await releasedRepo(
      "0.3.0",
      "  bumpMinorPreMajor: true\n  bumpPatchForMinorPreMajor: true\n",
    );
    await minor.commit("feat!: new API", touch());
    const p = await plan(minor);
    expect(p.release?.version).toBe("0.4.0");
    expect(p.bump?.reason).toContain("bumpMinorPreMajor");
    const patch = await releasedRepo("0.4.0", "  bumpPatchForMinorPreMajor: true\n");
    await patch.commit("feat: only a feature", touch());
    expect((await plan(patch)).release?.version).toBe("0.4.1");
  });

  it("counts prereleases rc.1, rc.2 and graduates to the stable version", async () => {
    const repo = await releasedRepo("1.1.0");
    await repo.commit("feat: new", touch());
    expect((await plan(repo, "repository", { prerelease: "rc" })).release?.version).toBe("1.2.0-rc.1");
    await repo.tag("v1.2.0-rc.1");
    await repo.commit("fix: follow-up", touch());
    const rc2 = await plan(repo, "repository", { prerelease: "rc" });
    expect(rc2.release).toMatchObject({
      version: "1.2.0-rc.2",
      prerelease: true,
      makeLatest: false,
      movingTags: [],
    });
    await repo.tag("v1.2.0-rc.2");
    const stable = await plan(repo);
    expect(stable.release?.version).toBe("1.2.0");
    expect(stable.bump?.reason).toContain("graduates v1.2.0-rc.2");
    await repo.commit("feat!: breaks", touch());
    expect((await plan(repo)).release?.version).toBe("2.0.0");
  });

  it("a stable release after prereleases lists every change since the previous stable version", async () => {
    const repo = await releasedRepo("1.1.0");
    const feat = await repo.commit("feat: new", touch());
    // What apply leaves behind for each prerelease: a release commit with its files, tagged.
    await repo.commit("chore(release): 1.2.0-rc.1", {
      "version.txt": "1.2.0-rc.1\n",
      "CHANGELOG.md": "# Changelog\n\n## 1.2.0-rc.1\n",
    });
    await repo.tag("v1.2.0-rc.1", { annotated: true });
    const fix = await repo.commit("fix: follow-up", touch());
    await repo.commit("chore(release): 1.2.0-rc.2", {
      "version.txt": "1.2.0-rc.2\n",
      "CHANGELOG.md": "# Changelog\n\n## 1.2.0-rc.2\n\n## 1.2.0-rc.1\n",
    });
    await repo.tag("v1.2.0-rc.2", { annotated: true });
    const rc3 = await plan(repo, "repository", { prerelease: "rc" });
    expect(rc3.status).toBe("up-to-date");
    const stable = await plan(repo);
    expect(stable.status).toBe("release");
    expect(stable.release?.version).toBe("1.2.0");
    expect(stable.considered.map((c) => c.sha)).toEqual([fix, feat]);
    expect(stable.release?.notes).toContain("compare/v1.1.0...v1.2.0");
    expect(stable.release?.notes).toContain("new");
    expect(stable.release?.notes).toContain("follow-up");
    expect(stable.bump?.reason).toContain("graduates v1.2.0-rc.2");
  });

  it("a backport below an already tagged higher version is not marked latest", async () => {
    const repo = await releasedRepo("1.4.0");
    await repo.git("switch", "-q", "-c", "next");
    await repo.commit("feat!: the 2.x line", touch());
    await repo.tag("v2.0.0", { annotated: true });
    await repo.tag("v2.1.0-rc.1");
    await repo.git("switch", "-q", "main");
    expect((await plan(repo)).status).toBe("up-to-date");
    await repo.commit("fix: backported", touch());
    const backport = await plan(repo);
    expect(backport.release).toMatchObject({ version: "1.4.1", prerelease: false, makeLatest: false });
    await repo.git("tag", "-d", "v2.0.0");
    // A higher prerelease alone does not take "latest" (GitHub never marks a prerelease latest).
    expect((await plan(repo)).release).toMatchObject({ version: "1.4.1", makeLatest: true });
  });

  it("reads the name@version tag form and detects version file drift", async () => {
    const repo = await releasedRepo("1.0.0");
    await repo.git("tag", "-d", "haos-enigma-v1.0.0");
    await repo.commit("fix(vm): y", { "apps/haos-enigma/vm.yaml": "b\n" });
    await repo.tag("haos-enigma@1.3.0", { at: "HEAD~1" });
    const drift = await plan(repo, "haos-enigma");
    expect(drift.previous?.tag).toBe("haos-enigma@1.3.0");
    expect(drift.status).toBe("blocked");
    expect(drift.findings.find((f) => f.rule === "release/version-drift")).toMatchObject({
      file: "apps/haos-enigma/version.txt",
      line: 1,
      message: expect.stringContaining("says 1.0.0 but the latest tag haos-enigma@1.3.0 says 1.3.0"),
    });
  });

  it("inserts the CHANGELOG section above the newest release and leaves every existing byte", async () => {
    const repo = await releasedRepo("1.0.0");
    const existing =
      "# Changelog\n\nIntro ✓ text.\n\n## [1.0.0](https://github.com/acme/home/compare/v0.9.0...v1.0.0) (2025-01-01)\n\n\n### Features\n\n* old\n";
    await repo.commit("docs: changelog history", { "CHANGELOG.md": existing });
    // The preset links #41 in the subject and renders the footer's reference as ", closes".
    const fix = await repo.commit("fix(cli): handle #41 properly\n\nCloses #42", touch());
    const p = await plan(repo);
    const change = p.files.find((f) => f.path === "CHANGELOG.md");
    expect(change?.insert?.at).toBe(existing.indexOf("## [1.0.0]"));
    expect(change?.insert?.text).toBe(
      `## [1.0.1](https://github.com/acme/home/compare/v1.0.0...v1.0.1) (2026-03-04)\n\n\n### Bug Fixes\n\n* **cli:** handle [#41](https://github.com/acme/home/issues/41) properly ([${fix.slice(0, 7)}](https://github.com/acme/home/commit/${fix})), closes [#42](https://github.com/acme/home/issues/42)\n\n`,
    );
    expect(p.files.find((f) => f.path === "version.txt")).toMatchObject({
      content: "1.0.1\n",
      summary: "1.0.0 → 1.0.1",
    });
  });

  it("puts the section below Unreleased, past a fenced example heading, in the file's CRLF endings", async () => {
    const repo = await releasedRepo("1.0.0");
    const existing =
      "# Changelog\r\n\r\nEach release reads:\r\n\r\n```md\r\n## 9.9.9 (example)\r\n```\r\n\r\n## [Unreleased]\r\n\r\n- soon\r\n\r\n## [1.0.0] - 2025-01-01\r\n\r\n- old\r\n";
    await repo.commit("docs: changelog history", { "CHANGELOG.md": existing });
    await repo.commit("fix: crlf", touch());
    const p = await plan(repo);
    const change = p.files.find((f) => f.path === "CHANGELOG.md");
    expect(change?.insert?.at).toBe(existing.indexOf("## [1.0.0]"));
    expect(change?.insert?.text).toMatch(/^## \[1\.0\.1\]\(.*\) \(2026-03-04\)\r\n/);
    expect(change?.insert?.text).not.toMatch(/[^\r]\n/);
  });

  it("refuses to plan on a shallow clone and names fetch-depth: 0", async () => {
    const repo = await releasedRepo("1.0.0");
    await repo.commit("fix: a", touch());
    await repo.commit("fix: b", touch());
    const shallow = cloneScratchRepo(`file://${repo.dir}`, { prefix: "haos-release-shallow-", depth: 1 });
    repos.push(shallow);
    const p = await plan(shallow);
    expect(p.status).toBe("blocked");
    expect(p.findings[0]?.hint).toContain("fetch-depth: 0");
  });

  it("`release plan --format json` through the CLI", async () => {
    const repo = await releasedRepo("1.0.0");
    await repo.commit("feat: json", touch());
    const { code, stdout } = await runCli(
      ["release", "plan", "--component", "repository", "--format", "json"],
      {
        cwd: repo.dir,
      },
    );
    expect(code).toBe(0);
    const { plans } = JSON.parse(stdout) as { plans: ReleasePlan[] };
    expect(plans[0]).toMatchObject({
      component: "repository",
      status: "release",
      release: { version: "1.1.0" },
    });
    expect(plans[0]?.steps).toEqual([
      "write-files",
      "commit",
      "tag",
      "push",
      "draft-release",
      "publish-release",
    ]);
  });

  it("warns when apply would refuse for want of a token or repository, naming exactly which", async () => {
    const repo = await releasedRepo("1.0.0");
    await repo.commit("fix: needs publishing", touch());
    const access = (p: ReleasePlan) => p.findings.filter((f) => f.rule === "release/github-access");
    const noToken = access(await plan(repo));
    expect(noToken).toEqual([
      expect.objectContaining({
        severity: "warning",
        message:
          "release apply refuses without GitHub access: no GitHub token (neither GITHUB_TOKEN nor GH_TOKEN is set)",
        hint: expect.stringContaining("set GITHUB_TOKEN"),
      }),
    ]);
    expect(noToken[0]?.hint).not.toContain("repository");
    // Without release.repository, GITHUB_REPOSITORY or a github.com remote, and with a token:
    await repo.commit("chore: no repository", {
      ".haos-tasks.yaml": configText().replace("  repository: acme/home\n", ""),
    });
    const config = parseConfig(configText().replace("  repository: acme/home\n", "")).release;
    const withToken = planRelease(
      await readPlanInput(repo.dir, config, findComponent(config, "repository"), {
        env: { GITHUB_TOKEN: "t" },
      }),
    );
    expect(access(withToken).map((f) => [f.message, f.hint])).toEqual([
      [
        "release apply refuses without GitHub access: no GitHub repository (release.repository and GITHUB_REPOSITORY are not set, and the remote is not a github.com URL)",
        "set `repository: owner/name` under release: in .haos-tasks.yaml, or GITHUB_REPOSITORY=owner/name",
      ],
    ]);
    const { code, stdout } = await runCli(["release", "plan", "--component", "repository"], {
      cwd: repo.dir,
    });
    expect(code).toBe(0);
    expect(stdout).toContain(
      "warning: release apply refuses without GitHub access: no GitHub token (neither GITHUB_TOKEN nor GH_TOKEN is set) and no GitHub repository",
    );
    // Nothing to release: nothing to refuse.
    const quiet = await releasedRepo("1.0.0");
    expect(access(await plan(quiet))).toEqual([]);
  });

  it("unknown component is a usage error naming the known ones", async () => {
    const repo = await releasedRepo("1.0.0");
    let stderr = "";
    const code = await main(["release", "plan", "--component", "nope"], {
      stdout: () => {},
      stderr: (t) => {
        stderr += t;
      },
      env: {},
      cwd: repo.dir,
      isTTY: false,
    });
    expect(code).toBe(2);
    expect(stderr).toContain("use one of: haos-enigma, repository");
  });
});
