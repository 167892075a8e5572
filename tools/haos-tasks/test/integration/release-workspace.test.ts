/**
 * Issue 25: release-please's node-workspace plugin on a scripted npm workspace in a real
 * repository — packages a, b (depends on a ^1.2.0) and c (devDepends on b ~1.0.0), each a
 * component with its package.json as version file. A release of a releases b and c (a patch each,
 * their ranges updated, a `### Dependencies` section), as release-please's own plugin does (its
 * NodeWorkspace class is the oracle for the notes, the package.json files and the lock). Every
 * test but "off by default" fails before issue 25's node-workspace (the plugin was unknown).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
// The manifest first: loading the plugin module alone trips release-please's own import cycle
// (plugin-factory's CargoWorkspace extends WorkspacePlugin before workspace.js has defined it).
import "release-please/build/src/manifest.js";
import { NodeWorkspace } from "release-please/build/src/plugins/node-workspace.js";
import { appendDependenciesSectionToChangelog } from "release-please/build/src/plugins/workspace.js";
import { Node } from "release-please/build/src/strategies/node.js";
import { Changelog } from "release-please/build/src/updaters/changelog.js";
import { PackageJson } from "release-please/build/src/updaters/node/package-json.js";
import { PackageLockJson } from "release-please/build/src/updaters/node/package-lock-json.js";
import { PullRequestBody } from "release-please/build/src/util/pull-request-body.js";
import { PullRequestTitle } from "release-please/build/src/util/pull-request-title.js";
import { TagName } from "release-please/build/src/util/tag-name.js";
import { Version } from "release-please/build/src/version.js";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import { collect, releaseComponents } from "../../src/release/flow.ts";
import { contentAfter, type ReleasePlan } from "../../src/release/planner.ts";
import { renderPlanText } from "../../src/release/render-plan.ts";
import { findComponent, readPlanInput } from "../../src/release/snapshot.ts";
import { planWorkspace } from "../../src/release/workspace.ts";
import { appendDependenciesSection } from "../../src/release/workspace-notes.ts";
import { runCli } from "../support/cli.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";

const repos: ScratchRepo[] = [];
afterAll(async () => {
  await Promise.all(repos.map((r) => r.remove()));
});

const configWith = (plugins: string) => `release:
  repository: acme/home
  skipGithubRelease: true
${plugins}  components:
    a: {path: packages/a, versionFiles: [packages/a/package.json]}
    b: {path: packages/b, versionFiles: [packages/b/package.json]}
    c: {path: packages/c, versionFiles: [packages/c/package.json]}
`;
const on = configWith("  plugins: [node-workspace]\n");
const off = configWith("");

const files: Record<string, string> = {
  "package.json": `{\n  "name": "acme",\n  "private": true,\n  "workspaces": ["packages/*"]\n}\n`,
  "packages/a/package.json": `{\n  "name": "@acme/a",\n  "version": "1.2.0"\n}\n`,
  "packages/b/package.json": `{\n  "name": "@acme/b",\n  "version": "1.0.0",\n  "dependencies": {\n    "@acme/a": "^1.2.0",\n    "left-pad": "^1.2.0"\n  }\n}\n`,
  "packages/c/package.json": `{\n  "name": "@acme/c",\n  "version": "2.0.0",\n  "devDependencies": {\n    "@acme/b": "~1.0.0"\n  }\n}\n`,
  "package-lock.json": `{
  "name": "acme",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "acme",
      "workspaces": [
        "packages/*"
      ]
    },
    "node_modules/@acme/a": {
      "resolved": "packages/a",
      "link": true
    },
    "node_modules/@acme/b": {
      "resolved": "packages/b",
      "link": true
    },
    "node_modules/@acme/c": {
      "resolved": "packages/c",
      "link": true
    },
    "node_modules/left-pad": {
      "version": "1.2.0"
    },
    "packages/a": {
      "name": "@acme/a",
      "version": "1.2.0"
    },
    "packages/b": {
      "name": "@acme/b",
      "version": "1.0.0",
      "dependencies": {
        "@acme/a": "^1.2.0",
        "left-pad": "^1.2.0"
      }
    },
    "packages/c": {
      "name": "@acme/c",
      "version": "2.0.0",
      "devDependencies": {
        "@acme/b": "~1.0.0"
      }
    }
  }
}
`,
};

async function workspace(config: string, fileSet: Record<string, string> = files): Promise<ScratchRepo> {
  const repo = createScratchRepo("haos-release-ws-");
  repos.push(repo);
  repo.commit("chore: initial import", { ".haos-tasks.yaml": config, ...fileSet });
  for (const tag of ["a-v1.2.0", "b-v1.0.0", "c-v2.0.0"]) repo.tag(tag, { annotated: true });
  return repo;
}

async function planOf(repo: ScratchRepo, name: string, prerelease?: string): Promise<ReleasePlan> {
  const config = parseConfig(await readFile(path.join(repo.dir, ".haos-tasks.yaml"), "utf8")).release;
  return planWorkspace(config, name, (n) =>
    readPlanInput(repo.dir, config, findComponent(config, n), {
      now: new Date("2026-03-04T12:00:00Z"),
      env: {},
      ...(prerelease ? { prerelease } : {}),
    }),
  );
}

async function written(repo: ScratchRepo, p: ReleasePlan, file: string): Promise<string | undefined> {
  const change = p.files.find((f) => f.path === file);
  if (!change) return undefined;
  const before = await readFile(path.join(repo.dir, file), "utf8").catch(() => undefined);
  return contentAfter(change, before);
}

const heading = (name: string, from: string, to: string) =>
  `## [${to}](https://github.com/acme/home/compare/${name}-v${from}...${name}-v${to}) (2026-03-04)`;

describe("node-workspace: a release of a workspace package releases its dependents", () => {
  it("a feat in a: a minor; b and c a patch each, ranges updated (prefix kept), a Dependencies section", async () => {
    const repo = await workspace(on);
    repo.commit("feat(a): a new thing", { "packages/a/thing.ts": "x\n" });
    const [a, b, c] = [await planOf(repo, "a"), await planOf(repo, "b"), await planOf(repo, "c")];
    expect([a.release?.version, b.release?.version, c.release?.version]).toEqual(["1.3.0", "1.0.1", "2.0.1"]);
    expect(a.workspace).toBeUndefined();
    expect(b.bump).toEqual({ level: "patch", reason: "dependency a released 1.3.0" });
    expect(b.summary).toBe("b: release 1.0.1 (dependency a released 1.3.0)");
    expect(c.bump?.reason).toBe("dependency b released 1.0.1 (dependency a released 1.3.0)");
    expect(b.release?.notes).toBe(
      `${heading("b", "1.0.0", "1.0.1")}\n\n\n### Dependencies\n\n* The following workspace dependencies were updated\n  * dependencies\n    * @acme/a bumped from ^1.2.0 to ^1.3.0\n`,
    );
    expect(c.release?.notes).toBe(
      `${heading("c", "2.0.0", "2.0.1")}\n\n\n### Dependencies\n\n* The following workspace dependencies were updated\n  * devDependencies\n    * @acme/b bumped from ~1.0.0 to ~1.0.1\n`,
    );
    // b's package.json: its version and its range on a, every other byte as it was.
    expect(await written(repo, b, "packages/b/package.json")).toBe(
      files["packages/b/package.json"]
        ?.replace('"version": "1.0.0"', '"version": "1.0.1"')
        .replace('"@acme/a": "^1.2.0"', '"@acme/a": "^1.3.0"'),
    );
    expect(await written(repo, c, "packages/c/package.json")).toBe(
      files["packages/c/package.json"]
        ?.replace('"version": "2.0.0"', '"version": "2.0.1"')
        .replace('"@acme/b": "~1.0.0"', '"@acme/b": "~1.0.1"'),
    );
    // The root lock: b's entry (version and range), nothing else.
    expect(await written(repo, b, "package-lock.json")).toBe(
      files["package-lock.json"]?.replace(
        '"version": "1.0.0",\n      "dependencies": {\n        "@acme/a": "^1.2.0"',
        '"version": "1.0.1",\n      "dependencies": {\n        "@acme/a": "^1.3.0"',
      ),
    );
    expect(b.workspace).toEqual({
      dependencies: [{ component: "a", package: "@acme/a", version: "1.3.0" }],
    });
    expect(c.workspace?.dependencies).toEqual([
      { component: "b", package: "@acme/b", version: "1.0.1", via: "dependency a released 1.3.0" },
    ]);
    const text = renderPlanText(b);
    expect(text).toContain("bump:      patch — dependency a released 1.3.0");
    expect(text).toContain("workspace: @acme/a 1.3.0 (a)");
  });

  it("`release plan` says why, as text and as JSON", async () => {
    const repo = await workspace(on);
    repo.commit("feat(a): a new thing", { "packages/a/thing.ts": "x\n" });
    const text = await runCli(["release", "plan", "--component", "c"], { cwd: repo.dir, env: {} });
    expect(text.stdout).toContain(
      "c: release 2.0.1 (dependency b released 1.0.1 (dependency a released 1.3.0))",
    );
    expect(text.stdout).toContain("  |     * @acme/b bumped from ~1.0.0 to ~1.0.1");
    const json = await runCli(["release", "plan", "--format", "json"], { cwd: repo.dir, env: {} });
    const plans = JSON.parse(json.stdout).plans as ReleasePlan[];
    expect(plans.map((p) => [p.component, p.release?.version, p.bump?.reason])).toEqual([
      ["a", "1.3.0", expect.stringContaining("feat")],
      ["b", "1.0.1", "dependency a released 1.3.0"],
      ["c", "2.0.1", "dependency b released 1.0.1 (dependency a released 1.3.0)"],
    ]);
    expect(plans[1]?.workspace).toEqual({
      dependencies: [{ component: "a", package: "@acme/a", version: "1.3.0" }],
    });
  });

  it("off by default: a's release releases nothing else", async () => {
    const repo = await workspace(off);
    repo.commit("feat(a): a new thing", { "packages/a/thing.ts": "x\n" });
    const [a, b, c] = [await planOf(repo, "a"), await planOf(repo, "b"), await planOf(repo, "c")];
    expect([a.release?.version, b.status, c.status]).toEqual(["1.3.0", "up-to-date", "up-to-date"]);
    expect(a.release?.notes).not.toContain("Dependencies");
  });

  it("a dependent with a feat of its own: minor, its own sections and then Dependencies", async () => {
    const repo = await workspace(on);
    repo.commit("feat(a): a new thing", { "packages/a/thing.ts": "x\n" });
    const sha = repo.commit("feat(b): b's own", { "packages/b/own.ts": "y\n" });
    const b = await planOf(repo, "b");
    expect(b.release?.version).toBe("1.1.0");
    expect(b.bump?.reason).toMatch(/; dependency a released 1\.3\.0$/);
    expect(b.release?.notes).toBe(
      `${heading("b", "1.0.0", "1.1.0")}\n\n\n### Features\n\n* **b:** b's own ([${sha.slice(0, 7)}](https://github.com/acme/home/commit/${sha}))\n\n\n### Dependencies\n\n* The following workspace dependencies were updated\n  * dependencies\n    * @acme/a bumped from ^1.2.0 to ^1.3.0\n`,
    );
    // c follows b's minor.
    expect((await planOf(repo, "c")).release?.notes).toContain("* @acme/b bumped from ~1.0.0 to ~1.1.0");
  });

  it("apply: each dependent in its own release commit, files written; a second run releases nothing", async () => {
    const repo = await workspace(on);
    repo.addBareOrigin();
    repo.commit("feat(a): a new thing", { "packages/a/thing.ts": "x\n" });
    repo.git("push", "-q", "origin", "main");
    const outcomes = await collect(
      releaseComponents({ cwd: repo.dir, outsideRepositoryHint: "-", env: {}, transport: "git" }),
    );
    expect(outcomes.map((o) => [o.status, o.plan.component, o.plan.release?.version])).toEqual([
      ["applied", "a", "1.3.0"],
      ["applied", "b", "1.0.1"],
      ["applied", "c", "2.0.1"],
    ]);
    // Planned after a was applied: b sees a's tag after its own last release.
    expect(outcomes[1]?.plan.bump?.reason).toBe("dependency a released 1.3.0 (a-v1.3.0, after b-v1.0.0)");
    expect(repo.git("show", "--name-only", "--format=%s", "b-v1.0.1^{commit}").split("\n")).toEqual([
      "chore(release): b 1.0.1",
      "",
      "package-lock.json",
      "packages/b/CHANGELOG.md",
      "packages/b/package.json",
    ]);
    const show = (file: string) => JSON.parse(repo.git("show", `HEAD:${file}`));
    expect(show("packages/b/package.json")).toMatchObject({
      version: "1.0.1",
      dependencies: { "@acme/a": "^1.3.0" },
    });
    expect(show("packages/c/package.json")).toMatchObject({
      version: "2.0.1",
      devDependencies: { "@acme/b": "~1.0.1" },
    });
    expect(repo.git("show", "HEAD:packages/c/CHANGELOG.md")).toContain(
      "* @acme/b bumped from ~1.0.0 to ~1.0.1",
    );
    // The root lock as release-please's PackageLockJson updater leaves it for the same versions.
    const versions = new Map([
      ["@acme/a", Version.parse("1.3.0")],
      ["@acme/b", Version.parse("1.0.1")],
      ["@acme/c", Version.parse("2.0.1")],
    ]);
    const theirs = new PackageLockJson({ versionsMap: versions }).updateContent(
      files["package-lock.json"] as string,
      quiet,
    );
    expect(`${repo.git("show", "HEAD:package-lock.json")}\n`).toBe(theirs);
    const again = await collect(
      releaseComponents({ cwd: repo.dir, outsideRepositoryHint: "-", env: {}, dryRun: true }),
    );
    expect(again.map((o) => o.plan.status)).toEqual(["up-to-date", "up-to-date", "up-to-date"]);
  });

  it("a dependency released on its own before, other commits since: not a reason now", async () => {
    const repo = await workspace(on);
    repo.commit("chore(release): a 1.3.0", {
      "packages/a/package.json": files["packages/a/package.json"]?.replace("1.2.0", "1.3.0") as string,
    });
    repo.tag("a-v1.3.0", { annotated: true });
    expect((await planOf(repo, "b")).bump?.reason).toBe(
      "dependency a released 1.3.0 (a-v1.3.0, after b-v1.0.0)",
    );
    repo.commit("docs: later", { "docs/x.md": "x\n" });
    expect((await planOf(repo, "b")).status).toBe("up-to-date");
  });

  it("with --prerelease the dependents' patches are prereleases too", async () => {
    const repo = await workspace(on);
    repo.commit("feat(a): a new thing", { "packages/a/thing.ts": "x\n" });
    const [a, b] = [await planOf(repo, "a", "rc"), await planOf(repo, "b", "rc")];
    expect([a.release?.version, b.release?.version]).toEqual(["1.3.0-rc.1", "1.0.1-rc.1"]);
    expect(b.release?.notes).toContain("* @acme/a bumped from ^1.2.0 to ^1.3.0-rc.1");
  });

  it("a cycle among the packages is an error naming it (exit code 2)", async () => {
    const repo = await workspace(on);
    repo.commit("chore: a uses c", {
      "packages/a/package.json": `{\n  "name": "@acme/a",\n  "version": "1.2.0",\n  "devDependencies": { "@acme/c": "^2.0.0" }\n}\n`,
    });
    repo.commit("fix(c): y", { "packages/c/y.ts": "y\n" });
    await expect(planOf(repo, "b")).rejects.toMatchObject({
      message: "node-workspace: the workspace packages depend on each other in a cycle: b → a → c → b",
      exitCode: 2,
    });
    const cli = await runCli(["release", "plan", "--component", "b"], { cwd: repo.dir, env: {} });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain("cycle: b → a → c → b");
    expect(cli.stderr).toContain("remove node-workspace from release.plugins");
  });
});

// biome-ignore lint/suspicious/noExplicitAny: release-please's Logger is an interface of these five.
const quiet: any = { debug() {}, info() {}, warn() {}, error() {}, trace() {} };

/**
 * release-please's NodeWorkspace plugin itself, run on the same workspace: a's candidate release
 * (and b's, when b has changes of its own) goes in with the notes we plan for them, as its
 * strategies would build them; the plugin adds b and c (their entries from their node strategies,
 * as release-please's manifest preconfigures it) with their notes and package.json updaters.
 */
describe("differential: release-please's NodeWorkspace plugin on the same workspace", () => {
  async function releasePlease(
    own: { component: string; version: string; notes: string }[],
    fileSet: Record<string, string> = files,
  ) {
    const github = {
      repository: { owner: "acme", repo: "home", defaultBranch: "main" },
      getFileContentsOnBranch: async (file: string) => ({ parsedContent: fileSet[file] }),
    };
    const paths = { a: "packages/a", b: "packages/b", c: "packages/c" } as Record<string, string>;
    const plugin = new NodeWorkspace(
      // biome-ignore lint/suspicious/noExplicitAny: the plugin reads only getFileContentsOnBranch here.
      github as any,
      "main",
      {
        "packages/a": { releaseType: "node" },
        "packages/b": { releaseType: "node" },
        "packages/c": { releaseType: "node" },
        // biome-ignore lint/suspicious/noExplicitAny: a repository config of three node packages.
      } as any,
      { merge: false, logger: quiet },
    );
    // Its node strategies and latest releases, as the manifest hands them over: a dependent
    // without changes of its own gets its release entry (the heading) from its strategy.
    const strategies: Record<string, Node> = {};
    const releases: Record<string, unknown> = {};
    for (const [component, dir] of Object.entries(paths)) {
      strategies[dir] = new Node({
        targetBranch: "main",
        // biome-ignore lint/suspicious/noExplicitAny: the strategy reads only the repository and package.json.
        github: github as any,
        path: dir,
        component,
        includeComponentInTag: true,
        logger: quiet,
      });
      const current = JSON.parse(fileSet[`${dir}/package.json`] as string).version as string;
      releases[dir] = {
        tag: new TagName(Version.parse(current), component, "-", true),
        sha: "0".repeat(40),
        notes: "",
      };
    }
    // biome-ignore lint/suspicious/noExplicitAny: release-please's Strategy and Release types.
    await plugin.preconfigure(strategies as any, {}, releases as any);
    const candidates = own.map(({ component, version, notes }) => {
      const v = Version.parse(version);
      const dir = paths[component] as string;
      // release-please's changelog entries end without a newline.
      const entry = notes.replace(/\n$/, "");
      return {
        path: dir,
        config: { releaseType: "node" },
        pullRequest: {
          title: PullRequestTitle.ofTargetBranch("main"),
          body: new PullRequestBody([{ component: `@acme/${component}`, version: v, notes: entry }]),
          updates: [
            { path: `${dir}/package.json`, createIfMissing: false, updater: new PackageJson({ version: v }) },
            {
              path: `${dir}/CHANGELOG.md`,
              createIfMissing: false,
              updater: new Changelog({ version: v, changelogEntry: entry }),
            },
          ],
          labels: [],
          headRefName: "release-please--branches--main",
          version: v,
          draft: false,
        },
      };
    });
    // biome-ignore lint/suspicious/noExplicitAny: candidates built as release-please's strategies build them.
    const out = await plugin.run(candidates as any);
    const result: Record<string, { version: string; notes: string; packageJson: string }> = {};
    for (const candidate of out) {
      const name = Object.entries(paths).find(([, p]) => p === candidate.path)?.[0] as string;
      const changelog = candidate.pullRequest.updates.find((u) => u.updater instanceof Changelog)
        ?.updater as Changelog;
      const pkg = candidate.pullRequest.updates.find((u) => u.path === `${candidate.path}/package.json`);
      result[name] = {
        version: candidate.pullRequest.version?.toString() ?? "",
        // Its date is today's; ours is the scripted one.
        notes: changelog.changelogEntry.replace(/\(\d{4}-\d{2}-\d{2}\)$/m, "(2026-03-04)"),
        packageJson:
          pkg?.updater.updateContent(fileSet[`${candidate.path}/package.json`] as string, quiet) ?? "",
      };
    }
    return result;
  }

  /** Our notes as release-please's changelog entries are: without the final newline. */
  const body = (notes: string) => notes.replace(/\n$/, "");

  it("a's release: the same versions, package.json files and Dependencies notes for b and c", async () => {
    const repo = await workspace(on);
    repo.commit("feat(a): a new thing", { "packages/a/thing.ts": "x\n" });
    const ours = { a: await planOf(repo, "a"), b: await planOf(repo, "b"), c: await planOf(repo, "c") };
    const theirs = await releasePlease([
      { component: "a", version: "1.3.0", notes: ours.a.release?.notes ?? "" },
    ]);
    expect(Object.keys(theirs).sort()).toEqual(["a", "b", "c"]);
    // Their entry for b, heading from its node strategy, then the plugin's section.
    expect(theirs.b?.notes).toMatch(
      /^## \[1\.0\.1\]\(https:\/\/github\.com\/acme\/home\/compare\/b-v1\.0\.0\.\.\.b-v1\.0\.1\) \(2026-03-04\)\n\n\n### Dependencies\n\n\* The following/,
    );
    for (const name of ["b", "c"] as const) {
      const plan = ours[name];
      const them = theirs[name];
      expect(plan.release?.version, name).toBe(them?.version);
      expect(body(plan.release?.notes ?? ""), name).toBe(them?.notes);
      expect(await written(repo, plan, `packages/${name}/package.json`), name).toBe(them?.packageJson);
    }
    expect(theirs.a?.notes).toBe((ours.a.release?.notes ?? "").replace(/\n$/, ""));
  });

  it("b with a feature of its own: release-please appends the same Dependencies section to b's entry", async () => {
    const repo = await workspace(on);
    repo.commit("feat(a): a new thing", { "packages/a/thing.ts": "x\n" });
    repo.commit("feat(b): b's own", { "packages/b/own.ts": "y\n" });
    const a = await planOf(repo, "a");
    const b = await planOf(repo, "b");
    // b's own section as its strategy writes it: our plan without the plugin's section.
    const own = (b.release?.notes ?? "").split("\n\n\n### Dependencies")[0] as string;
    const theirs = await releasePlease([
      { component: "a", version: "1.3.0", notes: a.release?.notes ?? "" },
      { component: "b", version: "1.1.0", notes: own },
    ]);
    expect(`${theirs.b?.notes}\n`).toBe(b.release?.notes);
    expect(await written(repo, b, "packages/b/package.json")).toBe(theirs.b?.packageJson);
  });

  it("a peerDependency: no reason to release, not rewritten, yet listed when released anyway (as release-please)", async () => {
    const withPeer = {
      ...files,
      "packages/c/package.json": `{\n  "name": "@acme/c",\n  "version": "2.0.0",\n  "peerDependencies": {\n    "@acme/a": "^1.2.0"\n  },\n  "devDependencies": {\n    "@acme/b": "~1.0.0"\n  }\n}\n`,
    };
    const repo = await workspace(on, withPeer);
    repo.commit("feat(a): a new thing", { "packages/a/thing.ts": "x\n" });
    const ours = { a: await planOf(repo, "a"), b: await planOf(repo, "b"), c: await planOf(repo, "c") };
    const theirs = await releasePlease(
      [{ component: "a", version: "1.3.0", notes: ours.a.release?.notes ?? "" }],
      withPeer,
    );
    expect(body(ours.c.release?.notes ?? "")).toBe(theirs.c?.notes);
    expect(theirs.c?.notes).toContain("  * peerDependencies\n    * @acme/a bumped from ^1.2.0 to ^1.3.0");
    expect(await written(repo, ours.c, "packages/c/package.json")).toBe(theirs.c?.packageJson);
    expect(theirs.c?.packageJson).toContain('"@acme/a": "^1.2.0"');
    // Without b in between, a peer alone releases nothing.
    const alone = await workspace(on, {
      ...withPeer,
      "packages/c/package.json": withPeer["packages/c/package.json"].replace(
        /,\n {2}"devDependencies": \{\n {4}"@acme\/b": "~1.0.0"\n {2}\}/,
        "",
      ),
    });
    alone.commit("feat(a): a new thing", { "packages/a/thing.ts": "x\n" });
    expect((await planOf(alone, "c")).status).toBe("up-to-date");
  });

  it("the section joins an entry as release-please's appendDependenciesSectionToChangelog joins it", () => {
    const notes =
      "* The following workspace dependencies were updated\n  * dependencies\n    * @acme/a bumped from ^1.2.0 to ^1.3.0";
    const entries = [
      "",
      "## [1.0.1](https://x/compare/a...b) (2026-03-04)",
      "## 1.1.0 (2026-03-04)\n\n\n### Features\n\n* x",
      "## 1.1.0 (2026-03-04)\n\n\n### Dependencies\n\n* **deps:** bump y",
    ];
    for (const entry of entries)
      expect(appendDependenciesSection(entry, notes), entry).toBe(
        appendDependenciesSectionToChangelog(entry, notes, quiet),
      );
    // A visible `deps` type named "Dependencies" followed by another section: the notes go at the
    // end of its list. release-please means to do that, but inserts the whole entry there (a copy
    // of the entry inside itself): a deliberate difference, both answers pinned.
    const entry = "## 1.1.0\n\n\n### Dependencies\n\n* **deps:** bump y\n\n\n### Features\n\n* x";
    const lines = (text: string) => text.split("\n");
    expect({
      ours: lines(appendDependenciesSection(entry, notes)),
      releasePlease: lines(appendDependenciesSectionToChangelog(entry, notes, quiet)),
    }).toEqual({
      ours: [...lines(entry).slice(0, 6), ...lines(notes), ...lines(entry).slice(6)],
      releasePlease: [...lines(entry).slice(0, 6), ...lines(entry), ...lines(entry).slice(6)],
    });
  });
});
