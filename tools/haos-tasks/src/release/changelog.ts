/**
 * Renders a release's CHANGELOG section in release-please's format and inserts it above the
 * newest existing release, leaving every existing byte in place.
 */
import type { ConsideredCommit } from "./classify.ts";
import type { CommitTypeRule } from "./config.ts";

export interface ChangelogContext {
  version: string;
  /** YYYY-MM-DD (UTC). */
  date: string;
  previousTag?: string;
  tag: string;
  /** `https://github.com/owner/name`; without it, no links. */
  repositoryUrl?: string;
}

const issueRef = /(^|[\s(])#(\d+)\b/g;
const closingTokens = new Set([
  "closes",
  "close",
  "closed",
  "fixes",
  "fix",
  "fixed",
  "resolves",
  "resolve",
  "resolved",
]);

function linkIssues(text: string, url: string | undefined): string {
  return url
    ? text.replace(issueRef, (_m, pre: string, n: string) => `${pre}[#${n}](${url}/issues/${n})`)
    : text;
}

function commitLine(c: ConsideredCommit, url: string | undefined): string {
  const scope = c.scope ? `**${c.scope}:** ` : "";
  const short = c.sha.slice(0, 7);
  const link = url ? ` ([${short}](${url}/commit/${c.sha}))` : ` (${short})`;
  const closes = c.footers
    .filter((f) => closingTokens.has(f.token.toLowerCase()) && /^#?\d+$/.test(f.value.trim()))
    .map((f) => {
      const n = f.value.trim().replace(/^#/, "");
      return url ? `[#${n}](${url}/issues/${n})` : `#${n}`;
    });
  return `* ${scope}${linkIssues(c.description, url)}${link}${closes.length > 0 ? `, closes ${closes.join(" ")}` : ""}`;
}

function noteLine(scope: string | undefined, text: string, url: string | undefined): string {
  const [first = "", ...rest] = linkIssues(text, url).split("\n");
  const continuation = rest.map((l) => (l === "" ? "" : `  ${l}`));
  return [`* ${scope ? `**${scope}:** ` : ""}${first}`, ...continuation].join("\n");
}

/** Renders one release section (ends with a newline). `commits` are newest first. */
export function renderChangelogSection(
  ctx: ChangelogContext,
  commits: readonly ConsideredCommit[],
  types: readonly CommitTypeRule[],
): string {
  const url = ctx.repositoryUrl;
  const title =
    url && ctx.previousTag ? `[${ctx.version}](${url}/compare/${ctx.previousTag}...${ctx.tag})` : ctx.version;
  const blocks: string[] = [];
  const notes = commits.flatMap((c) => c.breaking.map((text) => noteLine(c.scope, text, url)));
  if (notes.length > 0) blocks.push(`### ⚠ BREAKING CHANGES\n\n${notes.join("\n")}\n`);
  const sections: string[] = [];
  for (const section of new Set(types.map((t) => t.section))) {
    const inSection = commits
      .filter((c) => c.section === section && !c.hidden)
      .sort(
        (a, b) => (a.scope ?? "").localeCompare(b.scope ?? "") || a.description.localeCompare(b.description),
      );
    if (inSection.length > 0)
      sections.push(`### ${section}\n\n${inSection.map((c) => commitLine(c, url)).join("\n")}\n`);
  }
  // Types outside the configured list are hidden (see classify.ts), so they never reach here.
  if (sections.length > 0) blocks.push(sections.join("\n\n"));
  const head = `## ${title} (${ctx.date})\n`;
  return blocks.length > 0 ? `${head}\n\n${blocks.join("\n")}` : head;
}

export interface ChangelogInsertion {
  /** Character offset where the section goes; everything before and after stays byte-identical. */
  at: number;
  text: string;
}

/**
 * Where and what to insert into an existing CHANGELOG: before the first `## ` heading (the newest
 * release), or at the end when there is none yet.
 */
export function planChangelogInsertion(existing: string, section: string): ChangelogInsertion {
  const match = /^## /m.exec(existing);
  if (match) return { at: match.index, text: `${section}\n` };
  if (existing === "") return { at: 0, text: `# Changelog\n\n${section}` };
  const sep = existing.endsWith("\n\n") ? "" : existing.endsWith("\n") ? "\n" : "\n\n";
  return { at: existing.length, text: `${sep}${section}` };
}

/** Applies an insertion. */
export function applyChangelogInsertion(existing: string, insertion: ChangelogInsertion): string {
  return existing.slice(0, insertion.at) + insertion.text + existing.slice(insertion.at);
}

/** The newest release section of a CHANGELOG (from the first `## ` to the next), for release notes. */
export function topChangelogSection(content: string): string | undefined {
  const start = /^## /m.exec(content);
  if (!start) return undefined;
  const rest = content.slice(start.index + 3);
  const next = /^## /m.exec(rest);
  const section = content.slice(start.index, next ? start.index + 3 + next.index : content.length);
  return `${section.replace(/\n+$/, "")}\n`;
}
