import path from "node:path";
import type { Subject } from "../../lint/platform/subject.ts";
import { at } from "../../lint/platform/subject.ts";
import { finding } from "../../lint/rules.ts";
import {
  defaultChartCacheDir,
  lockedSchemaFiles,
  pinnedChartDirs,
  startDefaultRenderer,
} from "../../render/defaults.ts";
import { mayNeedRender, needsRender, renderForValidate } from "../../render/validate-render.ts";
import type { FetchOptions, SchemaLock } from "../../schemas/sources.ts";
import { defaultPlatform } from "../catalog-loader.ts";
import type { ClosableRenderer, ValidateContext } from "../context.ts";
import { startedEarly } from "../schedule.ts";

/** The schema lock and where its files are read (the mirror, the source cache). */
export interface LockedFiles {
  lock: SchemaLock | undefined;
  fetch: FetchOptions;
}

/** The run's renderer: the one options give, else the flux-render helpers. */
function startRendererFor(ctx: ValidateContext): Promise<ClosableRenderer> {
  const { options } = ctx;
  if (options.renderer) return options.renderer();
  return startDefaultRenderer({
    env: options.env,
    ...(options.fluxRender ? { binary: options.fluxRender } : {}),
  });
}

/**
 * The renderer started before the builds when the repository's files may hold something to
 * render, so that the helpers' start overlaps the builds; undefined otherwise (or when rendering is
 * off). Its failure is reported where renderStep awaits it.
 */
export function startRendererEarly(ctx: ValidateContext): Promise<ClosableRenderer> | undefined {
  if (ctx.options.renderer === false || ctx.options.only === "lint") return undefined;
  if (!mayNeedRender([...ctx.workspace.files.values()].map((f) => f.text))) return undefined;
  return startedEarly(startRendererFor(ctx));
}

/**
 * HelmReleases and CozyStack apps rendered as helm-controller would (render/validate-render.ts):
 * their objects join the subjects, their failures are findings. Without a renderer
 * (options.renderer false) they are one helm/chart-unavailable finding.
 */
export async function renderStep(
  ctx: ValidateContext,
  subjects: Subject[],
  locked: LockedFiles,
  /** A renderer started earlier (startRendererEarly); renderStep closes it. */
  early?: Promise<ClosableRenderer>,
): Promise<void> {
  const { options, config, root } = ctx;
  if (!needsRender(subjects)) {
    await (await early?.catch(() => undefined))?.close();
    return;
  }
  if (options.renderer === false) {
    const unrendered = subjects.filter((s) => needsRender([s]));
    const first = unrendered[0];
    if (first)
      ctx.findings.push(
        finding(
          "helm/chart-unavailable",
          at(first, "/kind"),
          `${unrendered.length} HelmReleases and CozyStack apps not rendered: flux-render is not installed, so what their charts render is not checked`,
          "add actions/setup-go before this Action (it then builds flux-render), or run `npm run bootstrap -- validate`",
        ),
      );
    return;
  }
  ctx.progress("render", "running", "HelmReleases and CozyStack apps");
  const renderer = await (early ?? startRendererFor(ctx));
  const { lock, fetch } = locked;
  const chartCache = defaultChartCacheDir(options.env);
  try {
    const kubernetesVersion = options.kubernetesVersion ?? config.kubernetesVersion;
    const rendered = await renderForValidate(subjects, {
      root,
      renderer,
      platformOf: (file) => ctx.platforms.forFile(file),
      defaultPlatform: () => defaultPlatform(),
      ...(kubernetesVersion ? { kubernetesVersion } : {}),
      ...(options.loadCatalog ? { loadCatalog: options.loadCatalog } : {}),
      apiVersions: [...(options.apiVersions ?? []), ...config.charts.apiVersions],
      ...(lock ? { lock, pinnedChart: pinnedChartDirs(lock, fetch, path.join(chartCache, "pinned")) } : {}),
      fetch,
      strict: options.strict ?? false,
      chartFetch: {
        mirrors: [...(options.charts?.mirrors ?? []), ...config.charts.mirrors],
        cacheDir:
          options.charts?.cacheDir ??
          (config.charts.cache ? path.resolve(root, config.charts.cache) : chartCache),
        ...(options.charts?.offline ? { offline: true } : {}),
        ...(options.charts?.renderCache === false ? { renderCache: false } : {}),
        ...(lock ? { schemaFiles: await lockedSchemaFiles(lock, fetch).catch(() => ({})) } : {}),
      },
      onRendered: (e) =>
        ctx.progress(
          "render",
          "progress",
          `${e.owner}: ${e.chart} ${e.ok ? "rendered" : "failed"}${e.renderCached ? " (render cache)" : e.cached === undefined ? "" : e.cached ? " (cached)" : ` (fetched in ${e.fetchMs ?? 0} ms)`}${e.renderMs === undefined ? "" : `, ${e.renderMs} ms`}`,
        ),
      // `data.charts` is the structured progress a terminal's progress line is drawn from.
      onChartProgress: (charts) =>
        ctx.progress(
          "render",
          "progress",
          `charts ${charts.done}/${charts.total}${charts.current ? `: ${charts.current}` : ""}`,
          { charts },
        ),
    });
    subjects.push(...rendered.subjects);
    ctx.findings.push(...rendered.findings);
    ctx.stats.render = rendered.stats;
    ctx.progress(
      "render",
      "succeeded",
      `${rendered.stats.rendered}/${rendered.stats.releases} releases rendered, ${rendered.stats.objects} objects; chart cache ${rendered.stats.cacheHits}/${rendered.stats.chartLoads}, render cache ${rendered.stats.renderCacheHits}/${rendered.stats.chartLoads}`,
    );
  } finally {
    await renderer.close();
  }
}
