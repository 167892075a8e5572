import { objectNamesInTemplate } from "../lint/platform/stock.ts";
import type { StockNames } from "../lint/platform/subject.ts";
import { type FetchOptions, fetchSource, type SchemaLock } from "../schemas/sources.ts";

const chartPath = "packages/system/kubevirt-instancetypes/templates";

function locked(lock: SchemaLock, suffix: string) {
  return lock.sources.find((s) => s.url.endsWith(suffix));
}

/**
 * The instancetype and preference names the declared CozyStack version ships, read from the
 * locked kubevirt-instancetypes chart templates; undefined when the lock does not pin them.
 */
export async function loadStockNames(
  lock: SchemaLock,
  cozystackVersion: string,
  fetch: FetchOptions,
): Promise<StockNames | undefined> {
  const types = locked(lock, `/${cozystackVersion}/${chartPath}/instancetypes.yaml`);
  const prefs = locked(lock, `/${cozystackVersion}/${chartPath}/preferences.yaml`);
  if (!types || !prefs) return undefined;
  const [typesText, prefsText] = await Promise.all([fetchSource(types, fetch), fetchSource(prefs, fetch)]);
  return {
    version: cozystackVersion,
    instancetypes: new Set(
      objectNamesInTemplate(typesText.toString("utf8"), "VirtualMachineClusterInstancetype"),
    ),
    preferences: new Set(
      objectNamesInTemplate(prefsText.toString("utf8"), "VirtualMachineClusterPreference"),
    ),
  };
}

/** The `instanceProfile` enum of a CozyStack 0.x VMInstance, from its locked values schema. */
export async function loadV0InstanceProfiles(
  lock: SchemaLock,
  cozystackVersion: string,
  fetch: FetchOptions,
): Promise<string[] | undefined> {
  const source = locked(lock, `/${cozystackVersion}/packages/apps/vm-instance/values.schema.json`);
  if (!source) return undefined;
  const schema = JSON.parse((await fetchSource(source, fetch)).toString("utf8")) as {
    properties?: { instanceProfile?: { enum?: unknown } };
  };
  const values = schema.properties?.instanceProfile?.enum;
  return Array.isArray(values) ? values.map(String) : undefined;
}
