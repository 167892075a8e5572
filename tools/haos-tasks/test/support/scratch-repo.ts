/**
 * Scratch git repositories for tests, the one way every test makes one: a real repository on
 * branch main in os.tmpdir() (or at a given path); git run with a fixed identity and neither the
 * user's nor the system's configuration; scripted dates: each git call happens one minute after
 * the previous one (from 2026-01-01T00:00Z, per test file), so histories and their order are the
 * same on every run. The identity is also written to a checkout's own config, so that whatever
 * commits in it (the release transport, say) has one.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const scratchIdentity = { name: "Test", email: "test@example.invalid" } as const;

/** Files by path relative to the repository: their content, or null to delete the file or folder. */
export type ScratchFiles = Record<string, string | null>;

export interface ScratchRepo {
  readonly dir: string;
  /** Runs git in the repository (fixed identity, no user config, the next scripted date); stdout, trimmed. */
  git(...args: string[]): string;
  /** Writes (or, for null, deletes) files in the work tree, creating folders as needed. */
  write(files: ScratchFiles): void;
  /**
   * Commits `files` (only those paths, written first) or, without them, everything in the work
   * tree; an empty commit is fine. Hooks do not run. Returns the new commit's SHA.
   */
  commit(message: string, files?: ScratchFiles, options?: { date?: Date }): string;
  /** Tags `at` (default HEAD): lightweight, or annotated with the tag's name as its message. */
  tag(name: string, options?: { annotated?: boolean; at?: string }): void;
  /** Creates branch `name` at `at` (default HEAD) and checks it out. */
  branch(name: string, at?: string): void;
  /**
   * Makes a bare repository the origin of this one: pushes the current branch (main) and the tags,
   * and sets main to track origin/main. Returns the bare repository.
   */
  addBareOrigin(options?: { prefix?: string }): ScratchRepo;
  /** Deletes the repository's directory. */
  remove(): void;
}

export interface ScratchRepoOptions {
  /** The temporary directory's prefix (default `haos-scratch-`). */
  prefix?: string;
  /** Make the repository here (created when missing) instead of in a new temporary directory. */
  dir?: string;
  /** Copy this folder's contents into the repository first (a fixture); nothing is committed. */
  from?: string;
  /** A bare repository (an origin to push to and clone from). */
  bare?: boolean;
}

const identityEnv = {
  GIT_AUTHOR_NAME: scratchIdentity.name,
  GIT_AUTHOR_EMAIL: scratchIdentity.email,
  GIT_COMMITTER_NAME: scratchIdentity.name,
  GIT_COMMITTER_EMAIL: scratchIdentity.email,
  // Neither ~/.gitconfig nor /etc/gitconfig: no signing, hooks path, default branch or template.
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
};

let clock = Date.UTC(2026, 0, 1) / 1000;

/** git in `cwd` as the scratch helpers run it; `date` instead of the next scripted date. */
function runGit(cwd: string, args: string[], date?: Date): string {
  clock += 60;
  const stamp = date ? `${Math.floor(date.getTime() / 1000)} +0000` : `${clock} +0000`;
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...identityEnv, GIT_AUTHOR_DATE: stamp, GIT_COMMITTER_DATE: stamp },
  }).trim();
}

/** Writes the identity (and no signing) into the repository's own config. */
function configure(dir: string): void {
  runGit(dir, ["config", "commit.gpgsign", "false"]);
  runGit(dir, ["config", "tag.gpgsign", "false"]);
  runGit(dir, ["config", "user.name", scratchIdentity.name]);
  runGit(dir, ["config", "user.email", scratchIdentity.email]);
}

function directory(options: { prefix?: string; dir?: string }): string {
  if (options.dir) {
    mkdirSync(options.dir, { recursive: true });
    return options.dir;
  }
  return mkdtempSync(path.join(os.tmpdir(), options.prefix ?? "haos-scratch-"));
}

/** A new repository: `createScratchRepo("haos-my-test-")` or with options. */
export function createScratchRepo(options: ScratchRepoOptions | string = {}): ScratchRepo {
  const o = typeof options === "string" ? { prefix: options } : options;
  const dir = directory(o);
  if (o.from) cpSync(o.from, dir, { recursive: true });
  runGit(dir, ["init", "-q", ...(o.bare ? ["--bare"] : []), "-b", "main"]);
  // A bare repository is only pushed to and cloned from: nothing commits in it.
  if (!o.bare) configure(dir);
  return scratchRepoAt(dir);
}

/** A new checkout cloned from `source` (a path or URL), configured like a new scratch repository. */
export function cloneScratchRepo(
  source: string,
  options: { prefix?: string; dir?: string; depth?: number } = {},
): ScratchRepo {
  const dir = directory({ ...options, prefix: options.prefix ?? "haos-scratch-clone-" });
  runGit(dir, ["clone", "-q", ...(options.depth ? ["--depth", String(options.depth)] : []), source, "."]);
  configure(dir);
  return scratchRepoAt(dir);
}

function scratchRepoAt(dir: string): ScratchRepo {
  const repo: ScratchRepo = {
    dir,
    git: (...args) => runGit(dir, args),
    write(files) {
      for (const [file, content] of Object.entries(files)) {
        const target = path.join(dir, file);
        if (content === null) {
          rmSync(target, { recursive: true, force: true });
          continue;
        }
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, content);
      }
    },
    commit(message, files, options = {}) {
      if (files && Object.keys(files).length > 0) {
        repo.write(files);
        runGit(dir, ["add", "-A", "--", ...Object.keys(files)]);
      } else {
        runGit(dir, ["add", "-A"]);
      }
      runGit(dir, ["commit", "-q", "--no-verify", "--allow-empty", "-m", message], options.date);
      return runGit(dir, ["rev-parse", "HEAD"]);
    },
    tag(name, options = {}) {
      const at = options.at ?? "HEAD";
      runGit(dir, options.annotated ? ["tag", "-a", name, "-m", name, at] : ["tag", name, at]);
    },
    branch(name, at) {
      runGit(dir, ["checkout", "-q", "-b", name, ...(at ? [at] : [])]);
    },
    addBareOrigin(options = {}) {
      const bare = createScratchRepo({ prefix: options.prefix ?? "haos-scratch-origin-", bare: true });
      runGit(dir, ["remote", "add", "origin", bare.dir]);
      runGit(dir, ["push", "-q", "origin", "main", "--tags"]);
      runGit(dir, ["fetch", "-q", "origin"]);
      runGit(dir, ["branch", "-q", "--set-upstream-to=origin/main", "main"]);
      return bare;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return repo;
}
