import path from "node:path";
import type { ConfigSite } from "../config/site.ts";
import { pointerSegment } from "../manifests/yaml-source.ts";
import type { BumpLevel } from "./semver.ts";
import type { TransportChoice } from "./transports/catalog.ts";

/** One releasable unit: its files, its tags and which paths' commits belong to it (see scoping.ts). */
export interface ComponentConfig {
  name: string;
  /** Repo-relative directory; `.` is the repository itself. */
  path: string;
  /** More paths (or globs) whose commits count for this component although they lie outside `path`. */
  extraPaths: string[];
  /** Paths (or globs) under `path` whose commits never count for this component. */
  excludes: string[];
  /** The first version file: the current version is read from it (see versionFiles). */
  versionFile: string;
  /** Every file that carries the version, each written on release (version-files.ts). */
  versionFiles: VersionFileSpec[];
  changelog: string;
  /** Tag formats with `{version}`; the first is written, all are read. */
  tags: string[];
  /** A moving tag with `{major}` (e.g. `v{major}`) updated on every stable release. */
  majorTag?: string;
  releaseName: string;
  commitMessage: string;
  /** GitHub `make_latest` for this component's releases. */
  makeLatest: boolean;
  /** Forces the next version (release-please-config's per-package `release-as`). */
  releaseAs?: string;
  /**
   * The commit that released the current version before any tag existed (release-please's
   * `bootstrap-sha` / `last-release-sha`; here also `lastReleaseSha`): the plan tags it with the
   * version its version file holds there, and the next release counts the commits after it.
   */
  bootstrapSha?: string;
  /** Policy set for this component only; the rest comes from the release section (effectivePolicy). */
  policy: Partial<ComponentPolicy>;
}

/**
 * A file that carries the component's version, as release-please's release types and extra-files
 * write it: `text` (the whole file is the version), `json` (package.json `version`, with
 * package-lock.json's entries for the package when `lock` is set), `chart` (Chart.yaml `version`,
 * and `appVersion` when asked) and `generic` (lines marked `x-release-please-version`, or a
 * `x-release-please-start-version` … `x-release-please-end` block).
 */
export interface VersionFileSpec {
  path: string;
  type: "text" | "json" | "chart" | "generic";
  /** chart: also set appVersion. */
  appVersion?: boolean;
}

/** The policy keys a component may set for itself, each defaulting to the release section's value. */
export const componentPolicyKeys = [
  "bumpMinorPreMajor",
  "bumpPatchForMinorPreMajor",
  "types",
  "draft",
  "prerelease",
  "skipGithubRelease",
  "plugins",
  "releaseRules",
] as const;
export type ComponentPolicy = Pick<ReleasePolicy, (typeof componentPolicyKeys)[number]>;

/** release-please's plugins that change what a release contains or how its notes read. */
export const knownPlugins = ["sentence-case", "node-workspace"] as const;
export type PluginName = (typeof knownPlugins)[number];

/** How a commit type affects the version and where it appears in the changelog. */
export interface CommitTypeRule {
  type: string;
  section: string;
  hidden: boolean;
  bump: BumpLevel | "none";
}

export interface ReleasePolicy {
  /** release-please `bump-minor-pre-major`: below 1.0.0 a breaking change bumps minor. */
  bumpMinorPreMajor: boolean;
  /** release-please `bump-patch-for-minor-pre-major`: below 1.0.0 a feature bumps patch. */
  bumpPatchForMinorPreMajor: boolean;
  /** First version when a component has neither a tag nor a version file. */
  initialVersion: string;
  types: CommitTypeRule[];
  /** release-please `draft`: the GitHub release stays a draft. */
  draft: boolean;
  /** release-please `prerelease`: a 0.x release is marked prerelease on GitHub too. */
  prerelease: boolean;
  /** release-please `skip-github-release`: tag and push, no GitHub release. */
  skipGithubRelease: boolean;
  plugins: PluginName[];
  /**
   * semantic-release's commit-analyzer `releaseRules`: when set, they (then commit-analyzer's
   * default rules, for a commit none of them matches) decide each commit's bump instead of the
   * types' `bump`; the types still decide the sections.
   */
  releaseRules?: ReleaseRule[];
}

/**
 * A semantic-release commit-analyzer `releaseRules` entry: every given field must match the commit
 * (type, scope and subject as globs; `breaking`: has a breaking change; `revert`: is a revert), and
 * the highest `release` of the matching rules wins — `false` only when nothing higher matches.
 */
export interface ReleaseRule {
  type?: string;
  scope?: string;
  subject?: string;
  breaking?: boolean;
  revert?: boolean;
  release: "major" | "minor" | "patch" | false;
}

/** Where a policy value came from, for the plan. */
export type PolicySource = "component" | "release" | "default";

/** release-please's linked-versions plugin: components released together at the same version. */
export interface LinkedGroup {
  group: string;
  components: string[];
}

export interface ReleaseConfig {
  components: ComponentConfig[];
  /** Groups of components that release together at one version (the highest any of them needs). */
  linkedVersions: LinkedGroup[];
  policy: ReleasePolicy;
  /** The policy keys the release section sets (the rest are defaults). */
  policySet: Set<keyof ReleasePolicy>;
  remote: string;
  transport: TransportChoice;
  /** `owner/name`; default GITHUB_REPOSITORY, then the remote's URL. */
  repository?: string;
}

/**
 * release-please's default changelog sections: the conventional-changelog-conventionalcommits
 * preset's types, which release-please passes when `changelog-sections` is not configured. `deps`
 * is not among them, so release-please hides it (its DEFAULT_HEADINGS name the section only for a
 * configured `deps`); a range of only `deps:` commits releases nothing. Visible types bump patch,
 * features minor.
 */
export const defaultTypes: CommitTypeRule[] = [
  { type: "feat", section: "Features", hidden: false, bump: "minor" },
  { type: "feature", section: "Features", hidden: false, bump: "minor" },
  { type: "fix", section: "Bug Fixes", hidden: false, bump: "patch" },
  { type: "perf", section: "Performance Improvements", hidden: false, bump: "patch" },
  { type: "revert", section: "Reverts", hidden: false, bump: "patch" },
  { type: "deps", section: "Dependencies", hidden: true, bump: "none" },
  { type: "docs", section: "Documentation", hidden: true, bump: "none" },
  { type: "style", section: "Styles", hidden: true, bump: "none" },
  { type: "chore", section: "Miscellaneous Chores", hidden: true, bump: "none" },
  { type: "refactor", section: "Code Refactoring", hidden: true, bump: "none" },
  { type: "test", section: "Tests", hidden: true, bump: "none" },
  { type: "build", section: "Build System", hidden: true, bump: "none" },
  { type: "ci", section: "Continuous Integration", hidden: true, bump: "none" },
];

export const defaultPolicy: ReleasePolicy = {
  bumpMinorPreMajor: false,
  bumpPatchForMinorPreMajor: false,
  initialVersion: "0.1.0",
  types: defaultTypes,
  draft: false,
  prerelease: false,
  skipGithubRelease: false,
  plugins: [],
};

/** A component's policy: its own values over the release section's, each with where it came from. */
export function effectivePolicy(
  config: Pick<ReleaseConfig, "policy" | "policySet">,
  component: Pick<ComponentConfig, "policy">,
): { policy: ReleasePolicy; sources: Partial<Record<keyof ReleasePolicy, PolicySource>> } {
  const policy: ReleasePolicy = { ...config.policy };
  const sources: Partial<Record<keyof ReleasePolicy, PolicySource>> = {};
  for (const key of Object.keys(defaultPolicy) as (keyof ReleasePolicy)[])
    sources[key] = config.policySet.has(key) ? "release" : "default";
  for (const key of componentPolicyKeys) {
    const value = component.policy[key];
    if (value === undefined) continue;
    (policy as unknown as Record<string, unknown>)[key] = value;
    sources[key] = "component";
  }
  return { policy, sources };
}

/** Fills a component's defaults from its name and path. */
export function componentWithDefaults(
  partial: Partial<ComponentConfig> & { name: string; path: string },
): ComponentConfig {
  const root = partial.path === "." || partial.path === "";
  const dir = root ? "" : `${partial.path.replace(/\/+$/, "")}/`;
  const versionFile = partial.versionFiles?.[0]?.path ?? partial.versionFile ?? `${dir}version.txt`;
  return {
    extraPaths: [],
    excludes: [],
    versionFiles: [{ path: versionFile, type: "text" }],
    policy: {},
    changelog: `${dir}CHANGELOG.md`,
    tags: root ? ["v{version}"] : [`${partial.name}-v{version}`, `${partial.name}@{version}`],
    releaseName: root ? "v{version}" : `${partial.name} v{version}`,
    commitMessage: root ? "chore(release): {version}" : `chore(release): ${partial.name} {version}`,
    makeLatest: root,
    ...partial,
    versionFile,
    path: root ? "." : partial.path.replace(/\/+$/, ""),
  };
}

/** A policy key's value as the schema admits it (at the release section and per component). */
interface RawPolicy {
  bumpMinorPreMajor?: boolean;
  bumpPatchForMinorPreMajor?: boolean;
  types?: { type: string; section: string; hidden?: boolean; bump?: CommitTypeRule["bump"] }[];
  draft?: boolean;
  prerelease?: boolean;
  skipGithubRelease?: boolean;
  plugins?: PluginName[];
  releaseRules?: ReleaseRule[];
}

/** One component as the schema admits it. */
type RawComponent = RawPolicy & {
  path: string;
  extraPaths?: string[];
  excludes?: string[];
  versionFile?: string;
  versionFiles?: (string | { path: string; type?: VersionFileSpec["type"]; appVersion?: boolean })[];
  changelog?: string;
  changelogPath?: string;
  tags?: string[];
  majorTag?: string;
  releaseName?: string;
  commitMessage?: string;
  makeLatest?: boolean;
  releaseAs?: string;
  bootstrapSha?: string;
  lastReleaseSha?: string;
};

/** The `release:` section as the schema admits it. */
export type RawReleaseSection = RawPolicy & {
  components?: Record<string, RawComponent>;
  remote?: string;
  transport?: TransportChoice;
  repository?: string;
  linkedVersions?: LinkedGroup[];
  initialVersion?: string;
};

/** The policy keys of the release section itself (a component sets all of them but initialVersion). */
const policyKeys: readonly (keyof ReleasePolicy)[] = ["initialVersion", ...componentPolicyKeys];

/**
 * release's typed configuration from the schema-checked `release:` section: defaults, and the rules
 * the schema cannot say (one of versionFile/versionFiles, `{version}` in every tag, linked groups
 * of known components), each at its line.
 */
export function releaseConfigOf(section: RawReleaseSection | undefined, site: ConfigSite): ReleaseConfig {
  const raw = section ?? {};
  const config: ReleaseConfig = {
    components: [],
    linkedVersions: [],
    policy: { ...defaultPolicy },
    policySet: new Set(),
    remote: raw.remote ?? "origin",
    transport: raw.transport ?? "auto",
    ...(raw.repository !== undefined ? { repository: raw.repository } : {}),
  };
  for (const key of policyKeys) {
    if (raw[key] === undefined) continue;
    config.policySet.add(key);
    Object.assign(config.policy, policyOf(raw, key));
  }
  config.components = Object.entries(raw.components ?? {}).map(([name, body]) =>
    componentOf(name, body, site),
  );
  if (raw.linkedVersions) config.linkedVersions = linkedOf(raw.linkedVersions, config.components, site);
  // `release:` with settings but no components (or an empty mapping) means the default component,
  // the repository itself, as a missing section does.
  if (config.components.length === 0)
    config.components = [componentWithDefaults({ name: "repository", path: "." })];
  return config;
}

/** One policy key's value with its defaults filled in (commit types: lower case, visible, no bump). */
function policyOf(
  raw: RawPolicy & { initialVersion?: string },
  key: keyof ReleasePolicy,
): Partial<ReleasePolicy> {
  if (key === "types")
    return {
      types: (raw.types ?? []).map((t) => ({
        type: t.type.toLowerCase(),
        section: t.section,
        hidden: t.hidden ?? false,
        bump: t.bump ?? "none",
      })),
    };
  if (key === "releaseRules") return { releaseRules: (raw.releaseRules ?? []).map((r) => ({ ...r })) };
  if (key === "plugins") return { plugins: [...(raw.plugins ?? [])] };
  return { [key]: raw[key] };
}

function linkedOf(
  groups: readonly LinkedGroup[],
  components: readonly ComponentConfig[],
  site: ConfigSite,
): LinkedGroup[] {
  const seen = new Set<string>();
  return groups.map(({ group, components: names }, i) => {
    const at = `release.linkedVersions[${i}]`;
    const pointer = `/release/linkedVersions/${i}/components`;
    for (const name of names) {
      if (!components.some((c) => c.name === name))
        site.fail(
          pointer,
          `${at}.components: no component '${name}'`,
          `use one of: ${components.map((c) => c.name).join(", ")}`,
        );
      if (seen.has(name))
        site.fail(pointer, `${at}.components: '${name}' is in two groups`, "keep it in one group");
      seen.add(name);
    }
    if (names.length < 2)
      site.fail(pointer, `${at}.components must name at least two components`, "link two or more");
    return { group, components: [...names] };
  });
}

/** `versionFiles`: paths (type from the name) or `{path, type, appVersion}` mappings. */
function versionFilesOf(
  list: NonNullable<RawComponent["versionFiles"]>,
  at: string,
  pointer: string,
  site: ConfigSite,
): VersionFileSpec[] {
  return list.map((item, i) => {
    if (typeof item === "string") return { path: item, type: versionFileTypeOf(item) };
    const type = item.type ?? versionFileTypeOf(item.path);
    if (item.appVersion !== undefined && type !== "chart")
      site.fail(
        `${pointer}/${i}`,
        `${at}[${i}].appVersion is for a chart (Chart.yaml)`,
        "remove appVersion or set type: chart",
      );
    return {
      path: item.path,
      type,
      ...(item.appVersion !== undefined ? { appVersion: item.appVersion } : {}),
    };
  });
}

function componentOf(name: string, body: RawComponent, site: ConfigSite): ComponentConfig {
  const at = `release.components.${name}`;
  const pointer = `/release/components/${pointerSegment(name)}`;
  const partial: Partial<ComponentConfig> & { name: string; path: string } = {
    name,
    path: body.path,
    policy: {},
  };
  for (const key of Object.keys(body) as (keyof RawComponent)[]) {
    const keyAt = `${pointer}/${key}`;
    if (key === "extraPaths" || key === "excludes" || key === "tags") partial[key] = [...(body[key] ?? [])];
    if ((componentPolicyKeys as readonly string[]).includes(key))
      Object.assign(partial.policy ?? {}, policyOf(body, key as keyof ComponentPolicy));
    if (key === "versionFiles") {
      if (partial.versionFile)
        site.fail(keyAt, `${at}: give versionFile or versionFiles, not both`, "keep versionFiles");
      partial.versionFiles = versionFilesOf(body.versionFiles ?? [], `${at}.versionFiles`, keyAt, site);
      partial.versionFile = partial.versionFiles[0]?.path as string;
    }
    if (key === "changelogPath") partial.changelog = body.changelogPath as string;
    if (
      key === "versionFile" ||
      key === "changelog" ||
      key === "majorTag" ||
      key === "releaseName" ||
      key === "commitMessage" ||
      key === "releaseAs"
    ) {
      if (key === "versionFile" && partial.versionFiles)
        site.fail(keyAt, `${at}: give versionFile or versionFiles, not both`, "keep versionFiles");
      partial[key] = body[key] as string;
      if (key === "versionFile")
        partial.versionFiles = [
          // A single versionFile of another name is the whole-file text it always was.
          { path: body.versionFile as string, type: versionFileTypeOf(body.versionFile as string, "text") },
        ];
    }
    if (key === "bootstrapSha" || key === "lastReleaseSha") {
      if (partial.bootstrapSha)
        site.fail(keyAt, `${at}: give bootstrapSha or lastReleaseSha, not both`, "keep one");
      partial.bootstrapSha = (body[key] as string).toLowerCase();
    }
    if (key === "makeLatest") partial.makeLatest = body.makeLatest as boolean;
  }
  const component = componentWithDefaults(partial);
  for (const tag of component.tags) {
    if (!tag.includes("{version}"))
      site.fail(`${pointer}/tags`, `${at}.tags: '${tag}' has no {version}`, "write e.g. name-v{version}");
  }
  if (component.majorTag && !component.majorTag.includes("{major}"))
    site.fail(`${pointer}/majorTag`, `${at}.majorTag must contain {major}`, "write e.g. v{major}");
  return component;
}

/** The version file type a path implies: package.json → json, Chart.yaml → chart, *.txt or VERSION → text, else generic. */
export function versionFileTypeOf(
  file: string,
  otherwise: VersionFileSpec["type"] = "generic",
): VersionFileSpec["type"] {
  const base = path.posix.basename(file);
  if (base === "package.json") return "json";
  if (base === "Chart.yaml" || base === "Chart.yml") return "chart";
  if (/\.txt$/i.test(base) || /^VERSION$/i.test(base)) return "text";
  return otherwise;
}
