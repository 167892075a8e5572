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

/** The `diff:` section as the schema admits it. */
export interface RawDiffSection {
  noise?: string[];
}

/** diff's typed configuration from the schema-checked `diff:` section. */
export function diffConfigOf(section: RawDiffSection | undefined): DiffConfig {
  return { noise: section?.noise ?? defaultNoise };
}
