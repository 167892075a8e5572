import type { Finding } from "../findings.ts";
import type { Subject } from "../lint/platform/subject.ts";
import { apiGroup } from "../manifests/resources.ts";
import type { Platform } from "../platform/platform.ts";
import type { FetchOptions, SchemaLock } from "../schemas/sources.ts";
import type { CatalogLike } from "../validate/schema-stage.ts";
import { loadStockNames } from "../validate/stock.ts";
import type { PinnedChartDir } from "./pinned-charts.ts";
import {
  type ChartFetch,
  type ChartProgress,
  capabilityVersions,
  type HelmRenderer,
  type RenderEvent,
  type RenderStats,
  renderStage,
} from "./stage.ts";

/** What validate's render stage needs from the rest of the run. */
export interface ValidateRenderOptions {
  root: string;
  renderer: HelmRenderer;
  /** The platform declaration that applies to a file (nearest platform.yaml). */
  platformOf: (file: string) => Promise<Platform | undefined>;
  /** The declared platform for files outside any app with a platform.yaml. */
  defaultPlatform: () => Promise<Platform | undefined>;
  /** --kubernetes-version / validate.kubernetesVersion. */
  kubernetesVersion?: string;
  /** The schema catalog of a platform (its kinds become Helm's .Capabilities.APIVersions). */
  loadCatalog?: (platform: Platform | undefined, kubernetesVersion?: string) => Promise<CatalogLike>;
  /** --api-versions: more group/version[/Kind] entries for .Capabilities.APIVersions. */
  apiVersions?: readonly string[];
  /** A chart the lock pins, staged as a directory. */
  pinnedChart?: (name: string, version: string) => Promise<PinnedChartDir | undefined>;
  lock?: SchemaLock;
  fetch: FetchOptions;
  strict?: boolean;
  chartFetch?: ChartFetch;
  onRendered?: (event: RenderEvent) => void;
  onChartProgress?: (progress: ChartProgress) => void;
  /** Only these HelmReleases and apps are rendered (see RenderStageOptions.select). */
  select?: (owner: Subject) => boolean;
}

export interface ValidateRenderResult {
  subjects: Subject[];
  findings: Finding[];
  failures: { owner: Subject; message: string }[];
  stats: RenderStats;
}

/** Whether any subject is rendered by a chart (so the renderer is started only then). */
/**
 * Whether a repository's texts may hold what needsRender looks for: a cheap look at the files
 * before any build, so the renderer's start can overlap the builds (a false positive only starts
 * it for nothing). Substitution cannot produce the kind key itself.
 */
export function mayNeedRender(texts: Iterable<string>): boolean {
  for (const text of texts) if (renderedKinds.test(text)) return true;
  return false;
}

const renderedKinds = /\bkind:\s*["']?(?:HelmRelease|VMDisk|VMInstance)\b/;

export function needsRender(subjects: readonly Subject[]): boolean {
  return subjects.some(
    (s) =>
      (apiGroup(s.apiVersion) === "helm.toolkit.fluxcd.io" && s.kind === "HelmRelease") ||
      (apiGroup(s.apiVersion) === "apps.cozystack.io" && (s.kind === "VMDisk" || s.kind === "VMInstance")),
  );
}

/**
 * Renders the run's HelmReleases and CozyStack apps with the platform each file declares: its
 * Kubernetes version for `.Capabilities.KubeVersion`, the kinds its schema catalog knows (and the
 * CRDs of the repository) for `.Capabilities.APIVersions`, its CozyStack version for the app charts
 * and the stock instancetypes/preferences CozyStack ships for their `lookup`s.
 */
export async function renderForValidate(
  subjects: readonly Subject[],
  options: ValidateRenderOptions,
): Promise<ValidateRenderResult> {
  const platformByFile = new Map<string, Platform | undefined>();
  const fallback = await options.defaultPlatform().catch(() => undefined);
  for (const s of subjects) {
    if (!platformByFile.has(s.file)) platformByFile.set(s.file, await options.platformOf(s.file));
  }
  const platformOf = (s: Subject) => platformByFile.get(s.file) ?? fallback;
  const crdVersions = capabilityVersions([], subjects, options.apiVersions ?? []);
  const versionsByPlatform = new Map<Platform | undefined, Promise<readonly string[]>>();
  const apiVersions = (owner: Subject): Promise<readonly string[]> => {
    const platform = platformByFile.get(owner.file);
    let known = versionsByPlatform.get(platform);
    if (!known) {
      known = (async () => {
        const catalog = options.loadCatalog
          ? await options.loadCatalog(platform, options.kubernetesVersion).catch(() => undefined)
          : undefined;
        return capabilityVersions(catalog ? catalog.kinds.keys() : [], [], crdVersions);
      })();
      versionsByPlatform.set(platform, known);
    }
    return known;
  };
  const stock = new Map<string, Promise<Record<string, unknown>[]>>();
  const stockFor = (version: string) => {
    let objects = stock.get(version);
    if (!objects) {
      objects = (async () => {
        const names = options.lock ? await loadStockNames(options.lock, version, options.fetch) : undefined;
        if (!names) return [];
        const object = (kind: string, name: string) => ({
          apiVersion: "instancetype.kubevirt.io/v1beta1",
          kind,
          metadata: { name },
        });
        return [
          ...[...names.instancetypes].map((n) => object("VirtualMachineClusterInstancetype", n)),
          ...[...names.preferences].map((n) => object("VirtualMachineClusterPreference", n)),
        ];
      })();
      stock.set(version, objects);
    }
    return objects;
  };
  const cozystack = new Map<Subject, Record<string, unknown>[]>();
  for (const s of subjects) {
    const version = platformByFile.get(s.file)?.versions.cozystack;
    if (apiGroup(s.apiVersion) === "apps.cozystack.io" && version) cozystack.set(s, await stockFor(version));
  }
  return await renderStage(subjects, {
    renderer: options.renderer,
    root: options.root,
    kubernetesVersion: (owner) =>
      options.kubernetesVersion ??
      platformOf(owner)?.versions.kubernetes ??
      fallback?.versions.kubernetes ??
      "1.34",
    apiVersions,
    ...(options.pinnedChart ? { pinnedChart: options.pinnedChart } : {}),
    // Only apps under a platform.yaml are CozyStack's: elsewhere the kinds are unknown.
    cozystackVersion: (owner) => platformByFile.get(owner.file)?.versions.cozystack,
    stockObjects: (owner) => cozystack.get(owner) ?? [],
    ...(options.strict ? { strict: true } : {}),
    ...(options.chartFetch ? { chartFetch: options.chartFetch } : {}),
    ...(options.onRendered ? { onRendered: options.onRendered } : {}),
    ...(options.onChartProgress ? { onChartProgress: options.onChartProgress } : {}),
    ...(options.select ? { select: options.select } : {}),
  });
}
