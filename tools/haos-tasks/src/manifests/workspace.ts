import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { HintedError } from "../errors.ts";
import {
  aliasBombLine,
  aliasBombMessage,
  fileLimitProblem,
  mayHoldAliases,
  oversizedDocuments,
} from "./limits.ts";
import { lazySourceFile, parseSourceFile, type SourceFile } from "./yaml-source.ts";

/**
 * Go's string order (bytes of UTF-8), the order filepath.Walk visits a directory in: Flux's
 * kustomize-controller lists a path's manifests in it (fluxcd/pkg/kustomize scanManifests). It is
 * also cheap: String#localeCompare's first call loads ICU's collator, about 15 ms of a cold run.
 */
export function byteOrder(a: string, b: string): number {
  // UTF-16 code units order as UTF-8 bytes do, except surrogates against U+E000–U+FFFF.
  if (!/[\ud800-\udfff]/.test(a + b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** File names kustomize reads as a kustomization. */
export const kustomizationFileNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** Files an app folder may hold that are not Kubernetes objects (validate knows them by name). */
export const knownNonResources = ["platform.yaml", "moon.yml", "moon.yaml", ".haos-tasks.yaml"];

const yamlFile = /\.ya?ml$/;

/** What validate reads: every YAML file under the target, parsed with positions (on first use). */
export interface Workspace {
  /** Absolute repository root (nearest ancestor holding .git, else the target directory). */
  root: string;
  /** Repo-relative targets the user named. */
  targets: string[];
  /** Repo-relative path → parsed file, for every YAML file under the targets. */
  files: Map<string, SourceFile>;
  /** Repo-relative directories that hold a kustomization file. */
  kustomizationDirs: string[];
  /** Files that could not be read as YAML text, and symlinks not followed. */
  problems: WorkspaceProblem[];
}

/** A file validate could not read as YAML, or a symlink it did not follow. */
export interface WorkspaceProblem {
  /** yaml/limits: over an input limit (limits.ts), so neither built nor checked (see refusedFiles). */
  rule: "yaml/encoding" | "references/symlink" | "yaml/limits" | "manifest/too-large";
  file: string;
  line?: number;
  message: string;
  hint: string;
}

/** Forward-slash repo-relative path. */
export function relativePath(root: string, absolute: string): string {
  // A path below the root as the walk joins them is its tail: path.relative's normalisation is
  // most of its cost (called for every file and every built object).
  // (Not for a root ending in "/", nor a tail with "//", "/./", "/../" or a trailing "/".)
  if (
    path.sep === "/" &&
    !root.endsWith("/") &&
    absolute.startsWith(root) &&
    absolute[root.length] === "/" &&
    !/\/\.{0,2}(\/|$)/.test(absolute.slice(root.length))
  ) {
    return absolute.slice(root.length + 1);
  }
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

interface WalkState {
  /** Real paths of the directories on the current path (a symlink back to one is a loop). */
  ancestors: Set<string>;
  problems: WorkspaceProblem[];
  /** The repository's real path, resolved once. */
  realRoot?: string;
}

/**
 * Every YAML file below `dir`. Symlinks are followed when they stay inside the repository; one
 * that leaves it, dangles or loops back to a directory above is reported, not silently skipped.
 * Synchronous: an awaited readdir per directory left the thread idle for a threadpool round trip
 * each time (15,000 directories: about 0.4 s).
 */
function walk(
  dir: string,
  root: string,
  ignore: readonly string[],
  out: string[],
  state: WalkState = { ancestors: ancestorsOf(dir, root), problems: [] },
  realDir: string = safeRealpath(dir) ?? dir,
): WorkspaceProblem[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  // A Helm chart's folder (Chart.yaml) holds templates and values, not manifests: what it renders
  // is checked through the HelmRelease that installs it (validate's render stage).
  if (dir !== root && entries.some((e) => e.name === "Chart.yaml" && !e.isDirectory())) return state.problems;
  state.realRoot ??= safeRealpath(root) ?? root;
  const realRoot = state.realRoot;
  for (const entry of entries) {
    const absolute = path.join(dir, entry.name);
    const rel = relativePath(root, absolute);
    if (isIgnored(rel, ignore)) continue;
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const target = safeRealpath(absolute);
      const yamlName = yamlFile.test(entry.name) || entry.name === "Kustomization";
      const problem = (message: string) =>
        state.problems.push({
          rule: "references/symlink",
          file: rel,
          message,
          hint: "point the link at a file inside the repository, or add it to validate.ignore",
        });
      if (target === undefined) {
        // A loop of links (a → b → a) never resolves: said whatever its name, never skipped silently.
        if (symlinkLoops(absolute)) problem("symlinks loop (each points at the other): not followed");
        else if (yamlName) problem("symlink points nowhere: not validated");
        continue;
      }
      const inside = target === realRoot || target.startsWith(`${realRoot}${path.sep}`);
      const stat = statSync(target);
      if (!inside) {
        if (yamlName || stat.isDirectory())
          problem(`symlink leaves the repository (${target}): not validated`);
        continue;
      }
      if (stat.isDirectory() && state.ancestors.has(target)) {
        problem(`symlink loops back to ${relativePath(realRoot, target)}: not followed`);
        continue;
      }
      isDirectory = stat.isDirectory();
      isFile = stat.isFile();
    }
    if (isDirectory) {
      // Dot folders (.git, .github, .moon) and dependencies hold no Flux objects.
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      // A plain directory's real path is its parent's plus its name: one realpath per symlink only.
      const real = entry.isSymbolicLink()
        ? (safeRealpath(absolute) ?? absolute)
        : path.join(realDir, entry.name);
      state.ancestors.add(real);
      walk(absolute, root, ignore, out, state, real);
      state.ancestors.delete(real);
    } else if (isFile && (yamlFile.test(entry.name) || entry.name === "Kustomization")) {
      out.push(absolute);
    }
  }
  return state.problems;
}

/**
 * The real directories from the repository root down to `dir`: a symlink back to any of them is a
 * loop, also when the walk starts below the root (`validate apps/x` with a link to `../..` read
 * the whole repository a second time under the link).
 */
function ancestorsOf(dir: string, root: string): Set<string> {
  const realRoot = safeRealpath(root) ?? root;
  const real = safeRealpath(dir) ?? dir;
  const chain = new Set([real]);
  if (real === realRoot || !real.startsWith(`${realRoot}${path.sep}`)) return chain;
  for (let d = path.dirname(real); d.length >= realRoot.length; d = path.dirname(d)) {
    chain.add(d);
    if (d === realRoot || path.dirname(d) === d) break;
  }
  return chain;
}

function symlinkLoops(p: string): boolean {
  try {
    realpathSync(p);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ELOOP";
  }
}

function safeRealpath(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The text of a YAML file, or why it is not text: a NUL byte (binary) or invalid UTF-8. */
export function decodeYaml(bytes: Uint8Array): { text: string } | { problem: string; line: number } {
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const line = bytes.subarray(0, nul).filter((b) => b === 10).length + 1;
    return { problem: "binary file (NUL byte): not YAML text", line };
  }
  try {
    return { text: utf8.decode(bytes) };
  } catch {
    // The first undecodable line, for the finding.
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 10) {
        try {
          utf8.decode(bytes.subarray(start, i));
        } catch {
          break;
        }
        line++;
        start = i + 1;
      }
    }
    return { problem: "not UTF-8: Kubernetes, kustomize and Flux read YAML as UTF-8", line };
  }
}

/**
 * A YAML file's text, or why it is not text, exactly as {@link decodeYaml} gives it for the file's
 * bytes. The fast path is readFileSync's own UTF-8 decoding (no Buffer, no second copy: a fifth of
 * the cost of reading 6,000 files): for valid UTF-8 without NUL that is the same text, but for the
 * byte order mark TextDecoder drops. It turns what is not UTF-8 into U+FFFD and keeps NUL, so a file
 * whose text holds either is read again as bytes and decodeYaml says what is wrong and where (a
 * file that really holds U+FFFD comes out the same).
 */
export function readYamlFile(absolute: string): ReturnType<typeof decodeYaml> {
  const text = readFileSync(absolute, "utf8");
  if (text.includes("\uFFFD") || text.includes("\0")) return decodeYaml(readFileSync(absolute));
  return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
}

export class WorkspaceError extends HintedError {}

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
  const problems: WorkspaceProblem[] = [];
  for (const target of absoluteTargets) {
    if (!existsSync(target)) {
      throw new WorkspaceError(`${target}: no such file or directory`, "pass a directory or a YAML file");
    }
    if (statSync(target).isDirectory()) problems.push(...walk(target, root, ignore, found));
    else found.push(target);
  }
  const unique = [...new Set(found)].sort();
  const files = new Map<string, SourceFile>();
  // One file at a time, synchronously: no descriptors pile up (10,000 files, one open at once),
  // and a sync read costs about half the CPU of fs/promises' open/stat/read/close round trips.
  for (const absolute of unique) {
    const rel = relativePath(root, absolute);
    const decoded = readYamlFile(absolute);
    if ("problem" in decoded) {
      problems.push({
        rule: "yaml/encoding",
        file: rel,
        line: decoded.line,
        message: decoded.problem,
        hint: "save the file as UTF-8 text, or rename it if it is not YAML",
      });
      continue;
    }
    const over = fileLimitProblem(decoded.text);
    if (over) {
      problems.push({
        rule: "yaml/limits",
        file: rel,
        line: over.line,
        message: over.message,
        hint: "shrink the file (no alias chains, no deep nesting, split it), or add it to validate.ignore if it is not a manifest",
      });
      continue;
    }
    for (const big of oversizedDocuments(decoded.text))
      problems.push({
        rule: "manifest/too-large",
        file: rel,
        line: big.line,
        message: big.message,
        hint: "keep large data out of the object (a volume, an image, an object store), or split it",
      });
    // Parsed on first use: validate starts the build before it parses the other files.
    const source = lazySourceFile(decoded.text, rel);
    // One that may use aliases is parsed now (lint would parse it anyway): a bomb must not be built.
    // The fast path reads aliases of one-line scalars only, which cannot expand: no bomb there.
    const bomb =
      mayHoldAliases(decoded.text) && source.simple === undefined ? aliasBombLine(source) : undefined;
    if (bomb !== undefined) {
      problems.push({
        rule: "yaml/limits",
        file: rel,
        line: bomb,
        message: aliasBombMessage,
        hint: "shrink the file (no alias chains, no deep nesting, split it), or add it to validate.ignore if it is not a manifest",
      });
      continue;
    }
    files.set(rel, source);
  }
  const kustomizationDirs = [...files.keys()]
    .filter((rel) => kustomizationFileNames.includes(path.posix.basename(rel)))
    .map((rel) => path.posix.dirname(rel))
    .sort();
  return {
    root,
    targets: absoluteTargets.map((t) => relativePath(root, t)),
    files: new Map([...files.entries()].sort(([a], [b]) => byteOrder(a, b))),
    kustomizationDirs,
    problems: problems.sort((a, b) => byteOrder(a.file, b.file)),
  };
}

/**
 * Files over an input limit, absolute path → why: the kustomize helper must not read them
 * (BuildOptions.refuse), so a build that lists one fails naming it instead of parsing it.
 */
export function refusedFiles(workspace: Workspace): Map<string, string> {
  return new Map(
    workspace.problems
      .filter((p) => p.rule === "yaml/limits")
      .map((p) => [path.join(workspace.root, p.file), `${p.file}:${p.line ?? 1}: ${p.message}`]),
  );
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
  walk(root, root, ignore, found);
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
