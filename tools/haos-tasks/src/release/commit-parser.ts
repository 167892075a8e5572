/**
 * Conventional Commits 1.0.0 (https://www.conventionalcommits.org/en/v1.0.0/), complete: header
 * `type(scope)!: description`, a body of any number of paragraphs, footers in git-trailer form
 * (`Token: value` or `Token #value`), `BREAKING CHANGE` / `BREAKING-CHANGE` (uppercase only), plus
 * what release tools read on top of the spec: `Release-As:` and reverts.
 */
export interface CommitFooter {
  /** As written, e.g. `Reviewed-by`, `BREAKING CHANGE`. */
  token: string;
  separator: ": " | " #";
  /** Value with continuation lines joined by `\n`, trailing blank lines removed. */
  value: string;
}

export interface ConventionalCommit {
  conventional: true;
  /** Lower-cased: types are case-insensitive (§15). */
  type: string;
  scope?: string;
  description: string;
  body?: string;
  footers: CommitFooter[];
  /** `!` before the colon (§13). */
  bang: boolean;
  /** Breaking-change descriptions: the footers' values, or the description when only `!` says so. */
  breaking: string[];
  /** `Release-As:` footer value, as written. */
  releaseAs?: string;
  /** The commit this one reverts (full or abbreviated SHA), from `This reverts commit <sha>`. */
  reverts?: string;
  /** The pull request this one reverts, from GitHub's `Reverts owner/repo#122` body line. */
  revertsPullRequest?: number;
  /**
   * Issues this commit references, rendered as release-please's `, closes #n`: from footers only
   * (the trailing footer block), each footer whose value is one issue number after ` #` or `: #`
   * (`Fixes #1716`, `Refs: #2`), whatever its token, as release-please's toConventionalChangelogFormat
   * reads them. `Resolves #967` in the middle of a body is body text and references nothing.
   */
  closes: number[];
  /**
   * More Conventional Commits carried in this one's message, as release-please splits them
   * (src/commit.ts splitMessages and footer splitting): paragraphs that start with
   * `type(scope): ` (release-please ≥ 16.14), `BEGIN_NESTED_COMMIT` … `END_NESTED_COMMIT` blocks, and
   * footers of the form `type(scope)!: text`, as squash merges of several commits write them.
   */
  nested: ConventionalCommit[];
  /**
   * For a carried commit: which part of the message it came from (0 = the header's own part, then
   * the split paragraphs and nested blocks in order) and whether it was a footer of that part.
   * release-please lists a part's footer commits before the part itself (toConventionalChangelogFormat).
   */
  carried?: { part: number; footer: boolean };
  /** Things a reader should know about how the message was read (e.g. a lower-case breaking token). */
  warnings: string[];
}

export interface NonConventionalCommit {
  conventional: false;
  /** Why the message is not a Conventional Commit, naming the rule. */
  reason: string;
  /** Git's own revert form `Revert "<header>"`, which release tools treat as type `revert`. */
  reverts?: string;
  revertedHeader?: string;
  /** GitHub's squash-merged revert: `Revert "fix: x" (#123)` with `Reverts owner/repo#122` in the body. */
  revertsPullRequest?: number;
  /** The header carries GitHub's squash-merge suffix ` (#123)`: a pull request merged on GitHub. */
  github?: boolean;
}

export type ParsedCommit = ConventionalCommit | NonConventionalCommit;

const headerPattern = /^(?<type>[A-Za-z][A-Za-z0-9_-]*)(?:\((?<scope>[^()]*)\))?(?<bang>!)?:(?<rest>.*)$/;
/**
 * A footer line: a word token (`-` for spaces), optionally with a scope and `!` as
 * @conventional-commits/parser's `<token>` allows (so a squashed `fix(api)!: x` is one), or
 * `BREAKING CHANGE`, then `: ` or ` #`.
 */
const footerPattern =
  /^(?<token>BREAKING CHANGE|[A-Za-z0-9][A-Za-z0-9-]*(?:\([^()\n]+\))?!?)(?<sep>:[ \t]+| #)(?<value>.*)$/;
/**
 * An upper-case breaking token and its colon, whatever follows: git strips the trailing space of
 * `BREAKING CHANGE: ` when the text starts on the next line, and a breaking change must never be
 * missed, so this form counts too (the value is then the following lines).
 */
const breakingLinePattern = /^(?<token>BREAKING CHANGE|BREAKING-CHANGE):(?<value>.*)$/;
const revertsPattern = /This reverts commit (?<sha>[0-9a-f]{7,40})\b/i;
/** `Revert "<header>"`, as git writes it, with the ` (#123)` GitHub appends when squash-merging. */
const gitRevertHeader = /^Revert "(?<header>.*)"(?<pr>\s+\(#\d+\))?$/;
/** GitHub's revert pull request body: `Reverts owner/repo#122` (or `Reverts #122`). */
const revertsPullRequestPattern = /^Reverts (?:[\w.-]+\/[\w.-]+)?#(?<pr>\d+)\s*$/m;
/**
 * release-please ≥ 16.14's splitMessages: a paragraph that starts with one of the preset's types and
 * `(scope): ` (no `!`) is a commit of its own (`feat: add x` / `* wip` / `feat: return y`).
 */
const conventionalParagraph =
  /\r?\n\r?\n(?=(?:feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert)(?:\(.*?\))?: )/;
const NESTED_BEGIN = "BEGIN_NESTED_COMMIT";
const NESTED_END = "END_NESTED_COMMIT";

/**
 * release-please's splitMessages (src/commit.ts): each `BEGIN_NESTED_COMMIT` … `END_NESTED_COMMIT`
 * block is a message of its own; the text outside the blocks stays the outer message.
 */
export function splitNestedMessages(message: string): string[] {
  const parts = message.split(NESTED_BEGIN);
  const messages = [parts.shift() ?? ""];
  for (const part of parts) {
    const [inner = "", ...rest] = part.split(NESTED_END);
    messages.push(inner.trim());
    messages[0] += rest.join("");
  }
  return messages;
}

/** Is this footer token a breaking-change marker? Only the exact uppercase forms count (§12, §15, §16). */
export function isBreakingToken(token: string): boolean {
  return token === "BREAKING CHANGE" || token === "BREAKING-CHANGE";
}

/**
 * Parses one full commit message (header, body, footers), and the commits carried in it as
 * release-please's splitMessages finds them: the text outside BEGIN_NESTED_COMMIT blocks split at
 * paragraphs that start a conventional header, then each nested block.
 */
export function parseCommitMessage(message: string): ParsedCommit {
  const [outer = "", ...blocks] = message.includes(NESTED_BEGIN) ? splitNestedMessages(message) : [message];
  const [head = "", ...paragraphs] = outer.split(conventionalParagraph).filter((part) => part !== "");
  const parsed = parseOneMessage(head);
  if (parsed.conventional) {
    for (const [i, text] of [...paragraphs, ...blocks].entries()) {
      const n = parseOneMessage(text);
      if (!n.conventional) continue;
      const footers = n.nested.splice(0).map((f) => ({ ...f, carried: { part: i + 1, footer: true } }));
      parsed.nested.push({ ...n, carried: { part: i + 1, footer: false } }, ...footers);
    }
  }
  return parsed;
}

function parseOneMessage(message: string): ParsedCommit {
  const lines = message.replace(/\r\n/g, "\n").replace(/\n+$/, "").split("\n");
  const header = lines[0] ?? "";
  const rest = lines.slice(1);
  const restText = rest.join("\n");
  const revertSha = revertsPattern.exec(restText)?.groups?.sha?.toLowerCase();
  const revertPr = revertsPullRequestPattern.exec(restText)?.groups?.pr;
  const m = headerPattern.exec(header);
  if (!m?.groups) {
    const gitRevert = gitRevertHeader.exec(header);
    if (gitRevert?.groups) {
      return {
        conventional: false,
        reason: 'git revert header `Revert "…"` (read as type revert)',
        revertedHeader: gitRevert.groups.header,
        ...(gitRevert.groups.pr ? { github: true } : {}),
        ...(revertSha ? { reverts: revertSha } : {}),
        ...(revertPr ? { revertsPullRequest: Number(revertPr) } : {}),
      };
    }
    return { conventional: false, reason: headerReason(header) };
  }
  const { type = "", scope, bang, rest: afterColon = "" } = m.groups;
  if (scope !== undefined && scope.trim() === "") {
    return { conventional: false, reason: "empty scope `()`: write a noun or drop the parentheses (§4)" };
  }
  if (!/^[ \t]/.test(afterColon)) {
    return { conventional: false, reason: "no space after the colon: `type: description` (§1)" };
  }
  // `feat:  pass` (two spaces) is accepted by release-please (@conventional-commits/parser reads
  // `":" <whitespace>* <text>`) and by git-cliff; the description starts after the whitespace.
  const description = afterColon.replace(/^[ \t]+/, "").replace(/\s+$/, "");
  if (description === "") {
    return { conventional: false, reason: "the description must follow the colon and a space (§5)" };
  }
  const adjacent = rest.length > 0 && (rest[0] ?? "").trim() !== "";
  // Without the blank line the message is not a Conventional Commit (§6), but dropping it would
  // lose a breaking change, so one that carries a BREAKING CHANGE footer is read anyway.
  if (adjacent && !rest.some((line) => breakingLinePattern.test(line))) {
    return {
      conventional: false,
      reason: "line 2 must be blank: the body starts one blank line after the header (§6)",
    };
  }
  const { body, footers, warnings } = splitBodyAndFooters(adjacent ? rest : rest.slice(1));
  if (adjacent) {
    warnings.unshift(
      "line 2 must be blank (§6); read as body and footers because it has a BREAKING CHANGE footer",
    );
  }
  const breaking = footers.filter((f) => isBreakingToken(f.token)).map((f) => f.value || description);
  if (breaking.length === 0 && bang) breaking.push(description);
  const releaseAs = footers.find((f) => f.token.toLowerCase() === "release-as")?.value.trim();
  return {
    conventional: true,
    type: type.toLowerCase(),
    ...(scope !== undefined ? { scope } : {}),
    description,
    ...(body ? { body } : {}),
    footers,
    bang: Boolean(bang),
    breaking,
    ...(releaseAs ? { releaseAs } : {}),
    ...(revertSha ? { reverts: revertSha } : {}),
    ...(revertPr ? { revertsPullRequest: Number(revertPr) } : {}),
    // Fast paths: most messages have no `#` reference and no footers.
    closes: restText.includes("#") ? referencedIssues(footers) : [],
    nested: footers.length > 0 ? nestedFromFooters(footers) : [],
    warnings,
  };
}

/**
 * Issue numbers referenced by footers as release-please reads them: a footer whose value is one
 * number after ` #` (`Fixes #12`) or starts with `#` after `: ` (`Refs: #3`); `Closes #1, #2` is
 * not a number, so it references nothing (src/commit.ts, NUMBER_REGEX).
 */
function referencedIssues(footers: readonly CommitFooter[]): number[] {
  const found: number[] = [];
  for (const f of footers) {
    if (isBreakingToken(f.token)) continue;
    const value = f.value.split("\n", 1)[0] ?? "";
    const issue = f.separator === " #" ? value : value.startsWith("#") ? value.slice(1) : undefined;
    if (issue !== undefined && /^[0-9]+$/.test(issue) && !found.includes(Number(issue)))
      found.push(Number(issue));
  }
  return found;
}

/**
 * Footers that are Conventional Commit headers themselves (`feat(api)!: add x`), read as commits of
 * their own as release-please does (src/commit.ts, "Split footers that resemble commits"). Trailers
 * such as `Reviewed-by: Z` parse too (type `reviewed-by`); classify keeps only configured types.
 */
function nestedFromFooters(footers: readonly CommitFooter[]): ConventionalCommit[] {
  const out: ConventionalCommit[] = [];
  for (const f of footers) {
    if (f.separator !== ": " || isBreakingToken(f.token)) continue;
    const [first = ""] = f.value.split("\n");
    const n = parseOneMessage(`${f.token}: ${first}`);
    if (n.conventional) out.push({ ...n, carried: { part: 0, footer: true } });
  }
  return out;
}

function headerReason(header: string): string {
  if (header.trim() === "") return "empty message";
  if (/^\s/.test(header)) return "the header starts with whitespace; it must start with the type (§1)";
  if (/^[A-Za-z][\w-]*(\([^)]*\))?!?\s+:/.test(header))
    return "space before the colon: `type: description` (§1)";
  if (/^[A-Za-z][\w-]*\([^)]*$/.test(header.split(":")[0] ?? "")) return "unclosed scope parenthesis (§4)";
  return "no `type: ` prefix (Conventional Commits 1.0.0 §1)";
}

/** A footer line's parts; `unspaced` for an upper-case breaking token with text glued to its colon. */
function readFooterLine(
  line: string,
): { token: string; separator: CommitFooter["separator"]; value: string; unspaced: boolean } | undefined {
  const g = footerPattern.exec(line)?.groups;
  if (g?.token && g.sep) {
    return {
      token: g.token,
      separator: g.sep === " #" ? " #" : ": ",
      value: g.value ?? "",
      unspaced: false,
    };
  }
  const b = breakingLinePattern.exec(line)?.groups;
  if (!b?.token) return undefined;
  const value = (b.value ?? "").trim();
  return { token: b.token, separator: ": ", value, unspaced: value !== "" && !/^\s/.test(b.value ?? "") };
}

/**
 * The footer section is the trailing run of footer lines (and their indented continuation lines),
 * as @conventional-commits/parser reads `<body>` up to a `<pre-footer>` that holds footers until
 * the end of the message: a `Resolves #967` paragraph in the middle of a body stays body text. A
 * `BREAKING CHANGE:` line anywhere starts the footers too, so a breaking change is never missed;
 * each footer's value runs until the next footer line (§10).
 */
function splitBodyAndFooters(lines: string[]): { body: string; footers: CommitFooter[]; warnings: string[] } {
  const warnings: string[] = [];
  let start = lines.length;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? "";
    if (readFooterLine(line)) start = i;
    // Trailing paragraphs made only of footers are all footers (`fixes #2173` / blank /
    // `Co-authored-by: …`), as @conventional-commits/parser reads them; a paragraph of prose
    // before them ends the footer block.
    else if (line.trim() === "" && start < lines.length) continue;
    else if (!(line.trim() !== "" && /^[ \t]/.test(line))) break;
  }
  const breakingAt = lines.findIndex(
    (line) => line.startsWith("BREAKING") && isBreakingToken(readFooterLine(line)?.token ?? ""),
  );
  if (breakingAt >= 0 && breakingAt < start) start = breakingAt;
  if (start === breakingAt && start > 0 && (lines[start - 1] ?? "").trim() !== "") {
    const token = readFooterLine(lines[start] ?? "")?.token;
    warnings.push(`\`${token}:\` footer without a blank line before it; read as a footer`);
  }
  const body = lines.slice(0, start).join("\n").replace(/\n+$/, "");
  const footers: CommitFooter[] = [];
  for (const line of lines.slice(start)) {
    const footer = readFooterLine(line);
    if (footer) {
      if (footer.unspaced)
        warnings.push(`\`${footer.token}:\` without a space after the colon; read as a footer`);
      footers.push({ token: footer.token, separator: footer.separator, value: footer.value });
    } else {
      const last = footers[footers.length - 1];
      if (last) last.value += `\n${line}`;
    }
  }
  for (const f of footers) {
    // A value that starts on the next line (`BREAKING CHANGE:` alone) has no first-line text.
    f.value = f.value.replace(/^[ \t]*\n+/, "").replace(/\n+$/, "");
    if (!isBreakingToken(f.token) && /^breaking[ -]change$/i.test(f.token)) {
      warnings.push(`footer \`${f.token}\` is not upper-case, so it is not a breaking change (§15)`);
    }
  }
  for (const line of body.split("\n")) {
    const marker = /^(breaking[ -]change)\s*:/i.exec(line)?.[1];
    if (marker && isBreakingToken(marker)) {
      warnings.push(
        `\`${marker} :\` has a space before the colon, so it is body text, not a breaking change (§12)`,
      );
    } else if (marker) {
      warnings.push("`breaking change:` in lower case is body text, not a breaking change (§12, §15)");
    }
  }
  return { body, footers, warnings };
}
