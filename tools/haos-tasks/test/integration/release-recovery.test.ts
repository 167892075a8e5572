import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { faultPoints, InjectedFault } from "../github-double/release-faults.ts";
import { createReleaseFixture, type ReleaseFixture } from "../github-double/release-fixture.ts";
import { cloneScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";

const run = promisify(execFile);
const gitAt = async (dir: string, ...args: string[]) => (await run("git", args, { cwd: dir })).stdout.trim();

let fixture: ReleaseFixture | undefined;
const clones: ScratchRepo[] = [];
afterEach(async () => {
  const violations = fixture?.github.violations ?? [];
  await fixture?.close();
  await Promise.all(clones.splice(0).map((c) => c.remove()));
  fixture = undefined;
  expect(violations).toEqual([]);
});

/** The end state of every successful release of haos-enigma 1.1.0, however many runs it took. */
async function expectExactlyOneRelease(f: ReleaseFixture): Promise<void> {
  const releaseCommits = (await gitAt(f.origin, "log", "--format=%H %s", "main"))
    .split("\n")
    .filter((l) => l.includes("chore(release): haos-enigma"));
  expect(releaseCommits).toHaveLength(1);
  const sha = releaseCommits[0]?.split(" ")[0];
  expect(await gitAt(f.origin, "rev-parse", "haos-enigma-v1.1.0^{commit}")).toBe(sha);
  expect(await gitAt(f.origin, "show", `${sha}:apps/haos-enigma/version.txt`)).toBe("1.1.0");
  const changelog = await gitAt(f.origin, "show", `${sha}:apps/haos-enigma/CHANGELOG.md`);
  expect(changelog.match(/^## \[1\.1\.0\]/gm)).toHaveLength(1);
  const releases = f.github.releases.filter((r) => r.tag_name === "haos-enigma-v1.1.0");
  expect(releases.map((r) => r.draft)).toEqual([false]);
  expect(releases[0]?.body).toContain("6 GiB of memory");
}

describe.each(["git", "github"] as const)(
  "%s transport: a re-run after a failure at any step completes the release",
  (transport) => {
    it.each(faultPoints)("fails %s, then the re-run completes", async (failAt) => {
      fixture = await createReleaseFixture();
      const f = fixture;
      await expect(f.apply({ transport, failAt })).rejects.toBeInstanceOf(InjectedFault);
      // The run died where it was told: the tag reached the remote only from the push on (github:
      // from the tag step), and the release exists as a draft from the draft step on, never published.
      const steps = faultPoints.indexOf(failAt);
      const tagged = steps >= faultPoints.indexOf(transport === "git" ? "after-push" : "after-tag");
      expect(await gitAt(f.origin, "tag", "--list", "haos-enigma-v1.1.0")).toBe(
        tagged ? "haos-enigma-v1.1.0" : "",
      );
      const drafted = steps >= faultPoints.indexOf("after-draft");
      expect(f.github.releases.map((r) => r.draft)).toEqual(drafted ? [true] : []);
      // A new job checks out the branch and tags as GitHub has them (the API transport commits there).
      const freshCheckout = () =>
        transport === "github" ? gitAt(f.repo.dir, "pull", "-q", "--tags", "--ff-only") : undefined;
      await freshCheckout();
      const result = await f.apply({ transport });
      expect(result.status).toBe("released");
      await expectExactlyOneRelease(f);
      await freshCheckout();
      const third = await f.apply({ transport });
      expect(third.status).toBe("up-to-date");
      await expectExactlyOneRelease(f);
    });
  },
);

describe.each(["git", "github"] as const)("%s transport: concurrent runs", (transport) => {
  it.each([1, 2, 3])("two applies at once end with exactly one release (round %i)", async () => {
    fixture = await createReleaseFixture();
    const f = fixture;
    {
      const a = cloneScratchRepo(f.origin, { prefix: "haos-release-clone-" });
      const b = cloneScratchRepo(f.origin, { prefix: "haos-release-clone-" });
      clones.push(a, b);
      const results = await Promise.allSettled([
        f.apply({ transport, dir: a.dir }),
        f.apply({ transport, dir: b.dir }),
      ]);
      const released = results.filter((r) => r.status === "fulfilled" && r.value.status === "released");
      expect(released.length).toBeGreaterThanOrEqual(1);
      for (const r of results) {
        if (r.status === "rejected") expect(String(r.reason)).toMatch(/moved|won|already|another/);
      }
      await expectExactlyOneRelease(f);
    }
  });

  it("two publishes of one draft at once both succeed, as on GitHub (the second is a no-op)", async () => {
    fixture = await createReleaseFixture();
    const f = fixture;
    await expect(f.apply({ transport, failAt: "before-publish" })).rejects.toBeInstanceOf(InjectedFault);
    const draft = f.github.releases[0];
    expect(draft?.draft).toBe(true);
    const publish = () =>
      fetch(`${f.github.url}/repos/${f.github.repository}/releases/${draft?.id}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${f.github.token}`, "content-type": "application/json" },
        body: JSON.stringify({ draft: false, make_latest: "false" }),
      });
    const answers = await Promise.all([publish(), publish()]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    await expectExactlyOneRelease(f);
  });

  it("publishes a draft another run left behind instead of creating a second one", async () => {
    fixture = await createReleaseFixture();
    const f = fixture;
    await expect(f.apply({ transport, failAt: "after-draft" })).rejects.toBeInstanceOf(InjectedFault);
    const draftId = f.github.releases[0]?.id;
    const fresh = cloneScratchRepo(f.origin, { prefix: "haos-release-clone-" });
    clones.push(fresh);
    expect((await f.apply({ transport, dir: fresh.dir })).status).toBe("released");
    expect(f.github.releases.map((r) => r.id)).toEqual([draftId]);
    await expectExactlyOneRelease(f);
  });
});
