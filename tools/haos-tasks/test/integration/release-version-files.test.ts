/**
 * Issue 25: version files per component (plain text, package.json with its package-lock.json
 * entries, Chart.yaml, x-release-please-version markers) and per-component policy, each on a
 * scripted history in a real repository. Every test fails on the planner before issue 25 (the
 * keys did not exist, package.json "did not hold a SemVer version").
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import { planLinked } from "../../src/release/linked.ts";
import { contentAfter, planRelease, type ReleasePlan } from "../../src/release/planner.ts";
import { renderPlanText } from "../../src/release/render-plan.ts";
import { findComponent, readPlanInput } from "../../src/release/snapshot.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";

const repos: ScratchRepo[] = [];
afterAll(async () => {
  await Promise.all(repos.map((r) => r.remove()));
});

async function repoWith(config: string, files: Record<string, string>, tags: string[]): Promise<ScratchRepo> {
  const repo = createScratchRepo("haos-release-vf-");
  repos.push(repo);
  await repo.commit("chore: initial import", { ".haos-tasks.yaml": config, ...files });
  for (const tag of tags) await repo.tag(tag, { annotated: true });
  return repo;
}

async function plan(repo: ScratchRepo, component: string): Promise<ReleasePlan> {
  const config = parseConfig(await readFile(path.join(repo.dir, ".haos-tasks.yaml"), "utf8")).release;
  return planRelease(
    await readPlanInput(repo.dir, config, findComponent(config, component), {
      now: new Date("2026-03-04T12:00:00Z"),
      env: {},
    }),
  );
}

/** The bytes apply writes for `file` (what plannedContents computes from HEAD). */
async function written(repo: ScratchRepo, p: ReleasePlan, file: string): Promise<string | undefined> {
  const change = p.files.find((f) => f.path === file);
  if (!change) return undefined;
  const before = await readFile(path.join(repo.dir, file), "utf8").catch(() => undefined);
  return contentAfter(change, before);
}

const packageJson = `{
  "name": "@acme/web",
  "version": "1.4.0",
  "description": "version 1.4.0 of the web app",
  "dependencies": { "left-pad": "1.4.0" }
}
`;
const rootLock = `{
  "name": "acme",
  "version": "0.0.0",
  "lockfileVersion": 3,
  "packages": {
    "": { "name": "acme", "workspaces": ["packages/web"] },
    "packages/web": {
      "name": "@acme/web",
      "version": "1.4.0",
      "dependencies": { "left-pad": "1.4.0" }
    },
    "node_modules/left-pad": { "version": "1.4.0" }
  }
}
`;

describe("version files per component", () => {
  it("package.json and its npm workspace lock entry: only the version bytes change", async () => {
    const config = `release:
  components:
    web:
      path: packages/web
      versionFiles: [packages/web/package.json]
`;
    const repo = await repoWith(
      config,
      { "packages/web/package.json": packageJson, "package-lock.json": rootLock },
      ["web-v1.4.0"],
    );
    await repo.commit("feat: a page", { "packages/web/page.ts": "x\n" });
    const p = await plan(repo, "web");
    expect(p.status).toBe("release");
    expect(p.release?.version).toBe("1.5.0");
    expect(p.files.map((f) => [f.path, f.summary])).toEqual([
      ["packages/web/package.json", "1.4.0 → 1.5.0 (json)"],
      ["package-lock.json", "packages/web/package.json's entries → 1.5.0"],
      ["packages/web/CHANGELOG.md", expect.stringContaining("create")],
    ]);
    expect(await written(repo, p, "packages/web/package.json")).toBe(
      packageJson.replace('"version": "1.4.0"', '"version": "1.5.0"'),
    );
    // The lock's own version, the dependency's and left-pad's entry stay as they were.
    expect(await written(repo, p, "package-lock.json")).toBe(
      rootLock.replace(
        '"packages/web": {\n      "name": "@acme/web",\n      "version": "1.4.0"',
        '"packages/web": {\n      "name": "@acme/web",\n      "version": "1.5.0"',
      ),
    );
  });

  it('a package\'s own package-lock.json: its version and packages[""] entry', async () => {
    const lock = `{\n  "name": "@acme/web",\n  "version": "1.4.0",\n  "lockfileVersion": 3,\n  "packages": {\n    "": { "name": "@acme/web", "version": "1.4.0" },\n    "node_modules/x": { "version": "1.4.0" }\n  }\n}\n`;
    const repo = await repoWith(
      "release:\n  components:\n    web:\n      path: .\n      tags: ['v{version}']\n      versionFiles: [package.json]\n",
      { "package.json": packageJson, "package-lock.json": lock },
      ["v1.4.0"],
    );
    await repo.commit("fix: y", { "src/y.ts": "y\n" });
    const p = await plan(repo, "web");
    expect(await written(repo, p, "package-lock.json")).toBe(
      lock
        .replace('"version": "1.4.0",\n  "lockfileVersion"', '"version": "1.4.1",\n  "lockfileVersion"')
        .replace('"name": "@acme/web", "version": "1.4.0" }', '"name": "@acme/web", "version": "1.4.1" }'),
    );
  });

  it("Chart.yaml version and, when asked, appVersion (quotes and comments kept)", async () => {
    const chart = `apiVersion: v2\nname: web # the chart\nversion: 1.4.0\nappVersion: "1.4.0"\ndependencies:\n  - name: common\n    version: 1.4.0\n`;
    const config = `release:
  components:
    web:
      path: charts/web
      versionFiles:
        - {path: charts/web/Chart.yaml, appVersion: true}
`;
    const repo = await repoWith(config, { "charts/web/Chart.yaml": chart }, ["web-v1.4.0"]);
    await repo.commit("fix: values", { "charts/web/values.yaml": "a: 1\n" });
    const p = await plan(repo, "web");
    expect(await written(repo, p, "charts/web/Chart.yaml")).toBe(
      chart.replace('version: 1.4.0\nappVersion: "1.4.0"', 'version: 1.4.1\nappVersion: "1.4.1"'),
    );
    // Without appVersion only `version` follows.
    const only = await repoWith(
      config.replace("{path: charts/web/Chart.yaml, appVersion: true}", "charts/web/Chart.yaml"),
      { "charts/web/Chart.yaml": chart },
      ["web-v1.4.0"],
    );
    await only.commit("fix: values", { "charts/web/values.yaml": "a: 1\n" });
    expect(await written(only, await plan(only, "web"), "charts/web/Chart.yaml")).toBe(
      chart.replace("version: 1.4.0\nappVersion", "version: 1.4.1\nappVersion"),
    );
  });

  it("x-release-please-version lines and start/end blocks, as release-please's extra-files", async () => {
    const readme = [
      "Install 1.4.0 of something else.",
      "uses: acme/web@v1.4.0 # x-release-please-version",
      "<!-- x-release-please-start-version -->",
      "image: ghcr.io/acme/web:1.4.0",
      "tag: 1.4.0",
      "<!-- x-release-please-end -->",
      "Older: 1.3.0",
      "",
    ].join("\n");
    const repo = await repoWith(
      "release:\n  components:\n    web:\n      path: .\n      tags: ['v{version}']\n      versionFiles: [version.txt, README.md]\n",
      { "version.txt": "1.4.0\n", "README.md": readme },
      ["v1.4.0"],
    );
    await repo.commit("feat: z", { "src/z.ts": "z\n" });
    const p = await plan(repo, "web");
    expect(await written(repo, p, "version.txt")).toBe("1.5.0\n");
    expect(await written(repo, p, "README.md")).toBe(
      readme
        .replace("acme/web@v1.4.0", "acme/web@v1.5.0")
        .replace("web:1.4.0", "web:1.5.0")
        .replace("tag: 1.4.0", "tag: 1.5.0"),
    );
  });

  it("a malformed or unmarked file blocks the plan, naming file:line, and nothing is planned to be written", async () => {
    const broken = '{\n  "name": "@acme/web",\n  "version": "1.4.0",,\n}\n';
    const repo = await repoWith(
      "release:\n  components:\n    web:\n      path: .\n      tags: ['v{version}']\n      versionFiles: [version.txt, package.json, NOTES.md]\n",
      { "version.txt": "1.4.0\n", "package.json": broken, "NOTES.md": "no marker 1.4.0\n" },
      ["v1.4.0"],
    );
    await repo.commit("fix: y", { "src/y.ts": "y\n" });
    const p = await plan(repo, "web");
    expect(p.status).toBe("blocked");
    expect(p.files).toEqual([]);
    const errors = p.findings.filter((f) => f.rule === "release/version-file");
    expect(errors.map((f) => [f.file, f.line])).toEqual([
      ["package.json", 3],
      ["NOTES.md", 1],
    ]);
    expect(errors[1]?.message).toContain("x-release-please-version");
  });

  it("version files that disagree are reported; the release writes the new version into all", async () => {
    const repo = await repoWith(
      "release:\n  components:\n    web:\n      path: .\n      tags: ['v{version}']\n      versionFiles: [version.txt, package.json]\n",
      {
        "version.txt": "1.4.0\n",
        "package.json": packageJson.replace('"version": "1.4.0"', '"version": "1.3.9"'),
      },
      ["v1.4.0"],
    );
    await repo.commit("fix: y", { "src/y.ts": "y\n" });
    const p = await plan(repo, "web");
    expect(p.status).toBe("release");
    expect(p.findings.find((f) => f.rule === "release/version-mismatch")?.message).toBe(
      "package.json says 1.3.9 but version.txt says 1.4.0",
    );
    expect(await written(repo, p, "package.json")).toContain('"version": "1.4.1"');
  });

  it("package.json as the only version file is the baseline without a tag", async () => {
    const repo = await repoWith(
      "release:\n  components:\n    web:\n      path: .\n      tags: ['v{version}']\n      versionFile: package.json\n",
      { "package.json": packageJson },
      [],
    );
    await repo.commit("fix: y", { "src/y.ts": "y\n" });
    const p = await plan(repo, "web");
    expect(p.baseline).toEqual({ version: "1.4.0", source: "version-file" });
    expect(p.release?.version).toBe("1.4.1");
  });
});

describe("per-component policy, the release section's value as default", () => {
  const config = `release:
  bumpMinorPreMajor: true
  skipGithubRelease: false
  components:
    app:
      path: apps/app
      bumpMinorPreMajor: false
      draft: true
      prerelease: true
      plugins: [sentence-case]
    lib:
      path: libs/lib
      skipGithubRelease: true
      changelogPath: libs/lib/HISTORY.md
      types:
        - {type: feat, section: New, bump: minor}
        - {type: fix, section: Fixed, bump: patch}
`;

  it("each component's plan uses and shows its own values over the release section's", async () => {
    const repo = await repoWith(
      config,
      { "apps/app/version.txt": "0.3.0\n", "libs/lib/version.txt": "0.3.0\n" },
      ["app-v0.3.0", "lib-v0.3.0"],
    );
    await repo.commit("feat(app)!: drop the old page", { "apps/app/a.ts": "a\n" });
    await repo.commit("feat(lib)!: drop the old call", { "libs/lib/b.ts": "b\n" });
    const app = await plan(repo, "app");
    const lib = await plan(repo, "lib");
    // app: bumpMinorPreMajor false (its own) → 1.0.0; lib: true (release section) → 0.4.0.
    expect(app.release?.version).toBe("1.0.0");
    expect(lib.release?.version).toBe("0.4.0");
    expect(app.policy?.bumpMinorPreMajor).toEqual({ value: false, from: "component" });
    expect(lib.policy?.bumpMinorPreMajor).toEqual({ value: true, from: "release" });
    expect(lib.policy?.draft).toEqual({ value: false, from: "default" });
    expect(renderPlanText(app)).toContain("bumpMinorPreMajor=false (component)");
    // draft: created, never published; skipGithubRelease: no GitHub release at all.
    expect(app.release?.draft).toBe(true);
    expect(app.steps).toEqual(["write-files", "commit", "tag", "push", "draft-release"]);
    expect(lib.steps).toEqual(["write-files", "commit", "tag", "push"]);
    // lib's own types and changelogPath; app's sentence-case.
    expect(lib.release?.notes).toContain("### New\n\n* **lib:** drop the old call (");
    expect(lib.files.map((f) => f.path)).toEqual(["libs/lib/version.txt", "libs/lib/HISTORY.md"]);
    expect(app.release?.notes).toContain("### Features\n\n* **app:** Drop the old page (");
  });

  it("prerelease: a 0.x release is marked prerelease on GitHub, as release-please's manifest does", async () => {
    const repo = await repoWith(config, { "apps/app/version.txt": "0.3.0\n" }, ["app-v0.3.0"]);
    await repo.commit("fix(app): y", { "apps/app/a.ts": "a\n" });
    const p = await plan(repo, "app");
    expect(p.release).toMatchObject({ version: "0.3.1", prerelease: true, makeLatest: false });
  });

  it("unknown keys and values are errors at their line, with the fix", () => {
    const at = (text: string) => {
      try {
        parseConfig(text).release;
        return "no error";
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(at("release:\n  components:\n    a:\n      path: a\n      bumpMinorPremajor: true\n")).toBe(
      ".haos-tasks.yaml:5:7: unknown key release.components.a.bumpMinorPremajor; did you mean bumpMinorPreMajor?",
    );
    expect(at("release:\n  plugins: [sentence-cas]\n")).toBe(
      ".haos-tasks.yaml:2:13: release.plugins[0] must be one of sentence-case, node-workspace (got 'sentence-cas')",
    );
    expect(
      at(
        "release:\n  components:\n    a:\n      path: a\n      versionFiles:\n        - {path: a/x, kind: json}\n",
      ),
    ).toBe(".haos-tasks.yaml:6:23: unknown key release.components.a.versionFiles[0].kind");
    expect(
      at(
        "release:\n  components:\n    a:\n      path: a\n      versionFiles:\n        - {path: a/p.json, appVersion: true}\n",
      ),
    ).toBe(
      ".haos-tasks.yaml:6:11: release.components.a.versionFiles[0].appVersion is for a chart (Chart.yaml)",
    );
    expect(at("release:\n  draft: yes please\n")).toBe(
      ".haos-tasks.yaml:2:3: release.draft must be true or false",
    );
  });
});

describe("this repository", () => {
  it("tools/haos-tasks/package.json follows the repository (Action) version through versionFiles", async () => {
    const root = path.resolve(import.meta.dirname, "../../../..");
    const config = parseConfig(await readFile(path.join(root, ".haos-tasks.yaml"), "utf8")).release;
    const component = findComponent(config, "repository");
    expect(component.versionFiles.map((f) => [f.path, f.type])).toEqual([
      ["version.txt", "text"],
      ["tools/haos-tasks/package.json", "json"],
    ]);
    const version = (await readFile(path.join(root, "version.txt"), "utf8")).trim();
    const pkg = JSON.parse(await readFile(path.join(root, "tools/haos-tasks/package.json"), "utf8"));
    expect(pkg.version).toBe(version);
  });
});

describe("linked-versions: a group of components released together at one version", () => {
  const config = `release:
  repository: acme/home
  linkedVersions:
    - {group: apps, components: [a, b]}
  components:
    a: {path: apps/a}
    b: {path: apps/b}
    c: {path: apps/c}
`;
  const planOf = async (repo: ScratchRepo, name: string) => {
    const parsed = parseConfig(config).release;
    return planLinked(parsed, name, (n) =>
      readPlanInput(repo.dir, parsed, findComponent(parsed, n), {
        now: new Date("2026-03-04T12:00:00Z"),
        env: {},
      }),
    );
  };

  it("every member takes the highest version any member needs; a member without changes is synchronised", async () => {
    const repo = await repoWith(
      config,
      { "apps/a/version.txt": "1.0.0\n", "apps/b/version.txt": "1.0.0\n", "apps/c/version.txt": "1.0.0\n" },
      ["a-v1.0.0", "b-v1.0.0", "c-v1.0.0"],
    );
    await repo.commit("feat(a): new", { "apps/a/x.ts": "x\n" });
    await repo.commit("fix(c): y", { "apps/c/y.ts": "y\n" });
    const [a, b, c] = [await planOf(repo, "a"), await planOf(repo, "b"), await planOf(repo, "c")];
    expect([a.release?.version, b.release?.version, c.release?.version]).toEqual(["1.1.0", "1.1.0", "1.0.1"]);
    // b has nothing of its own: release-please's linked-versions entry (empty SHA, no link).
    expect(b.release?.notes).toBe(
      "## [1.1.0](https://github.com/acme/home/compare/b-v1.0.0...b-v1.1.0) (2026-03-04)\n\n\n### Miscellaneous Chores\n\n* **b:** Synchronize apps versions\n",
    );
    expect(b.bump?.reason).toMatch(
      /^linked-versions group apps \(a, b\) releases 1\.1\.0; on its own: nothing to release/,
    );
    // b with a fix of its own still follows a's feature.
    await repo.commit("fix(b): z", { "apps/b/z.ts": "z\n" });
    expect((await planOf(repo, "b")).release?.version).toBe("1.1.0");
  });

  it("after one member is released, the next plan of another catches up (sequential applies converge)", async () => {
    const repo = await repoWith(
      config,
      { "apps/a/version.txt": "1.0.0\n", "apps/b/version.txt": "1.0.0\n" },
      ["a-v1.0.0", "b-v1.0.0"],
    );
    await repo.commit("feat(a)!: break", { "apps/a/x.ts": "x\n" });
    await repo.commit("chore(release): a 2.0.0", { "apps/a/version.txt": "2.0.0\n" });
    await repo.tag("a-v2.0.0", { annotated: true });
    expect((await planOf(repo, "a")).status).toBe("up-to-date");
    expect((await planOf(repo, "b")).release?.version).toBe("2.0.0");
  });

  it("unknown members are an error at their line", () => {
    expect(
      () =>
        parseConfig(
          "release:\n  linkedVersions:\n    - {group: g, components: [a, nope]}\n  components:\n    a: {path: a}\n",
        ).release,
    ).toThrow(".haos-tasks.yaml:3:18: release.linkedVersions[0].components: no component 'nope'");
  });
});
