/** Semantic Versioning 2.0.0: parse, order and bump the versions a release plan reasons about. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated identifiers after `-`, e.g. `["rc", 2]`. Empty for a stable version. */
  prerelease: (string | number)[];
}

export type BumpLevel = "major" | "minor" | "patch";

const numeric = "0|[1-9]\\d*";
const identifier = "(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)";
const semverPattern = new RegExp(
  `^(${numeric})\\.(${numeric})\\.(${numeric})(?:-(${identifier}(?:\\.${identifier})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
);

/** Parses `1.2.3`, `1.2.3-rc.1`, `1.2.3+build`; undefined when the text is not SemVer 2.0.0. */
export function parseSemVer(text: string): SemVer | undefined {
  const m = semverPattern.exec(text.trim());
  if (!m) return undefined;
  const prerelease = m[4] ? m[4].split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease };
}

/** Formats a version without build metadata. */
export function formatSemVer(v: SemVer): string {
  const core = `${v.major}.${v.minor}.${v.patch}`;
  return v.prerelease.length > 0 ? `${core}-${v.prerelease.join(".")}` : core;
}

/** SemVer precedence: negative when a < b, 0 when equal, positive when a > b. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return Math.sign(core);
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    return b.prerelease.length - a.prerelease.length === 0 ? 0 : a.prerelease.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return Math.sign(x - y);
    if (typeof x === "number") return -1;
    if (typeof y === "number") return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The stable version a bump of `v` leads to (prerelease identifiers dropped). */
export function bumpSemVer(v: SemVer, level: BumpLevel): SemVer {
  if (level === "major") return { major: v.major + 1, minor: 0, patch: 0, prerelease: [] };
  if (level === "minor") return { major: v.major, minor: v.minor + 1, patch: 0, prerelease: [] };
  return { major: v.major, minor: v.minor, patch: v.patch + 1, prerelease: [] };
}

export const bumpRank: Record<BumpLevel, number> = { patch: 1, minor: 2, major: 3 };

/** The larger of two bump levels; undefined counts as no bump. */
export function maxBump(a: BumpLevel | undefined, b: BumpLevel | undefined): BumpLevel | undefined {
  if (!a) return b;
  if (!b) return a;
  return bumpRank[a] >= bumpRank[b] ? a : b;
}

/**
 * The next prerelease of `target` (a stable version) under `id`: `<target>-<id>.1`, or one past the
 * highest existing `<target>-<id>.N`.
 */
export function nextPrerelease(target: SemVer, id: string, existing: readonly SemVer[]): SemVer {
  let highest = 0;
  for (const v of existing) {
    const sameCore = v.major === target.major && v.minor === target.minor && v.patch === target.patch;
    const [name, n] = v.prerelease;
    if (sameCore && name === id && typeof n === "number" && v.prerelease.length === 2) {
      highest = Math.max(highest, n);
    }
  }
  return { ...target, prerelease: [id, highest + 1] };
}
