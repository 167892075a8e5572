/**
 * Issue 27's release cases, each on a scripted history in a real repository; each test fails on
 * the planner before its fix.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import { GITHUB_RELEASE_BODY_LIMIT, planRelease, type ReleasePlan } from "../../src/release/planner.ts";
import { findComponent, readPlanInput } from "../../src/release/snapshot.ts";
import { createGitTransport } from "../../src/release/transports/git.ts";
import { createScratchRepo, type ScratchRepo } from "../support/scratch-repo.ts";

const repos: ScratchRepo[] = [];
afterAll(async () => {
  await Promise.all(repos.map((r) => r.remove()));
});

async function plan(repo: ScratchRepo): Promise<ReleasePlan> {
  const text = await readFile(path.join(repo.dir, ".haos-tasks.yaml"), "utf8").catch(() => "");
  const config = parseConfig(text).release;
  return planRelease(
    await readPlanInput(repo.dir, config, findComponent(config, "repository"), {
      now: new Date("2026-03-04T12:00:00Z"),
      env: {},
    }),
  );
}

describe("issue 27 #11: GitHub's release body limit is checked in the plan", () => {
  it("cuts the release body at the last whole entry that fits and links to the full CHANGELOG section", async () => {
    const repo = createScratchRepo("haos-release-long-");
    repos.push(repo);
    await repo.commit("chore: start", {
      ".haos-tasks.yaml": "release:\n  repository: acme/home\n",
      "version.txt": "1.0.0\n",
      "CHANGELOG.md": "# Changelog\n",
    });
    await repo.tag("v1.0.0", { annotated: true });
    for (let i = 0; i < 65; i++)
      await repo.commit(`fix: ${String(i).padStart(2, "0")} ${"long ".repeat(400)}`, {
        [`src/f${i}.ts`]: `${i}\n`,
      });
    const p = await plan(repo);
    const notes = p.release?.notes ?? "";
    const body = p.release?.body ?? "";
    expect(notes.length).toBeGreaterThan(GITHUB_RELEASE_BODY_LIMIT);
    // The CHANGELOG gets every entry; the GitHub release a body within the limit.
    expect(notes.split("\n").filter((l) => l.startsWith("* "))).toHaveLength(65);
    expect(body.length).toBeLessThanOrEqual(GITHUB_RELEASE_BODY_LIMIT);
    expect(body.startsWith(notes.slice(0, 1000))).toBe(true);
    expect(body).toMatch(
      /\n\n… \d+ more line\(s\) of the notes do not fit GitHub's 125,000-character release body: see the full notes in \[CHANGELOG\.md\]\(https:\/\/github\.com\/acme\/home\/blob\/v1\.0\.1\/CHANGELOG\.md\)\.\n$/,
    );
    // Whole entries only: every kept entry line is a complete line of the notes.
    for (const line of body.split("\n").filter((l) => l.startsWith("* ")))
      expect(notes).toContain(`${line}\n`);
    expect(p.findings.find((f) => f.rule === "release/notes-too-long")?.message).toMatch(
      /^the release notes are [\d,]+ characters; GitHub's release body limit is 125,000$/,
    );
    expect(p.status).toBe("release");
  });
});

describe("issue 27 #10: a write that fails leaves every file as it was", () => {
  it("names the file, removes its temporary files and never rewrites version.txt without its CHANGELOG", async () => {
    const repo = createScratchRepo("haos-release-enospc-");
    repos.push(repo);
    await repo.commit("chore: start", { "version.txt": "1.0.0\n", "CHANGELOG.md": "# Changelog\n" });
    await repo.tag("v1.0.0", { annotated: true });
    await repo.commit("fix: y", { "src/y.ts": "y\n" });
    const p = await plan(repo);
    expect(p.files.map((f) => f.path)).toEqual(["version.txt", "CHANGELOG.md"]);
    // The CHANGELOG's temporary file cannot be created (as on a full disk, its write fails).
    await mkdir(path.join(repo.dir, `.CHANGELOG.md.haos-tasks-${process.pid}.tmp`));
    const config = parseConfig("release: {}\n").release;
    const transport = createGitTransport({ root: repo.dir, config, github: undefined });
    await expect(transport.writeFiles(p)).rejects.toThrow(
      /^cannot write CHANGELOG\.md \(EEXIST: .*\); nothing was changed$/,
    );
    expect(await readFile(path.join(repo.dir, "version.txt"), "utf8")).toBe("1.0.0\n");
    expect(await readFile(path.join(repo.dir, "CHANGELOG.md"), "utf8")).toBe("# Changelog\n");
    expect((await readdir(repo.dir)).filter((f) => f.startsWith(".version.txt"))).toEqual([]);
  });
});

describe("issue 27 #2: a CHANGELOG that is not UTF-8 is never corrupted", () => {
  it.each([
    [
      "Latin-1",
      Buffer.from("# Changelog\n\n## 1.0.0\n\n* thanks J\xfcrgen\n", "latin1"),
      5,
      /is not UTF-8 text/,
    ],
    [
      "binary",
      Buffer.concat([Buffer.from("# Changelog\n"), Buffer.from([0, 1, 2, 0xff, 0xfe])]),
      2,
      /is binary/,
    ],
  ])("%s: the plan refuses it up front, naming the file and line", async (_kind, bytes, line, message) => {
    const repo = createScratchRepo("haos-release-latin1-");
    repos.push(repo);
    await repo.commit("chore: start", { "version.txt": "1.0.0\n" });
    await writeFile(path.join(repo.dir, "CHANGELOG.md"), bytes);
    await repo.git("add", "CHANGELOG.md");
    await repo.git("commit", "-q", "-m", "docs: changelog");
    await repo.tag("v1.0.0", { annotated: true });
    await repo.commit("fix: y", { "src/y.ts": "y\n" });
    const p = await plan(repo);
    expect(p.status).toBe("blocked");
    expect(p.files).toEqual([]);
    const finding = p.findings.find((f) => f.rule === "release/changelog-encoding");
    expect([finding?.file, finding?.line]).toEqual(["CHANGELOG.md", line]);
    expect(finding?.message).toMatch(message);
    // The bytes in the working tree are untouched.
    expect(await readFile(path.join(repo.dir, "CHANGELOG.md"))).toEqual(bytes);
  });
});
