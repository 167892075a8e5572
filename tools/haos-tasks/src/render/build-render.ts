import path from "node:path";
import { loadConfig } from "../config/load.ts";
import type { Subject } from "../lint/platform/subject.ts";
import type { BuiltResource } from "../manifests/kustomize-build.ts";
import type { Workspace } from "../manifests/workspace.ts";
import { cacheDirs } from "../schemas/catalog.ts";
import { readSchemaLock, resolveMirror } from "../schemas/sources.ts";
import { type BuildStage, type BuildStageOptions, buildStage } from "../validate/build-stage.ts";
import { defaultPlatform } from "../validate/catalog-loader.ts";
import { PlatformLookup } from "../validate/platforms.ts";
import {
  defaultChartCacheDir,
  lockedSchemaFiles,
  pinnedChartDirs,
  startDefaultRenderer,
} from "./defaults.ts";
import { type ChartProgress, releaseRenderInputs } from "./stage.ts";
import { needsRender, renderForValidate } from "./validate-render.ts";

/**
 * One commit as Flux deploys it, for diff: validate's build stage, then every HelmRelease and
 * CozyStack app rendered by the same engine as validate's (flux-render, pinned charts, the chart
 * cache). Each release is an owner of its own (`HelmRelease/<ns>/<name>`, `VMInstance/<ns>/<name>`)
 * whose parent is the owner that applies it; a release that does not render is a failure of that
 * owner, never its objects removed.
 *
 * Renders go through flux-render's render cache (under the chart cache; diff's --no-render-cache
 * turns it off): a release whose inputs are the same at both commits is
 * rendered once — the second commit's render of it is answered from the first's — and a release no
 * commit of a later run changed is not rendered again at all.
 */
export async function buildAndRender(workspace: Workspace, options: BuildStageOptions): Promise<BuildStage> {
  const stage = await buildStage(workspace, options);
  await renderBuilt(workspace, stage, options);
  return stage;
}

/**
 * buildAndRender's second half, on a stage already built: renders its HelmReleases and CozyStack
 * apps (those `select` accepts) into it.
 */
export async function renderBuilt(
  workspace: Workspace,
  stage: BuildStage,
  options: {
    env: NodeJS.ProcessEnv;
    select?: (owner: Subject) => boolean;
    renderCache?: boolean;
    onChartProgress?: (progress: ChartProgress) => void;
  },
): Promise<void> {
  const subjects: Subject[] = stage.objects.map(({ resource }) => subjectOf(resource));
  if (!needsRender(subjects)) return;
  const ownerOfSubject = new Map<Subject, string>(
    subjects.map((s, i) => [s, stage.objects[i]?.owner ?? "."]),
  );
  const env = options.env;
  const mirror = resolveMirror(undefined, env);
  const fetch = { ...(mirror ? { mirror } : {}), cacheDir: cacheDirs(env).sourceCacheDir };
  const lock = await readSchemaLock().catch(() => undefined);
  const platforms = new PlatformLookup(workspace.root);
  // The commit's own charts.mirrors and charts.apiVersions, as validate renders it.
  const charts = await loadConfig(workspace.root).then(
    (c) => c.validate.charts,
    () => undefined,
  );
  const renderer = await startDefaultRenderer({ env });
  try {
    const rendered = await renderForValidate(subjects, {
      root: workspace.root,
      renderer,
      platformOf: (file) => platforms.forFile(file),
      defaultPlatform: () => defaultPlatform(),
      ...(lock
        ? { lock, pinnedChart: pinnedChartDirs(lock, fetch, path.join(defaultChartCacheDir(env), "pinned")) }
        : {}),
      fetch,
      ...(options.select ? { select: options.select } : {}),
      ...(options.onChartProgress ? { onChartProgress: options.onChartProgress } : {}),
      ...(charts && charts.apiVersions.length > 0 ? { apiVersions: charts.apiVersions } : {}),
      chartFetch: {
        ...(charts && charts.mirrors.length > 0 ? { mirrors: charts.mirrors } : {}),
        cacheDir: defaultChartCacheDir(env),
        ...(options.renderCache === false ? { renderCache: false } : {}),
        ...(lock ? { schemaFiles: await lockedSchemaFiles(lock, fetch).catch(() => ({})) } : {}),
      },
    });
    const idOf = (owner: Subject) => `${owner.kind}/${owner.namespace}/${owner.name}`;
    const declare = (owner: Subject) => {
      const id = idOf(owner);
      if (stage.owners.has(id)) return id;
      const parent = ownerOfSubject.get(owner) ?? ".";
      stage.owners.set(id, {
        id,
        kind: "HelmRelease",
        name: owner.name,
        namespace: owner.namespace,
        path: stage.owners.get(parent)?.path ?? owner.build ?? ".",
        parent,
        file: owner.file,
      });
      return id;
    };
    for (const s of rendered.subjects) {
      const owner = s.renderedBy?.owner;
      if (!owner) continue;
      stage.objects.push({
        owner: declare(owner),
        resource: {
          apiVersion: s.apiVersion,
          kind: s.kind,
          name: s.name,
          namespace: s.namespace,
          object: s.object,
          build: owner.build ?? path.posix.dirname(owner.file),
          origin: undefined,
          configuredIn: undefined,
        },
      });
    }
    for (const f of rendered.failures)
      stage.failures.push({ owner: declare(f.owner), dir: f.owner.build ?? ".", message: f.message });
  } finally {
    await renderer.close();
  }
}

/** releaseRenderInputs of a built stage (see stage.ts). */
export function builtRenderInputs(
  root: string,
  stage: BuildStage,
): Map<string, { fingerprint: string; chartDir?: string }> {
  return releaseRenderInputs(
    stage.objects.map(({ resource }) => subjectOf(resource)),
    root,
  );
}

function subjectOf(resource: BuiltResource): Subject {
  return {
    apiVersion: resource.apiVersion,
    kind: resource.kind,
    name: resource.name,
    namespace: resource.namespace,
    object: resource.object,
    resource: undefined,
    file: resource.origin ?? `${resource.build}/kustomization.yaml`,
    build: resource.build,
  };
}
