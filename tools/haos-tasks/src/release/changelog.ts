/**
 * Renders a release's CHANGELOG section in release-please's format and inserts it above the
 * newest existing release (below Keep a Changelog's Unreleased), leaving every existing byte in place.
 */
import { escapeControlCharacters } from "../control-characters.ts";
import type { ConsideredCommit } from "./classify.ts";
import type { CommitTypeRule } from "./config.ts";

/** How entries are written, beyond the types: release-please's plugins that change the notes. */
export interface ChangelogStyle {
  /** release-please's sentence-case plugin: each entry's first letter capitalised, then sorted. */
  sentenceCase?: boolean;
}

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

/** The preset's user links: `@name` → `[@name](https://github.com/name)` (not `@org/team`). */
function linkUsers(text: string, url: string | undefined): string {
  if (!url || !text.includes("@")) return text;
  const host = url.replace(/\/[^/]+\/[^/]+$/, "");
  return text.replace(/\B@([a-z0-9](?:-?[a-z0-9/]){0,38})/g, (m, user: string) =>
    user.includes("/") ? m : `[@${user}](${host}/${user})`,
  );
}

/** release-please's htmlEscape of the subject: `<` and `>` outside code spans. */
const htmlEscape = (text: string) =>
  text.replace(/``[^`].*[^`]``|`[^`]*`|<|>/g, (m) => (m.length > 1 ? m : m === "<" ? "&lt;" : "&gt;"));

/**
 * release-please's sentence-case plugin (plugins/sentence-case.ts): the subject's first letter
 * upper-cased when it is a-z, unless the whole subject is one of its special words.
 */
function sentenceCase(text: string): string {
  if (text === "gRPC" || text === "npm" || !/^[a-z]/.test(text)) return text;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** An entry's subject as the changelog writer sees it: cased, escaped, issues and users linked. */
function subjectOf(c: ConsideredCommit, url: string | undefined, style: ChangelogStyle): string {
  const text = style.sentenceCase ? sentenceCase(c.description) : c.description;
  return linkUsers(linkIssues(htmlEscape(text), url), url);
}

function commitLine(c: ConsideredCommit, subject: string, url: string | undefined): string {
  const scope = c.scope ? `**${c.scope}:** ` : "";
  const short = c.sha.slice(0, 7);
  const link = c.sha === "" ? "" : url ? ` ([${short}](${url}/commit/${c.sha}))` : ` (${short})`;
  // The preset drops references the subject already links (writer-opts.js transform).
  const inSubject = new Set([...c.description.matchAll(/#(\d+)/g)].map((m) => Number(m[1])));
  const closes = c.closes
    .filter((n) => !inSubject.has(n))
    .map((n) => (url ? `[#${n}](${url}/issues/${n})` : `#${n}`));
  return `* ${scope}${subject}${link}${closes.length > 0 ? `, closes ${closes.join(" ")}` : ""}`;
}

function noteLine(scope: string | undefined, text: string, url: string | undefined): string {
  const [first = "", ...rest] = linkIssues(text, url).split("\n");
  const continuation = rest.map((l) => (l === "" ? "" : `  ${l}`));
  return [`* ${scope ? `**${scope}:** ` : ""}${first}`, ...continuation].join("\n");
}

interface Entry {
  commit: ConsideredCommit;
  scope: string | null;
  subject: string;
}

/**
 * The preset's commitsSort `['scope', 'subject']` as conventional-changelog-writer (release-please's
 * v6) applies it: scope and subject concatenated (a missing scope as ''), compared with
 * localeCompare — `apple` before `Zebra`, `` `messages.ts` `` before `additionalOptions` before
 * `DEFAULT_UNIVERSE`, and `**a:** one` between `additionalOptions` and `apple` ("aone").
 */
const sortKey = (e: Entry) => `${e.scope ?? ""}${e.subject}`;
const compareEntries = (a: Entry, b: Entry) => sortKey(a).localeCompare(sortKey(b));

/** Whether the preset lists a commit: a visible type, a breaking change, or a Release-As footer. */
const listed = (c: ConsideredCommit) => !c.hidden || c.breaking.length > 0 || c.releaseAs !== undefined;

/**
 * Renders one release section (ends with a newline). `commits` are newest first. Control characters
 * from commits (an ESC sequence, a BEL in a subject) are written as visible `\x1b` escapes: the
 * section becomes CHANGELOG.md and the GitHub release body, and is printed by `release plan`.
 */
export function renderChangelogSection(
  ctx: ChangelogContext,
  commits: readonly ConsideredCommit[],
  types: readonly CommitTypeRule[],
  style: ChangelogStyle = {},
): string {
  const url = ctx.repositoryUrl;
  const title =
    url && ctx.previousTag ? `[${ctx.version}](${url}/compare/${ctx.previousTag}...${ctx.tag})` : ctx.version;
  const blocks: string[] = [];
  // release-please's input order (classify.ts `listed`): the writer's notes keep it (its notesSort
  // compares note objects, which never reorders them) and its commitsSort starts from it.
  const ordered = [...commits].sort((a, b) => a.listed - b.listed);
  const notes = ordered.flatMap((c) => c.breaking.map((text) => noteLine(c.scope, text, url)));
  if (notes.length > 0) blocks.push(`### ⚠ BREAKING CHANGES\n\n${notes.join("\n")}\n`);
  // Groups in order of first appearance, then ranked by the types' section order (the preset's
  // commitGroupsSort, a stable sort: a section outside the list ranks -1, first). A breaking
  // change of a hidden type (`refactor!:`) is listed in its type's section too: the preset's
  // transform keeps any commit with notes, and any with a Release-As footer.
  const groups = new Map<string, Entry[]>();
  for (const c of ordered) {
    if (!listed(c)) continue;
    const entry = {
      commit: c,
      scope: c.scope === "*" ? "" : (c.scope ?? null),
      subject: subjectOf(c, url, style),
    };
    const group = groups.get(c.section);
    if (group) group.push(entry);
    else groups.set(c.section, [entry]);
  }
  const order = [...new Set(types.map((t) => t.section))];
  const sections = [...groups.entries()]
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .map(([section, entries]) => {
      entries.sort(compareEntries);
      return `### ${section}\n\n${entries.map((e) => commitLine(e.commit, e.subject, url)).join("\n")}\n`;
    });
  if (sections.length > 0) blocks.push(sections.join("\n\n"));
  const head = `## ${title} (${ctx.date})\n`;
  return escapeControlCharacters(blocks.length > 0 ? `${head}\n\n${blocks.join("\n")}` : head);
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
