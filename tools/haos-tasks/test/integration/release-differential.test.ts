/**
 * Differential test against the peers our users know: conventional-recommended-bump with the
 * conventionalcommits preset, and git-cliff --bumped-version (default configuration), on generated
 * histories in real repositories. Where we differ on purpose, the case is listed below with both
 * answers, so a change on either side shows up here.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { analyzeCommits } from "@semantic-release/commit-analyzer";
import { Bumper } from "conventional-recommended-bump";
import fc from "fast-check";
import { DefaultChangelogNotes } from "release-please/build/src/changelog-notes/default.js";
import { parseConventionalCommits } from "release-please/build/src/commit.js";
import { SentenceCase } from "release-please/build/src/plugins/sentence-case.js";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import { planRelease } from "../../src/release/planner.ts";
import { findComponent, readPlanInput } from "../../src/release/snapshot.ts";
import { toolsRepoRoot } from "../../src/tools/paths.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";

const run = promisify(execFile);
const gitCliff = path.join(toolsRepoRoot, "node_modules", ".bin", "git-cliff");
type Level = "major" | "minor" | "patch" | "none";

const repos: ScratchRepo[] = [];
afterAll(async () => {
  await Promise.all(repos.map((r) => r.remove()));
});

async function history(messages: readonly string[]): Promise<ScratchRepo> {
  const repo = createScratchRepo("haos-release-diff-");
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

async function ours(repo: ScratchRepo): Promise<Level> {
  const config = parseConfig("release: {}\n").release;
  const plan = planRelease(
    await readPlanInput(repo.dir, config, findComponent(config, "repository"), { env: {} }),
  );
  return levelOf(plan.release?.version);
}

async function conventionalRecommendedBump(repo: ScratchRepo): Promise<Level> {
  const result = await new Bumper(repo.dir).loadPreset("conventionalcommits").bump();
  return "releaseType" in result && result.releaseType ? (result.releaseType as Level) : "none";
}

async function cliff(repo: ScratchRepo): Promise<Level> {
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
      const config = parseConfig("release: {}\n").release;
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
  async function planOf(repo: ScratchRepo) {
    const config = parseConfig("release: {}\n").release;
    return planRelease(
      await readPlanInput(repo.dir, config, findComponent(config, "repository"), { env: {} }),
    );
  }

  it("a squash-merged GitHub revert cancels the reverted pull request in the same range", async () => {
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
});

/**
 * Issue 25: release-please's own library (release-please 17.11.2 from npm: parseConventionalCommits,
 * the SentenceCase plugin and DefaultChangelogNotes, which runs its conventionalcommits preset and
 * conventional-changelog-writer) is the oracle for the notes of a scripted history. The commits go
 * in as release-please reads them from GitHub: newest first, with their full messages. Each case
 * also states the expected lines, so it cannot pass vacuously; each failed on the planner before
 * issue 25.
 */
describe("differential: the notes release-please's own library writes for the same commits", () => {
  const config = (extra = "") => `release:\n  repository: acme/home\n${extra}`;

  async function repoWith(messages: readonly string[], extra = ""): Promise<ScratchRepo> {
    const repo = createScratchRepo("haos-release-rp-");
    repos.push(repo);
    await repo.commit("chore: start", {
      ".haos-tasks.yaml": config(extra),
      "version.txt": "1.2.3\n",
      "CHANGELOG.md": "# Changelog\n",
    });
    await repo.tag("v1.2.3", { annotated: true });
    let i = 0;
    for (const message of messages) await repo.commit(message, { [`src/f${i++}.ts`]: `${i}\n` });
    return repo;
  }

  async function ourNotes(repo: ScratchRepo, extra = ""): Promise<{ version?: string; notes: string }> {
    const parsed = parseConfig(config(extra)).release;
    const plan = planRelease(
      await readPlanInput(repo.dir, parsed, findComponent(parsed, "repository"), { env: {} }),
    );
    return {
      ...(plan.release ? { version: plan.release.version } : {}),
      notes: plan.release?.notes ?? "",
    };
  }

  /** release-please's notes for the commits after v1.2.3, heading line left out (its date is today's). */
  async function releasePleaseNotes(
    repo: ScratchRepo,
    version: string,
    options: { sentenceCase?: boolean } = {},
  ): Promise<string> {
    const log = await repo.git("log", "-z", "--format=%H%x00%B", "v1.2.3..HEAD");
    const fields = log.split("\0");
    const commits = [];
    for (let i = 0; i + 1 < fields.length; i += 2)
      commits.push({
        sha: (fields[i] as string).replace(/^\n/, ""),
        message: fields[i + 1] as string,
        files: [],
      });
    const quiet = { debug() {}, info() {}, warn() {}, error() {}, trace() {} };
    // biome-ignore lint/suspicious/noExplicitAny: release-please's Logger type is an interface of these five.
    let parsed = parseConventionalCommits(commits, quiet as any);
    if (options.sentenceCase) {
      // biome-ignore lint/suspicious/noConsole: the plugin prints every subject; silenced for the test.
      const info = console.info;
      console.info = () => {};
      // biome-ignore lint/suspicious/noExplicitAny: the plugin reads neither GitHub nor the config here.
      parsed = new SentenceCase(undefined as any, "main", {}).processCommits(parsed);
      console.info = info;
    }
    const notes = await new DefaultChangelogNotes().buildNotes(parsed, {
      owner: "acme",
      repository: "home",
      version,
      previousTag: "v1.2.3",
      currentTag: `v${version}`,
      targetBranch: "main",
      commits: parsed,
    });
    // release-please ≥ 17.10.4 writes `, refs`; the releases we replay (and release-please until
    // July 2026) wrote `, closes`, which is what we write: compare the rest.
    return `${notes
      .split("\n")
      .slice(1)
      .join("\n")
      .replace(/, refs \[#/g, ", closes [#")}\n`;
  }

  const body = (notes: string) => notes.split("\n").slice(1).join("\n");
  const entries = (notes: string) => notes.split("\n").filter((l) => l.startsWith("* "));
  const text = (line: string) => line.replace(/ \(\[[0-9a-f]{7}\].*$/, "");

  it("1: entries sort by scope + subject with localeCompare, as release-please's writer does, in any commit order", async () => {
    const messages = [
      "fix: Zebra",
      "fix: apple",
      "fix: `messages.ts` is read once",
      "fix: additionalOptions are kept",
      "fix: DEFAULT_UNIVERSE is used",
      "fix(b): two",
      "fix(a): one",
    ];
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(messages, { minLength: 7 }), async (order) => {
        const repo = await repoWith(order);
        const ours = await ourNotes(repo);
        expect(body(ours.notes), order.join(" | ")).toBe(await releasePleaseNotes(repo, "1.2.4"));
        expect(entries(ours.notes).map(text)).toEqual([
          "* `messages.ts` is read once",
          "* additionalOptions are kept",
          "* **a:** one",
          "* apple",
          "* **b:** two",
          "* DEFAULT_UNIVERSE is used",
          "* Zebra",
        ]);
      }),
      { numRuns: 4, seed: 2025 },
    );
  }, 60_000);

  it("2: a commit with a Release-As footer is listed, under its type's section even when hidden", async () => {
    const repo = await repoWith(["fix: x", "chore: release 7.1.0\n\nRelease-As: 7.1.0"]);
    const ours = await ourNotes(repo);
    expect(ours.version).toBe("7.1.0");
    expect(ours.notes).toMatch(/### Miscellaneous Chores\n\n\* release 7\.1\.0 \(/);
    expect(body(ours.notes)).toBe(await releasePleaseNotes(repo, "7.1.0"));
  });

  it("3: a squash body is split at paragraphs that start with `type(scope): `", async () => {
    const repo = await repoWith([
      "feat: add x (#12)\n\n* wip\n\nfeat(api): return listing information for y\n\n* more wip",
    ]);
    const ours = await ourNotes(repo);
    expect(ours.version).toBe("1.3.0");
    expect(entries(ours.notes).map(text)).toEqual([
      "* add x ([#12](https://github.com/acme/home/issues/12))",
      "* **api:** return listing information for y",
    ]);
    expect(body(ours.notes)).toBe(await releasePleaseNotes(repo, "1.3.0"));
  });

  it("4: a GitHub revert of a change released before is neither listed nor released", async () => {
    const repo = await repoWith(['Revert "feat: thing" (#2160)\n\nReverts acme/home#2150', "fix: y"]);
    const ours = await ourNotes(repo);
    expect(ours.version).toBe("1.2.4");
    expect(ours.notes).not.toContain("Revert");
    expect(body(ours.notes)).toBe(await releasePleaseNotes(repo, "1.2.4"));
    const alone = await repoWith(['Revert "feat: thing" (#2160)\n\nReverts acme/home#2150']);
    expect((await ourNotes(alone)).version).toBeUndefined();
    expect(
      parseConventionalCommits([{ sha: "a".repeat(40), message: 'Revert "feat: thing" (#2160)' }], {
        debug() {},
        // biome-ignore lint/suspicious/noExplicitAny: the logger's other methods are not called.
      } as any),
    ).toEqual([]);
  });

  it("5: sections made visible by breaking changes follow the preset's order", async () => {
    const messages = [
      "build!: b",
      "test!: t",
      "refactor!: r",
      "fix: f",
      "chore!: c",
      "docs!: d",
      "revert: v",
    ];
    const repo = await repoWith(messages);
    const ours = await ourNotes(repo);
    expect(ours.notes.split("\n").filter((l) => l.startsWith("### "))).toEqual([
      "### ⚠ BREAKING CHANGES",
      "### Bug Fixes",
      "### Reverts",
      "### Documentation",
      "### Miscellaneous Chores",
      "### Code Refactoring",
      "### Tests",
      "### Build System",
    ]);
    expect(body(ours.notes)).toBe(await releasePleaseNotes(repo, "2.0.0"));
  });

  it("6: references only from the footer block: `, closes #n` where release-please writes it", async () => {
    const repo = await repoWith([
      "fix: handle multiple commits (#2358)\n\nResolves #2357\n\nmore text",
      "fix: lower the target (#957)\n\nFixes #956\n\nmore\n\nSigned-off-by: A <a@example.invalid>",
      "fix: c\n\nFixes #7",
      "fix: d\n\nRefs: #8",
      "fix: e (#9)\n\nCloses #9",
      "fix: f\n\nCloses #1, #2",
    ]);
    const ours = await ourNotes(repo);
    const closes = entries(ours.notes).map((l) => [text(l), /, closes (.*)$/.exec(l)?.[1] ?? ""]);
    expect(closes).toEqual([
      ["* c", "[#7](https://github.com/acme/home/issues/7)"],
      ["* d", "[#8](https://github.com/acme/home/issues/8)"],
      ["* e ([#9](https://github.com/acme/home/issues/9))", ""],
      ["* f", ""],
      ["* handle multiple commits ([#2358](https://github.com/acme/home/issues/2358))", ""],
      ["* lower the target ([#957](https://github.com/acme/home/issues/957))", ""],
    ]);
    expect(body(ours.notes)).toBe(await releasePleaseNotes(repo, "1.2.4"));
  });

  it("the sentence-case plugin: capitalised, then sorted; breaking notes keep their case", async () => {
    const messages = [
      "fix: export X",
      "fix: npm",
      "fix(api)!: drop y",
      "fix: Zebra",
      "fix: apple",
      "fix: <b> tag",
    ];
    const repo = await repoWith(messages, "  plugins: [sentence-case]\n");
    const ours = await ourNotes(repo, "  plugins: [sentence-case]\n");
    expect(entries(ours.notes).map(text)).toEqual([
      "* **api:** drop y",
      "* &lt;b&gt; tag",
      "* **api:** Drop y",
      "* Apple",
      "* Export X",
      "* npm",
      "* Zebra",
    ]);
    expect(body(ours.notes)).toBe(await releasePleaseNotes(repo, "2.0.0", { sentenceCase: true }));
  });
});

/**
 * Issue 25: semantic-release's `releaseRules`, held to @semantic-release/commit-analyzer itself
 * (13.0.1, conventionalcommits preset) on generated histories: custom rules first, its default
 * rules for a commit none matches, `release: false` only when nothing higher matches.
 */
describe("differential: releaseRules as @semantic-release/commit-analyzer reads them", () => {
  const rules = [
    { type: "docs", scope: "README", release: "patch" },
    { type: "refactor", release: "patch" },
    { type: "feat", scope: "internal*", release: false },
    { type: "chore", scope: "deps", release: "minor" },
    { breaking: true, release: "minor" },
  ] as const;
  const yaml = `release:
  releaseRules:
    - {type: docs, scope: README, release: patch}
    - {type: refactor, release: patch}
    - {type: feat, scope: "internal*", release: false}
    - {type: chore, scope: deps, release: minor}
    - {breaking: true, release: minor}
`;
  const messages = [
    "docs(README): typo",
    "docs: elsewhere",
    "refactor: move",
    "feat(internal-api): hidden",
    "feat(api): shown",
    "chore(deps): bump",
    "chore: tidy",
    "fix!: breaking but minor here",
    "perf: faster",
    "style: x",
  ];

  async function analyzer(repo: ScratchRepo): Promise<Level> {
    const log = await repo.git("log", "-z", "--format=%H%x00%B", "v1.2.3..HEAD");
    const fields = log.split("\0");
    const commits = [];
    for (let i = 0; i + 1 < fields.length; i += 2)
      commits.push({ hash: (fields[i] as string).replace(/^\n/, ""), message: fields[i + 1] as string });
    const quiet = { log() {}, error() {} };
    const type = await analyzeCommits(
      { preset: "conventionalcommits", releaseRules: rules.map((r) => ({ ...r })) },
      { commits, logger: quiet, cwd: repo.dir },
    );
    return (type ?? "none") as Level;
  }

  async function ruled(repo: ScratchRepo): Promise<Level> {
    const config = parseConfig(yaml).release;
    const plan = planRelease(
      await readPlanInput(repo.dir, config, findComponent(config, "repository"), { env: {} }),
    );
    return levelOf(plan.release?.version);
  }

  it("gives commit-analyzer's release type on generated histories", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...messages), { minLength: 1, maxLength: 4 }),
        async (picked) => {
          const repo = await history(picked);
          expect(await ruled(repo), picked.join(" | ")).toBe(await analyzer(repo));
        },
      ),
      { numRuns: 12, seed: 25 },
    );
  }, 90_000);

  it("pins the cases: false is overridden by a higher match; default rules for unmatched commits", async () => {
    const cases: [string[], Level][] = [
      [["feat(internal-api): hidden"], "none"],
      [["feat(api): shown"], "minor"],
      [["docs(README): typo"], "patch"],
      [["fix!: breaking but minor here"], "minor"],
      [["chore(deps): bump"], "minor"],
      [["perf: faster"], "patch"],
    ];
    for (const [picked, want] of cases) {
      const repo = await history(picked);
      expect([picked[0], await ruled(repo)]).toEqual([picked[0], want]);
      expect([picked[0], await analyzer(repo)]).toEqual([picked[0], want]);
    }
  }, 60_000);
});
