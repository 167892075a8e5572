import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { git } from "../../test/support/verify-harness.ts";
import { AncestryResolver } from "./ancestry.ts";

const root = mkdtempSync(path.join(os.tmpdir(), "haos-ancestry-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An origin, a pusher clone holding commit X, and the job's clone of X (cloned before R exists). */
function repos(id: string): { pusher: string; job: string; x: string } {
  const origin = path.join(root, `${id}-origin.git`);
  const pusher = path.join(root, `${id}-pusher`);
  const job = path.join(root, `${id}-job`);
  git(root, "init", "-q", "--bare", "-b", "main", origin);
  git(root, "clone", "-q", origin, pusher);
  writeFileSync(path.join(pusher, "a.txt"), "x\n");
  git(pusher, "add", ".");
  git(pusher, "commit", "-q", "-m", "feat: x");
  git(pusher, "push", "-q", "origin", "HEAD:main");
  git(root, "clone", "-q", origin, job);
  return { pusher, job, x: git(pusher, "rev-parse", "HEAD") };
}

/** The release commit R that release.yml pushes on top of X after the job cloned. */
function pushRelease(pusher: string): string {
  writeFileSync(path.join(pusher, "CHANGELOG.md"), "release\n");
  git(pusher, "add", ".");
  git(pusher, "commit", "-q", "-m", "chore(release): r");
  git(pusher, "push", "-q", "origin", "HEAD:main");
  return git(pusher, "rev-parse", "HEAD");
}

describe("ancestry of commits the job's clone does not have", () => {
  it("fetches a descendant pushed after the checkout and recognises it", async () => {
    const { pusher, job, x } = repos("pushed");
    const r = pushRelease(pusher);
    const resolver = new AncestryResolver(job, x);
    await resolver.resolve([r]);
    expect(resolver.relation(r)).toBe("descendant");
  });

  it("does not keep 'unknown': a commit that reaches origin later is found on a later look-up", async () => {
    const { pusher, job, x } = repos("later");
    git(pusher, "commit", "-q", "--allow-empty", "-m", "chore(release): r");
    const r = git(pusher, "rev-parse", "HEAD");
    const resolver = new AncestryResolver(job, x, { fetchRetryMs: 0 });
    await resolver.resolve([r]);
    expect(resolver.relation(r)).toBe("unknown");
    git(pusher, "push", "-q", "origin", "HEAD:main");
    await resolver.resolve([r]);
    expect(resolver.relation(r)).toBe("descendant");
  });

  it("a commit on another line stays 'other' after the fetch", async () => {
    const { pusher, job, x } = repos("other");
    git(pusher, "checkout", "-q", "--orphan", "side");
    git(pusher, "commit", "-q", "--allow-empty", "-m", "chore: unrelated");
    git(pusher, "push", "-q", "origin", "side");
    const side = git(pusher, "rev-parse", "HEAD");
    const resolver = new AncestryResolver(job, x);
    await resolver.resolve([side]);
    expect(resolver.relation(side)).toBe("other");
  });
});
