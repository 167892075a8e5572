import { readFile } from "node:fs/promises";
import path from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { ReleaseError } from "./errors.ts";
import type { BumpLevel } from "./semver.ts";

/** One releasable unit: its files, its tags and which paths' commits belong to it (see scoping.ts). */
export interface ComponentConfig {
  name: string;
  /** Repo-relative directory; `.` is the repository itself. */
  path: string;
  /** More paths (or globs) whose commits count for this component although they lie outside `path`. */
  extraPaths: string[];
  /** Paths (or globs) under `path` whose commits never count for this component. */
  excludes: string[];
  versionFile: string;
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
}

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
}

export type TransportChoice = "auto" | "git" | "github";

export interface ReleaseConfig {
  components: ComponentConfig[];
  policy: ReleasePolicy;
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
};

/** Fills a component's defaults from its name and path. */
export function componentWithDefaults(
  partial: Partial<ComponentConfig> & { name: string; path: string },
): ComponentConfig {
  const root = partial.path === "." || partial.path === "";
  const dir = root ? "" : `${partial.path.replace(/\/+$/, "")}/`;
  return {
    extraPaths: [],
    excludes: [],
    versionFile: `${dir}version.txt`,
    changelog: `${dir}CHANGELOG.md`,
    tags: root ? ["v{version}"] : [`${partial.name}-v{version}`, `${partial.name}@{version}`],
    releaseName: root ? "v{version}" : `${partial.name} v{version}`,
    commitMessage: root ? "chore(release): {version}" : `chore(release): ${partial.name} {version}`,
    makeLatest: root,
    ...partial,
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
]);
const policyKeys = new Set(["bumpMinorPreMajor", "bumpPatchForMinorPreMajor", "initialVersion", "types"]);
const topKeys = new Set(["components", "remote", "transport", "repository", ...policyKeys]);

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
    policy: { ...defaultPolicy },
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
      if (t !== "auto" && t !== "git" && t !== "github") {
        return r.fail(value, `${where} must be auto, git or github`, `write ${where}: auto`);
      }
      config.transport = t;
    }
    if (key === "bumpMinorPreMajor" || key === "bumpPatchForMinorPreMajor")
      config.policy[key] = r.boolean(value, where);
    if (key === "initialVersion") config.policy.initialVersion = r.string(value, where);
    if (key === "types") config.policy.types = parseTypes(r, value, where);
    if (key === "components") config.components = parseComponents(r, value, where);
  }
  // `release:` with settings but no components (or an empty mapping) means the default component,
  // the repository itself, as a missing section does.
  if (config.components.length === 0)
    config.components = [componentWithDefaults({ name: "repository", path: "." })];
  return config;
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
    };
    for (const item of body.items) {
      const key = String((item.key as Node & { value?: unknown }).value);
      const value = item.value as Node | undefined;
      if (!componentKeys.has(key))
        r.fail(item.key as Node, `unknown key ${at}.${key}`, `known keys: ${[...componentKeys].join(", ")}`);
      if (key === "extraPaths" || key === "excludes" || key === "tags")
        partial[key] = r.strings(value, `${at}.${key}`);
      if (
        key === "versionFile" ||
        key === "changelog" ||
        key === "majorTag" ||
        key === "releaseName" ||
        key === "commitMessage" ||
        key === "releaseAs"
      ) {
        partial[key] = r.string(value, `${at}.${key}`);
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
