/**
 * Real git repositories in os.tmpdir() with scripted histories, for release tests: commits with
 * given messages and files, tags, a bare "origin", deterministic dates.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const gitIdentity = {
  GIT_AUTHOR_NAME: "Release Test",
  GIT_AUTHOR_EMAIL: "release-test@example.invalid",
  GIT_COMMITTER_NAME: "Release Test",
  GIT_COMMITTER_EMAIL: "release-test@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
};

export interface ScriptedRepo {
  dir: string;
  git(...args: string[]): Promise<string>;
  /** Commits `files` (path → content) or nothing (`--allow-empty`) with `message`; returns the SHA. */
  commit(message: string, files?: Record<string, string>): Promise<string>;
  tag(name: string, options?: { annotated?: boolean; at?: string }): Promise<void>;
  write(file: string, content: string): Promise<void>;
  remove(): Promise<void>;
}

let clock = Date.UTC(2026, 0, 1) / 1000;

/** Runs git in `dir` with a fixed identity and monotonic dates. */
export async function gitIn(dir: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  clock += 60;
  const date = `${clock} +0000`;
  const { stdout } = await run("git", args, {
    cwd: dir,
    env: { ...process.env, ...gitIdentity, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date, ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

/** Creates an empty repository on branch main in a new temporary directory. */
export async function createScriptedRepo(prefix = "haos-release-"): Promise<ScriptedRepo> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await gitIn(dir, ["init", "-q", "-b", "main"]);
  await gitIn(dir, ["config", "commit.gpgsign", "false"]);
  await gitIn(dir, ["config", "tag.gpgsign", "false"]);
  await gitIn(dir, ["config", "user.name", gitIdentity.GIT_AUTHOR_NAME]);
  await gitIn(dir, ["config", "user.email", gitIdentity.GIT_AUTHOR_EMAIL]);
  return repoAt(dir);
}

/** Wraps an existing checkout. */
export function repoAt(dir: string): ScriptedRepo {
  const repo: ScriptedRepo = {
    dir,
    git: (...args) => gitIn(dir, args),
    async write(file, content) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    },
    async commit(message, files) {
      if (files && Object.keys(files).length > 0) {
        for (const [file, content] of Object.entries(files)) await repo.write(file, content);
        await gitIn(dir, ["add", "--", ...Object.keys(files)]);
        await gitIn(dir, ["commit", "-q", "--no-verify", "-m", message]);
      } else {
        await gitIn(dir, ["commit", "-q", "--no-verify", "--allow-empty", "-m", message]);
      }
      return (await gitIn(dir, ["rev-parse", "HEAD"])).trim();
    },
    async tag(name, options = {}) {
      const at = options.at ?? "HEAD";
      await gitIn(dir, options.annotated ? ["tag", "-a", name, "-m", name, at] : ["tag", name, at]);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  return repo;
}

/** Creates a bare clone of `repo` and makes it `repo`'s origin (with a tracking branch). */
export async function addBareOrigin(repo: ScriptedRepo): Promise<string> {
  const bare = await mkdtemp(path.join(os.tmpdir(), "haos-release-origin-"));
  await gitIn(bare, ["init", "-q", "--bare", "-b", "main"]);
  await repo.git("remote", "add", "origin", bare);
  await repo.git("push", "-q", "origin", "main", "--tags");
  await repo.git("fetch", "-q", "origin");
  await repo.git("branch", "-q", "--set-upstream-to=origin/main", "main");
  return bare;
}

/** Clones `origin` into a new temporary checkout on main. */
export async function cloneOrigin(origin: string): Promise<ScriptedRepo> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "haos-release-clone-"));
  await gitIn(dir, ["clone", "-q", origin, "."]);
  await gitIn(dir, ["config", "user.name", gitIdentity.GIT_AUTHOR_NAME]);
  await gitIn(dir, ["config", "user.email", gitIdentity.GIT_AUTHOR_EMAIL]);
  await gitIn(dir, ["config", "commit.gpgsign", "false"]);
  await gitIn(dir, ["config", "tag.gpgsign", "false"]);
  return repoAt(dir);
}
