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
}

export type ParsedCommit = ConventionalCommit | NonConventionalCommit;

const headerPattern = /^(?<type>[A-Za-z][A-Za-z0-9_-]*)(?:\((?<scope>[^()]*)\))?(?<bang>!)?:(?<rest>.*)$/;
/** A footer line: a word token (`-` for spaces) or `BREAKING CHANGE`, then `: ` or ` #`. */
const footerPattern = /^(?<token>BREAKING CHANGE|[A-Za-z0-9][A-Za-z0-9-]*)(?<sep>: | #)(?<value>.*)$/;
/**
 * An upper-case breaking token and its colon, whatever follows: git strips the trailing space of
 * `BREAKING CHANGE: ` when the text starts on the next line, and a breaking change must never be
 * missed, so this form counts too (the value is then the following lines).
 */
const breakingLinePattern = /^(?<token>BREAKING CHANGE|BREAKING-CHANGE):(?<value>.*)$/;
const revertsPattern = /This reverts commit (?<sha>[0-9a-f]{7,40})\b/i;
const gitRevertHeader = /^Revert "(?<header>.*)"$/;

/** Is this footer token a breaking-change marker? Only the exact uppercase forms count (§12, §15, §16). */
export function isBreakingToken(token: string): boolean {
  return token === "BREAKING CHANGE" || token === "BREAKING-CHANGE";
}

/** Parses one full commit message (header, body, footers). */
export function parseCommitMessage(message: string): ParsedCommit {
  const lines = message.replace(/\r\n/g, "\n").replace(/\n+$/, "").split("\n");
  const header = lines[0] ?? "";
  const rest = lines.slice(1);
  const revertSha = revertsPattern.exec(rest.join("\n"))?.groups?.sha?.toLowerCase();
  const m = headerPattern.exec(header);
  if (!m?.groups) {
    const gitRevert = gitRevertHeader.exec(header);
    if (gitRevert?.groups) {
      return {
        conventional: false,
        reason: 'git revert header `Revert "…"` (read as type revert)',
        revertedHeader: gitRevert.groups.header,
        ...(revertSha ? { reverts: revertSha } : {}),
      };
    }
    return { conventional: false, reason: headerReason(header) };
  }
  const { type = "", scope, bang, rest: afterColon = "" } = m.groups;
  if (scope !== undefined && scope.trim() === "") {
    return { conventional: false, reason: "empty scope `()`: write a noun or drop the parentheses (§4)" };
  }
  if (!afterColon.startsWith(" ")) {
    return { conventional: false, reason: "no space after the colon: `type: description` (§1)" };
  }
  const description = afterColon.slice(1);
  if (description.trim() === "" || /^\s/.test(description)) {
    return {
      conventional: false,
      reason: "the description must follow the colon and one space directly (§5)",
    };
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
    warnings,
  };
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
      separator: g.sep as CommitFooter["separator"],
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
 * The footer section starts at the first paragraph whose first line is a footer (`Token: ` /
 * `Token #`), or at a `BREAKING CHANGE:` line anywhere, so a breaking change is never missed; each
 * footer's value runs until the next footer line (§10).
 */
function splitBodyAndFooters(lines: string[]): { body: string; footers: CommitFooter[]; warnings: string[] } {
  const warnings: string[] = [];
  let start = lines.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const paragraphStart = i === 0 || (lines[i - 1] ?? "").trim() === "";
    const token = readFooterLine(line)?.token;
    if (token && (paragraphStart || isBreakingToken(token))) {
      if (!paragraphStart)
        warnings.push(`\`${token}:\` footer without a blank line before it; read as a footer`);
      start = i;
      break;
    }
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
