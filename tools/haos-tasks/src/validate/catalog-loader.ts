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
  env?: NodeJS.ProcessEnv;
  onProgress?: (event: PhaseEvent) => void;
}): (platform: Platform | undefined) => Promise<CatalogLike> {
  const loaded = new Map<Platform | undefined, Promise<CatalogLike>>();
  return (platform) => {
    const cached = loaded.get(platform);
    if (cached) return cached;
    const result = (async () =>
      await ensureSchemaCatalog({
        platform: platform ?? (await defaultPlatform()),
        ...(options.mirror ? { mirror: options.mirror } : {}),
        ...(options.env ? { env: options.env } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      }))();
    loaded.set(platform, result);
    return result;
  };
}
