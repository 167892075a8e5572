import { afterEach, describe, expect, it } from "vitest";
import { DIFF_MARKER } from "../../src/diff/markdown.ts";
import { createScratchRepo, type ScratchRepo, sampleApp } from "../../src/diff/test-repo.ts";
import { runBundledAction } from "./action-harness.ts";

// The bundled Action (dist/index.js) run as the runner runs it, against a real git repository and
// the machine's kubectl kustomize.
let repo: ScratchRepo | undefined;
afterEach(() => repo?.remove());

function prRepo(): { repo: ScratchRepo; base: string; head: string } {
  repo = createScratchRepo("haos-tasks-action-diff-");
  repo.write(sampleApp);
  const base = repo.commit("feat: demo");
  repo.git("checkout", "--quiet", "-b", "feature");
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
    expect(run.outputs["diff-markdown"]).toContain("**head does not build:**");
  });

  it("names the input for every bad value, and masks the token before anything else", async () => {
    const { repo, base } = prRepo();
    const cases: [Record<string, string>, string][] = [
      [
        { command: "deploy" },
        "input 'command' must be one of validate, diff, version-bump, release, verify (got 'deploy')",
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
