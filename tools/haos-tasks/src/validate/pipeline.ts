import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Finding } from "../findings.ts";
import { platformRules } from "../lint/platform/index.ts";
import { at, type Subject } from "../lint/platform/subject.ts";
import { finding } from "../lint/rules.ts";
import { lintStyle } from "../lint/style.ts";
import { includedDirectories, type Kustomization, readKustomization } from "../manifests/kustomization.ts";
import {
  type BuildFailure,
  type BuildResult,
  type BuildUnit,
  buildKustomizations,
  kustomizeEngine,
  startHelpers,
} from "../manifests/kustomize-build.ts";
import type { KustomizeBuilder } from "../manifests/kustomize-inprocess.ts";
import { apiGroup, field, objectProblem, resourcesOf } from "../manifests/resources.ts";
import {
  findRepoRoot,
  isIgnored,
  knownNonResources,
  kustomizationFileNames,
  kustomizationFileOf,
  loadWorkspace,
  refusedFiles,
  type Workspace,
  WorkspaceError,
} from "../manifests/workspace.ts";
import { hasParseErrors, pointerPosition, releaseAst } from "../manifests/yaml-source.ts";
import type { PhaseEvent } from "../phases.ts";
import type { Platform } from "../platform/platform.ts";
import { cacheDirs } from "../schemas/catalog.ts";
import { LocationReader } from "../schemas/locations.ts";
import { type FetchOptions, readSchemaLock, resolveMirror, type SchemaLock } from "../schemas/sources.ts";
import { toolPath } from "../tools/paths.ts";
import { defaultPlatform } from "./catalog-loader.ts";
import { configFileName, loadValidateConfig, type ValidateConfig } from "./config.ts";
import { finalizeFindings } from "./finalize.ts";
import {
  buildUnits,
  type FluxKustomization,
  fluxCreatedObjects,
  fluxKustomizations,
  substitute,
} from "./flux.ts";
import { PlatformLookup, ruleContext } from "./platforms.ts";
import {
  duplicateResources,
  fluxReferences,
  kustomizationReferences,
  ownersOf,
  owningKustomization,
} from "./references.ts";
import { type CatalogLike, schemaFindings } from "./schema-stage.ts";
import { builtSubjects, SourceFiles, standaloneSubject } from "./subjects.ts";

export interface ValidateOptions {
  /** Files or directories, relative to cwd. Empty means cwd. */
  targets: readonly string[];
  cwd: string;
  /** `lint`: style rules only (no build, no schemas). */
  only?: "lint";
  /** The schema catalog for a platform (undefined when no platform.yaml applies). */
  loadCatalog?: (platform: Platform | undefined, kubernetesVersion?: string) => Promise<CatalogLike>;
  /** --strict: missing schemas are errors and external schemas get a closed root. */
  strict?: boolean;
  /** --kubernetes-version: overrides validate.kubernetesVersion and platform.yaml. */
  kubernetesVersion?: string;
  /** --schema-location values, tried before schemas.locations of the config. */
  schemaLocations?: readonly string[];
  /** --catalog: a catalog directory `schemas sync --from-cluster` wrote. */
  catalog?: string;
  /** For schema locations that are URLs (tests pass a local server's fetch). */
  fetchLocation?: typeof globalThis.fetch;
  kubeconform?: string;
  kubectl?: string;
  lock?: SchemaLock;
  fetch?: FetchOptions;
  onProgress?: (event: PhaseEvent) => void;
}

export interface ValidateResult {
  root: string;
  findings: Finding[];
  /** Files read (in scope), kustomization files among them, builds run, objects checked. */
  stats: { files: number; kustomizations: number; builds: number; objects: number };
}

function buildFailureFinding(
  failure: BuildFailure,
  workspace: Workspace,
  kustomizations: Kustomization[],
): Finding {
  const k = kustomizations.find((x) => x.dir === failure.dir);
  const file = kustomizationFileOf(workspace, failure.dir)?.file ?? `${failure.dir}/kustomization.yaml`;
  const entry = k?.entries.find(
    (e) => failure.message.includes(`'${e.entry}'`) || failure.message.includes(`/${e.entry}`),
  );
  const doc = k?.source.documents[0];
  const pos = k && doc && entry ? pointerPosition(k.source, doc, entry.pointer) : { line: 1, column: 1 };
  return finding(
    "build/kustomize",
    { file, ...pos },
    `kustomize build failed: ${shortenBuildMessage(failure.message)}`,
    "run `kubectl kustomize` on the directory and fix the reported entry",
  );
}

/** Work that pauses while the gate is closed: close() holds it at its next pause, open() lets it go. */
class Gate {
  #closed: Promise<void> | undefined;
  #open: () => void = () => {};
  close(): void {
    this.#closed ??= new Promise((resolve) => {
      this.#open = resolve;
    });
  }
  open(): void {
    this.#open();
    this.#closed = undefined;
  }
  get closed(): Promise<void> | undefined {
    return this.#closed;
  }
}

/**
 * A pause that lets the event loop run once `ms` of synchronous work has passed since the last
 * one (so child processes are fed and read), and costs nothing otherwise. While `gate` is closed
 * the pause waits for it to open: the work pausing is not on the critical path then.
 */
function yieldEvery(ms: number, gate: Gate = new Gate()): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (gate.closed) await gate.closed;
    if (performance.now() - last < ms) return;
    await new Promise((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}

/** Directories to build: kustomizations no other kustomization in the tree includes (not Components). */
function rootKustomizations(kustomizations: readonly Kustomization[]): string[] {
  // A cycle (a kustomization including itself) keeps a root: built, it fails as kustomize does.
  const included = includedDirectories(kustomizations);
  return kustomizations
    .filter((k) => !included.has(k.dir))
    .filter((k) => {
      const doc = k.source.documents[0];
      return doc !== undefined && !hasParseErrors(doc);
    })
    .filter((k) => field(k.source.documents[0]?.value, "kind") !== "Component")
    .map((k) => k.dir);
}

/**
 * What validate builds for a workspace: its kustomizations, and the build units — the root
 * kustomizations and the paths of the Flux Kustomizations, with Flux's components, targetNamespace
 * and generated kustomizations. The benchmark's build floor builds the same units.
 */
export function planBuilds(workspace: Workspace): {
  kustomizations: Kustomization[];
  byDir: Map<string, Kustomization>;
  units: BuildUnit[];
  fluxByDir: Map<string, FluxKustomization>;
} {
  const kustomizations = workspace.kustomizationDirs.flatMap((dir) => {
    const source = kustomizationFileOf(workspace, dir);
    return source ? [readKustomization(source, dir)] : [];
  });
  const byDir = new Map(kustomizations.map((k) => [k.dir, k]));
  const { units, byDir: fluxByDir } = buildUnits(
    rootKustomizations(kustomizations),
    fluxKustomizations(workspace),
    (dir) => byDir.has(dir),
    workspace.root,
  );
  return { kustomizations, byDir, units, fluxByDir };
}

/**
 * Builds the roots; when one fails, builds the kustomizations it includes on their own, level by
 * level, so one broken app does not leave its siblings unchecked. A failure is reported at the most
 * specific kustomization that fails: a parent whose included kustomization fails is not repeated.
 */
async function buildFallingBackToIncluded(
  roots: readonly string[],
  kustomizations: readonly Kustomization[],
  build: (dirs: readonly string[]) => Promise<BuildResult>,
): Promise<BuildResult> {
  const byDir = new Map(kustomizations.map((k) => [k.dir, k]));
  const included = (dir: string): string[] =>
    (byDir.get(dir)?.entries ?? []).flatMap((e) =>
      e.mayBeDirectory &&
      e.path &&
      byDir.has(e.path) &&
      field(byDir.get(e.path)?.source.documents[0]?.value, "kind") !== "Component"
        ? [e.path]
        : [],
    );
  const result: BuildResult = { resources: [], failures: [] };
  const attempted = new Set<string>();
  let level = [...roots];
  while (level.length > 0) {
    for (const dir of level) attempted.add(dir);
    const { resources, failures } = await build(level);
    result.resources.push(...resources);
    const next: string[] = [];
    for (const failure of failures) {
      // A cycle fails the same in each of its members: reported once, at the one built.
      const children = /cycle detected/.test(failure.message)
        ? []
        : included(failure.dir).filter((d) => !attempted.has(d) && !next.includes(d));
      next.push(...children);
      result.failures.push(failure);
    }
    level = next;
  }
  // Keep only the most specific failures: drop a parent when something it includes failed too.
  const failed = new Set(result.failures.map((f) => f.dir));
  result.failures = result.failures.filter((f) => !included(f.dir).some((d) => d !== f.dir && failed.has(d)));
  return result;
}

/** kubectl's message cut to its innermost cause (kustomize nests every level's context). */
export function shortenBuildMessage(message: string, max = 220): string {
  const parts = message.split(/: (?=[a-zA-Z'"])/);
  let inner = parts.slice(-2).join(": ");
  if (parts.length > 2 && inner.length < 60) inner = parts.slice(-3).join(": ");
  return inner.length > max ? `${inner.slice(0, max - 1)}…` : inner;
}

/** The files a kustomization lists, through the kustomization directories it includes. */
function listedFiles(
  dir: string,
  byDir: ReadonlyMap<string, Kustomization>,
  seen = new Set<string>(),
): string[] {
  if (seen.has(dir)) return [];
  seen.add(dir);
  const k = byDir.get(dir);
  if (!k) return [];
  return k.entries.flatMap((e) => {
    if (!e.path) return [];
    if (byDir.has(e.path)) return listedFiles(e.path, byDir, seen);
    return [e.path];
  });
}

/** Platform rules a directory loses without platform.yaml (named in the info finding). */
const platformRuleIds = [
  "cozystack/*",
  "kubevirt/efi",
  "kube-ovn/*",
  "flux/prune-protection",
  "platform/pinned-url",
];
const platformGroups = [
  "apps.cozystack.io",
  "kubevirt.io",
  "instancetype.kubevirt.io",
  "kubeovn.io",
  "cdi.kubevirt.io",
];

/**
 * validate: lint → build → references → kubeconform → platform rules → findings. Plain data in,
 * findings out; progress goes to `onProgress`. Given files or folders short of the repository,
 * the whole repository is read (references resolve there) and only findings in the given files
 * are reported.
 */
export async function validate(options: ValidateOptions): Promise<ValidateResult> {
  // The kustomize helpers start first: their start (a Go process each) overlaps reading the
  // repository. A missing helper is reported where the build awaits them.
  const helpers =
    options.only !== "lint" && kustomizeEngine(options) === "in-process" ? startHelpers({}) : undefined;
  helpers?.catch(() => {});
  try {
    return await validateWith(options, helpers);
  } finally {
    await closeHelpers(helpers);
  }
}

async function closeHelpers(helpers: Promise<KustomizeBuilder> | undefined): Promise<void> {
  await (await helpers?.catch(() => undefined))?.close();
}

async function validateWith(
  options: ValidateOptions,
  helpers: Promise<KustomizeBuilder> | undefined,
): Promise<ValidateResult> {
  const started = Date.now();
  const progress = (phase: string, status: PhaseEvent["status"], detail: string) =>
    options.onProgress?.({ phase, status, detail, elapsed: Date.now() - started });
  const firstTarget = path.resolve(options.cwd, options.targets[0] ?? ".");
  const root = findRepoRoot(firstTarget);
  const { config } = await loadValidateConfig(root);
  const requested = await loadWorkspace(options.targets, { cwd: options.cwd, ignore: config.ignore, root });
  if (requested.files.size === 0 && requested.problems.length === 0) {
    // A job pointed at the wrong folder must not pass by checking nothing.
    throw new WorkspaceError(
      `no YAML files to validate under ${options.targets.join(", ") || "."} (ignored: ${config.ignore.join(", ") || "none"})`,
      "pass the folder of your Flux apps or manifests, or check validate.ignore in .haos-tasks.yaml",
    );
  }
  const wholeRepository = requested.targets.includes(".");
  const workspace = wholeRepository
    ? requested
    : await loadWorkspace(["."], { cwd: root, ignore: config.ignore, root });
  const scope = new Set([...requested.files.keys(), ...requested.problems.map((p) => p.file)]);
  const inScope = (file: string | undefined) => wholeRepository || (file !== undefined && scope.has(file));
  progress("lint", "running", `${requested.files.size} YAML files`);
  const findings: Finding[] = requested.problems.map((p) =>
    finding(p.rule, { file: p.file, line: p.line ?? 1, column: 1 }, p.message, p.hint),
  );
  // The style rules parse every file (workspace files are parsed on first use). With a build to
  // run, they run while the kustomize helpers build, yielding now and then so the helpers get
  // their next roots and their answers are read.
  const lint = async (pause: () => Promise<void>) => {
    for (const [file, source] of workspace.files) {
      if (!inScope(file)) continue;
      findings.push(...lintStyle(source, config));
      // Only a finding's position needs the AST from here on: it is parsed again if one does.
      releaseAst(source);
      await pause();
    }
  };
  const kustomizationsInScope = workspace.kustomizationDirs.filter((d) =>
    inScope(kustomizationFileOf(workspace, d)?.file),
  ).length;
  let builds = 0;
  const done = (objects: number): ValidateResult => ({
    root,
    findings: finalizeFindings(
      // The configuration's own findings (an unreadable --schema-location) concern every path given.
      findings.filter((f) => inScope(f.file) || f.file === configFileName),
      workspace,
      config,
    ),
    stats: { files: scope.size, kustomizations: kustomizationsInScope, builds, objects },
  });
  if (options.only === "lint") {
    await lint(async () => {});
    return done(0);
  }

  const { kustomizations, byDir, units, fluxByDir } = planBuilds(workspace);
  builds = units.length;
  const unitOf = new Map(units.map((u) => [u.dir, u]));
  progress(
    "build",
    "running",
    `${kustomizeEngine(options) === "kubectl" ? "kubectl kustomize" : "kustomize (in-process)"}: ${units.length} builds of ${workspace.kustomizationDirs.length} kustomizations`,
  );
  // The style rules run while the helpers build and go on while kubeconform checks: nothing
  // before the schema stage needs their findings. They wait (the gate) while the run's critical
  // path is Node's own: from the build's last few roots (one per helper: their answers must be
  // read at once, and a small repository has only those) until kubeconform has started. Each
  // file is parsed once, by whichever step reads it first.
  const gate = new Gate();
  const tail = os.availableParallelism();
  if (units.length <= tail) gate.close();
  const building = buildFallingBackToIncluded(
    units.map((u) => u.dir),
    kustomizations,
    (dirs) =>
      buildKustomizations(
        dirs.map((d) => unitOf.get(d) ?? { dir: d }),
        {
          root,
          ...(options.kubectl ? { kubectl: options.kubectl } : {}),
          ...(helpers ? { helpers } : {}),
          refuse: refusedFiles(workspace),
          onChunk: (n, total) => {
            if (total - n <= tail) gate.close();
            progress("build", "progress", `${n}/${total} build batches`);
          },
        },
      ),
  ).finally(() => {
    gate.close();
    // The helpers' memory is free for kubeconform (their exit is awaited at the end).
    void closeHelpers(helpers);
  });
  // Awaited below: a failure must not count as unhandled meanwhile.
  building.catch(() => {});
  const linting = lint(yieldEvery(5, gate));
  linting.catch(() => {});
  let built: BuildResult;
  try {
    built = await building;
  } catch (error) {
    gate.open();
    throw error;
  }
  findings.push(...built.failures.map((f) => buildFailureFinding(f, workspace, kustomizations)));
  const notes = substitute(
    built.resources,
    fluxByDir,
    findings,
    // The substituteFrom candidates, only when some Flux Kustomization substitutes at all; a
    // file whose text names neither kind (nor escapes anything) holds neither.
    [...fluxByDir.values()].some((k) => k.postBuild)
      ? [...workspace.files.values()]
          .filter((source) => /ConfigMap|Secret|\\/.test(source.text))
          .flatMap((source) =>
            resourcesOf(source).filter((r) => r.kind === "ConfigMap" || r.kind === "Secret"),
          )
      : [],
    (file) => workspace.files.get(file)?.text,
  );

  const files = new SourceFiles(workspace);
  const subjects: Subject[] = await builtSubjects(built.resources, files);
  built.resources.forEach((b, i) => {
    const note = notes.get(b);
    const subject = subjects[i];
    if (note && subject) {
      subject.unresolved = note.unresolved;
      subject.substitutedBy = note.by;
    }
  });
  // A failed build must not hide the other checks of its files: what no build rendered is
  // checked file by file, as written.
  const rendered = new Set(built.resources.flatMap((b) => (b.origin ? [b.origin] : [])));
  const generated = new Set(units.flatMap((u) => u.generated ?? []));
  const fallback = new Set<string>();
  for (const failure of built.failures) {
    const unit = unitOf.get(failure.dir);
    const listed = unit?.generated ?? listedFiles(failure.dir, byDir);
    for (const file of listed) if (!rendered.has(file) && workspace.files.has(file)) fallback.add(file);
  }
  const dirs = ownersOf(workspace, kustomizations);
  for (const [file, source] of workspace.files) {
    const base = path.posix.basename(file);
    if (knownNonResources.includes(base) || isIgnored(file, config.nonResources)) continue;
    if (kustomizationFileNames.includes(base)) continue;
    if (!fallback.has(file)) {
      if (owningKustomization(file, dirs) !== undefined || generated.has(file) || rendered.has(file))
        continue;
    }
    subjects.push(...resourcesOf(source).map(standaloneSubject));
    // kustomize rejects such documents in a build; a file Flux applies on its own would be
    // rejected by the cluster, so it must not pass here as "0 objects".
    for (const doc of source.documents) {
      const problem = objectProblem(doc);
      if (problem)
        findings.push(
          finding(
            "manifest/not-an-object",
            { file, line: doc.start.line, column: doc.start.column },
            problem,
            "spell apiVersion, kind and metadata.name as Kubernetes does, or list the file under validate.nonResources if it is not a manifest",
          ),
        );
    }
  }
  const platforms = new PlatformLookup(root);
  const checked = subjects.filter((s) => inScope(s.file));
  const bySchemaSet = await groupByPlatform(checked, platforms);
  // kubeconform runs in its own process: the reference checks and platform rules run once it has
  // started, and the findings are added in the same order as before (references, schemas, rules).
  let kubeconformStarted: () => void = () => {};
  const kubeconformRunning = new Promise<void>((resolve) => {
    kubeconformStarted = resolve;
  });
  const schemaStage = async (): Promise<Finding[]> => {
    const schema: Finding[] = [];
    if (options.loadCatalog) {
      for (const [platform, group] of bySchemaSet) {
        progress("schemas", "running", `kubeconform over ${group.length} objects`);
        let catalog: CatalogLike;
        const kubernetesVersion = options.kubernetesVersion ?? config.kubernetesVersion;
        try {
          catalog = await options.loadCatalog(platform, kubernetesVersion);
        } catch (error) {
          // A catalog that cannot be built (a version the lock does not pin, a missing source) is a
          // finding at the declaration: every object of the group stays unchecked, visibly.
          const hint = (error as { hint?: unknown }).hint;
          schema.push(
            finding(
              "schema/error",
              { file: platform?.file ?? configFileName, line: 1, column: 1 },
              `no schema catalog, ${group.length} objects not schema-checked: ${error instanceof Error ? error.message : String(error)}`,
              typeof hint === "string" ? hint : "run `haos-tasks schemas sync` to see why",
            ),
          );
          continue;
        }
        const declared = platform ?? (await defaultPlatform().catch(() => undefined));
        schema.push(
          ...(await schemaFindings(group.map(withoutSopsMetadata), catalog, config, {
            kubeconform: options.kubeconform ?? toolPath("kubeconform"),
            strict: options.strict ?? false,
            positions: config.positions,
            onKubeconformStart: kubeconformStarted,
            sources: {
              root,
              crdFiles: await globFiles(root, config.schemas.crds, config.ignore),
              locations: [...(options.schemaLocations ?? []), ...config.schemas.locations],
              ...((options.catalog ?? config.schemas.catalog)
                ? { clusterCatalog: path.resolve(root, options.catalog ?? config.schemas.catalog ?? "") }
                : {}),
              kubernetesVersion: kubernetesVersion ?? declared?.versions.kubernetes ?? "master",
              strict: options.strict ?? false,
              reader: new LocationReader({
                cacheDir: path.join(path.dirname(cacheDirs().catalogRoot), "locations"),
                ...(options.fetchLocation ? { fetch: options.fetchLocation } : {}),
              }),
            },
          })),
        );
      }
    }
    return schema;
  };
  const schemaChecks = schemaStage();
  // Awaited below, after the platform rules: a failure must not count as unhandled meanwhile.
  const schemaDone = schemaChecks.then(
    () => {},
    () => {},
  );
  await Promise.race([kubeconformRunning, schemaDone]);
  gate.open();
  findings.push(...kustomizationReferences(workspace, kustomizations, config, dirs));
  const elsewhere = fluxCreatedObjects(subjects);
  const referenceFindings = [
    ...fluxReferences(subjects, root, config, elsewhere),
    ...duplicateResources(subjects),
  ];
  progress("rules", "running", "platform rules");
  const lock = options.lock ?? (await readSchemaLock().catch(() => undefined));
  const context = await ruleContext(subjects, platforms, lock, { ...environmentFetch(), ...options.fetch });
  const ruleFindings = platformRules(context);
  await linting;
  findings.push(...referenceFindings, ...(await schemaChecks), ...ruleFindings, ...platforms.findings);
  // An app of platform kinds without a platform.yaml silently lost its platform rules before.
  const noted = new Set<string>();
  for (const s of checked) {
    if (!platformGroups.includes(apiGroup(s.apiVersion)) || (await platforms.forFile(s.file))) continue;
    const dir = s.build ?? path.posix.dirname(s.file);
    if (noted.has(dir)) continue;
    noted.add(dir);
    findings.push(
      finding(
        "platform/missing",
        at(s, "/kind"),
        `no platform.yaml at or above ${dir}: the platform rules are off for its ${s.kind} and the other platform objects there (${platformRuleIds.join(", ")})`,
        "add a platform.yaml to the app folder (see apps/haos-enigma/platform.yaml) to check CozyStack, KubeVirt and Kube-OVN rules",
      ),
    );
  }
  progress("validate", "succeeded", `${checked.length} objects`);
  return done(checked.length);
}

/**
 * A SOPS-encrypted manifest carries its key metadata in a root `sops:` mapping, which Flux's
 * kustomize-controller removes when it decrypts: the schema check sees the object Flux applies.
 */
function withoutSopsMetadata(subject: Subject): Subject {
  // Most objects have no `sops`: no copy of them (nor of the subject, whose trace is lazy).
  if (!Object.hasOwn(subject.object, "sops")) return subject;
  const { sops, ...object } = subject.object as Record<string, unknown>;
  return sops && typeof sops === "object" && !Array.isArray(sops) ? { ...subject, object } : subject;
}

/**
 * Where platform rules read locked sources unless told: the mirror and the cache directory the
 * environment names (HAOS_TASKS_SCHEMA_MIRROR, HAOS_TASKS_CACHE_DIR), as the schema catalog does.
 */
function environmentFetch(): FetchOptions {
  const mirror = resolveMirror(undefined);
  return { ...(mirror ? { mirror } : {}), cacheDir: cacheDirs().sourceCacheDir };
}

/** Subjects grouped by the platform that applies (its versions choose the schemas). */
async function groupByPlatform(
  subjects: readonly Subject[],
  platforms: PlatformLookup,
): Promise<Map<Platform | undefined, Subject[]>> {
  const groups = new Map<Platform | undefined, Subject[]>();
  const byFile = await platforms.forFilesOf(subjects);
  for (const s of subjects) {
    const platform = byFile.get(s.file);
    const list = groups.get(platform) ?? [];
    list.push(s);
    groups.set(platform, list);
  }
  return groups;
}

/** Repo-relative globs → absolute files (for schemas.crds). */
async function globFiles(
  root: string,
  globs: readonly string[],
  ignore: readonly string[],
): Promise<string[]> {
  if (globs.length === 0) return [];
  const { glob } = await import("node:fs/promises");
  const out = new Set<string>();
  for (const pattern of globs) {
    for await (const rel of glob(pattern, { cwd: root })) {
      if (!isIgnored(rel.split(path.sep).join("/"), ignore)) out.add(path.join(root, rel));
    }
  }
  return [...out].sort();
}

export type { ValidateConfig };

/**
 * YAML files changed since `ref` (from the merge base, so a PR check sees its own changes):
 * committed, staged, unstaged and untracked; deleted files are left out. Absolute paths, limited
 * to `within` (paths relative to cwd) when given.
 */
export async function changedFiles(
  ref: string,
  cwd: string,
  within: readonly string[] = [],
): Promise<string[]> {
  const { runGit } = await import("../git/runner.ts");
  const git = async (...args: string[]) => {
    const run = await runGit(cwd, args);
    if (run.code !== 0) {
      throw new WorkspaceError(
        `git ${args.join(" ")} failed: ${String(run.stderr).trim()}`,
        "pass a ref git knows (e.g. origin/main; in CI fetch it first: git fetch origin main)",
      );
    }
    return String(run.stdout);
  };
  const top = (await git("rev-parse", "--show-toplevel")).trim();
  const base = (await git("merge-base", ref, "HEAD")).trim();
  const names = [
    ...(await git("diff", "--name-only", "--diff-filter=d", base)).split("\n"),
    ...(await git("ls-files", "--others", "--exclude-standard"))
      .split("\n")
      .map((f) => path.relative(top, path.join(cwd, f))),
  ].filter((f) => f && (/\.ya?ml$/.test(f) || path.posix.basename(f) === "Kustomization"));
  const scopes = within.map((w) => path.resolve(cwd, w));
  return [...new Set(names.map((f) => path.join(top, f)))]
    .filter((f) => existsSync(f))
    .filter((f) => scopes.length === 0 || scopes.some((s) => f === s || f.startsWith(`${s}${path.sep}`)))
    .sort();
}
