/**
 * Renders a release's CHANGELOG section in release-please's format and inserts it above the
 * newest existing release (below Keep a Changelog's Unreleased), leaving every existing byte in place.
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

function linkIssues(text: string, url: string | undefined): string {
  return url
    ? text.replace(issueRef, (_m, pre: string, n: string) => `${pre}[#${n}](${url}/issues/${n})`)
    : text;
}

function commitLine(c: ConsideredCommit, url: string | undefined): string {
  const scope = c.scope ? `**${c.scope}:** ` : "";
  const short = c.sha.slice(0, 7);
  const link = url ? ` ([${short}](${url}/commit/${c.sha}))` : ` (${short})`;
  // The preset drops references the subject already links (writer-opts.js transform).
  const inSubject = new Set([...c.description.matchAll(/#(\d+)/g)].map((m) => Number(m[1])));
  const closes = c.closes
    .filter((n) => !inSubject.has(n))
    .map((n) => (url ? `[#${n}](${url}/issues/${n})` : `#${n}`));
  return `* ${scope}${linkIssues(c.description, url)}${link}${closes.length > 0 ? `, closes ${closes.join(" ")}` : ""}`;
}

function noteLine(scope: string | undefined, text: string, url: string | undefined): string {
  const [first = "", ...rest] = linkIssues(text, url).split("\n");
  const continuation = rest.map((l) => (l === "" ? "" : `  ${l}`));
  return [`* ${scope ? `**${scope}:** ` : ""}${first}`, ...continuation].join("\n");
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

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
    // A breaking change of a hidden type (`refactor!:`) is listed in its type's section too: the
    // conventionalcommits preset's transform keeps any commit with notes ("breaking changes
    // attached to any type are still displayed") and files it under its type's section.
    // Order: scope, then subject, by code unit as compare-func's `<` does (not locale order); a
    // commit without scope sorts first (the preset compares null scopes as equal to any, which
    // makes its order depend on the input order: a deliberate difference, see --help).
    const inSection = commits
      .filter((c) => c.section === section && (!c.hidden || c.breaking.length > 0))
      .sort((a, b) => byCodeUnit(a.scope ?? "", b.scope ?? "") || byCodeUnit(a.description, b.description));
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

interface Heading {
  at: number;
  line: string;
}

/**
 * The `## ` headings of a Markdown file with their offsets, skipping fenced code blocks: a `## x`
 * line in an example inside the intro is not a release.
 */
function sectionHeadings(content: string): Heading[] {
  const headings: Heading[] = [];
  let fence: string | undefined;
  let at = 0;
  for (const raw of content.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      // CommonMark: the closing fence has the opening character, at least as many, and nothing else.
      const closes =
        marker !== undefined &&
        marker[0] === fence[0] &&
        marker.length >= fence.length &&
        /^ {0,3}[`~]+\s*$/.test(line);
      if (closes) fence = undefined;
    } else if (marker) {
      fence = marker;
    } else if (line.startsWith("## ")) {
      headings.push({ at, line });
    }
    at += raw.length + 1;
  }
  return headings;
}

/** Keep a Changelog's `## [Unreleased]` collects changes to come; releases go below it. */
const isUnreleased = (heading: Heading) => /^## +\[?unreleased\b/i.test(heading.line);

/**
 * Where and what to insert into an existing CHANGELOG: before the first release heading (the first
 * `## ` outside code blocks that is not Unreleased), or at the end when there is none yet, in the
 * file's own line ending.
 */
export function planChangelogInsertion(existing: string, section: string): ChangelogInsertion {
  const eol = /\r?\n/.exec(existing)?.[0] ?? "\n";
  const own = (text: string) => text.replace(/\r?\n/g, eol);
  const newest = sectionHeadings(existing).find((h) => !isUnreleased(h));
  if (newest) return { at: newest.at, text: own(`${section}\n`) };
  if (existing === "") return { at: 0, text: `# Changelog\n\n${section}` };
  const sep = existing.endsWith(eol + eol) ? "" : existing.endsWith(eol) ? eol : eol + eol;
  return { at: existing.length, text: `${sep}${own(section)}` };
}

/** Applies an insertion. */
export function applyChangelogInsertion(existing: string, insertion: ChangelogInsertion): string {
  return existing.slice(0, insertion.at) + insertion.text + existing.slice(insertion.at);
}

/**
 * The newest release section of a CHANGELOG (from the first release heading to the next `## `),
 * with LF line endings, for release notes.
 */
export function topChangelogSection(content: string): string | undefined {
  const headings = sectionHeadings(content);
  const index = headings.findIndex((h) => !isUnreleased(h));
  const start = headings[index];
  if (!start) return undefined;
  const section = content.slice(start.at, headings[index + 1]?.at ?? content.length).replace(/\r\n/g, "\n");
  return `${section.replace(/\n+$/, "")}\n`;
}
