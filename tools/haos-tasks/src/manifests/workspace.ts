import { existsSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseSourceFile, type SourceFile } from "./yaml-source.ts";

/** File names kustomize reads as a kustomization. */
export const kustomizationFileNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** Files an app folder may hold that are not Kubernetes objects (validate knows them by name). */
export const knownNonResources = ["platform.yaml", "moon.yml", "moon.yaml", ".haos-tasks.yaml"];

const yamlFile = /\.ya?ml$/;

/** What validate reads: every YAML file under the target, parsed with positions. */
export interface Workspace {
  /** Absolute repository root (nearest ancestor holding .git, else the target directory). */
  root: string;
  /** Repo-relative targets the user named. */
  targets: string[];
  /** Repo-relative path → parsed file, for every YAML file under the targets. */
  files: Map<string, SourceFile>;
  /** Repo-relative directories that hold a kustomization file. */
  kustomizationDirs: string[];
}

/** Forward-slash repo-relative path. */
export function relativePath(root: string, absolute: string): string {
  const rel = path.relative(root, absolute).split(path.sep).join("/");
  return rel === "" ? "." : rel;
}

/** The nearest ancestor of `start` that holds `.git`, else `start` itself (or its directory). */
export function findRepoRoot(start: string): string {
  const absolute = path.resolve(start);
  const base = existsSync(absolute) && statSync(absolute).isFile() ? path.dirname(absolute) : absolute;
  for (let dir = base; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, ".git"))) return dir;
    if (path.dirname(dir) === dir) return base;
  }
}

/** Whether a repo-relative path matches one of the ignore globs. */
export function isIgnored(rel: string, ignore: readonly string[]): boolean {
  return ignore.some((glob) => path.matchesGlob(rel, glob) || path.matchesGlob(rel, `${glob}/**`));
}

async function walk(dir: string, root: string, ignore: readonly string[], out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const absolute = path.join(dir, entry.name);
    const rel = relativePath(root, absolute);
    if (isIgnored(rel, ignore)) continue;
    if (entry.isDirectory()) {
      // Dot folders (.git, .github, .moon) and dependencies hold no Flux objects.
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      await walk(absolute, root, ignore, out);
    } else if (entry.isFile() && (yamlFile.test(entry.name) || entry.name === "Kustomization")) {
      out.push(absolute);
    }
  }
}

export class WorkspaceError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

/** Reads every YAML file under the targets (files or directories). Unreadable targets throw. */
export async function loadWorkspace(
  targets: readonly string[],
  options: { cwd: string; ignore?: readonly string[]; root?: string },
): Promise<Workspace> {
  const absoluteTargets = (targets.length > 0 ? targets : ["."]).map((t) => path.resolve(options.cwd, t));
  const first = absoluteTargets[0] ?? options.cwd;
  const root = options.root ?? findRepoRoot(first);
  const ignore = options.ignore ?? [];
  const found: string[] = [];
  for (const target of absoluteTargets) {
    if (!existsSync(target)) {
      throw new WorkspaceError(`${target}: no such file or directory`, "pass a directory or a YAML file");
    }
    if (statSync(target).isDirectory()) await walk(target, root, ignore, found);
    else found.push(target);
  }
  const unique = [...new Set(found)].sort();
  const files = new Map<string, SourceFile>();
  await Promise.all(
    unique.map(async (absolute) => {
      const rel = relativePath(root, absolute);
      const text = await readFile(absolute, "utf8");
      files.set(rel, parseSourceFile(text, rel));
    }),
  );
  const kustomizationDirs = [...files.keys()]
    .filter((rel) => kustomizationFileNames.includes(path.posix.basename(rel)))
    .map((rel) => path.posix.dirname(rel))
    .sort();
  return {
    root,
    targets: absoluteTargets.map((t) => relativePath(root, t)),
    files: new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b))),
    kustomizationDirs,
  };
}

/** An object Flux references by kind, name and namespace. */
export interface ObjectRef {
  kind: string;
  name: string;
  namespace: string;
  /** A source's spec.url, when it has one (tells whether a GitRepository is this repository). */
  url?: string;
}

// A cheap pre-filter before parsing; `kind: HelmRepository # the chart repo` is one too.
const fluxKinds =
  /^kind:\s*["']?(GitRepository|OCIRepository|HelmRepository|Bucket|Kustomization|HelmRelease|HelmChart|ExternalArtifact)["']?\s*(#.*)?$/m;

/**
 * Flux sources and reconcilers anywhere in the repository outside the files already read, so a
 * check of one app resolves `sourceRef`/`dependsOn` against the whole repository.
 */
export async function repositoryFluxObjects(
  root: string,
  ignore: readonly string[],
  skip: ReadonlySet<string>,
): Promise<ObjectRef[]> {
  const found: string[] = [];
  await walk(root, root, ignore, found);
  const refs: ObjectRef[] = [];
  for (const absolute of found) {
    const rel = relativePath(root, absolute);
    if (skip.has(rel)) continue;
    const text = await readFile(absolute, "utf8");
    if (!fluxKinds.test(text)) continue;
    for (const doc of parseSourceFile(text, rel).documents) {
      const value = doc.value as {
        kind?: unknown;
        metadata?: { name?: unknown; namespace?: unknown };
        spec?: { url?: unknown };
      } | null;
      if (!value || typeof value.kind !== "string" || typeof value.metadata?.name !== "string") continue;
      const url = value.spec?.url;
      refs.push({
        kind: value.kind,
        name: value.metadata.name,
        namespace: typeof value.metadata.namespace === "string" ? value.metadata.namespace : "",
        ...(typeof url === "string" ? { url } : {}),
      });
    }
  }
  return refs;
}

/** The kustomization file of a directory in the workspace. */
export function kustomizationFileOf(workspace: Workspace, dir: string): SourceFile | undefined {
  for (const name of kustomizationFileNames) {
    const file = workspace.files.get(dir === "." ? name : `${dir}/${name}`);
    if (file) return file;
  }
  return undefined;
}
