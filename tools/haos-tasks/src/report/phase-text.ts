import type { PhaseEvent, PhaseStatus } from "../phases.ts";
import type { VerifyReport } from "../verify/verify.ts";

const paintCodes = {
  red: "\x1b[31m",
  green: "\x1b[32m",
  yellow: "\x1b[33m",
  dim: "\x1b[2m",
  bold: "\x1b[1m",
  reset: "\x1b[0m",
};
type Paint = keyof typeof paintCodes;

const symbols: Record<PhaseStatus, { mark: string; paint: Paint }> = {
  pending: { mark: "·", paint: "dim" },
  running: { mark: "…", paint: "yellow" },
  progress: { mark: "…", paint: "yellow" },
  succeeded: { mark: "✓", paint: "green" },
  skipped: { mark: "-", paint: "dim" },
  failed: { mark: "✗", paint: "red" },
  timeout: { mark: "⏱", paint: "red" },
};

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** One plain, timestamped line per event (CI logs, pipes): `2026-…Z +12.3s disk progress …`. */
export function phaseLine(event: PhaseEvent, at: Date): string {
  return `${at.toISOString()} +${seconds(event.elapsed).padStart(7)} ${event.phase.padEnd(13)} ${event.status.padEnd(9)} ${event.detail}\n`;
}

/** The latest state of each phase, for the redrawn TTY display. */
export interface PhaseBoard {
  order: string[];
  rows: Map<string, { status: PhaseStatus; detail: string; elapsed: number; since: number }>;
}

/** A board listing the phases as pending. */
export function newBoard(phases: readonly string[]): PhaseBoard {
  return {
    order: [...phases],
    rows: new Map(phases.map((p) => [p, { status: "pending", detail: "", elapsed: 0, since: 0 }])),
  };
}

/** Folds an event into the board (returns the same board, updated). */
export function applyEvent(board: PhaseBoard, event: PhaseEvent): PhaseBoard {
  const row = board.rows.get(event.phase) ?? {
    status: "pending" as PhaseStatus,
    detail: "",
    elapsed: 0,
    since: event.elapsed,
  };
  if (event.status === "running" && row.status === "pending") row.since = event.elapsed;
  row.status = event.status;
  row.detail = event.detail;
  row.elapsed = event.elapsed;
  board.rows.set(event.phase, row);
  if (!board.order.includes(event.phase)) board.order.push(event.phase);
  return board;
}

/** The board as lines for a TTY, each cut to `width` so a redraw moves the cursor by a known count. */
export function renderBoard(
  board: PhaseBoard,
  options: { colour: boolean; width: number; nowElapsed: number },
): string {
  const paint = (p: Paint, s: string): string =>
    options.colour ? `${paintCodes[p]}${s}${paintCodes.reset}` : s;
  const lines = board.order.map((phase) => {
    const row = board.rows.get(phase);
    if (!row) return "";
    const { mark, paint: colour } = symbols[row.status];
    const active = row.status === "running" || row.status === "progress";
    const clock =
      row.status === "pending" ? "" : seconds((active ? options.nowElapsed : row.elapsed) - row.since);
    const head = `${mark} ${phase.padEnd(13)} ${clock.padStart(7)}  `;
    const room = Math.max(10, options.width - head.length - 1);
    const detail = row.detail.length > room ? `${row.detail.slice(0, room - 1)}…` : row.detail;
    return `${paint(colour, `${mark} ${phase.padEnd(13)}`)} ${clock.padStart(7)}  ${detail}`;
  });
  return `${lines.join("\n")}\n`;
}

/** The closing text: the verdict, the fix, and the diagnostics summary on failure. */
export function renderVerifyText(report: VerifyReport, options: { colour: boolean }): string {
  const paint = (p: Paint, s: string): string =>
    options.colour ? `${paintCodes[p]}${s}${paintCodes.reset}` : s;
  const out: string[] = [];
  const ok = report.outcome === "succeeded";
  const title = ok
    ? `verified ${report.target.slice(0, 7)}${report.supersededBy ? ` (superseded by ${report.supersededBy.slice(0, 7)})` : ""} in ${seconds(report.durationMs)}`
    : `${report.outcome}${report.failedPhase ? ` in phase ${report.failedPhase}` : ""} after ${seconds(report.durationMs)}: ${report.detail}`;
  out.push(paint(ok ? "green" : "red", `${ok ? "✓" : "✗"} ${title}`));
  if (report.hint) out.push(`  fix: ${report.hint}`);
  const d = report.diagnostics;
  if (d) {
    const bad = d.conditions.filter((c) => c.status !== "True" || /Failed|Error/.test(c.reason));
    if (bad.length > 0) {
      out.push("", paint("bold", "conditions not True:"));
      for (const c of bad)
        out.push(`  ${c.object}  ${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ""}  ${c.message}`);
    }
    if (d.events.length > 0) {
      out.push("", paint("bold", "events since the push:"));
      for (const e of d.events)
        out.push(
          `  ${e.type === "Warning" ? paint("yellow", "Warning") : "Normal "} ${e.object}  ${e.reason} (x${e.count}): ${e.message}`,
        );
    }
    if (d.fluxEvents.length > 0) {
      out.push("", paint("bold", `Flux events for ${report.target.slice(0, 7)}:`));
      for (const e of d.fluxEvents) out.push(`  ${e.object}  ${e.reason}: ${e.message}`);
    }
    if (d.pods.length > 0) {
      out.push("", paint("bold", "pods:"));
      for (const p of d.pods)
        out.push(
          `  ${p.name}  ${p.phase} ${p.ready} restarts=${p.restarts}${p.reason ? ` ${p.reason}` : ""}`,
        );
    }
    for (const note of d.notes) out.push(`  note: ${note}`);
  }
  return `${out.join("\n")}\n`;
}
