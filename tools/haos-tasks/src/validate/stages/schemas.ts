import path from "node:path";
import { configFileName } from "../../config/site.ts";
import { HintedError } from "../../errors.ts";
import type { Finding } from "../../findings.ts";
import type { Subject } from "../../lint/platform/subject.ts";
import { finding } from "../../lint/rules.ts";
import { apiGroup, resourcesOf } from "../../manifests/resources.ts";
import { isIgnored, type Workspace } from "../../manifests/workspace.ts";
import type { Platform } from "../../platform/platform.ts";
import { cacheDirs } from "../../schemas/catalog.ts";
import { LocationReader } from "../../schemas/locations.ts";
import { toolPath } from "../../tools/paths.ts";
import { type BuildStage, defaultBuildCacheDir } from "../build-stage.ts";
import { defaultPlatform } from "../catalog-loader.ts";
import { crdScopes } from "../clusters.ts";
import type { ValidateContext } from "../context.ts";
import type { PlatformLookup } from "../platforms.ts";
import type { UnmatchedLocation } from "../schema-sources.ts";
import { type CatalogLike, schemaFindings, unmatchedLocationFinding } from "../schema-stage.ts";

/**
 * The schema check of the objects in scope: per platform (its versions pick the catalog), per
 * set of clusters that see the same repository CRDs, the real kubeconform (validate/schema-stage.ts).
 * `onKubeconformStart` is called when the first kubeconform has started (schedule.ts overlaps
 * the other stages with it).
 */
export async function schemaStep(
  ctx: ValidateContext,
  checked: readonly Subject[],
  stage: Pick<BuildStage, "built" | "clusters">,
  onKubeconformStart: () => void,
): Promise<Finding[]> {
  const { options, config, root, workspace } = ctx;
  const bySchemaSet = await groupByPlatform(checked, ctx.platforms);
  // The clusters that apply a repository file (its builds', else its folder's).
  const fileClusters = new Map<string, Set<string>>();
  for (const b of stage.built.resources) {
    if (b.origin === undefined) continue;
    const set = fileClusters.get(b.origin) ?? new Set<string>();
    for (const c of stage.clusters.of(b.build)) set.add(c);
    fileClusters.set(b.origin, set);
  }
  const clustersOfFile = (file: string): ReadonlySet<string> =>
    fileClusters.get(file) ?? stage.clusters.of(path.posix.dirname(file));
  const schema: Finding[] = [];
  // A location is said to resolve nothing only when no schema group's kinds found anything there.
  const answered = new Set<string>();
  const unmatched = new Map<string, UnmatchedLocation>();
  if (options.loadCatalog) {
    for (const [platform, group] of bySchemaSet) {
      ctx.progress("schemas", "running", `kubeconform over ${group.length} objects`);
      let catalog: CatalogLike;
      const kubernetesVersion = options.kubernetesVersion ?? config.kubernetesVersion;
      try {
        catalog = await options.loadCatalog(platform, kubernetesVersion);
      } catch (error) {
        // A catalog that cannot be built (a version the lock does not pin, a missing source) is a
        // finding at the declaration: every object of the group stays unchecked, visibly.
        schema.push(
          finding(
            "schema/error",
            { file: platform?.file ?? configFileName, line: 1, column: 1 },
            `no schema catalog, ${group.length} objects not schema-checked: ${error instanceof Error ? error.message : String(error)}`,
            (error instanceof HintedError && error.hint) || "run `haos-tasks schemas sync` to see why",
          ),
        );
        continue;
      }
      const declared = platform ?? (await defaultPlatform().catch(() => undefined));
      // A repository CRD wins in the clusters that apply it: objects of another cluster are
      // checked in a run of their own, without it (one run when every cluster sees the same).
      const crdFiles = [
        ...new Set([
          ...(await globFiles(root, config.schemas.crds, config.ignore)),
          ...repositoryCrdFiles(workspace),
        ]),
      ];
      for (const part of crdScopes(group, crdFiles, (file) => clustersOfFile(path.relative(root, file)))) {
        schema.push(
          ...(await schemaFindings(part.subjects.map(withoutSopsMetadata), catalog, config, {
            kubeconform: options.kubeconform ?? toolPath("kubeconform", options.env),
            ...(options.buildCache === false
              ? {}
              : { kubeconformCache: path.join(defaultBuildCacheDir(options.env), "kubeconform") }),
            strict: options.strict ?? false,
            positions: config.positions,
            onKubeconformStart,
            onLocations: (yes, no) => {
              for (const l of yes) answered.add(l);
              for (const miss of no) {
                const known = unmatched.get(miss.location);
                unmatched.set(
                  miss.location,
                  known ? { ...known, asked: [...known.asked, ...miss.asked] } : miss,
                );
              }
            },
            sources: {
              root,
              crdFiles: part.crdFiles,
              locations: [...(options.schemaLocations ?? []), ...config.schemas.locations],
              ...((options.catalog ?? config.schemas.catalog)
                ? { clusterCatalog: path.resolve(root, options.catalog ?? config.schemas.catalog ?? "") }
                : {}),
              kubernetesVersion: kubernetesVersion ?? declared?.versions.kubernetes ?? "master",
              strict: options.strict ?? false,
              reader: new LocationReader({
                cacheDir: path.join(path.dirname(cacheDirs(options.env).catalogRoot), "locations"),
                ...(options.fetchLocation ? { fetch: options.fetchLocation } : {}),
              }),
            },
          })),
        );
      }
    }
  }
  for (const [location, miss] of unmatched)
    if (!answered.has(location)) schema.push(unmatchedLocationFinding(miss, root));
  return schema;
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

/**
 * CRD files anywhere in the repository (besides schemas.crds): the definitions its clusters run
 * win over the catalog's for the same group, kind and version. Absolute paths.
 */
function repositoryCrdFiles(workspace: Workspace): string[] {
  const out: string[] = [];
  for (const [file, source] of workspace.files) {
    if (!source.text.includes("CustomResourceDefinition")) continue;
    if (
      resourcesOf(source).some(
        (r) => r.kind === "CustomResourceDefinition" && apiGroup(r.apiVersion) === "apiextensions.k8s.io",
      )
    )
      out.push(path.join(workspace.root, file));
  }
  return out;
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
