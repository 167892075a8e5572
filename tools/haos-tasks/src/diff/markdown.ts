import type { Danger } from "./dangers.ts";
import type { AppDiff, DiffResult, ResourceChange } from "./diff.ts";

/** First line of every rendered diff: how the sticky PR comment is found again. */
export const DIFF_MARKER = "<!-- haos-tasks-diff -->";
/** The marker of earlier versions: a comment carrying it is taken over (updated), not duplicated. */
export const LEGACY_DIFF_MARKERS = ["<!-- haos-tasks:diff -->"];

/** GitHub rejects comments above 65,536 characters; stay clear of it with the notes we add. */
export const DEFAULT_MAX_CHARS = 60_000;
/** A job summary may hold 1 MiB: the full diff goes there, capped below that. */
export const SUMMARY_MAX_CHARS = 900_000;

/**
 * The Markdown cap from `--max-chars` / the `max-chars` input (default when empty), or the reason
 * it is not one: a whole number of characters ≥ 1000. The edges name the setting.
 */
export function parseMaxChars(value: string | undefined): number | { problem: string } {
  if (value === undefined || value === "") return DEFAULT_MAX_CHARS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1000) {
    return { problem: `must be a whole number of characters ≥ 1000 (got '${value}')` };
  }
  return n;
}
/** Longest diff shown for one resource before it is cut. */
export const DEFAULT_MAX_LINES_PER_RESOURCE = 300;

export interface MarkdownOptions {
  maxChars?: number;
  maxLinesPerResource?: number;
  /** Where the full diff is when this one is cut (e.g. the job summary and artifact); default: the command that prints it. */
  fullDiff?: string;
}

const short = (sha: string) => sha.slice(0, 7);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** A code fence longer than any backtick run in `text`, so manifests cannot break out of it. */
function fence(text: string, lang: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${lang}\n${text.endsWith("\n") ? text : `${text}\n`}${ticks}\n`;
}

/** Inline code that survives backticks in the text. */
function code(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return longest > 0 ? `${ticks} ${text} ${ticks}` : `${ticks}${text}${ticks}`;
}

/** One line of Markdown text: no line breaks, no HTML, no table pipes from the data. */
function inline(text: string): string {
  return text
    .replace(/\s*\n\s*/g, " ")
    .replace(/[<>]/g, (c) => (c === "<" ? "&lt;" : "&gt;"))
    .replace(/\|/g, "\\|");
}

export function counts(app: Pick<AppDiff, "resources">): Record<ResourceChange["change"], number> {
  const c = { added: 0, changed: 0, removed: 0 };
  for (const r of app.resources) c[r.change] += 1;
  return c;
}

function cutLines(diff: string, maxLines: number): { text: string; cut: number } {
  const lines = diff.split("\n");
  if (lines.length <= maxLines) return { text: diff, cut: 0 };
  return { text: lines.slice(0, maxLines).join("\n"), cut: lines.length - maxLines };
}

const statusText = (app: AppDiff) =>
  app.status === "error"
    ? "❌ does not render at head"
    : app.errors.length > 0
      ? "renders again"
      : app.status;

/** A GitHub alert per danger (CAUTION: each is a change that can fail the apply, lose data or stop the app). */
export function dangerAlert(d: Danger): string {
  const where = d.field ? ` ${code(d.field)}` : "";
  const owner = d.owner && d.owner !== d.object ? ` (rendered by ${code(d.owner)})` : "";
  return `> [!CAUTION]\n> **${d.code}** · ${code(d.object)}${where}${owner}: ${inline(d.message)}\n> **What to do:** ${inline(d.hint)}\n\n`;
}

function list(items: readonly string[], max = 10): string {
  return items.length > max
    ? `${items.slice(0, max).join("; ")}; and ${items.length - max} more`
    : items.join("; ");
}

/**
 * Renders a diff result as the Markdown of the sticky PR comment (and the job summary): the
 * marker, a summary line (+added ·changed ·−removed), the dangers first as GitHub alerts, one line
 * per HelmRelease, a table of owners, their render failures, then one collapsible block per kind.
 * Output stays within `maxChars`: whatever is cut is named at the end with where the full diff is.
 */
export function renderDiffMarkdown(result: DiffResult, options: MarkdownOptions = {}): string {
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  const maxLines = options.maxLinesPerResource ?? DEFAULT_MAX_LINES_PER_RESOURCE;
  const rerun = `haos-tasks diff --base ${result.base.sha} --head ${result.head.sha}`;
  const fullDiff = options.fullDiff ?? `\`${rerun}\``;
  const reserve = 1200 + fullDiff.length; // room for the closing note
  const shown = result.apps.filter((a) => a.status !== "unchanged");
  const { added, changed, removed } = result.totals;
  const failing = result.apps.filter((a) => a.status === "error").length;
  const headline =
    shown.length === 0
      ? "no rendered changes"
      : `${plural(added + changed + removed, "object")} in ${plural(shown.length, "owner")}${failing > 0 ? `, ${failing} failing to render` : ""}`;
  let text = [
    DIFF_MARKER,
    `### haos-tasks diff: ${headline}`,
    "",
    `Base \`${short(result.base.sha)}\` → head \`${short(result.head.sha)}\` · ${plural(result.changedFiles, "file")} changed · searched ${result.paths.map((p) => `\`${p}\``).join(", ")}`,
    "",
    `**+${added} added · ~${changed} changed · −${removed} removed**${result.routine ? " · ✅ routine: only image and chart versions move" : ""}${result.dangers.length > 0 ? ` · ⚠️ ${plural(result.dangers.length, "danger")}` : ""}`,
    "",
    "",
  ].join("\n");
  if (result.apps.length === 0) {
    return `${text}No Flux Kustomization or kustomization is affected by the changed files.\n`;
  }
  const omitted: string[] = [];
  const truncated: string[] = [];
  const fits = (more: string) => text.length + more.length + reserve <= maxChars;
  const dangersLeft: Danger[] = [];
  for (const d of result.dangers) {
    const alert = dangerAlert(d);
    if (fits(alert)) text += alert;
    else dangersLeft.push(d);
  }
  if (dangersLeft.length > 0) {
    text += `> [!CAUTION]\n> ${plural(dangersLeft.length, "more danger")} not shown here (${inline(list(dangersLeft.map((d) => `${d.code} ${d.object}`)))}): see the full diff.\n\n`;
  }
  if (result.helmReleases.length > 0) {
    let block = "**HelmReleases**\n\n";
    let left = 0;
    for (const h of result.helmReleases) {
      const line = `- ${code(h.release)}: ${inline(h.line)}\n`;
      if (fits(block + line)) block += line;
      else left += 1;
    }
    if (left > 0) block += `- … and ${plural(left, "more HelmRelease")} (see the full diff)\n`;
    text += `${block}\n`;
  }
  let table = "| owner | path | status | added | changed | removed |\n|---|---|---|---:|---:|---:|\n";
  let rowsLeft = 0;
  for (const app of result.apps) {
    const c = counts(app);
    const row = `| ${code(app.owner.id)} | ${code(app.path)} | ${statusText(app)} | ${c.added} | ${c.changed} | ${c.removed} |\n`;
    if (fits(table + row)) table += row;
    else rowsLeft += 1;
  }
  if (rowsLeft > 0) table += `| … and ${plural(rowsLeft, "more owner")} | | | | | |\n`;
  text += `${table}\n`; // a blank line ends the table before what follows
  for (const app of result.apps) {
    for (const error of app.errors) {
      const block = `**${code(app.owner.id)}: ${error.side} does not render:**\n\n${fence(cutLines(error.message, 40).text, "text")}\n`;
      if (fits(block)) text += block;
      else omitted.push(`${app.owner.id}: ${error.side} render error`);
    }
  }
  const byKind = new Map<string, ResourceChange[]>();
  for (const app of result.apps)
    for (const r of app.resources) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r]);
  for (const kind of [...byKind.keys()].sort()) {
    const resources = byKind.get(kind) ?? [];
    const c = counts({ resources });
    const parts = [
      c.added > 0 ? `+${c.added} added` : "",
      c.changed > 0 ? `~${c.changed} changed` : "",
      c.removed > 0 ? `−${c.removed} removed` : "",
    ].filter(Boolean);
    const open = `<details><summary><b>${inline(kind)}</b>: ${parts.join(" · ")}</summary>\n\n`;
    const close = "</details>\n\n";
    let body = "";
    for (const r of resources) {
      const { text: diff, cut } = cutLines(r.diff, maxLines);
      const paths =
        r.paths.length > 0
          ? ` · ${inline(
              list(
                r.paths.map((p) => code(p)),
                8,
              ),
            )}`
          : "";
      const block = `${code(r.key)} (${r.change} · ${code(r.owner)}${paths})\n\n${fence(diff, "diff")}${cut > 0 ? `_… ${cut} more lines cut._\n` : ""}\n`;
      if (!fits(open + body + block + close)) {
        omitted.push(`${r.owner}: ${r.key}`);
        continue;
      }
      if (cut > 0) truncated.push(`${r.key} (${cut} lines)`);
      body += block;
    }
    if (body === "") continue;
    text += open + body + close;
  }
  if (omitted.length > 0 || truncated.length > 0 || dangersLeft.length > 0) {
    text += "> [!NOTE]\n";
    if (omitted.length > 0) {
      text += `> Output capped at ${maxChars.toLocaleString("en-US")} characters: ${plural(omitted.length, "object diff")} not shown (${inline(list(omitted))}).\n`;
    }
    if (dangersLeft.length > 0) text += `> ${plural(dangersLeft.length, "danger")} not shown above.\n`;
    if (truncated.length > 0) {
      text += `> Diffs longer than ${maxLines} lines were cut: ${inline(list(truncated))}.\n`;
    }
    text += `> Full diff: ${fullDiff}\n`;
  }
  // The reserve covers the closing note; a note longer than it (very long names) is cut too.
  if (text.length > maxChars)
    text = `${text.slice(0, maxChars - 80)}\n\n_… cut at ${maxChars} characters._\n`;
  return text;
}
