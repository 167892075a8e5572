import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cloneScratchRepo, createScratchRepo, type ScratchRepo } from "../../test/support/scratch-repo.ts";
import { AncestryResolver } from "./ancestry.ts";

const root = mkdtempSync(path.join(os.tmpdir(), "haos-ancestry-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An origin, a pusher clone holding commit X, and the job's clone of X (cloned before R exists). */
function repos(id: string): { pusher: ScratchRepo; job: string; x: string } {
  const origin = createScratchRepo({ dir: path.join(root, `${id}-origin.git`), bare: true });
  const pusher = cloneScratchRepo(origin.dir, { dir: path.join(root, `${id}-pusher`) });
  const x = pusher.commit("feat: x", { "a.txt": "x\n" });
  pusher.git("push", "-q", "origin", "HEAD:main");
  const job = cloneScratchRepo(origin.dir, { dir: path.join(root, `${id}-job`) });
  return { pusher, job: job.dir, x };
}

/** The release commit R that release.yml pushes on top of X after the job cloned. */
function pushRelease(pusher: ScratchRepo): string {
  const r = pusher.commit("chore(release): r", { "CHANGELOG.md": "release\n" });
  pusher.git("push", "-q", "origin", "HEAD:main");
  return r;
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
    const r = pusher.commit("chore(release): r");
    const resolver = new AncestryResolver(job, x, { fetchRetryMs: 0 });
    await resolver.resolve([r]);
    expect(resolver.relation(r)).toBe("unknown");
    pusher.git("push", "-q", "origin", "HEAD:main");
    await resolver.resolve([r]);
    expect(resolver.relation(r)).toBe("descendant");
  });

  it("a commit on another line stays 'other' after the fetch", async () => {
    const { pusher, job, x } = repos("other");
    pusher.git("checkout", "-q", "--orphan", "side");
    const side = pusher.commit("chore: unrelated");
    pusher.git("push", "-q", "origin", "side");
    const resolver = new AncestryResolver(job, x);
    await resolver.resolve([side]);
    expect(resolver.relation(side)).toBe("other");
  });
});
