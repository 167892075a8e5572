import path from "node:path";
import type { Finding } from "../findings.ts";
import { platformRules } from "../lint/platform/index.ts";
import type { Subject } from "../lint/platform/subject.ts";
import { finding } from "../lint/rules.ts";
import { lintStyle } from "../lint/style.ts";
import { type Kustomization, readKustomization } from "../manifests/kustomization.ts";
import { type BuildFailure, type BuildResult, buildKustomizations } from "../manifests/kustomize-build.ts";
import { field, objectProblem, resourcesOf } from "../manifests/resources.ts";
import {
  findRepoRoot,
  isIgnored,
  knownNonResources,
  kustomizationFileOf,
  loadWorkspace,
  repositoryFluxObjects,
  type Workspace,
  WorkspaceError,
} from "../manifests/workspace.ts";
import { pointerPosition } from "../manifests/yaml-source.ts";
import type { PhaseEvent } from "../phases.ts";
import type { Platform } from "../platform/platform.ts";
import { cacheDirs } from "../schemas/catalog.ts";
import { type FetchOptions, readSchemaLock, resolveMirror, type SchemaLock } from "../schemas/sources.ts";
import { toolPath } from "../tools/paths.ts";
import { loadValidateConfig, type ValidateConfig } from "./config.ts";
import { finalizeFindings } from "./finalize.ts";
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
  loadCatalog?: (platform: Platform | undefined) => Promise<CatalogLike>;
  kubeconform?: string;
  kubectl?: string;
  lock?: SchemaLock;
  fetch?: FetchOptions;
  onProgress?: (event: PhaseEvent) => void;
}

export interface ValidateResult {
  root: string;
  findings: Finding[];
  stats: { files: number; kustomizations: number; objects: number };
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
    `kustomize build failed: ${failure.message}`,
    "run `kubectl kustomize` on the directory and fix the reported entry",
  );
}

/** Directories to build: kustomizations no other kustomization in the tree includes (not Components). */
function rootKustomizations(kustomizations: readonly Kustomization[]): string[] {
  const included = new Set(
    kustomizations.flatMap((k) => k.entries.flatMap((e) => (e.mayBeDirectory && e.path ? [e.path] : []))),
  );
  return kustomizations
    .filter((k) => !included.has(k.dir))
    .filter((k) => k.source.documents[0]?.ast.errors.length === 0)
    .filter((k) => field(k.source.documents[0]?.value, "kind") !== "Component")
    .map((k) => k.dir);
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
      const children = included(failure.dir).filter((d) => !attempted.has(d) && !next.includes(d));
      next.push(...children);
      result.failures.push(failure);
    }
    level = next;
  }
  // Keep only the most specific failures: drop a parent when something it includes failed too.
  const failed = new Set(result.failures.map((f) => f.dir));
  result.failures = result.failures.filter((f) => !included(f.dir).some((d) => failed.has(d)));
  return result;
}

/**
 * validate: lint → build → references → kubeconform → platform rules → findings. Plain data in,
 * findings out; progress goes to `onProgress`.
 */
export async function validate(options: ValidateOptions): Promise<ValidateResult> {
  const started = Date.now();
  const progress = (phase: string, status: PhaseEvent["status"], detail: string) =>
    options.onProgress?.({ phase, status, detail, elapsed: Date.now() - started });
  const firstTarget = path.resolve(options.cwd, options.targets[0] ?? ".");
  const root = findRepoRoot(firstTarget);
  const { config } = await loadValidateConfig(root);
  const workspace = await loadWorkspace(options.targets, { cwd: options.cwd, ignore: config.ignore, root });
  if (workspace.files.size === 0) {
    // A job pointed at the wrong folder must not pass by checking nothing.
    throw new WorkspaceError(
      `no YAML files to validate under ${options.targets.join(", ") || "."} (ignored: ${config.ignore.join(", ") || "none"})`,
      "pass the folder of your Flux apps or manifests, or check validate.ignore in .haos-tasks.yaml",
    );
  }
  progress("lint", "running", `${workspace.files.size} YAML files`);
  const findings: Finding[] = [];
  for (const source of workspace.files.values()) findings.push(...lintStyle(source, config));
  const done = (objects: number): ValidateResult => ({
    root,
    findings: finalizeFindings(findings, workspace, config),
    stats: { files: workspace.files.size, kustomizations: workspace.kustomizationDirs.length, objects },
  });
  if (options.only === "lint") return done(0);

  const kustomizations = workspace.kustomizationDirs.flatMap((dir) => {
    const source = kustomizationFileOf(workspace, dir);
    return source ? [readKustomization(source, dir)] : [];
  });
  findings.push(...kustomizationReferences(workspace, kustomizations, config));
  const roots = rootKustomizations(kustomizations);
  progress("build", "running", `kubectl kustomize ${roots.length} kustomizations`);
  const built = await buildFallingBackToIncluded(roots, kustomizations, (dirs) =>
    buildKustomizations(dirs, {
      root,
      ...(options.kubectl ? { kubectl: options.kubectl } : {}),
      onChunk: (n, total) => progress("build", "progress", `${n}/${total} build batches`),
    }),
  );
  findings.push(...built.failures.map((f) => buildFailureFinding(f, workspace, kustomizations)));

  const files = new SourceFiles(workspace);
  const subjects: Subject[] = await builtSubjects(built.resources, files);
  const dirs = ownersOf(workspace, kustomizations);
  for (const [file, source] of workspace.files) {
    const base = path.posix.basename(file);
    if (knownNonResources.includes(base) || isIgnored(file, config.nonResources)) continue;
    if (owningKustomization(file, dirs) !== undefined) continue;
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
  const elsewhere = workspace.targets.includes(".")
    ? []
    : await repositoryFluxObjects(root, config.ignore, new Set(workspace.files.keys()));
  findings.push(...fluxReferences(subjects, root, config, elsewhere), ...duplicateResources(subjects));

  const platforms = new PlatformLookup(root);
  const bySchemaSet = await groupByPlatform(subjects, platforms);
  if (options.loadCatalog) {
    for (const [platform, group] of bySchemaSet) {
      progress("schemas", "running", `kubeconform over ${group.length} objects`);
      let catalog: CatalogLike;
      try {
        catalog = await options.loadCatalog(platform);
      } catch (error) {
        // A catalog that cannot be built (a version the lock does not pin, a missing source) is a
        // finding at the declaration: every object of the group stays unchecked, visibly.
        const hint = (error as { hint?: unknown }).hint;
        findings.push(
          finding(
            "schema/error",
            { file: platform?.file ?? "tools/haos-tasks/schemas.lock.json", line: 1, column: 1 },
            `no schema catalog, ${group.length} objects not schema-checked: ${error instanceof Error ? error.message : String(error)}`,
            typeof hint === "string" ? hint : "run `haos-tasks schemas sync` to see why",
          ),
        );
        continue;
      }
      findings.push(
        ...(await schemaFindings(
          group.map(withoutSopsMetadata),
          catalog,
          config,
          options.kubeconform ?? toolPath("kubeconform"),
        )),
      );
    }
  }
  progress("rules", "running", "platform rules");
  const lock = options.lock ?? (await readSchemaLock().catch(() => undefined));
  const context = await ruleContext(subjects, platforms, lock, { ...environmentFetch(), ...options.fetch });
  findings.push(...platformRules(context), ...platforms.findings);
  progress("validate", "succeeded", `${subjects.length} objects`);
  return done(subjects.length);
}

/**
 * A SOPS-encrypted manifest carries its key metadata in a root `sops:` mapping, which Flux's
 * kustomize-controller removes when it decrypts: the schema check sees the object Flux applies.
 */
function withoutSopsMetadata(subject: Subject): Subject {
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
  for (const s of subjects) {
    const platform = await platforms.forFile(s.file);
    const list = groups.get(platform) ?? [];
    list.push(s);
    groups.set(platform, list);
  }
  return groups;
}

export type { ValidateConfig };
