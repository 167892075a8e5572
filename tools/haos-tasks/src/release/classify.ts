/**
 * Sorts a component's commits into considered (with their effect on the version) and excluded
 * (with why): merges, non-conventional messages, other components' files, revert pairs, release
 * commits. Pure.
 */

import path from "node:path";
import { type CommitFooter, type ConventionalCommit, parseCommitMessage } from "./commit-parser.ts";
import type { CommitTypeRule, ComponentConfig, ReleaseRule } from "./config.ts";
import type { GitCommit } from "./read-repository.ts";
import type { ComponentScopes } from "./scoping.ts";
import type { BumpLevel } from "./semver.ts";

export interface ConsideredCommit {
  sha: string;
  header: string;
  type: string;
  scope?: string;
  description: string;
  /** Breaking-change descriptions (empty when not breaking). */
  breaking: string[];
  effect: BumpLevel | "none";
  /** Why this effect, e.g. "`!` in the header", "type fix". */
  why: string;
  section: string;
  hidden: boolean;
  footers: CommitFooter[];
  /** Issues the commit closes (footers and body lines), rendered as release-please's `, closes #n`. */
  closes: number[];
  /** Set for a commit carried inside another's message (squash body): its position there, from 1. */
  nested?: number;
  /**
   * Where release-please would list this entry among the range's commits (newest commit first;
   * within one message, each part's footer commits before the part): the input order its changelog
   * writer sorts, so equal keys keep it (changelog.ts).
   */
  listed: number;
  releaseAs?: string;
  warnings: string[];
}

export interface ExcludedCommit {
  sha: string;
  header: string;
  reason: string;
}

export interface Classification {
  considered: ConsideredCommit[];
  excluded: ExcludedCommit[];
}

const header = (message: string): string => message.split("\n", 1)[0] ?? "";

/**
 * The regular expression matching this component's release commit header, capturing the version.
 * Not anchored at the end: a squash merge appends ` (#927)` to the title
 * (`chore(main): release core 1.2.0 (#927)`), as release-please's own PullRequestTitle pattern
 * allows. The version must look like SemVer, so `chore(release): {version}` does not take
 * `chore(release): haos-enigma 1.2.0` for a release of version "haos-enigma".
 */
export function releaseCommitPattern(component: ComponentConfig): RegExp {
  const [before = "", after = ""] = component.commitMessage.split("{version}");
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const version = "(?<version>v?\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?)";
  return new RegExp(`^${esc(before)}${version}${esc(after)}(?:\\s.*)?$`);
}

const UNKNOWN = Symbol("unknown type");
type Rule = CommitTypeRule & { [UNKNOWN]?: true };

function typeRule(types: readonly CommitTypeRule[], type: string): Rule {
  return (
    types.find((t) => t.type === type) ?? { type, section: type, hidden: true, bump: "none", [UNKNOWN]: true }
  );
}

/** Why a type has the effect it has, in terms of the configured release.types. */
function typeWhy(rule: Rule): string {
  if (rule[UNKNOWN]) return `type ${rule.type} is not in the configured types: hidden, no release effect`;
  if (rule.bump === "none")
    return `type ${rule.type} has no release effect${rule.hidden ? " (hidden in the changelog)" : ""}`;
  return `type ${rule.type}`;
}

/** The pull request number GitHub appends to a squash-merged title: `fix: x (#122)`. */
const pullRequestOf = (h: string): number | undefined => {
  const n = /\(#(\d+)\)\s*$/.exec(h)?.[1];
  return n ? Number(n) : undefined;
};
const withoutPullRequest = (h: string) => h.replace(/\s*\(#\d+\)\s*$/, "");

/** semantic-release commit-analyzer's DEFAULT_RELEASE_RULES (lib/default-release-rules.js). */
const defaultReleaseRules: ReleaseRule[] = [
  { breaking: true, release: "major" },
  { revert: true, release: "patch" },
  { type: "feat", release: "minor" },
  { type: "fix", release: "patch" },
  { type: "perf", release: "patch" },
];
const releaseOrder = ["major", "minor", "patch"];

/**
 * commit-analyzer's analyzeCommit: the highest release of the rules that match (fields as globs,
 * micromatch's semantics through path.matchesGlob); undefined when none matches, false when only
 * `release: false` rules do.
 */
function analyze(
  rules: readonly ReleaseRule[],
  c: { type?: string; scope?: string; subject: string; breaking: boolean; revert: boolean },
): ReleaseRule["release"] | undefined {
  let found: ReleaseRule["release"] | undefined;
  const glob = (value: string | undefined, pattern: string | undefined) =>
    pattern === undefined || (value !== undefined && path.posix.matchesGlob(value, pattern));
  for (const rule of rules) {
    if (rule.breaking && !c.breaking) continue;
    if (rule.revert && !c.revert) continue;
    if (!glob(c.type, rule.type) || !glob(c.scope, rule.scope) || !glob(c.subject, rule.subject)) continue;
    if (
      found === undefined ||
      found === false ||
      (rule.release !== false && releaseOrder.indexOf(rule.release) < releaseOrder.indexOf(found))
    )
      found = rule.release;
    if (found === "major") break;
  }
  return found;
}

/** A commit's bump under `releaseRules`: custom rules, then the default rules for a commit none matched. */
export function releaseRuleEffect(
  rules: readonly ReleaseRule[],
  c: { type?: string; scope?: string; subject: string; breaking: boolean; revert: boolean },
): { effect: BumpLevel | "none"; why: string } {
  const custom = analyze(rules, c);
  const level = custom ?? analyze(defaultReleaseRules, c);
  const from = custom !== undefined ? "releaseRules" : "commit-analyzer's default rules";
  return level ? { effect: level, why: `${from}: ${level}` } : { effect: "none", why: `${from}: no release` };
}

/** Classifies `commits` (newest first) for `component`. */
export function classifyCommits(
  commits: readonly GitCommit[],
  component: ComponentConfig,
  scopes: ComponentScopes,
  types: readonly CommitTypeRule[],
  releaseRules?: readonly ReleaseRule[],
): Classification {
  const excluded = new Map<string, ExcludedCommit>();
  const parsed = new Map<string, ReturnType<typeof parseCommitMessage>>();
  // Only this component's own release commits are left out. Another component's release commit
  // is an ordinary `chore` here when it touches this component's files (release-please's
  // node-workspace plugin bumps dependents' package.json in it), as release-please lists it.
  const ownRelease = releaseCommitPattern(component);
  const inScope: GitCommit[] = [];
  for (const c of commits) {
    const h = header(c.message);
    if (c.parents.length > 1) {
      excluded.set(c.sha, {
        sha: c.sha,
        header: h,
        reason: "merge commit: its changes count through the merged commits",
      });
      continue;
    }
    if (ownRelease.test(h)) {
      excluded.set(c.sha, { sha: c.sha, header: h, reason: "release commit" });
      continue;
    }
    const p = parseCommitMessage(c.message);
    parsed.set(c.sha, p);
    const scope = p.conventional ? p.scope : undefined;
    const membership = scopes.belongs(component.name, c.files, scope);
    if (!membership.belongs) {
      excluded.set(c.sha, { sha: c.sha, header: h, reason: `out of scope: ${membership.reason}` });
      continue;
    }
    inScope.push(c);
  }
  // Newest first: a revert of a revert cancels that revert, and the original change stands. The
  // reverted commit is named by SHA (`This reverts commit …`), by pull request (GitHub's squash
  // merge of a revert: `Reverts owner/repo#122` reverts the commit titled `… (#122)`), or by
  // header (`Revert "fix: x"`); only commits older than the revert count.
  const targetOf = (c: GitCommit, index: number): GitCommit | undefined => {
    const p = parsed.get(c.sha);
    if (
      !p ||
      (!p.reverts && p.revertsPullRequest === undefined && (p.conventional || p.revertedHeader === undefined))
    )
      return undefined;
    const older = inScope.slice(index + 1);
    if (p.reverts) return older.find((o) => o.sha.startsWith(p.reverts as string));
    if (p.revertsPullRequest !== undefined)
      return older.find((o) => pullRequestOf(header(o.message)) === p.revertsPullRequest);
    if (!p.conventional && p.revertedHeader !== undefined) {
      const wanted = withoutPullRequest(p.revertedHeader);
      return older.find((o) => withoutPullRequest(header(o.message)) === wanted);
    }
    return undefined;
  };
  for (const [index, c] of inScope.entries()) {
    if (excluded.has(c.sha)) continue;
    const reverted = targetOf(c, index);
    if (reverted && !excluded.has(reverted.sha) && reverted.sha !== c.sha) {
      const short = (s: string) => s.slice(0, 7);
      excluded.set(c.sha, {
        sha: c.sha,
        header: header(c.message),
        reason: `reverts ${short(reverted.sha)}, which is in this release too: both cancel`,
      });
      excluded.set(reverted.sha, {
        sha: reverted.sha,
        header: header(reverted.message),
        reason: `reverted by ${short(c.sha)} in this release: both cancel`,
      });
    }
  }
  const considered: ConsideredCommit[] = [];
  let listed = 0;
  for (const c of inScope) {
    if (excluded.has(c.sha)) continue;
    const p = parsed.get(c.sha);
    const h = header(c.message);
    if (!p) continue;
    if (!p.conventional && p.revertedHeader === undefined) {
      excluded.set(c.sha, { sha: c.sha, header: h, reason: `not a Conventional Commit: ${p.reason}` });
      continue;
    }
    if (!p.conventional && p.github) {
      // release-please's parser cannot read `Revert "…" (#123)` (no `type:`), so it lists and
      // releases nothing for it; a revert of a change in this same range still cancels it above.
      excluded.set(c.sha, {
        sha: c.sha,
        header: h,
        reason:
          'GitHub revert of a change not in this range (released before): release-please cannot parse `Revert "…" (#n)`, so it neither lists nor releases it',
      });
      continue;
    }
    if (!p.conventional) {
      const rule = typeRule(types, "revert");
      const ruled = releaseRules
        ? // commit-analyzer's parser reads no type from `Revert "…"`; `revert` needs "This reverts commit".
          releaseRuleEffect(releaseRules, { subject: h, breaking: false, revert: p.reverts !== undefined })
        : undefined;
      considered.push({
        sha: c.sha,
        header: h,
        type: "revert",
        description: h,
        breaking: [],
        footers: [],
        closes: [],
        warnings: [],
        effect: ruled?.effect ?? rule.bump,
        why: ruled
          ? ruled.why
          : p.reverts
            ? `reverts ${p.reverts.slice(0, 7)}, released before`
            : p.revertsPullRequest !== undefined
              ? `reverts pull request #${p.revertsPullRequest}, released before`
              : "git revert",
        section: rule.section,
        hidden: rule.hidden,
        listed: listed++,
      });
      continue;
    }
    const carried = p.nested.length > 0 ? p.nested.filter((n) => types.some((t) => t.type === n.type)) : [];
    const all = carried.length > 0 ? [p, ...carried] : [p];
    // release-please's order within the message: part by part, each part's footers first.
    const rank = (n: ConventionalCommit) => (n.carried?.part ?? 0) * 2 + (n.carried?.footer ? 0 : 1);
    const order = all.map((n, i) => ({ n, i })).sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i);
    const listedAt = new Map(order.map(({ i }, k) => [i, listed + k]));
    listed += all.length;
    for (let i = 0; i < all.length; i++) {
      const one = all[i] as ConventionalCommit;
      const rule = typeRule(types, one.type);
      let effect: BumpLevel | "none" = rule.bump;
      let why = typeWhy(rule);
      if (one.breaking.length > 0) {
        effect = "major";
        why = one.footers.some((f) => f.token === "BREAKING CHANGE" || f.token === "BREAKING-CHANGE")
          ? `${one.bang ? "`!` and " : ""}BREAKING CHANGE footer`
          : "`!` in the header";
      }
      if (releaseRules) {
        const ruled = releaseRuleEffect(releaseRules, {
          type: one.type,
          ...(one.scope !== undefined ? { scope: one.scope } : {}),
          subject: one.description,
          breaking: one.breaking.length > 0,
          revert: one.type === "revert" && one.reverts !== undefined,
        });
        effect = ruled.effect;
        why = ruled.why;
      }
      if (i > 0) why += `; carried in the message of ${c.sha.slice(0, 7)} (squash merge)`;
      considered.push({
        sha: c.sha,
        header:
          i === 0
            ? h
            : `${one.type}${one.scope ? `(${one.scope})` : ""}${one.bang ? "!" : ""}: ${one.description}`,
        type: one.type,
        description: one.description,
        breaking: one.breaking,
        effect,
        why,
        section: rule.section,
        hidden: rule.hidden,
        footers: one.footers,
        closes: one.closes,
        warnings: one.warnings,
        ...(i > 0 ? { nested: i } : {}),
        listed: listedAt.get(i) ?? 0,
        ...(one.scope !== undefined ? { scope: one.scope } : {}),
        ...(one.releaseAs ? { releaseAs: one.releaseAs } : {}),
      });
    }
  }
  const order = new Map(commits.map((c, i) => [c.sha, i]));
  const excludedList = [...excluded.values()].sort(
    (a, b) => (order.get(a.sha) ?? 0) - (order.get(b.sha) ?? 0),
  );
  return { considered, excluded: excludedList };
}
