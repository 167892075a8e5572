import { readFile } from "node:fs/promises";
import path from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { ReleaseError } from "./errors.ts";
import type { BumpLevel } from "./semver.ts";
import { isTransportChoice, oneOf, type TransportChoice, transportChoices } from "./transports/catalog.ts";

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
export const knownPlugins = ["sentence-case"] as const;
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

class ConfigReader {
  readonly file: string;
  readonly lines: LineCounter;
  constructor(file: string, lines: LineCounter) {
    this.file = file;
    this.lines = lines;
  }
  fail(node: Node | undefined, message: string, hint: string): never {
    const offset = node?.range?.[0];
    const line = offset === undefined ? "" : `:${this.lines.linePos(offset).line}`;
    throw new ReleaseError(`${this.file}${line}: ${message}`, hint, "usage");
  }
  string(node: Node | undefined, where: string): string {
    if (isScalar(node) && typeof node.value === "string" && node.value !== "") return node.value;
    return this.fail(node, `${where} must be a non-empty string`, `write ${where}: "<text>"`);
  }
  boolean(node: Node | undefined, where: string): boolean {
    if (isScalar(node) && typeof node.value === "boolean") return node.value;
    return this.fail(node, `${where} must be true or false`, `write ${where}: true (or false)`);
  }
  oneOf<T extends string>(node: Node | undefined, where: string, values: readonly T[]): T {
    const value = this.string(node, where);
    if (!(values as readonly string[]).includes(value))
      this.fail(
        node,
        `${where} must be one of ${values.join(", ")} (got '${value}')`,
        `write ${where}: ${values[0]}`,
      );
    return value as T;
  }
  strings(node: Node | undefined, where: string): string[] {
    if (!isSeq(node))
      return this.fail(node, `${where} must be a list of strings`, `write ${where}: ["path/"]`);
    return node.items.map((item, i) => this.string(item as Node, `${where}[${i}]`));
  }
}

const componentKeys = new Set([
  "path",
  "extraPaths",
  "excludes",
  "versionFile",
  "changelog",
  "tags",
  "majorTag",
  "releaseName",
  "commitMessage",
  "makeLatest",
  "releaseAs",
  "bootstrapSha",
  "lastReleaseSha",
  "changelogPath",
  "versionFiles",
  ...componentPolicyKeys,
]);
const policyKeys = new Set([
  "bumpMinorPreMajor",
  "bumpPatchForMinorPreMajor",
  "initialVersion",
  "types",
  "draft",
  "prerelease",
  "skipGithubRelease",
  "plugins",
  "releaseRules",
]);
const topKeys = new Set(["components", "remote", "transport", "repository", "linkedVersions", ...policyKeys]);

/** Parses the `release:` section of .haos-tasks.yaml text; errors name file:line and the fix. */
export function parseReleaseConfig(text: string, file = ".haos-tasks.yaml"): ReleaseConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const r: ConfigReader = new ConfigReader(file, lines);
  if (doc.errors.length > 0)
    r.fail(undefined, `not valid YAML: ${doc.errors[0]?.message}`, "fix the YAML syntax");
  const section = isMap(doc.contents) ? (doc.contents.get("release", true) as Node | undefined) : undefined;
  const config: ReleaseConfig = {
    components: [],
    linkedVersions: [],
    policy: { ...defaultPolicy },
    policySet: new Set(),
    remote: "origin",
    transport: "auto",
  };
  const empty =
    (isScalar(section) && section.value === null) || (isMap(section) && section.items.length === 0);
  if (section === undefined || empty) {
    config.components = [componentWithDefaults({ name: "repository", path: "." })];
    return config;
  }
  if (!isMap(section)) r.fail(section, "release must be a mapping", "see `haos-tasks release plan --help`");
  let linked: { node: Node | undefined; where: string } | undefined;
  for (const pair of section.items) {
    const key = String((pair.key as Node & { value?: unknown }).value);
    const value = pair.value as Node | undefined;
    const where = `release.${key}`;
    if (!topKeys.has(key))
      r.fail(pair.key as Node, `unknown key ${where}`, `known keys: ${[...topKeys].join(", ")}`);
    if (key === "remote") config.remote = r.string(value, where);
    if (key === "repository") config.repository = r.string(value, where);
    if (key === "transport") {
      const t = r.string(value, where);
      if (!isTransportChoice(t)) {
        return r.fail(value, `${where} must be ${oneOf(transportChoices)}`, `write ${where}: auto`);
      }
      config.transport = t;
    }
    if (policyKeys.has(key)) {
      config.policySet.add(key as keyof ReleasePolicy);
      if (key === "initialVersion") config.policy.initialVersion = r.string(value, where);
      else Object.assign(config.policy, parsePolicyValue(r, key as keyof ComponentPolicy, value, where));
    }
    if (key === "components") config.components = parseComponents(r, value, where);
    if (key === "linkedVersions") linked = { node: value, where };
  }
  if (linked) config.linkedVersions = parseLinked(r, linked.node, linked.where, config.components);
  // `release:` with settings but no components (or an empty mapping) means the default component,
  // the repository itself, as a missing section does.
  if (config.components.length === 0)
    config.components = [componentWithDefaults({ name: "repository", path: "." })];
  return config;
}

/** One policy key's value, checked; the same keys at the release section and per component. */
function parsePolicyValue(
  r: ConfigReader,
  key: keyof ComponentPolicy,
  value: Node | undefined,
  where: string,
): Partial<ComponentPolicy> {
  if (key === "types") return { types: parseTypes(r, value, where) };
  if (key === "releaseRules") return { releaseRules: parseReleaseRules(r, value, where) };
  if (key === "plugins") {
    if (!isSeq(value)) return r.fail(value, `${where} must be a list`, `write ${where}: [sentence-case]`);
    return {
      plugins: value.items.map((item, i) => r.oneOf(item as Node, `${where}[${i}]`, knownPlugins)),
    };
  }
  return { [key]: r.boolean(value, where) };
}

function parseLinked(
  r: ConfigReader,
  node: Node | undefined,
  where: string,
  components: readonly ComponentConfig[],
): LinkedGroup[] {
  if (!isSeq(node))
    return r.fail(node, `${where} must be a list`, `write ${where}: [{group: apps, components: [a, b]}]`);
  const seen = new Set<string>();
  return node.items.map((item, i) => {
    const at = `${where}[${i}]`;
    if (!isMap(item)) return r.fail(item as Node, `${at} must be a mapping`, "give group and components");
    for (const pair of item.items) {
      const key = String((pair.key as Node & { value?: unknown }).value);
      if (key !== "group" && key !== "components")
        r.fail(pair.key as Node, `unknown key ${at}.${key}`, "known keys: group, components");
    }
    const group = r.string(item.get("group", true) as Node, `${at}.group`);
    const list = item.get("components", true) as Node;
    const names = r.strings(list, `${at}.components`);
    for (const name of names) {
      if (!components.some((c) => c.name === name))
        r.fail(
          list,
          `${at}.components: no component '${name}'`,
          `use one of: ${components.map((c) => c.name).join(", ")}`,
        );
      if (seen.has(name))
        r.fail(list, `${at}.components: '${name}' is in two groups`, "keep it in one group");
      seen.add(name);
    }
    if (names.length < 2)
      r.fail(list, `${at}.components must name at least two components`, "link two or more");
    return { group, components: names };
  });
}

function parseReleaseRules(r: ConfigReader, node: Node | undefined, where: string): ReleaseRule[] {
  if (!isSeq(node))
    return r.fail(
      node,
      `${where} must be a list`,
      `write ${where}: [{type: docs, scope: README, release: patch}]`,
    );
  return node.items.map((item, i) => {
    const at = `${where}[${i}]`;
    if (!isMap(item))
      return r.fail(item as Node, `${at} must be a mapping`, "give type, scope, breaking, revert, release");
    const rule: ReleaseRule = { release: false };
    for (const pair of item.items) {
      const key = String((pair.key as Node & { value?: unknown }).value);
      const value = pair.value as Node | undefined;
      if (key === "type" || key === "scope" || key === "subject") rule[key] = r.string(value, `${at}.${key}`);
      else if (key === "breaking" || key === "revert") rule[key] = r.boolean(value, `${at}.${key}`);
      else if (key === "release") {
        rule.release =
          isScalar(value) && value.value === false
            ? false
            : r.oneOf(value, `${at}.release`, ["major", "minor", "patch"] as const);
      } else
        r.fail(
          pair.key as Node,
          `unknown key ${at}.${key}`,
          "known keys: type, scope, subject, breaking, revert, release",
        );
    }
    if (!item.has("release"))
      r.fail(item, `${at} has no release`, "add release: major, minor, patch or false");
    return rule;
  });
}

/** `versionFiles`: a list of paths (type from the name) or `{path, type, appVersion}` mappings. */
function parseVersionFiles(r: ConfigReader, node: Node | undefined, where: string): VersionFileSpec[] {
  if (!isSeq(node) || node.items.length === 0)
    return r.fail(node, `${where} must be a non-empty list`, `write ${where}: [package.json, version.txt]`);
  return node.items.map((item, i) => {
    const at = `${where}[${i}]`;
    if (isScalar(item)) {
      const file = r.string(item as Node, at);
      return { path: file, type: versionFileTypeOf(file) };
    }
    if (!isMap(item)) return r.fail(item as Node, `${at} must be a path or a mapping`, "give path and type");
    for (const pair of item.items) {
      const key = String((pair.key as Node & { value?: unknown }).value);
      if (!["path", "type", "appVersion"].includes(key))
        r.fail(pair.key as Node, `unknown key ${at}.${key}`, "known keys: path, type, appVersion");
    }
    const file = r.string(item.get("path", true) as Node, `${at}.path`);
    const type = item.has("type")
      ? r.oneOf(item.get("type", true) as Node, `${at}.type`, ["text", "json", "chart", "generic"] as const)
      : versionFileTypeOf(file);
    const appVersion = item.has("appVersion")
      ? r.boolean(item.get("appVersion", true) as Node, `${at}.appVersion`)
      : undefined;
    if (appVersion !== undefined && type !== "chart")
      r.fail(item, `${at}.appVersion is for a chart (Chart.yaml)`, "remove appVersion or set type: chart");
    return { path: file, type, ...(appVersion !== undefined ? { appVersion } : {}) };
  });
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

function parseTypes(r: ConfigReader, node: Node | undefined, where: string): CommitTypeRule[] {
  if (!isSeq(node))
    return r.fail(
      node,
      `${where} must be a list`,
      `write ${where}: [{type: feat, section: Features, bump: minor}]`,
    );
  return node.items.map((item, i) => {
    const at = `${where}[${i}]`;
    if (!isMap(item))
      return r.fail(item as Node, `${at} must be a mapping`, "give type, section, hidden, bump");
    const bump = item.has("bump") ? r.string(item.get("bump", true) as Node, `${at}.bump`) : "none";
    if (!["major", "minor", "patch", "none"].includes(bump))
      r.fail(item, `${at}.bump must be major, minor, patch or none`, "fix the value");
    return {
      type: r.string(item.get("type", true) as Node, `${at}.type`).toLowerCase(),
      section: r.string(item.get("section", true) as Node, `${at}.section`),
      hidden: item.has("hidden") ? r.boolean(item.get("hidden", true) as Node, `${at}.hidden`) : false,
      bump: bump as CommitTypeRule["bump"],
    };
  });
}

function parseComponents(r: ConfigReader, node: Node | undefined, where: string): ComponentConfig[] {
  if (!isMap(node))
    return r.fail(
      node,
      `${where} must map component names to settings`,
      `write ${where}: {name: {path: apps/name}}`,
    );
  return node.items.map((pair) => {
    const name = String((pair.key as Node & { value?: unknown }).value);
    const at = `${where}.${name}`;
    const body = pair.value as Node | undefined;
    if (!isMap(body)) return r.fail(body ?? (pair.key as Node), `${at} must be a mapping`, `give ${at}.path`);
    const partial: Partial<ComponentConfig> & { name: string; path: string } = {
      name,
      path: r.string(body.get("path", true) as Node, `${at}.path`),
      policy: {},
    };
    for (const item of body.items) {
      const key = String((item.key as Node & { value?: unknown }).value);
      const value = item.value as Node | undefined;
      if (!componentKeys.has(key))
        r.fail(item.key as Node, `unknown key ${at}.${key}`, `known keys: ${[...componentKeys].join(", ")}`);
      if (key === "extraPaths" || key === "excludes" || key === "tags")
        partial[key] = r.strings(value, `${at}.${key}`);
      if ((componentPolicyKeys as readonly string[]).includes(key))
        Object.assign(
          partial.policy ?? {},
          parsePolicyValue(r, key as keyof ComponentPolicy, value, `${at}.${key}`),
        );
      if (key === "versionFiles") {
        if (partial.versionFile)
          r.fail(item.key as Node, `${at}: give versionFile or versionFiles, not both`, "keep versionFiles");
        partial.versionFiles = parseVersionFiles(r, value, `${at}.versionFiles`);
        partial.versionFile = partial.versionFiles[0]?.path as string;
      }
      if (key === "changelogPath") partial.changelog = r.string(value, `${at}.changelogPath`);
      if (
        key === "versionFile" ||
        key === "changelog" ||
        key === "majorTag" ||
        key === "releaseName" ||
        key === "commitMessage" ||
        key === "releaseAs"
      ) {
        if (key === "versionFile" && partial.versionFiles)
          r.fail(item.key as Node, `${at}: give versionFile or versionFiles, not both`, "keep versionFiles");
        partial[key] = r.string(value, `${at}.${key}`);
        if (key === "versionFile")
          partial.versionFiles = [
            // A single versionFile of another name is the whole-file text it always was.
            {
              path: partial.versionFile as string,
              type: versionFileTypeOf(partial.versionFile as string, "text"),
            },
          ];
      }
      if (key === "bootstrapSha" || key === "lastReleaseSha") {
        if (partial.bootstrapSha)
          r.fail(item.key as Node, `${at}: give bootstrapSha or lastReleaseSha, not both`, "keep one");
        const sha = r.string(value, `${at}.${key}`);
        if (!/^[0-9a-f]{7,40}$/i.test(sha))
          r.fail(value, `${at}.${key} must be a commit SHA (7–40 hex digits)`, "write the full SHA");
        partial.bootstrapSha = sha.toLowerCase();
      }
      if (key === "makeLatest") partial.makeLatest = r.boolean(value, `${at}.makeLatest`);
    }
    const component = componentWithDefaults(partial);
    for (const tag of component.tags) {
      if (!tag.includes("{version}"))
        r.fail(body, `${at}.tags: '${tag}' has no {version}`, "write e.g. name-v{version}");
    }
    if (component.majorTag && !component.majorTag.includes("{major}")) {
      r.fail(body, `${at}.majorTag must contain {major}`, "write e.g. v{major}");
    }
    return component;
  });
}

/** Reads the release configuration from `<root>/.haos-tasks.yaml`; a missing file means defaults. */
export async function loadReleaseConfig(root: string): Promise<ReleaseConfig> {
  const file = path.join(root, ".haos-tasks.yaml");
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return parseReleaseConfig(text, ".haos-tasks.yaml");
}
