/** From a component's tags and considered commits to its next version, with the reason. Pure. */
import type { ConsideredCommit } from "./classify.ts";
import type { ComponentConfig, ReleasePolicy } from "./config.ts";
import type { TagRef } from "./read-repository.ts";
import {
  type BumpLevel,
  bumpSemVer,
  compareSemVer,
  formatSemVer,
  maxBump,
  nextPrerelease,
  parseSemVer,
  type SemVer,
} from "./semver.ts";

export interface VersionTag {
  tag: string;
  version: SemVer;
  sha: string;
  reachable: boolean;
}

/** The tags that name a version of this component, in any of its tag formats, highest first. */
export function componentVersionTags(component: ComponentConfig, tags: readonly TagRef[]): VersionTag[] {
  const patterns = component.tags.map((format) => {
    const [before = "", after = ""] = format.split("{version}");
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`^${esc(before)}(.+)${esc(after)}$`);
  });
  const found: VersionTag[] = [];
  for (const t of tags) {
    for (const re of patterns) {
      const text = re.exec(t.name)?.[1];
      const version = text ? parseSemVer(text) : undefined;
      if (version && !text?.includes("+")) {
        found.push({ tag: t.name, version, sha: t.sha, reachable: t.reachable });
        break;
      }
    }
  }
  return found.sort((a, b) => compareSemVer(b.version, a.version));
}

/**
 * The tag a release's notes (and the commits it reads) start from: for a prerelease the latest
 * reachable tag of the same channel (its identifier) or stable; for a stable release the latest
 * reachable stable tag. So the notes of 1.2.0 after 1.2.0-rc.1 and -rc.2 list everything since
 * 1.1.0, not just what came after rc.2, and `--prerelease beta` after 1.2.0-alpha.1 on the same
 * commits reads them again and gives 1.2.0-beta.1, as semantic-release does on a beta branch
 * after alpha (its prerelease channels each continue from their own last release).
 */
export function notesBaseTag(
  versionTags: readonly VersionTag[],
  prerelease?: string,
): VersionTag | undefined {
  const reachable = versionTags.filter((t) => t.reachable);
  return reachable.find(
    (t) =>
      t.version.prerelease.length === 0 ||
      (prerelease !== undefined && t.version.prerelease[0] === prerelease),
  );
}

/** Formats a tag name from a component's first (written) tag format. */
export function tagFor(component: ComponentConfig, version: string): string {
  return (component.tags[0] ?? "v{version}").replace("{version}", version);
}

export interface VersionDecision {
  version?: SemVer;
  level?: BumpLevel;
  /** Why this version (or why none), one sentence. */
  reason: string;
  /** A reason the plan cannot go ahead. */
  error?: { message: string; hint: string };
  /** Something the user should act on that does not block, e.g. a releaseAs already released. */
  notice?: { message: string; hint: string };
}

export interface VersionInput {
  /** Highest version tag reachable from HEAD (prereleases included). */
  previous?: VersionTag;
  /** Highest stable version tag reachable from HEAD. */
  stable?: VersionTag;
  /** The version file's version at HEAD, the baseline when there is no tag yet. */
  versionFile?: SemVer;
  considered: readonly ConsideredCommit[];
  policy: ReleasePolicy;
  prerelease?: string;
  /** Every version already tagged (any branch): a prerelease counter continues past them. */
  existing: readonly SemVer[];
  /** The component's `releaseAs` from .haos-tasks.yaml (release-please-config's `release-as`). */
  configReleaseAs?: string;
}

const sameVersion = (a: SemVer, b: SemVer) => compareSemVer(a, b) === 0;

/**
 * The version a `Release-As:` footer forces, or undefined to decide from the commits.
 * release-please takes the footer verbatim and never applies its prerelease versioning on top;
 * here `--prerelease` is an explicit request for this run, so it is not dropped silently:
 * `Release-As: 2.0.0` with `--prerelease rc` names the target, giving 2.0.0-rc.1 (then rc.2, …),
 * and the stable 2.0.0 comes from a run without `--prerelease`. A footer naming a prerelease
 * (`Release-As: 2.0.0-rc.1`) is taken verbatim, as release-please does, and is an error with a
 * different `--prerelease` identifier; once that prerelease is tagged it has been honoured, so the
 * stable release after it (whose commits still include the footer) graduates normally.
 */
function releaseAsVersion(input: VersionInput): VersionDecision | undefined {
  const { previous, prerelease } = input;
  const releaseAs = input.considered.find((c) => c.releaseAs);
  if (!releaseAs?.releaseAs) return undefined;
  const where = `Release-As: ${releaseAs.releaseAs} (${releaseAs.sha.slice(0, 7)})`;
  const written = parseSemVer(releaseAs.releaseAs);
  if (!written) {
    return {
      reason: "Release-As is not a version",
      error: {
        message: `Release-As: ${releaseAs.releaseAs} in ${releaseAs.sha.slice(0, 7)} is not a SemVer version`,
        hint: "write e.g. `Release-As: 1.0.0` in a new commit",
      },
    };
  }
  const writtenPrerelease = written.prerelease.length > 0;
  if (writtenPrerelease && !prerelease && input.existing.some((v) => sameVersion(v, written)))
    return undefined;
  if (writtenPrerelease && prerelease && written.prerelease[0] !== prerelease) {
    return {
      reason: "Release-As and --prerelease disagree",
      error: {
        message: `${where} names a '${String(written.prerelease[0])}' prerelease but --prerelease asks for '${prerelease}'`,
        hint: `run with \`--prerelease ${String(written.prerelease[0])}\`, or name the stable target (\`Release-As: ${formatSemVer({ ...written, prerelease: [] })}\`) in a new commit`,
      },
    };
  }
  const version =
    prerelease && !writtenPrerelease ? nextPrerelease(written, prerelease, input.existing) : written;
  const floor = previous?.version ?? input.versionFile;
  if (floor && compareSemVer(version, floor) <= 0) {
    return {
      reason: "Release-As is not above the current version",
      error: {
        message: `${where} gives ${formatSemVer(version)}, which is not greater than ${formatSemVer(floor)}`,
        hint: "name a higher version in a new commit's Release-As footer",
      },
    };
  }
  const channel = version === written ? "" : `, as a ${prerelease} prerelease`;
  return { version, reason: `Release-As: ${releaseAs.releaseAs} in ${releaseAs.sha.slice(0, 7)}${channel}` };
}

/** The configured types that release, e.g. `feat (minor), fix (patch)`, for "nothing to release". */
function releasingTypes(policy: ReleasePolicy): string {
  const list = policy.types.filter((t) => t.bump !== "none").map((t) => `${t.type} (${t.bump})`);
  return list.length > 0
    ? `${list.join(", ")} or a breaking change`
    : "a breaking change (no configured type bumps)";
}

function describeLevel(
  considered: readonly ConsideredCommit[],
  policy: ReleasePolicy,
): { level?: BumpLevel; reason: string } {
  let level: BumpLevel | undefined;
  for (const c of considered) if (c.effect !== "none") level = maxBump(level, c.effect);
  if (!level)
    return {
      reason: `${considered.length === 0 ? "no commit in range" : `none of ${considered.length} commit(s)`} has a release effect: the configured types that release are ${releasingTypes(policy)}`,
    };
  const drivers = considered.filter((c) => c.effect === level);
  const first = drivers[0];
  const detail = first ? `${first.sha.slice(0, 7)} ${first.why}` : "";
  const more = drivers.length > 1 ? ` and ${drivers.length - 1} more` : "";
  return { level, reason: `${detail}${more}` };
}

/**
 * The component's configured `releaseAs`, as release-please's `release-as` (BaseStrategy
 * buildNewVersion: the configured version wins over commits and their Release-As footers). Unlike
 * release-please, which proposes it again until the key is removed, a releaseAs that is not above
 * the current version has been released and only asks (as a notice) to remove the key.
 */
function configuredReleaseAs(input: VersionInput): VersionDecision | undefined {
  const text = input.configReleaseAs;
  if (!text || input.considered.length === 0) return undefined;
  const written = parseSemVer(text);
  if (!written) {
    return {
      reason: "releaseAs is not a version",
      error: {
        message: `releaseAs '${text}' is not a SemVer version`,
        hint: "write e.g. `releaseAs: 1.0.0`",
      },
    };
  }
  const floor = input.previous?.version ?? input.versionFile;
  const version =
    input.prerelease && written.prerelease.length === 0
      ? nextPrerelease(written, input.prerelease, input.existing)
      : written;
  if (floor && compareSemVer(version, floor) <= 0) {
    const done = releaseAsVersion(input) ?? decideFromCommits(input);
    return {
      ...done,
      notice: {
        message: `releaseAs ${text} is not above the current version ${formatSemVer(floor)}, so it is ignored`,
        hint: "remove releaseAs from this component in .haos-tasks.yaml (it has been released)",
      },
    };
  }
  return {
    version,
    reason: `releaseAs: ${text} in .haos-tasks.yaml${version === written ? "" : `, as a ${input.prerelease} prerelease`}`,
  };
}

/** Decides the next version. */
export function decideNextVersion(input: VersionInput): VersionDecision {
  return configuredReleaseAs(input) ?? releaseAsVersion(input) ?? decideFromCommits(input);
}

function decideFromCommits(input: VersionInput): VersionDecision {
  const { previous, stable, policy, prerelease } = input;
  const described = describeLevel(input.considered, policy);
  let { level } = described;
  let reason = described.reason;
  const base = stable?.version ?? (previous ? undefined : input.versionFile);
  const graduating = previous && previous.version.prerelease.length > 0 ? previous : undefined;
  if (!level && !(graduating && !prerelease)) return { reason: `nothing to release: ${reason}` };
  if (level && base && base.major === 0) {
    if (level === "major" && policy.bumpMinorPreMajor) {
      level = "minor";
      reason += "; below 1.0.0 with bumpMinorPreMajor, so minor";
    } else if (level === "minor" && policy.bumpPatchForMinorPreMajor) {
      level = "patch";
      reason += "; below 1.0.0 with bumpPatchForMinorPreMajor, so patch";
    }
  }
  let target: SemVer;
  if (!base && !graduating) {
    const initial = parseSemVer(policy.initialVersion) ?? { major: 0, minor: 1, patch: 0, prerelease: [] };
    target = initial;
    reason += `; first release, so initialVersion ${policy.initialVersion}`;
  } else {
    const bumped = base && level ? bumpSemVer(base, level) : undefined;
    const graduated = graduating ? { ...graduating.version, prerelease: [] } : undefined;
    target =
      bumped && (!graduated || compareSemVer(bumped, graduated) > 0)
        ? bumped
        : (graduated ?? bumped ?? { major: 0, minor: 1, patch: 0, prerelease: [] });
    if (graduated && target === graduated) {
      reason = !level
        ? `graduates ${graduating?.tag} to ${formatSemVer(graduated)}`
        : prerelease
          ? `${reason}; continues ${graduating?.tag}`
          : `${reason}; graduates ${graduating?.tag} to ${formatSemVer(graduated)}`;
    }
  }
  const version = prerelease ? nextPrerelease(target, prerelease, input.existing) : target;
  if (previous && compareSemVer(version, previous.version) <= 0) {
    return {
      reason,
      error: {
        message: `${formatSemVer(version)} would not be above the previous release ${previous.tag}`,
        hint: prerelease
          ? `use a prerelease identifier that sorts after '${String(previous.version.prerelease[0])}' (e.g. rc after beta)`
          : "check the tags",
      },
    };
  }
  return { version, ...(level ? { level } : {}), reason };
}
