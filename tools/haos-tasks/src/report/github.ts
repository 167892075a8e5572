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

/**
 * A GitHub annotation as data: the Action hands it to @actions/core's error/warning/notice, the
 * CLI's `--format github` writes it as a workflow command (renderAnnotation).
 */
export interface Annotation {
  level: "error" | "warning" | "notice";
  message: string;
  file?: string;
  line?: number;
  col?: number;
  title?: string;
}

const level = { error: "error", warning: "warning", info: "notice" } as const;

/** A finding's annotation: at its place, titled with its rule, the fix under the message. */
export function annotation(f: Finding): Annotation {
  return {
    level: level[f.severity],
    message: f.hint ? `${f.message}\nfix: ${f.hint}` : f.message,
    ...(f.file ? { file: f.file } : {}),
    ...(f.line ? { line: f.line } : {}),
    ...(f.column ? { col: f.column } : {}),
    title: f.rule,
  };
}

/** One `::error file=…,line=…,col=…,title=…::message` workflow command. */
export function renderAnnotation(a: Annotation): string {
  const props = [
    a.file ? `file=${escapeProperty(a.file)}` : undefined,
    a.line ? `line=${a.line}` : undefined,
    a.col ? `col=${a.col}` : undefined,
    a.title !== undefined ? `title=${escapeProperty(a.title)}` : undefined,
  ].filter(Boolean);
  return `::${a.level}${props.length > 0 ? ` ${props.join(",")}` : ""}::${escapeData(a.message)}`;
}

/** annotations() as workflow-command lines (`--format github`). */
export function annotationLines(findings: readonly Finding[]): string[] {
  return annotations(findings).map(renderAnnotation);
}

/** Annotations within GitHub's per-step limits, errors first, plus a notice for the rest. */
export function annotations(findings: readonly Finding[]): Annotation[] {
  const sorted = sortFindings(findings);
  const limit = {
    error: annotationLimits.error,
    warning: annotationLimits.warning,
    info: annotationLimits.notice,
  };
  const used = { error: 0, warning: 0, info: 0 };
  const out: Annotation[] = [];
  let omitted = 0;
  for (const f of sorted) {
    if (used[f.severity] >= limit[f.severity]) {
      omitted += 1;
      continue;
    }
    used[f.severity] += 1;
    out.push(annotation(f));
  }
  if (omitted > 0) {
    out.push({
      level: "notice",
      title: "haos-tasks",
      message: `${omitted} more finding${omitted === 1 ? "" : "s"} not annotated (GitHub shows 10 per kind and step); see the job summary`,
    });
  }
  return out;
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
