import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchRepo, type ScratchRepo } from "../../test/support/scratch-repo.ts";
import { HintedError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { changedFiles, exportTree, repositoryRoot, resolveCommit } from "./repository.ts";
import {
  GitError,
  GitUnavailableError,
  git,
  gitOutputSync,
  localIoError,
  originUrl,
  runGit,
} from "./runner.ts";

// One runner, one error type: every git failure is a GitError (a HintedError) whose exit code
// the caller chose; git that cannot start is a GitUnavailableError, exit 2.
describe("src/git", () => {
  let repo: ScratchRepo;
  let first: string;
  let second: string;
  beforeAll(() => {
    repo = createScratchRepo("haos-tasks-git-runner-");
    repo.write({ "a.txt": "a\n" });
    first = repo.commit("first");
    repo.write({ "b/c.txt": "c\n" });
    second = repo.commit("second");
  });
  afterAll(() => repo.remove());

  it("runGit returns git's output whatever the exit code", async () => {
    const result = await runGit(repo.dir, ["rev-parse", "--verify", "no-such-ref"]);
    expect(result.code).toBe(128);
    expect(result.stderr).toContain("fatal: Needed a single revision");
  });

  it("git() is stdout, or a GitError with git's message, the hint and exit 1 unless told", async () => {
    expect((await git(repo.dir, ["rev-parse", "HEAD"])).trim()).toBe(second);
    const failed = await git(repo.dir, ["rev-parse", "--verify", "no-such-ref"]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(GitError);
    expect(failed).toBeInstanceOf(HintedError);
    expect((failed as GitError).message).toMatch(
      /^git rev-parse --verify no-such-ref failed \(exit 128\): fatal:/,
    );
    expect((failed as GitError).hint).toBe("see git's message above");
    expect((failed as GitError).exitCode).toBe(ExitCode.failure);
    const told = await git(repo.dir, ["rev-parse", "--verify", "x"], {
      hint: "fetch it",
      exitCode: ExitCode.usage,
    }).catch((e: unknown) => e);
    expect(told).toMatchObject({ hint: "fetch it", exitCode: ExitCode.usage });
  });

  it("git that cannot start is a GitUnavailableError (exit 2) naming the fix", async () => {
    const missing = path.join(os.tmpdir(), "haos-tasks-no-such-dir", "x");
    const error = await runGit(missing, ["status"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitUnavailableError);
    expect(error).toBeInstanceOf(GitError);
    expect(error).toMatchObject({ exitCode: ExitCode.usage, hint: "install git 2.30+ and put it on PATH" });
  });

  it("gitOutputSync and originUrl: trimmed output, or undefined when git fails", () => {
    expect(gitOutputSync(repo.dir, ["rev-parse", "HEAD"])).toBe(second);
    expect(originUrl(repo.dir)).toBeUndefined();
    repo.git("remote", "add", "origin", "https://example.invalid/me/home.git");
    expect(originUrl(repo.dir)).toBe("https://example.invalid/me/home.git");
    repo.git("remote", "remove", "origin");
    expect(gitOutputSync(path.join(os.tmpdir(), "haos-tasks-no-such-dir"), ["status"])).toBeUndefined();
  });

  it("what diff reads: the root, commits, changed paths and a commit's tree on disk", async () => {
    expect(await repositoryRoot(path.join(repo.dir, "b"))).toBe(repo.dir);
    expect(await resolveCommit(repo.dir, "HEAD~1")).toBe(first);
    expect(await changedFiles(repo.dir, first, second)).toEqual(["b/c.txt"]);
    const unknown = await resolveCommit(repo.dir, "nope").catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(GitError);
    expect(unknown).toMatchObject({
      message: `unknown git ref 'nope' in ${repo.dir}`,
      exitCode: ExitCode.usage,
    });
    const out = mkdtempSync(path.join(os.tmpdir(), "haos-tasks-export-"));
    try {
      await exportTree(repo.dir, first, out);
      expect(readFileSync(path.join(out, "a.txt"), "utf8")).toBe("a\n");
      const bad = await exportTree(repo.dir, "0".repeat(40), out).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(GitError);
      expect((bad as GitError).message).toMatch(/^git archive of 0{40} failed/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("localIoError", () => {
  it("names the local file git could not write and makes it an I/O error (exit 2)", () => {
    const erofs = localIoError(["fetch"], "error: cannot open '.git/FETCH_HEAD': Read-only file system\n");
    expect(erofs?.message).toBe(
      "git fetch cannot use .git/FETCH_HEAD, a local I/O error: cannot open '.git/FETCH_HEAD': Read-only file system",
    );
    expect(erofs?.hint).toMatch(/writable checkout/);
    expect(erofs?.exitCode).toBe(2);
    expect(
      localIoError(
        ["commit"],
        "error: insufficient permission for adding an object to repository database .git/objects\n",
      )?.message,
    ).toMatch(/cannot use \.git\/objects/);
    expect(
      localIoError(["add"], "fatal: Unable to create '/r/.git/index.lock': File exists.\n")?.hint,
    ).toMatch(/another git process/);
    expect(localIoError(["commit"], "fatal: could not write: No space left on device\n")?.hint).toMatch(
      /free disk space/,
    );
  });

  it("a remote's refusal is not a local I/O error", () => {
    expect(
      localIoError(
        ["push"],
        "git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.\n",
      ),
    ).toBeUndefined();
    expect(localIoError(["push"], "remote: Permission to acme/home.git denied to bot.\n")).toBeUndefined();
    expect(
      localIoError(
        ["fetch"],
        "fatal: unable to access 'https://x/': The requested URL returned error: 403\n",
      ),
    ).toBeUndefined();
  });
});
