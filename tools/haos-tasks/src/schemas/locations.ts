import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../atomic-file.ts";

/**
 * kubeconform-compatible schema locations (`-schema-location`): a template filled in per kind, a
 * URL or a directory. Same variables, same `default`, same rule that a location not ending in
 * `json` gets kubeconform's kubernetes-json-schema layout appended — so the value a user already
 * passes to kubeconform works here unchanged.
 */
export const defaultLocation =
  "https://raw.githubusercontent.com/yannh/kubernetes-json-schema/master/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json";

const standaloneSuffix =
  "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json";

/** The template kubeconform would use for a `-schema-location` value. */
export function normaliseLocation(location: string): string {
  if (location === "default") return defaultLocation;
  if (location.endsWith("json")) return location;
  return `${location.replace(/\/+$/, "")}/${standaloneSuffix}`;
}

export const isUrl = (location: string): boolean => /^https?:\/\//i.test(location);

export interface TemplateInput {
  apiVersion: string;
  kind: string;
  /** e.g. `1.34` or `1.34.0`; `master` stays as is. */
  kubernetesVersion: string;
  strict: boolean;
}

/** Fills in kubeconform's template variables exactly as kubeconform's registry does. */
export function expandLocation(template: string, input: TemplateInput): string {
  const groupParts = input.apiVersion.split("/");
  const group = groupParts[0] ?? "";
  const kindSuffix = `-${(group.split(".")[0] ?? "").toLowerCase()}${groupParts.length > 1 ? `-${(groupParts[1] ?? "").toLowerCase()}` : ""}`;
  const version =
    input.kubernetesVersion === "master"
      ? "master"
      : `v${/^\d+\.\d+$/.test(input.kubernetesVersion) ? `${input.kubernetesVersion}.0` : input.kubernetesVersion}`;
  const values: Record<string, string> = {
    NormalizedKubernetesVersion: version,
    StrictSuffix: input.strict ? "-strict" : "",
    ResourceKind: input.kind.toLowerCase(),
    ResourceAPIVersion: groupParts[groupParts.length - 1] ?? "",
    Group: group,
    KindSuffix: kindSuffix,
  };
  return template.replace(/\{\{-?\s*\.(\w+)\s*-?\}\}/g, (whole, name: string) => values[name] ?? whole);
}

export interface LocationLookup {
  /** The schema text, or undefined when this location has none for the kind. */
  text?: string;
  /** Where it was read (file path or URL). */
  from: string;
  /** Set when the location could not be read at all (network down, permission); reported once. */
  failure?: string;
}

/**
 * Reads schemas from kubeconform-style locations: a directory is read directly; a URL is
 * downloaded once and cached by URL under `cacheDir` (a 404 is cached as "none" for the run).
 */
export class LocationReader {
  private readonly cacheDir: string;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly misses = new Set<string>();
  private readonly unreachable = new Map<string, string>();

  constructor(options: { cacheDir: string; fetch?: typeof globalThis.fetch }) {
    this.cacheDir = options.cacheDir;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  async read(template: string, input: TemplateInput, base: string): Promise<LocationLookup> {
    const filled = expandLocation(normaliseLocation(template), input);
    if (!isUrl(filled)) {
      const file = path.resolve(base, filled);
      if (existsSync(file)) return { text: await readFile(file, "utf8"), from: file };
      // The folder the template starts with (before its first {{ }}) missing is a wrong location,
      // not "no schema for this kind": reported once, as an unreadable URL is.
      const fixed = normaliseLocation(template).split("{{")[0] ?? "";
      const folder = path.resolve(base, fixed.endsWith("/") ? fixed : path.dirname(fixed));
      if (!existsSync(folder)) return { from: file, failure: `the folder ${folder} does not exist` };
      return { from: file };
    }
    if (this.misses.has(filled)) return { from: filled };
    const host = new URL(filled).host;
    const down = this.unreachable.get(host);
    if (down) return { from: filled, failure: down };
    const cached = path.join(this.cacheDir, createHash("sha256").update(filled).digest("hex"));
    if (existsSync(cached)) return { text: await readFile(cached, "utf8"), from: filled };
    let response: Response;
    try {
      response = await this.fetchImpl(filled, { signal: AbortSignal.timeout(15_000) });
    } catch (error) {
      // One failure per host: a machine without network must not wait once per kind.
      const reason =
        error instanceof Error ? (error.cause as Error | undefined)?.message || error.message : String(error);
      this.unreachable.set(host, reason);
      return { from: filled, failure: reason };
    }
    if (response.status === 404) {
      this.misses.add(filled);
      return { from: filled };
    }
    if (!response.ok) {
      const reason = `HTTP ${response.status}`;
      this.unreachable.set(host, reason);
      return { from: filled, failure: reason };
    }
    const text = await response.text();
    await writeFileAtomic(cached, text);
    return { text, from: filled };
  }
}
