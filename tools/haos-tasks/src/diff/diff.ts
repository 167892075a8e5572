import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import {
  affectedApps,
  KUSTOMIZATION_FILES,
  type KustomizationNode,
  kustomizationDirs,
  kustomizationReferences,
} from "./apps.ts";
import {
  changedFiles,
  exportTree,
  GitError,
  listFiles,
  mergeBase,
  pathExists,
  repositoryRoot,
  resolveCommit,
} from "./git.ts";
import { parseRendered, type RenderedResource, redactSecretPair, renderObject } from "./resources.ts";
import { unifiedDiff } from "./unified.ts";

const execFileAsync = promisify(execFile);

/** What `haos-tasks diff` and the Action's diff command both build from their arguments. */
export interface DiffOptions {
  /** A directory of the repository checkout (its root is looked up). */
  repo: string;
  /** Base ref; the comparison starts at the merge base of base and head, like a PR's "Files changed". */
  base: string;
  head: string;
  /** Repo-relative folders to look for kustomizations in (`.` = everywhere). */
  paths: string[];
  /** The kubectl binary that runs `kubectl kustomize`. */
  kubectl?: string;
  /** Context lines around each change. */
  context?: number;
}

export type ResourceChangeKind = "added" | "removed" | "changed";

export interface ResourceChange {
  key: string;
  kind: string;
  namespace?: string;
  name: string;
  change: ResourceChangeKind;
  /** Unified diff of the rendered YAML, Secret values redacted. */
  diff: string;
}

export type AppStatus = "added" | "removed" | "changed" | "unchanged" | "error";

export interface AppDiff {
  /** Repo-relative kustomization directory. */
  path: string;
  status: AppStatus;
  /** Empty when either side does not build (see errors). */
  resources: ResourceChange[];
  /** Build failures, by side: the message is kustomize's own. */
  errors: { side: "base" | "head"; message: string }[];
}

export interface DiffResult {
  base: { ref: string; sha: string };
  head: { ref: string; sha: string };
  /** The folders searched for kustomizations. */
  paths: string[];
  changedFiles: number;
  apps: AppDiff[];
}

/** A kustomize build failure of one app at one side. */
class BuildError extends Error {}

async function build(kubectl: string, root: string, app: string): Promise<Map<string, RenderedResource>> {
  const dir = path.join(root, app);
  try {
    const { stdout } = await execFileAsync(
      kubectl,
      ["kustomize", "--load-restrictor=LoadRestrictionsNone", dir],
      { maxBuffer: 256 * 1024 * 1024, encoding: "utf8" },
    );
    return parseRendered(stdout);
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    const message = stderr || (error instanceof Error ? error.message : String(error));
    // Paths inside the temporary export mean nothing to the reader: make them repo-relative.
    throw new BuildError(message.split(`${root}/`).join(""));
  }
}

function readNodes(root: string, dirs: readonly string[]): KustomizationNode[] {
  return dirs.map((dir) => {
    const file = KUSTOMIZATION_FILES.map((f) => path.join(root, dir, f)).find((f) => existsSync(f));
    return { dir, references: file ? kustomizationReferences(dir, readFileSync(file, "utf8")) : [] };
  });
}

/** Runs `tasks` with at most `limit` at once (kubectl is CPU-bound; CI has two cores). */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function compare(
  base: Map<string, RenderedResource>,
  head: Map<string, RenderedResource>,
  context: number,
): ResourceChange[] {
  const keys = [...new Set([...base.keys(), ...head.keys()])].sort();
  const changes: ResourceChange[] = [];
  for (const key of keys) {
    const b = base.get(key);
    const h = head.get(key);
    const either = (h ?? b) as RenderedResource;
    const secret = either.kind === "Secret";
    const pair = secret ? redactSecretPair(b?.object, h?.object) : { base: b?.object, head: h?.object };
    const before = renderObject(pair.base);
    const after = renderObject(pair.head);
    // Compare the real objects: a Secret whose only change is a value must still show up.
    if (b && h && renderObject(b.object) === renderObject(h.object)) continue;
    const change: ResourceChangeKind = !b ? "added" : !h ? "removed" : "changed";
    const header = `--- ${b ? `base/${key}` : "/dev/null"}\n+++ ${h ? `head/${key}` : "/dev/null"}\n`;
    changes.push({
      key,
      kind: either.kind,
      ...(either.namespace ? { namespace: either.namespace } : {}),
      name: either.name,
      change,
      diff: header + unifiedDiff(before, after, context),
    });
  }
  return changes;
}

function normalizeScope(scope: string): string {
  const normalized = path.posix.normalize(scope.replaceAll("\\", "/")).replace(/\/+$/, "");
  return normalized === "" ? "." : normalized;
}

/**
 * Builds every kustomization affected by the changes between base and head at both commits and
 * diffs the rendered resources, keyed by kind/namespace/name, Secret values redacted.
 */
export async function diffApps(options: DiffOptions): Promise<DiffResult> {
  const repo = await repositoryRoot(options.repo);
  const kubectl = options.kubectl ?? "kubectl";
  const context = options.context ?? 3;
  const scopes = (options.paths.length > 0 ? options.paths : ["."]).map(normalizeScope);
  const [baseSha, headSha] = await Promise.all([
    resolveCommit(repo, options.base),
    resolveCommit(repo, options.head),
  ]);
  // Same commit (e.g. a re-run on the base): nothing can differ, so skip the git work.
  const from = baseSha === headSha ? baseSha : await mergeBase(repo, baseSha, headSha);
  // A typo in a path must not read as "no rendered changes".
  for (const scope of scopes) {
    if (scope === ".") continue;
    const [atBase, atHead] = await Promise.all([
      pathExists(repo, from, scope),
      pathExists(repo, headSha, scope),
    ]);
    if (!atBase && !atHead) {
      throw new GitError(
        `path '${scope}' exists at neither ${options.base} (${from.slice(0, 7)}) nor ${options.head} (${headSha.slice(0, 7)})`,
        "give a folder of the repository, relative to its root (e.g. apps/haos-enigma)",
      );
    }
  }
  const result: DiffResult = {
    base: { ref: options.base, sha: from },
    head: { ref: options.head, sha: headSha },
    paths: scopes,
    changedFiles: 0,
    apps: [],
  };
  const changed = from === headSha ? [] : await changedFiles(repo, from, headSha);
  result.changedFiles = changed.length;
  if (changed.length === 0) return result;

  const [baseFiles, headFiles] = await Promise.all([listFiles(repo, from), listFiles(repo, headSha)]);
  const baseDirs = kustomizationDirs(baseFiles, scopes);
  const headDirs = kustomizationDirs(headFiles, scopes);
  const tmp = mkdtempSync(path.join(os.tmpdir(), "haos-tasks-diff-"));
  try {
    const baseRoot = path.join(tmp, "base");
    const headRoot = path.join(tmp, "head");
    mkdirSync(baseRoot);
    mkdirSync(headRoot);
    await Promise.all([exportTree(repo, from, baseRoot), exportTree(repo, headSha, headRoot)]);
    const apps = new Set([
      ...affectedApps(readNodes(baseRoot, baseDirs), changed),
      ...affectedApps(readNodes(headRoot, headDirs), changed),
    ]);
    const baseSet = new Set(baseDirs);
    const headSet = new Set(headDirs);
    result.apps = await mapLimit([...apps].sort(), 2, async (app): Promise<AppDiff> => {
      const errors: AppDiff["errors"] = [];
      const side = async (present: boolean, root: string, name: "base" | "head") => {
        if (!present) return new Map<string, RenderedResource>();
        try {
          return await build(kubectl, root, app);
        } catch (error) {
          if (!(error instanceof BuildError)) throw error;
          errors.push({ side: name, message: error.message });
          return undefined;
        }
      };
      const before = await side(baseSet.has(app), baseRoot, "base");
      const after = await side(headSet.has(app), headRoot, "head");
      // Against a side that did not build, every resource of the other would look added or removed.
      const resources = before && after ? compare(before, after, context) : [];
      const status: AppStatus =
        after === undefined
          ? "error"
          : before === undefined
            ? "changed" // head builds again: the base's failure is the change
            : !baseSet.has(app)
              ? "added"
              : !headSet.has(app)
                ? "removed"
                : resources.length > 0
                  ? "changed"
                  : "unchanged";
      return { path: app, status, resources, errors };
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return result;
}
