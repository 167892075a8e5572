import { escapeControlCharacters } from "../control-characters.ts";

/**
 * One status line redrawn in place on a terminal: each update returns to the start of the line
 * (`\r`), erases it (`ESC [2K`) and writes the new text, cut to the terminal's width so it never
 * wraps (a wrapped line could not be erased by `\r`). clear() erases it, and must be called before
 * anything else is written to the same stream. Not live (a pipe, a file, a CI log): nothing at all
 * is written, so logs stay clean.
 */
export interface LiveLine {
  update(text: string): void;
  clear(): void;
}

export function liveLine(
  write: (text: string) => void,
  options: { live: boolean; width: () => number },
): LiveLine {
  if (!options.live) return { update: () => {}, clear: () => {} };
  let shown = "";
  return {
    update(text) {
      // One code point per column is assumed (chart URLs and versions are ASCII); one column is
      // kept free so the cursor never moves to a new line.
      const room = Math.max(10, options.width() - 1);
      const points = [...escapeControlCharacters(text.replace(/[\n\t]/g, " "))];
      const line = points.length > room ? `${points.slice(0, room - 1).join("")}…` : points.join("");
      if (line === shown) return;
      shown = line;
      write(`\r\x1b[2K${line}`);
    },
    clear() {
      if (shown === "") return;
      shown = "";
      write("\r\x1b[2K");
    },
  };
}

/** The chart progress of a render stage (render/stage.ts ChartProgress; a PhaseEvent's `data.charts`). */
export interface ChartsProgress {
  done: number;
  total: number;
  current?: string;
  fetched: number;
  cached: number;
  fetchedBytes?: number;
}

/** 48213 → "47 KiB", 1258291 → "1.2 MiB" (binary units, as download tools print them). */
export function byteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * The progress line of the chart renders
 * (`fetching and rendering charts 3/12 (2 fetched, 1.2 MiB): oci://ghcr.io/bjw-s-labs/helm/app-template 4.1.1`);
 * undefined once every chart is done (the line is then cleared) or for anything else.
 */
export function chartProgressText(charts: unknown): string | undefined {
  const p = charts as Partial<ChartsProgress> | undefined;
  if (!p || typeof p.done !== "number" || typeof p.total !== "number" || p.done >= p.total) return undefined;
  const counts = [
    ...(p.fetched ? [`${p.fetched} fetched${p.fetchedBytes ? `, ${byteSize(p.fetchedBytes)}` : ""}`] : []),
    ...(p.cached ? [`${p.cached} cached`] : []),
  ];
  return `fetching and rendering charts ${p.done + 1}/${p.total}${counts.length > 0 ? ` (${counts.join(", ")})` : ""}${p.current ? `: ${p.current}` : ""}`;
}
