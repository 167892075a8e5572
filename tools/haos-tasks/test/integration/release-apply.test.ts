import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { loadConfig } from "../../src/config/load.ts";
import { ReleaseError } from "../../src/release/errors.ts";
import { createGitTransport } from "../../src/release/transports/git.ts";
import { chooseTransport } from "../../src/release/transports/index.ts";
import { InjectedFault } from "../github-double/release-faults.ts";
import {
  createReleaseFixture,
  initialChangelog,
  type ReleaseFixture,
} from "../github-double/release-fixture.ts";
import { runCli } from "../support/cli.ts";
import { cloneScratchRepo } from "../support/scratch-repo.ts";

const run = promisify(execFile);
const gitAt = async (dir: string, ...args: string[]) => (await run("git", args, { cwd: dir })).stdout.trim();

let fixture: ReleaseFixture | undefined;
afterEach(async () => {
  // Every request and response the double saw must match GitHub's OpenAPI description.
  const violations = fixture?.github.violations ?? [];
  await fixture?.close();
  fixture = undefined;
  expect(violations).toEqual([]);
});

async function setup(): Promise<ReleaseFixture> {
  fixture = await createReleaseFixture();
  return fixture;
}

describe.each(["git", "github"] as const)("release apply through the %s transport", (transport) => {
  it("releases haos-enigma: version, changelog, one commit, tag, published release with make_latest false", async () => {
    const f = await setup();
    const result = await f.apply({ transport });
    expect(result.status).toBe("released");
    const sha = result.sha as string;
    // The origin has the release commit on main, with exactly the two files changed.
    expect(await gitAt(f.origin, "rev-parse", "main")).toBe(sha);
    expect(await gitAt(f.origin, "log", "-1", "--format=%s", sha)).toBe("chore(release): haos-enigma 1.1.0");
    expect((await gitAt(f.origin, "show", "--name-only", "--format=", sha)).split("\n").sort()).toEqual([
      "apps/haos-enigma/CHANGELOG.md",
      "apps/haos-enigma/version.txt",
    ]);
    expect(await gitAt(f.origin, "show", `${sha}:apps/haos-enigma/version.txt`)).toBe("1.1.0");
    const changelog = `${await gitAt(f.origin, "show", `${sha}:apps/haos-enigma/CHANGELOG.md`)}\n`;
    const at = changelog.indexOf("## 1.0.0");
    expect(changelog.slice(0, changelog.indexOf("## [1.1.0]"))).toBe(
      initialChangelog.slice(0, initialChangelog.indexOf("## 1.0.0")),
    );
    expect(changelog.slice(at)).toBe(initialChangelog.slice(initialChangelog.indexOf("## 1.0.0")));
    expect(changelog).toContain(
      "## [1.1.0](https://github.com/acme/home/compare/haos-enigma-v1.0.0...haos-enigma-v1.1.0)",
    );
    expect(changelog).toContain("### Features\n\n* **vm:** 6 GiB of memory for add-ons ([");
    expect(await gitAt(f.origin, "rev-parse", "haos-enigma-v1.1.0^{commit}")).toBe(sha);
    if (transport === "git")
      expect(await gitAt(f.origin, "cat-file", "-t", "haos-enigma-v1.1.0")).toBe("tag");
    if (transport === "github") expect(f.github.verified.has(sha)).toBe(true);
    expect(f.github.releases).toHaveLength(1);
    expect(f.github.releases[0]).toMatchObject({
      tag_name: "haos-enigma-v1.1.0",
      name: "haos-enigma v1.1.0",
      draft: false,
    });
    expect(f.github.releases[0]?.body).toContain("### Features");
    expect(f.github.latestReleaseId).toBeUndefined();
    // Draft first, publish second.
    const calls = f.github.requests.map((r) => r.operationId).filter((id) => id?.includes("release"));
    expect(calls.indexOf("repos/create-release")).toBeLessThan(calls.indexOf("repos/update-release"));
    // Running again changes nothing.
    if (transport === "github") await gitAt(f.repo.dir, "pull", "-q", "--ff-only");
    const again = await f.apply({ transport });
    expect(again.status).toBe("up-to-date");
    expect(again.message).toContain("haos-enigma-v1.1.0 is published");
    expect(f.github.releases).toHaveLength(1);
  });

  it("releases the repository: tag v1.0.1, moves v1, make_latest true", async () => {
    const f = await setup();
    const result = await f.apply({ transport, component: "repository" });
    expect(result.status).toBe("released");
    expect(await gitAt(f.origin, "rev-parse", "v1.0.1^{commit}")).toBe(result.sha);
    expect(await gitAt(f.origin, "rev-parse", "v1^{commit}")).toBe(result.sha);
    expect(f.github.releases[0]).toMatchObject({ tag_name: "v1.0.1", name: "v1.0.1", draft: false });
    expect(f.github.latestReleaseId).toBe(f.github.releases[0]?.id);
  });

  it("a backport below a tagged higher version is published with make_latest false", async () => {
    const f = await setup();
    // v2.0.0 on another line of history, as on a main branch ahead of this maintenance branch.
    await gitAt(f.repo.dir, "switch", "-q", "-c", "next");
    await f.repo.commit("feat!: the 2.x line", { "tools/next.ts": "export {};\n" });
    await f.repo.tag("v2.0.0", { annotated: true });
    await gitAt(f.repo.dir, "switch", "-q", "main");
    await gitAt(f.repo.dir, "branch", "-q", "-D", "next");
    const result = await f.apply({ transport, component: "repository" });
    expect(result.status).toBe("released");
    expect(f.github.releases[0]).toMatchObject({ tag_name: "v1.0.1", draft: false });
    expect(f.github.latestReleaseId).toBeUndefined();
  });

  it("fails loudly when the tag already exists at another commit", async () => {
    const f = await setup();
    const stray = await gitAt(f.origin, "rev-parse", "main~1");
    await gitAt(f.origin, "tag", "haos-enigma-v1.1.0", stray);
    const error = await f.apply({ transport }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).message).toMatch(/tag haos-enigma-v1\.1\.0/);
    expect(f.github.releases.filter((r) => !r.draft)).toHaveLength(0);
  });
});

describe("a rejected push says why, from git's porcelain output", () => {
  it("the tag clash names the commit the remote's tag points at", async () => {
    const f = await setup();
    const stray = await gitAt(f.origin, "rev-parse", "main~1");
    await gitAt(f.origin, "tag", "haos-enigma-v1.1.0", stray);
    const error = await f.apply().catch((e: unknown) => e);
    expect((error as ReleaseError).message).toMatch(
      new RegExp(`origin already has tag haos-enigma-v1\\.1\\.0 at ${stray.slice(0, 7)}`),
    );
  });

  it("a pre-receive hook that declines is reported with the remote's message, not as a tag clash", async () => {
    const f = await setup();
    const hook = path.join(f.origin, "hooks", "pre-receive");
    await writeFile(hook, '#!/bin/sh\necho "releases need an approved change ticket" >&2\nexit 1\n', {
      mode: 0o755,
    });
    const error = await f.apply().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    const message = (error as ReleaseError).message;
    expect(message).toContain("pre-receive hook declined");
    expect(message).toContain("releases need an approved change ticket");
    expect(message).not.toContain("already has tag");
  });

  it("the branch moving between preflight and push is reported as a moved branch, not as a tag clash", async () => {
    const f = await setup();
    const plan = await f.plan();
    await expect(f.apply({ failAt: "after-tag" })).rejects.toBeInstanceOf(InjectedFault);
    const other = cloneScratchRepo(f.origin, { prefix: "haos-release-clone-" });
    await other.commit("fix(vm): from elsewhere", { "apps/haos-enigma/vm.yaml": "memory: 8Gi\n" });
    await other.git("push", "-q", "origin", "main");
    await other.remove();
    const transport = createGitTransport({
      root: f.repo.dir,
      config: (await loadConfig(f.repo.dir)).release,
      github: undefined,
    });
    const error = await transport
      .push(plan, await gitAt(f.repo.dir, "rev-parse", "HEAD"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).message).toMatch(/origin main moved while releasing/);
    expect((error as ReleaseError).hint).toContain("git pull --ff-only");
  });
});

describe("release apply pushes to the branch's upstream, whatever its name", () => {
  it("a local `work` tracking origin/main releases onto main and creates no `work` on origin", async () => {
    const f = await setup();
    await gitAt(f.repo.dir, "switch", "-q", "-c", "work", "--track", "origin/main");
    const result = await f.apply();
    expect(result.status).toBe("released");
    expect(await gitAt(f.origin, "rev-parse", "main")).toBe(result.sha);
    expect(await gitAt(f.origin, "for-each-ref", "refs/heads/work")).toBe("");
  });

  it("`work` is behind when origin/main moved, in the plan and in apply", async () => {
    const f = await setup();
    await gitAt(f.repo.dir, "switch", "-q", "-c", "work", "--track", "origin/main");
    const other = cloneScratchRepo(f.origin, { prefix: "haos-release-clone-" });
    await other.commit("fix(vm): from elsewhere", { "apps/haos-enigma/vm.yaml": "memory: 8Gi\n" });
    await other.git("push", "-q", "origin", "main");
    await other.remove();
    await gitAt(f.repo.dir, "fetch", "-q", "origin");
    const plan = await f.plan();
    expect(plan.findings.map((x) => x.message)).toContain(
      "work is 1 commit(s) behind its upstream origin/main",
    );
    await expect(f.apply()).rejects.toThrow(/work is 1 commit\(s\) behind origin\/main/);
  });

  it("a branch without an upstream is refused with the command that sets one", async () => {
    const f = await setup();
    await gitAt(f.repo.dir, "switch", "-q", "-c", "solo");
    const error = await f.apply().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).message).toContain("solo has no upstream branch");
    expect((error as ReleaseError).hint).toContain("git branch --set-upstream-to=origin/<branch> solo");
    expect(await gitAt(f.origin, "for-each-ref", "refs/heads/solo")).toBe("");
  });
});

describe("release apply refuses unsafe starting points", () => {
  it("a dirty tree, naming the file", async () => {
    const f = await setup();
    await writeFile(path.join(f.repo.dir, "tools/cli.ts"), "dirty\n");
    await expect(f.apply()).rejects.toThrow(/working tree is dirty: M tools\/cli\.ts/);
    expect(f.github.releases).toHaveLength(0);
  });

  it("a detached HEAD", async () => {
    const f = await setup();
    await gitAt(f.repo.dir, "switch", "-q", "--detach", "HEAD");
    await expect(f.apply()).rejects.toThrow(/HEAD is detached/);
  });

  it("a branch behind its remote", async () => {
    const f = await setup();
    const other = cloneScratchRepo(f.origin, { prefix: "haos-release-clone-" });
    await other.commit("fix(vm): from elsewhere", { "apps/haos-enigma/vm.yaml": "memory: 8Gi\n" });
    await other.git("push", "-q", "origin", "main");
    await other.remove();
    await expect(f.apply()).rejects.toThrow(/behind origin\/main.*|1 commit\(s\) behind/);
  });

  it("a token without contents: write → exit 4 naming the permission", async () => {
    const f = await setup();
    f.github.permission = "read";
    const { code, stderr } = await runCli(
      ["release", "apply", "--component", "haos-enigma", "--transport", "github"],
      { cwd: f.repo.dir, env: f.env },
    );
    expect(code).toBe(4);
    expect(stderr).toContain("contents: write");
  });
});

describe("release apply without GitHub access names what is missing", () => {
  const apply = (f: ReleaseFixture, env: NodeJS.ProcessEnv) =>
    runCli(["release", "apply", "--component", "haos-enigma"], { cwd: f.repo.dir, env });

  it("the token, and how to set it", async () => {
    const f = await setup();
    const { GITHUB_TOKEN: _token, ...env } = f.env;
    const { code, stderr } = await apply(f, env);
    expect(code).toBe(2);
    expect(stderr).toContain(
      "error: haos-enigma v1.1.0: release apply refuses without GitHub access: no GitHub token (neither GITHUB_TOKEN nor GH_TOKEN is set)\n",
    );
    expect(stderr).toContain("fix: set GITHUB_TOKEN to a token with `contents: write`");
    expect(stderr).not.toContain("GITHUB_REPOSITORY");
    expect(await gitAt(f.origin, "tag", "--list", "haos-enigma-v1.1.0")).toBe("");
  });

  it("the repository, and how to set it", async () => {
    const f = await setup();
    const { GITHUB_REPOSITORY: _repository, ...env } = f.env;
    const { code, stderr } = await apply(f, env);
    expect(code).toBe(2);
    expect(stderr).toContain(
      "release apply refuses without GitHub access: no GitHub repository (release.repository and GITHUB_REPOSITORY are not set, and the remote is not a github.com URL)",
    );
    expect(stderr).toContain("fix: set `repository: owner/name` under release: in .haos-tasks.yaml");
    expect(stderr).not.toContain("GITHUB_TOKEN");
  });

  it("the github transport names the missing piece too", async () => {
    const f = await setup();
    const { GITHUB_REPOSITORY: _repository, ...env } = f.env;
    const { GITHUB_TOKEN: _token, ...noToken } = f.env;
    const config = (await loadConfig(f.repo.dir)).release;
    expect(() => chooseTransport("github", { root: f.repo.dir, config, env })).toThrow(
      /no GitHub repository/,
    );
    expect(() => chooseTransport("github", { root: f.repo.dir, config, env: noToken })).toThrow(
      /needs a token and a repository: no GitHub token \(neither GITHUB_TOKEN nor GH_TOKEN is set\)$/,
    );
  });
});

describe("release apply through the CLI", () => {
  it("applies every component in turn, then reports nothing to release", async () => {
    const f = await setup();
    const io = (out: string[]) => ({
      stdout: (t: string) => void out.push(t),
      stderr: () => {},
      env: f.env,
      cwd: f.repo.dir,
      isTTY: false,
    });
    const out: string[] = [];
    expect(await main(["release", "apply", "--transport", "git"], io(out))).toBe(0);
    expect(out.join("")).toMatch(/released haos-enigma v1\.1\.0[\s\S]*released v1\.0\.1/);
    expect(await readFile(path.join(f.repo.dir, "apps/haos-enigma/version.txt"), "utf8")).toBe("1.1.0\n");
    const again: string[] = [];
    expect(await main(["release", "apply"], io(again))).toBe(0);
    expect(again.join("")).toContain("nothing to release");
    const dry: string[] = [];
    expect(await main(["release", "apply", "--dry-run", "--component", "repository"], io(dry))).toBe(0);
    expect(dry.join("")).toContain("repository: up-to-date");
  });
});

describe("a release commit and tag that never reached the remote", () => {
  const cli = (f: ReleaseFixture, args: string[], env: NodeJS.ProcessEnv) =>
    runCli(args, { cwd: f.repo.dir, env });

  it("is unfinished in the plan, and apply pushes and publishes it instead of reporting nothing to release", async () => {
    const f = await setup();
    await expect(f.apply({ failAt: "after-tag" })).rejects.toBeInstanceOf(InjectedFault);
    const sha = await gitAt(f.repo.dir, "rev-parse", "haos-enigma-v1.1.0^{commit}");
    expect(await gitAt(f.origin, "tag", "--list", "haos-enigma-v1.1.0")).toBe("");
    const plan = await f.plan();
    expect(plan.status).toBe("resume");
    expect(plan.summary).toBe(`haos-enigma: finish release 1.1.0 (commit ${sha.slice(0, 7)})`);
    expect(plan.bump?.reason).toContain("haos-enigma-v1.1.0 at release commit");
    expect(plan.bump?.reason).toContain("exists only locally");
    expect(plan.steps).toEqual(["tag", "push", "draft-release", "publish-release"]);
    expect(plan.commit?.sha).toBe(sha);
    // Without a token apply cannot publish, so it refuses rather than calling this up to date.
    const { GITHUB_TOKEN: _token, ...noToken } = f.env;
    const refused = await cli(f, ["release", "apply", "--component", "haos-enigma"], noToken);
    expect(refused.code).toBe(2);
    expect(refused.stdout).not.toContain("nothing to release");
    expect(refused.stderr).toContain("GITHUB_TOKEN");
    const result = await f.apply();
    expect(result.status).toBe("released");
    expect(result.sha).toBe(sha);
    expect(await gitAt(f.origin, "rev-parse", "main")).toBe(sha);
    expect(await gitAt(f.origin, "rev-parse", "haos-enigma-v1.1.0^{commit}")).toBe(sha);
    expect(f.github.releases.map((r) => [r.tag_name, r.draft])).toEqual([["haos-enigma-v1.1.0", false]]);
    expect((await f.plan()).status).toBe("up-to-date");
  });

  it("a remote that cannot be read warns and plans from the local tags, as before", async () => {
    const f = await setup();
    await expect(f.apply()).resolves.toMatchObject({ status: "released" });
    await gitAt(f.repo.dir, "remote", "set-url", "origin", path.join(f.origin, "gone.git"));
    const plan = await f.plan();
    expect(plan.status).toBe("up-to-date");
    expect(plan.findings).toEqual([
      expect.objectContaining({
        severity: "warning",
        rule: "release/remote-unreadable",
        message: expect.stringContaining("cannot read tag haos-enigma-v1.1.0 from origin"),
      }),
    ]);
  });

  it("a remote tag at another commit than the local one blocks the plan", async () => {
    const f = await setup();
    await expect(f.apply({ failAt: "after-tag" })).rejects.toBeInstanceOf(InjectedFault);
    const stray = await gitAt(f.origin, "rev-parse", "main~1");
    await gitAt(f.origin, "tag", "haos-enigma-v1.1.0", stray);
    const plan = await f.plan();
    expect(plan.status).toBe("blocked");
    expect(plan.findings.map((x) => x.rule)).toContain("release/tag-moved");
  });
});

describe("release apply --format json", () => {
  const apply = async (f: ReleaseFixture, ...args: string[]) => {
    const { code, stdout, stderr } = await runCli(
      ["release", "apply", "--transport", "git", "--format", "json", ...args],
      { cwd: f.repo.dir, env: f.env },
    );
    return { code, stderr, results: (JSON.parse(stdout) as { results: Record<string, unknown>[] }).results };
  };

  it("prints one JSON document with a result per component; progress stays on stderr", async () => {
    const f = await setup();
    const first = await apply(f);
    expect(first.code).toBe(0);
    const done = ["preflight", "write-files", "commit", "tag", "push", "release"];
    expect(first.results).toEqual([
      expect.objectContaining({
        component: "haos-enigma",
        status: "released",
        version: "1.1.0",
        tag: "haos-enigma-v1.1.0",
        sha: await gitAt(f.origin, "rev-parse", "haos-enigma-v1.1.0^{commit}"),
        html_url: expect.stringMatching(/\/releases\/tag\/haos-enigma-v1\.1\.0$/),
        steps: done,
      }),
      expect.objectContaining({ component: "repository", status: "released", tag: "v1.0.1", steps: done }),
    ]);
    expect(first.stderr).toContain("[haos-enigma] push: succeeded");
    const again = await apply(f, "--component", "repository");
    expect(again.results).toEqual([
      expect.objectContaining({ component: "repository", status: "up-to-date", steps: [], html_url: null }),
    ]);
  });

  it("a failed step is a result too, with the steps done before it, and the error on stderr", async () => {
    const f = await setup();
    await gitAt(f.origin, "tag", "haos-enigma-v1.1.0", await gitAt(f.origin, "rev-parse", "main~1"));
    const { code, results, stderr } = await apply(f, "--component", "haos-enigma");
    expect(code).toBe(1);
    expect(results).toEqual([
      expect.objectContaining({
        component: "haos-enigma",
        status: "failed",
        message: expect.stringContaining("origin already has tag haos-enigma-v1.1.0"),
        hint: expect.stringContaining("never move a published release tag"),
        steps: ["preflight", "write-files", "commit", "tag"],
      }),
    ]);
    expect(stderr).toContain("error: origin already has tag haos-enigma-v1.1.0");
  });
});

describe("issue 25: draft and skipGithubRelease per component, through apply", () => {
  async function withPolicy(lines: Record<string, string>): Promise<ReleaseFixture> {
    const f = await setup();
    let config = await readFile(path.join(f.repo.dir, ".haos-tasks.yaml"), "utf8");
    for (const [after, line] of Object.entries(lines)) config = config.replace(after, `${after}\n${line}`);
    await f.repo.commit("chore: release policy", { ".haos-tasks.yaml": config });
    return f;
  }

  it("draft: the release is created and left a draft; the next apply is up to date", async () => {
    const f = await withPolicy({ "      makeLatest: false": "      draft: true" });
    const plan = await f.plan();
    expect(plan.steps).toEqual(["write-files", "commit", "tag", "push", "draft-release"]);
    expect(plan.policy?.draft).toEqual({ value: true, from: "component" });
    const result = await f.apply();
    expect(result.status).toBe("released");
    expect(f.github.releases).toHaveLength(1);
    expect(f.github.releases[0]).toMatchObject({ tag_name: "haos-enigma-v1.1.0", draft: true });
    expect(f.github.requests.map((r) => r.operationId)).not.toContain("repos/update-release");
    const again = await f.plan();
    expect(again.status).toBe("up-to-date");
    expect((await f.apply()).status).toBe("up-to-date");
    expect(f.github.releases).toHaveLength(1);
  });

  it("skipGithubRelease: commit, tag and push, and no GitHub release", async () => {
    const f = await withPolicy({ '      majorTag: "v{major}"': "      skipGithubRelease: true" });
    const result = await f.apply({ component: "repository" });
    expect(result.status).toBe("released");
    expect(result.message).toContain("no GitHub release: skipGithubRelease");
    expect(await gitAt(f.origin, "rev-parse", "v1.0.1^{commit}")).toBe(result.sha);
    expect(f.github.releases).toHaveLength(0);
    expect((await f.apply({ component: "repository" })).status).toBe("up-to-date");
  });
});
