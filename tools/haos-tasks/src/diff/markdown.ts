import type { AppDiff, DiffResult, ResourceChange } from "./diff.ts";

/** First line of every rendered diff: how the CI workflow finds its own PR comment to update. */
export const DIFF_MARKER = "<!-- haos-tasks:diff -->";

/** GitHub rejects comments above 65,536 characters; stay clear of it with the notes we add. */
export const DEFAULT_MAX_CHARS = 60_000;

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
}

const short = (sha: string) => sha.slice(0, 7);

/** A code fence longer than any backtick run in `text`, so manifests cannot break out of it. */
function fence(text: string, lang: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${lang}\n${text.endsWith("\n") ? text : `${text}\n`}${ticks}\n`;
}

function counts(app: AppDiff): Record<ResourceChange["change"], number> {
  const c = { added: 0, changed: 0, removed: 0 };
  for (const r of app.resources) c[r.change] += 1;
  return c;
}

function cutLines(diff: string, maxLines: number): { text: string; cut: number } {
  const lines = diff.split("\n");
  if (lines.length <= maxLines) return { text: diff, cut: 0 };
  return { text: lines.slice(0, maxLines).join("\n"), cut: lines.length - maxLines };
}

/**
 * Renders a diff result as the Markdown of the sticky PR comment (and the job summary): a marker
 * line, a table of apps, then a collapsible section per app with one `diff` block per resource.
 * Output is capped at `maxChars`; whatever is cut is named at the end, never dropped silently.
 */
export function renderDiffMarkdown(result: DiffResult, options: MarkdownOptions = {}): string {
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  const maxLines = options.maxLinesPerResource ?? DEFAULT_MAX_LINES_PER_RESOURCE;
  const shown = result.apps.filter((a) => a.status !== "unchanged");
  const head = [
    DIFF_MARKER,
    `### haos-tasks diff: ${shown.length === 0 ? "no rendered changes" : `${shown.length} app${shown.length === 1 ? "" : "s"} changed`}`,
    "",
    `Base \`${short(result.base.sha)}\` → head \`${short(result.head.sha)}\` · ${result.changedFiles} file${result.changedFiles === 1 ? "" : "s"} changed · searched ${result.paths.map((p) => `\`${p}\``).join(", ")}`,
    "",
  ];
  if (result.apps.length === 0) {
    head.push("No kustomization is affected by the changed files.", "");
    return head.join("\n");
  }
  head.push("| app | status | added | changed | removed |", "|---|---|---:|---:|---:|");
  for (const app of result.apps) {
    const c = counts(app);
    const status = app.status === "error" ? "❌ build failed" : app.status;
    head.push(`| \`${app.path}\` | ${status} | ${c.added} | ${c.changed} | ${c.removed} |`);
  }
  head.push("", ""); // a blank line ends the table before the first <details>

  let text = head.join("\n");
  const omitted: string[] = [];
  const truncated: string[] = [];
  const rerun = `haos-tasks diff --base ${result.base.sha} --head ${result.head.sha}`;
  const reserve = 600 + rerun.length; // room for the closing note
  for (const app of result.apps) {
    if (app.status === "unchanged") continue;
    const c = counts(app);
    let section = `<details${app.status === "error" ? " open" : ""}><summary><code>${app.path}</code>: ${c.added} added, ${c.changed} changed, ${c.removed} removed</summary>\n\n`;
    for (const error of app.errors) {
      section += `**${error.side} does not build:**\n\n${fence(cutLines(error.message, 40).text, "text")}\n`;
    }
    let body = "";
    for (const resource of app.resources) {
      const { text: diff, cut } = cutLines(resource.diff, maxLines);
      if (cut > 0) truncated.push(`${app.path}: ${resource.key} (${cut} lines)`);
      const block = `**\`${resource.key}\`** (${resource.change})\n\n${fence(diff, "diff")}${cut > 0 ? `_… ${cut} more lines cut._\n` : ""}\n`;
      if (text.length + section.length + body.length + block.length + reserve > maxChars) {
        omitted.push(`${app.path}: ${resource.key}`);
        continue;
      }
      body += block;
    }
    text += `${section}${body}</details>\n\n`;
  }
  if (omitted.length > 0 || truncated.length > 0) {
    const list = (items: string[]) =>
      items.length > 10
        ? `${items.slice(0, 10).join("; ")}; and ${items.length - 10} more`
        : items.join("; ");
    text += "> [!NOTE]\n";
    if (omitted.length > 0) {
      text += `> Output capped at ${maxChars.toLocaleString("en-US")} characters: ${omitted.length} resource diff${omitted.length === 1 ? "" : "s"} not shown (${list(omitted)}).\n`;
    }
    if (truncated.length > 0) {
      text += `> Diffs longer than ${maxLines} lines were cut: ${list(truncated)}.\n`;
    }
    text += `> Full diff: \`${rerun}\`\n`;
  }
  return text;
}
