import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DIFF_MARKER } from "../../src/diff/markdown.ts";
import { type GitHubDouble, startGitHubDouble } from "../github-double/server.ts";
import { sampleApp } from "../support/sample-app.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";
import { runBundledAction } from "./action-harness.ts";

// The bundled Action (dist/index.js) run as the runner runs it, against a real git repository and
// the machine's kubectl kustomize.
let repo: ScratchRepo | undefined;
let double: GitHubDouble | undefined;
const temps: string[] = [];
afterEach(async () => {
  repo?.remove();
  await double?.close();
  double = undefined;
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The GitHub double (every request and response checked against @octokit/openapi). */
async function github(): Promise<GitHubDouble> {
  const bare = createScratchRepo({ prefix: "haos-tasks-double-", bare: true }).dir;
  temps.push(bare);
  double = await startGitHubDouble({ bare });
  return double;
}

function prRepo(): { repo: ScratchRepo; base: string; head: string } {
  repo = createScratchRepo("haos-tasks-action-diff-");
  repo.write(sampleApp);
  const base = repo.commit("feat: demo");
  repo.branch("feature");
  repo.write({
    "apps/demo/base/configmap.yaml": sampleApp["apps/demo/base/configmap.yaml"].replace("blue", "green"),
    "apps/demo/base/secret.yaml": sampleApp["apps/demo/base/secret.yaml"].replace(
      "hunter2-base",
      "rotated-9",
    ),
  });
  const head = repo.commit("feat: green");
  return { repo, base, head };
}

const pullRequestEvent = (base: string, head: string) => ({
  action: "synchronize",
  number: 7,
  pull_request: { number: 7, base: { sha: base, ref: "main" }, head: { sha: head, ref: "feature" } },
});

describe("the Action's diff command (dist/index.js)", () => {
  it("renders the PR's diff into diff-markdown, diff-changed, diff-apps and the job summary", async () => {
    const { repo, base, head } = prRepo();
    const run = await runBundledAction(
      { command: "diff", "base-ref": base, "head-ref": head, paths: "apps" },
      { workspace: repo.dir, eventName: "pull_request", event: pullRequestEvent(base, head), sha: head },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs["diff-changed"]).toBe("true");
    expect(JSON.parse(run.outputs["diff-apps"] ?? "[]")).toEqual([
      { path: "apps/demo/overlays/prod", status: "changed", added: 0, changed: 2, removed: 0 },
    ]);
    const markdown = run.outputs["diff-markdown"] ?? "";
    expect(markdown.startsWith(`${DIFF_MARKER}\n`)).toBe(true);
    expect(markdown).toContain("**+0 added · ~2 changed · −0 removed**");
    expect(markdown).toContain("-  mode: blue\n+  mode: green");
    expect(markdown).toContain("+  password: <redacted, changed>");
    expect(`${run.stdout}${markdown}${run.summary}`).not.toContain("rotated-9");
    expect(run.summary).toContain(DIFF_MARKER);
  });

  it("fails the step when an app does not build at head, with the outputs still set", async () => {
    const { repo, head } = prRepo();
    repo.write({ "apps/demo/base/kustomization.yaml": "resources:\n  - gone.yaml\n" });
    const broken = repo.commit("fix: oops");
    const run = await runBundledAction(
      { command: "diff", "base-ref": head, "head-ref": broken },
      { workspace: repo.dir, sha: broken },
    );
    expect(run.code).toBe(1);
    expect(run.errors).toEqual(["does not build at head: apps/demo/overlays/prod (see the job summary)"]);
    expect(run.outputs["diff-markdown"]).toContain("`apps/demo/overlays/prod`: head does not render:");
    expect(run.outputs["diff-markdown"]).toContain(
      "> [!CAUTION]\n> **render-failure** · `apps/demo/overlays/prod`",
    );
  });

  it("creates the sticky comment, then updates it in place; the full diff is in diff-file", async () => {
    const gh = await github();
    const { repo, base, head } = prRepo();
    const runnerTemp = mkdtempSync(path.join(os.tmpdir(), "haos-tasks-runner-temp-"));
    temps.push(runnerTemp);
    // Someone quoting the marker further down their comment: not ours, never touched.
    gh.comments.push({
      id: 1,
      issue_number: 7,
      body: `Why does ${DIFF_MARKER} appear twice?`,
      author: { login: "octocat", type: "User" },
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
    });
    const options = (h: string) => ({
      workspace: repo.dir,
      eventName: "pull_request",
      event: pullRequestEvent(base, h),
      sha: h,
      githubToken: gh.token,
      env: { GITHUB_API_URL: gh.url, RUNNER_TEMP: runnerTemp },
    });
    const first = await runBundledAction(
      { command: "diff", "base-ref": base, "head-ref": head, paths: "apps", comment: "true" },
      options(head),
    );
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(gh.comments.map((c) => [c.id, c.author.login])).toEqual([
      [1, "octocat"],
      [expect.any(Number), "github-actions[bot]"],
    ]);
    const sticky = gh.comments[1];
    expect(sticky?.body).toBe(first.outputs["diff-markdown"]);
    expect(first.outputs["comment-url"]).toBe(
      `https://github.com/acme/home/pull/7#issuecomment-${sticky?.id}`,
    );
    const fullFile = first.outputs["diff-file"] ?? "";
    expect(fullFile.startsWith(runnerTemp)).toBe(true);
    expect(readFileSync(fullFile, "utf8")).toContain("-  mode: blue\n+  mode: green");
    expect(readFileSync(fullFile, "utf8")).not.toContain("rotated-9");
    const json = JSON.parse(readFileSync(first.outputs["diff-json-file"] ?? "", "utf8")) as {
      changes: { kind: string; change: string; owner: string; paths: string[] }[];
    };
    expect(json.changes.map((c) => `${c.change} ${c.kind} ${c.owner} ${c.paths.join(",")}`).sort()).toEqual([
      "changed ConfigMap apps/demo/overlays/prod data.mode",
      "changed Secret apps/demo/overlays/prod stringData.password",
    ]);

    // A new push: the same comment is updated, not a second one created.
    repo.write({
      "apps/demo/base/configmap.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  namespace: demo\ndata:\n  mode: red\n  level: '1'\n",
    });
    const next = repo.commit("feat: red");
    const second = await runBundledAction(
      { command: "diff", "base-ref": base, "head-ref": next, paths: "apps", comment: "true" },
      options(next),
    );
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(gh.comments).toHaveLength(2);
    expect(gh.comments[1]?.id).toBe(sticky?.id);
    expect(gh.comments[1]?.body).toContain("+  mode: red");
    expect(gh.comments[0]?.body).toBe(`Why does ${DIFF_MARKER} appear twice?`);
    expect(gh.requests.filter((r) => r.method !== "GET").map((r) => `${r.operationId} ${r.status}`)).toEqual([
      "issues/create-comment 201",
      "issues/update-comment 200",
    ]);
    expect(gh.violations).toEqual([]);
  });

  it("command comment posts a diff job's Markdown: takes over the earlier marker's comment, names the permission when refused", async () => {
    const gh = await github();
    const { repo, base, head } = prRepo();
    gh.comments.push({
      id: 5,
      issue_number: 7,
      body: "<!-- haos-tasks:diff -->\n### haos-tasks diff: an older version",
      author: { login: "github-actions[bot]", type: "Bot" },
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
    });
    // Inputs arrive trimmed, as the runner passes them.
    const body = `${DIFF_MARKER}\n### haos-tasks diff: 2 objects in 1 owner`;
    const options = {
      workspace: repo.dir,
      eventName: "pull_request",
      event: pullRequestEvent(base, head),
      sha: head,
      githubToken: gh.token,
      env: { GITHUB_API_URL: gh.url },
    };
    const run = await runBundledAction({ command: "comment", body }, options);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(gh.comments.map((c) => [c.id, c.body])).toEqual([[5, body]]);
    // Unchanged: nothing written.
    const again = await runBundledAction({ command: "comment", body }, options);
    expect(again.code).toBe(0);
    expect(gh.requests.filter((r) => r.method !== "GET")).toHaveLength(1);

    gh.permission = "read";
    const refused = await runBundledAction({ command: "comment", body: `${body}\nmore` }, options);
    expect(refused.code).toBe(1);
    expect(refused.errors.join("\n")).toContain("(403)");
    expect(refused.errors.join("\n")).toContain("pull-requests: write");
    const pushEvent = await runBundledAction(
      { command: "comment", body },
      { ...options, eventName: "push", event: {} },
    );
    expect(pushEvent.code).toBe(1);
    expect(pushEvent.errors.join("\n")).toContain("command comment needs a pull_request event (got push)");
    expect(gh.violations).toEqual([]);
    expect(existsSync(repo.dir)).toBe(true);
  });

  it("names the input for every bad value, and masks the token before anything else", async () => {
    const { repo, base } = prRepo();
    const cases: [Record<string, string>, string][] = [
      [
        { command: "deploy" },
        "input 'command' must be one of validate, diff, comment, version-bump, release, verify (got 'deploy')",
      ],
      [{ command: "diff" }, "input 'base-ref' is required for command diff"],
      [{ command: "diff", "base-ref": base, "max-chars": "12" }, "input 'max-chars' must be a whole number"],
      [{ command: "validate", strict: "yes" }, "input 'strict' must be true or false (got 'yes')"],
      [{ command: "verify", timeout: "soon", revision: base }, "input 'timeout' must be a duration like 30m"],
      // `revision` takes anything git resolves (main included); a missing app folder is named by
      // its input, not by the CLI's --app flag.
      [{ command: "verify", revision: "main" }, "fix: pass input 'app' <folder of the Flux app>"],
      [
        { command: "release", prerelease: "1" },
        "input 'prerelease' must be an identifier like rc or beta (got '1')",
      ],
      [
        { command: "diff", "working-directory": "nope", "base-ref": base },
        "input 'working-directory' names a folder that does not exist",
      ],
      [{ command: "diff", "base-ref": "no-such-ref" }, "unknown git ref 'no-such-ref'"],
    ];
    for (const [inputs, message] of cases) {
      const run = await runBundledAction(inputs, {
        workspace: repo.dir,
        githubToken: "ghs_defaultTokenValue123",
      });
      expect(run.code, JSON.stringify(inputs)).toBe(1);
      expect(run.errors.join("\n"), JSON.stringify(inputs)).toContain(message);
      expect(run.masked).toEqual(["ghs_defaultTokenValue123"]);
      expect(run.stdout.indexOf("::add-mask::")).toBe(0);
    }
  });
});
