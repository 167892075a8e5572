import type { PhaseEvent } from "../phases.ts";
import { loadPlatform, type Platform } from "../platform/platform.ts";
import { ensureSchemaCatalog } from "../schemas/catalog.ts";
import { toolsRepoRoot } from "../tools/paths.ts";
import type { CatalogLike } from "./schema-stage.ts";

/**
 * The platform whose versions pick schemas for objects outside any app with a platform.yaml: the
 * declaration this haos-tasks checkout ships (its pinned versions are what the lock covers).
 */
export async function defaultPlatform(): Promise<Platform> {
  return await loadPlatform("apps/haos-enigma", toolsRepoRoot);
}

/**
 * `loadCatalog` for validate: the synced schema catalog of a platform (synced on demand), one per
 * platform per run.
 */
export function catalogLoader(options: {
  mirror?: string;
  env: NodeJS.ProcessEnv;
  onProgress?: (event: PhaseEvent) => void;
}): (platform: Platform | undefined, kubernetesVersion?: string) => Promise<CatalogLike> {
  // One per declaration object (two fixtures may both be apps/demo/platform.yaml) and version.
  const loaded = new Map<Platform | undefined, Map<string, Promise<CatalogLike>>>();
  return (platform, kubernetesVersion) => {
    const cacheKey = kubernetesVersion ?? "";
    const byVersion = loaded.get(platform) ?? new Map<string, Promise<CatalogLike>>();
    loaded.set(platform, byVersion);
    const cached = byVersion.get(cacheKey);
    if (cached) return cached;
    const result = (async () => {
      const declared = platform ?? (await defaultPlatform());
      // `--kubernetes-version` / `validate.kubernetesVersion` override the declared version.
      const chosen = kubernetesVersion
        ? { ...declared, versions: { ...declared.versions, kubernetes: kubernetesVersion } }
        : declared;
      return await ensureSchemaCatalog({
        platform: chosen,
        ...(options.mirror ? { mirror: options.mirror } : {}),
        env: options.env,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    })();
    byVersion.set(cacheKey, result);
    return result;
  };
}
