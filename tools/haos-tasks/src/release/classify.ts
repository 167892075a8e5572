/**
 * Sorts a component's commits into considered (with their effect on the version) and excluded
 * (with why): merges, non-conventional messages, other components' files, revert pairs, release
 * commits. Pure.
 */
import { type CommitFooter, parseCommitMessage } from "./commit-parser.ts";
import type { CommitTypeRule, ComponentConfig } from "./config.ts";
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

/** The regular expression matching this component's release commit header, capturing the version. */
export function releaseCommitPattern(component: ComponentConfig): RegExp {
  const [before = "", after = ""] = component.commitMessage.split("{version}");
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${esc(before)}(?<version>\\S+)${esc(after)}$`);
}

function typeRule(types: readonly CommitTypeRule[], type: string): CommitTypeRule {
  return types.find((t) => t.type === type) ?? { type, section: type, hidden: true, bump: "none" };
}

/** Classifies `commits` (newest first) for `component`. */
export function classifyCommits(
  commits: readonly GitCommit[],
  component: ComponentConfig,
  allComponents: readonly ComponentConfig[],
  scopes: ComponentScopes,
  types: readonly CommitTypeRule[],
): Classification {
  const excluded = new Map<string, ExcludedCommit>();
  const parsed = new Map<string, ReturnType<typeof parseCommitMessage>>();
  const releasePatterns = allComponents.map(releaseCommitPattern);
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
    if (releasePatterns.some((re) => re.test(h))) {
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
  // Newest first: a revert of a revert cancels that revert, and the original change stands.
  const byPrefix = (sha: string) => inScope.find((c) => c.sha.startsWith(sha));
  for (const c of inScope) {
    if (excluded.has(c.sha)) continue;
    const target = parsed.get(c.sha)?.reverts;
    const reverted = target ? byPrefix(target) : undefined;
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
  for (const c of inScope) {
    if (excluded.has(c.sha)) continue;
    const p = parsed.get(c.sha);
    const h = header(c.message);
    if (!p) continue;
    if (!p.conventional && p.revertedHeader === undefined) {
      excluded.set(c.sha, { sha: c.sha, header: h, reason: `not a Conventional Commit: ${p.reason}` });
      continue;
    }
    if (!p.conventional) {
      const rule = typeRule(types, "revert");
      considered.push({
        sha: c.sha,
        header: h,
        type: "revert",
        description: h,
        breaking: [],
        footers: [],
        warnings: [],
        effect: rule.bump,
        why: p.reverts ? `reverts ${p.reverts.slice(0, 7)}, released before` : "git revert",
        section: rule.section,
        hidden: rule.hidden,
      });
      continue;
    }
    const rule = typeRule(types, p.type);
    let effect: BumpLevel | "none" = rule.bump;
    let why = rule.bump === "none" ? `type ${p.type} has no release effect` : `type ${p.type}`;
    if (p.breaking.length > 0) {
      effect = "major";
      why = p.footers.some((f) => f.token === "BREAKING CHANGE" || f.token === "BREAKING-CHANGE")
        ? `${p.bang ? "`!` and " : ""}BREAKING CHANGE footer`
        : "`!` in the header";
    }
    considered.push({
      sha: c.sha,
      header: h,
      type: p.type,
      description: p.description,
      breaking: p.breaking,
      effect,
      why,
      section: rule.section,
      hidden: rule.hidden,
      footers: p.footers,
      warnings: p.warnings,
      ...(p.scope !== undefined ? { scope: p.scope } : {}),
      ...(p.releaseAs ? { releaseAs: p.releaseAs } : {}),
    });
  }
  const order = new Map(commits.map((c, i) => [c.sha, i]));
  const excludedList = [...excluded.values()].sort(
    (a, b) => (order.get(a.sha) ?? 0) - (order.get(b.sha) ?? 0),
  );
  return { considered, excluded: excludedList };
}
