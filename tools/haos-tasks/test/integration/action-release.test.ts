import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { createReleaseFixture, type ReleaseFixture } from "../github-double/release-fixture.ts";
import { runBundledAction } from "./action-harness.ts";

// The bundled Action against a scripted repository whose origin is served by the GitHub API
// double (every request and response checked against GitHub's OpenAPI description).
const run = promisify(execFile);
const gitAt = async (dir: string, ...args: string[]) => (await run("git", args, { cwd: dir })).stdout.trim();

let fixture: ReleaseFixture | undefined;
afterEach(async () => {
  const violations = fixture?.github.violations ?? [];
  await fixture?.close();
  fixture = undefined;
  expect(violations).toEqual([]);
});

function runnerEnv(f: ReleaseFixture): Record<string, string> {
  return { GITHUB_API_URL: f.github.url, GITHUB_REPOSITORY: f.github.repository };
}

describe("the Action's version-bump and release commands (dist/index.js)", () => {
  it("version-bump plans without changing anything; release publishes through the API and says so", async () => {
    fixture = await createReleaseFixture();
    const f = fixture;
    const head = await gitAt(f.repo.dir, "rev-parse", "HEAD");
    const options = { workspace: f.repo.dir, sha: head, githubToken: f.github.token, env: runnerEnv(f) };

    const bump = await runBundledAction({ command: "version-bump", component: "haos-enigma" }, options);
    expect(bump.code, bump.stdout + bump.stderr).toBe(0);
    expect(bump.outputs).toMatchObject({
      releasable: "true",
      version: "1.1.0",
      "previous-version": "1.0.0",
      "tag-name": "haos-enigma-v1.1.0",
    });
    expect(bump.summary).toContain("haos-enigma");
    expect(f.github.releases).toHaveLength(0);
    expect(await gitAt(f.origin, "rev-parse", "main")).toBe(head);

    const release = await runBundledAction({ command: "release", component: "haos-enigma" }, options);
    expect(release.code, release.stdout + release.stderr).toBe(0);
    expect(release.masked).toEqual([f.github.token]);
    expect(release.stdout.split(f.github.token).length).toBe(2); // only inside ::add-mask::
    const sha = await gitAt(f.origin, "rev-parse", "main");
    expect(sha).not.toBe(head);
    expect(release.outputs).toMatchObject({
      "release-created": "true",
      version: "1.1.0",
      "tag-name": "haos-enigma-v1.1.0",
      sha,
    });
    expect(f.github.releases).toHaveLength(1);
    expect(release.outputs["html-url"]).toMatch(/^https:\/\/github\.com\/acme\/home\/releases\/.+/);
    expect(f.github.verified.has(sha)).toBe(true); // committed through the API: shown as verified
    expect(JSON.parse(release.outputs.releases ?? "[]")).toEqual([
      {
        component: "haos-enigma",
        status: "released",
        version: "1.1.0",
        tag: "haos-enigma-v1.1.0",
        url: release.outputs["html-url"],
      },
    ]);
    expect(release.summary).toContain("| haos-enigma | released | haos-enigma-v1.1.0 |");

    // The next run (e.g. on the release commit itself) has nothing to do and creates nothing.
    await gitAt(f.repo.dir, "pull", "-q", "--ff-only");
    const again = await runBundledAction(
      { command: "release", component: "haos-enigma" },
      { ...options, sha },
    );
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.outputs["release-created"]).toBe("false");
    expect(f.github.releases).toHaveLength(1);
  });

  it("fails the step with the fix when the token may not write", async () => {
    fixture = await createReleaseFixture();
    const f = fixture;
    const options = {
      workspace: f.repo.dir,
      githubToken: "ghs_wrongToken0000",
      env: runnerEnv(f),
    };
    const release = await runBundledAction({ command: "release", component: "haos-enigma" }, options);
    expect(release.code).toBe(1);
    expect(release.masked).toEqual(["ghs_wrongToken0000"]);
    expect(release.errors.join("\n")).toMatch(/fix: /);
    // Outputs are set on every exit (README): nothing was published.
    expect(release.outputs["release-created"]).toBe("false");
    expect(f.github.releases).toHaveLength(0);
  });
});
