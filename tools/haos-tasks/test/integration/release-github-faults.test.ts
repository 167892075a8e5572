/**
 * Issue 12, item 11: apply never leaves a release half done. Against the GitHub double, every
 * request a release makes (planning included) is answered in turn with 401, 403, 404, 422, 503 or
 * a refused connection. After the failed run either nothing was pushed, or the next plan calls the
 * release unfinished; and the next apply completes it with exactly one published release.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/exit-codes.ts";
import { ReleaseError } from "../../src/release/errors.ts";
import { createReleaseFixture, type ReleaseFixture } from "../github-double/release-fixture.ts";
import type { Fault } from "../github-double/server.ts";

const run = promisify(execFile);
const gitAt = async (dir: string, ...args: string[]) => (await run("git", args, { cwd: dir })).stdout.trim();

let fixture: ReleaseFixture | undefined;
afterEach(async () => {
  const violations = fixture?.github.violations ?? [];
  await fixture?.close();
  fixture = undefined;
  expect(violations).toEqual([]);
});

/** The requests one clean release of haos-enigma 1.1.0 makes, in order (planning first). */
const sequences = {
  git: [
    "GET repos/list-releases (plan: is haos-enigma-v1.0.0 published?)",
    "GET repos/get (preflight: the token's rights)",
    "POST git/create-ref (preflight: the write probe)",
    "GET repos/list-releases",
    "POST repos/create-release",
    "GET repos/list-releases",
    "PATCH repos/update-release",
  ],
  github: [
    "GET repos/list-releases (plan: is haos-enigma-v1.0.0 published?)",
    "GET repos/get (preflight: the token's rights)",
    "POST git/create-ref (preflight: the write probe)",
    "GET git/get-ref (preflight: GitHub's branch head)",
    "POST git/create-blob",
    "POST git/create-blob",
    "GET git/get-commit",
    "POST git/create-tree",
    "POST git/create-commit",
    "PATCH git/update-ref (the branch)",
    "POST git/create-ref (the tag)",
    "GET repos/list-releases",
    "POST repos/create-release",
    "GET repos/list-releases",
    "PATCH repos/update-release",
  ],
} as const;

const statuses: Fault["status"][] = [401, 403, 404, 422, 503, "refused"];
const tag = "haos-enigma-v1.1.0";

async function expectExactlyOneRelease(f: ReleaseFixture): Promise<void> {
  const releaseCommits = (await gitAt(f.origin, "log", "--format=%H %s", "main"))
    .split("\n")
    .filter((l) => l.includes("chore(release): haos-enigma"));
  expect(releaseCommits).toHaveLength(1);
  const sha = releaseCommits[0]?.split(" ")[0];
  expect(await gitAt(f.origin, "rev-parse", `${tag}^{commit}`)).toBe(sha);
  const releases = f.github.releases.filter((r) => r.tag_name === tag);
  expect(releases.map((r) => r.draft)).toEqual([false]);
  expect(releases[0]?.body).toContain("6 GiB of memory");
}

describe.each(["git", "github"] as const)("%s transport", (transport) => {
  it("makes exactly the requests listed here on a clean release", async () => {
    fixture = await createReleaseFixture();
    const f = fixture;
    expect((await f.apply({ transport })).status).toBe("released");
    const seen = f.github.requests.map((r) => `${r.method} ${r.operationId}`);
    expect(seen).toEqual(sequences[transport].map((s) => s.replace(/ \(.*\)$/, "")));
  });

  const cases = sequences[transport].flatMap((step, i) =>
    statuses.map((status) => ({ nth: i + 1, step, status })),
  );
  it.each(cases)("request $nth ($step) answered $status", async ({ nth, step, status }) => {
    fixture = await createReleaseFixture();
    const f = fixture;
    const before = await gitAt(f.origin, "rev-parse", "main");
    // A new job checks out the branch and tags as they are (the API transport commits on GitHub).
    const freshCheckout = async () => {
      if (transport === "github") await gitAt(f.repo.dir, "pull", "-q", "--tags", "--ff-only");
    };
    f.github.failNth(nth, status);
    const first = await f.apply({ transport }).catch((e: unknown) => e);
    if (!(first instanceof ReleaseError)) {
      // The one fault fell where apply needs no answer: the plan's release check (it warns), or the
      // write probe answered 422, which is the answer that proves write access.
      expect(first).toMatchObject({ status: "released" });
      expect(nth === 1 || (step.includes("write probe") && status === 422)).toBe(true);
      await expectExactlyOneRelease(f);
      return;
    }
    const pushedTag = (await gitAt(f.origin, "tag", "--list", tag)) !== "";
    const moved = (await gitAt(f.origin, "rev-parse", "main")) !== before;
    await freshCheckout();
    const plan = await f.plan();
    if (!pushedTag && !moved) {
      expect(f.github.releases).toEqual([]);
      // Nothing pushed: the plan is the release it was, or the local commit an earlier step left.
      expect(["release", "resume"]).toContain(plan.status);
    } else {
      expect(plan.status, `${plan.summary}\n${JSON.stringify(plan.findings)}`).toBe("resume");
    }
    expect((await f.apply({ transport })).status).toBe("released");
    await expectExactlyOneRelease(f);
    await freshCheckout();
    expect((await f.plan()).status).toBe("up-to-date");
  });
});

describe("preflight refuses before anything is pushed", () => {
  it.each([
    ["installation", "read", /write probe|refused POST \/git\/refs \(403\)/],
    ["user", "read", /permissions\.push is false/],
    ["classic", "read", /scopes \(none\) do not allow pushing/],
  ] as const)("a %s token with %s access", async (kind, permission, message) => {
    fixture = await createReleaseFixture();
    const f = fixture;
    f.github.tokenKind = kind;
    f.github.permission = permission;
    const before = await gitAt(f.origin, "rev-parse", "main");
    const error = await f.apply({ transport: "git" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).exitCode).toBe(ExitCode.forbidden);
    expect((error as ReleaseError).message).toMatch(message);
    expect(await gitAt(f.origin, "rev-parse", "main")).toBe(before);
    expect(await gitAt(f.origin, "tag", "--list", tag)).toBe("");
    expect(await gitAt(f.repo.dir, "status", "--porcelain")).toBe("");
  });

  it.each(["user", "classic"] as const)("a %s token with write access passes", async (kind) => {
    fixture = await createReleaseFixture();
    fixture.github.tokenKind = kind;
    expect((await fixture.apply({ transport: "git" })).status).toBe("released");
    await expectExactlyOneRelease(fixture);
  });
});
