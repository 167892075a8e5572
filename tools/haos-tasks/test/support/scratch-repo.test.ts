import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cloneScratchRepo, createScratchRepo, type ScratchRepo } from "./scratch-repo.ts";

// What tests rely on when they make a repository: the same identity and dates whatever the
// machine's git configuration, commits of exactly the files given, and origins and clones that
// behave like GitHub's.
const made: ScratchRepo[] = [];
const scratch = (...args: Parameters<typeof createScratchRepo>) => {
  const repo = createScratchRepo(...args);
  made.push(repo);
  return repo;
};
const home = mkdtempSync(path.join(os.tmpdir(), "haos-scratch-home-"));
afterAll(() => {
  for (const repo of made) repo.remove();
  rmSync(home, { recursive: true, force: true });
});

describe("scratch repositories", () => {
  it("commit with the fixed identity, on main, whatever the user's git configuration says", () => {
    const ignore = path.join(home, "ignore");
    writeFileSync(ignore, "*.txt\n");
    const hostile = path.join(home, ".gitconfig");
    writeFileSync(
      hostile,
      `[user]\n  name = Someone Else\n  email = else@example.invalid\n[core]\n  excludesFile = ${ignore}\n`,
    );
    const saved = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = hostile;
    try {
      const repo = scratch("haos-scratch-test-");
      repo.commit("feat: one", { "a.txt": "a\n" });
      expect(repo.git("log", "-1", "--format=%an <%ae> | %cn <%ce>")).toBe(
        "Test <test@example.invalid> | Test <test@example.invalid>",
      );
      expect(repo.git("symbolic-ref", "--short", "HEAD")).toBe("main");
      // Its own config carries the identity, for what commits without the helper (the product).
      expect(repo.git("config", "--local", "user.name")).toBe("Test");
    } finally {
      if (saved === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = saved;
    }
  });

  it("dates every commit after the previous one, or at the date it is given", () => {
    const repo = scratch();
    repo.commit("one", { "a.txt": "1\n" });
    repo.commit("two", { "a.txt": "2\n" });
    repo.commit("three", { "a.txt": "3\n" }, { date: new Date("2030-05-06T07:08:09Z") });
    const dates = repo.git("log", "--format=%cI %aI").split("\n");
    expect(dates[0]).toBe("2030-05-06T07:08:09+00:00 2030-05-06T07:08:09+00:00");
    const [two, one] = [dates[1], dates[2]].map((d) => Date.parse(d?.split(" ")[0] ?? ""));
    expect(one).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 1));
    expect(two).toBeGreaterThan(one ?? Number.POSITIVE_INFINITY);
  });

  it("commits only the files given, or everything in the work tree; null deletes", () => {
    const repo = scratch();
    repo.commit("base", { "keep.txt": "k\n", "gone.txt": "g\n" });
    repo.write({ "untracked.txt": "u\n" });
    repo.commit("only these", { "new.txt": "n\n", "gone.txt": null });
    expect(repo.git("show", "--name-status", "--format=", "HEAD").split("\n").sort()).toEqual([
      "A\tnew.txt",
      "D\tgone.txt",
    ]);
    expect(repo.git("status", "--porcelain")).toBe("?? untracked.txt");
    repo.commit("everything");
    expect(repo.git("show", "--name-status", "--format=", "HEAD")).toBe("A\tuntracked.txt");
    expect(repo.git("rev-list", "--count", "HEAD")).toBe("3");
  });

  it("copies a fixture in uncommitted, tags, and branches", () => {
    const fixture = mkdtempSync(path.join(home, "fixture-"));
    writeFileSync(path.join(fixture, "f.yaml"), "a: 1\n");
    const repo = scratch({ prefix: "haos-scratch-fixture-", from: fixture });
    expect(readFileSync(path.join(repo.dir, "f.yaml"), "utf8")).toBe("a: 1\n");
    expect(repo.git("status", "--porcelain")).toBe("?? f.yaml");
    const first = repo.commit("init");
    repo.tag("v1.0.0", { annotated: true });
    repo.tag("light", { at: first });
    expect(repo.git("cat-file", "-t", "v1.0.0")).toBe("tag");
    expect(repo.git("cat-file", "-t", "light")).toBe("commit");
    repo.branch("topic");
    const second = repo.commit("on topic");
    expect(repo.git("symbolic-ref", "--short", "HEAD")).toBe("topic");
    expect(repo.git("rev-parse", "main")).toBe(first);
    repo.branch("other", first);
    expect(repo.git("rev-parse", "HEAD")).toBe(first);
    expect(second).not.toBe(first);
  });

  it("an origin main tracks, and clones of it (shallow too) that can commit and push", () => {
    const repo = scratch();
    repo.commit("one", { "a.txt": "1\n" });
    repo.tag("v1", { annotated: true });
    const origin = repo.addBareOrigin();
    made.push(origin);
    expect(existsSync(path.join(origin.dir, "HEAD"))).toBe(true);
    expect(repo.git("rev-parse", "--abbrev-ref", "main@{upstream}")).toBe("origin/main");
    expect(origin.git("tag")).toBe("v1");
    const clone = cloneScratchRepo(origin.dir);
    made.push(clone);
    const pushed = clone.commit("two", { "a.txt": "2\n" });
    clone.git("push", "-q", "origin", "HEAD:main");
    expect(origin.git("rev-parse", "main")).toBe(pushed);
    repo.commit("three", { "b.txt": "3\n" });
    const shallow = cloneScratchRepo(`file://${repo.dir}`, { depth: 1 });
    made.push(shallow);
    expect(shallow.git("rev-parse", "--is-shallow-repository")).toBe("true");
    expect(shallow.git("rev-list", "--count", "HEAD")).toBe("1");
  });
});
