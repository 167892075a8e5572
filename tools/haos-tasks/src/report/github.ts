import { countFindings, type Finding, sortFindings } from "../findings.ts";
import { summaryLine } from "./text.ts";

/**
 * GitHub shows at most 10 error, 10 warning and 10 notice annotations per step (and 50 per job);
 * more are dropped silently. We emit up to 10 of each and one notice saying how many were left
 * out, so 9 info findings at most.
 */
export const annotationLimits = { error: 10, warning: 10, notice: 9 } as const;

/** GitHub's cap on a step's job summary is 1 MiB; keep well below it. */
export const summaryBudgetBytes = 900 * 1024;

/** Escapes workflow-command data (the message). */
export function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Escapes a workflow-command property (file, title). */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

const command = { error: "error", warning: "warning", info: "notice" } as const;

/** One `::error file=…,line=…,col=…,title=…::message` line. */
export function annotation(f: Finding): string {
  const props = [
    f.file ? `file=${escapeProperty(f.file)}` : undefined,
    f.line ? `line=${f.line}` : undefined,
    f.column ? `col=${f.column}` : undefined,
    `title=${escapeProperty(f.rule)}`,
  ].filter(Boolean);
  const message = f.hint ? `${f.message}\nfix: ${f.hint}` : f.message;
  return `::${command[f.severity]} ${props.join(",")}::${escapeData(message)}`;
}

/** Annotation lines within GitHub's per-step limits, errors first, plus a notice for the rest. */
export function annotationLines(findings: readonly Finding[]): string[] {
  const sorted = sortFindings(findings);
  const limit = {
    error: annotationLimits.error,
    warning: annotationLimits.warning,
    info: annotationLimits.notice,
  };
  const used = { error: 0, warning: 0, info: 0 };
  const lines: string[] = [];
  let omitted = 0;
  for (const f of sorted) {
    if (used[f.severity] >= limit[f.severity]) {
      omitted += 1;
      continue;
    }
    used[f.severity] += 1;
    lines.push(annotation(f));
  }
  if (omitted > 0) {
    lines.push(
      `::notice title=haos-tasks::${omitted} more finding${omitted === 1 ? "" : "s"} not annotated (GitHub shows 10 per kind and step); see the job summary`,
    );
  }
  return lines;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The Markdown job summary: counts and a table of every finding (within the summary budget). */
export function jobSummary(findings: readonly Finding[], options: { title?: string } = {}): string {
  const sorted = sortFindings(findings);
  const counts = countFindings(sorted);
  const head = [
    `## ${options.title ?? "haos-tasks validate"}`,
    "",
    sorted.length === 0 ? "✅ No findings." : `${counts.error > 0 ? "❌" : "⚠️"} ${summaryLine(counts)}`,
    "",
  ];
  if (sorted.length === 0) return `${head.join("\n")}\n`;
  const rows = ["| Severity | File | Line | Rule | Finding | Fix |", "|---|---|---|---|---|---|"];
  let bytes = Buffer.byteLength(head.join("\n")) + Buffer.byteLength(rows.join("\n"));
  let shown = 0;
  for (const f of sorted) {
    const row = `| ${f.severity} | ${cell(f.file ?? "")} | ${f.line ?? ""} | \`${f.rule}\` | ${cell(f.message)} | ${cell(f.hint ?? "")} |`;
    bytes += Buffer.byteLength(row) + 1;
    if (bytes > summaryBudgetBytes) break;
    rows.push(row);
    shown += 1;
  }
  const tail =
    shown < sorted.length
      ? ["", `…and ${sorted.length - shown} more (summary size limit); run the command locally for all.`]
      : [];
  return `${[...head, ...rows, ...tail].join("\n")}\n`;
}
