import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { hasParseErrors, parseSourceFile, pointerPosition } from "../manifests/yaml-source.ts";
import { ConfigError, configFileName } from "../validate/config.ts";

/** The `diff:` section of .haos-tasks.yaml, with defaults filled in. */
export interface DiffConfig {
  /**
   * Label and annotation keys (globs, `/` separates like a path) left out of rendered objects
   * before they are compared: what a chart bump changes on every object without changing anything
   * the cluster runs. `[]` shows everything.
   */
  noise: string[];
}

/** Chart-bump noise: the chart's own version label, pod-template checksums, the app version label. */
export const defaultNoise = ["helm.sh/chart", "checksum/*", "app.kubernetes.io/version"];

export const defaultDiffConfig: DiffConfig = { noise: defaultNoise };

const knownKeys = ["noise"];

/** Parses the `diff:` section; errors name the file, line and the key to fix. */
export function parseDiffConfig(text: string, file: string): DiffConfig {
  const source = parseSourceFile(text, file);
  const doc = source.documents[0];
  const fail = (pointer: string, message: string, hint: string): never => {
    const at = doc ? pointerPosition(source, doc, pointer) : { line: 1 };
    throw new ConfigError(`${file}:${at.line}: ${message}`, hint);
  };
  if (doc && hasParseErrors(doc)) fail("", "invalid YAML", `fix the YAML syntax of ${file}`);
  const section = (doc?.value as Record<string, unknown> | null | undefined)?.diff ?? {};
  if (typeof section !== "object" || section === null || Array.isArray(section)) {
    return fail("/diff", "`diff:` must be a mapping", "write e.g. `diff: {noise: [helm.sh/chart]}`");
  }
  const raw = section as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!knownKeys.includes(key))
      fail(`/diff/${key}`, `unknown key diff.${key}`, `known keys: ${knownKeys.join(", ")}`);
  }
  const noise = raw.noise ?? defaultNoise;
  if (!Array.isArray(noise) || noise.some((v) => typeof v !== "string" || v === "")) {
    fail(
      "/diff/noise",
      "diff.noise must be a list of label/annotation keys (globs)",
      "write one key per item, e.g. - checksum/*; [] shows every label and annotation",
    );
  }
  return { noise: noise as string[] };
}

/** Reads the `diff:` section of `<root>/.haos-tasks.yaml`; no file means the defaults. */
export async function loadDiffConfig(root: string): Promise<DiffConfig> {
  const absolute = path.join(root, configFileName);
  if (!existsSync(absolute)) return defaultDiffConfig;
  return parseDiffConfig(await readFile(absolute, "utf8"), configFileName);
}
