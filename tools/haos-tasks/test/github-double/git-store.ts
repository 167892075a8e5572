/** The git data API of the double, backed by a real bare repository (objects and refs are real). */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface GitOut {
  code: number;
  stdout: string;
  stderr: string;
}

export function gitBare(
  dir: string,
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<GitOut> {
  return new Promise((resolve) => {
    const child = execFile(
      "git",
      args,
      { cwd: dir, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export interface CommitObject {
  sha: string;
  tree: string;
  parents: string[];
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
  message: string;
}

function person(line: string): { name: string; email: string; date: string } {
  const m = /^(.*) <(.*)> (\d+) ([+-]\d{4})$/.exec(line) ?? [];
  return {
    name: m[1] ?? "",
    email: m[2] ?? "",
    date: new Date(Number(m[3] ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
}

/** Reads a commit object. */
export async function readCommit(bare: string, sha: string): Promise<CommitObject | undefined> {
  const out = await gitBare(bare, ["cat-file", "commit", sha]);
  if (out.code !== 0) return undefined;
  const [head = "", ...rest] = out.stdout.split("\n\n");
  const commit: CommitObject = {
    sha,
    tree: "",
    parents: [],
    author: person(""),
    committer: person(""),
    message: rest.join("\n\n"),
  };
  for (const line of head.split("\n")) {
    const [key, ...value] = line.split(" ");
    const v = value.join(" ");
    if (key === "tree") commit.tree = v;
    if (key === "parent") commit.parents.push(v);
    if (key === "author") commit.author = person(v);
    if (key === "committer") commit.committer = person(v);
  }
  return commit;
}

/** Builds a tree from `base` plus entries (paths may be nested), through a temporary index. */
export async function writeTree(
  bare: string,
  base: string | undefined,
  entries: { path: string; mode: string; sha: string }[],
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "haos-gh-index-"));
  const env = { GIT_INDEX_FILE: path.join(dir, "index") };
  try {
    if (base) await gitBare(bare, ["read-tree", base], { env });
    for (const e of entries) {
      const out = await gitBare(
        bare,
        ["update-index", "--add", "--cacheinfo", `${e.mode},${e.sha},${e.path}`],
        { env },
      );
      if (out.code !== 0) throw new Error(out.stderr);
    }
    return (await gitBare(bare, ["write-tree"], { env })).stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
