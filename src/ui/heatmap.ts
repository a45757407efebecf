import type { HeatCell, HeatmapData } from "../console/contract.js";
import { formatDuration } from "../config/duration.js";
import { ago, chunkLabel } from "./format.js";
import { stateLook, type Look } from "./theme.js";
import { clamp } from "./virtual-list.js";

// The chunk heatmap's rules, pure: where a cell sits in the grid, how it is shaded, what
// the cursor says. One character per work ID, so a row of the grid is as many IDs as the
// dialog has columns, and only the rows on screen are ever built (100,000 IDs cost what
// the visible ones cost).

/** Done cells shaded by how long they took (a run in flight), or by how long ago they finished (an idle job: freshness age). */
export type HeatShade = "duration" | "age";

/** Lines of the dialog body that are not grid: the summary above, the cursor's cell below. */
export const HEATMAP_CHROME = 2;

/** Grid columns in a dialog `width` wide. */
export const gridColumns = (width: number) => Math.max(1, width);

/** Durations that make a done cell stand out: the median and the slow threshold (p90, and at least 1.5× the median). */
export interface HeatStats {
  readonly medianMs: number | null;
  readonly slowMs: number | null;
  readonly maxMs: number | null;
  readonly failed: number;
}

export function heatStats(cells: readonly HeatCell[]): HeatStats {
  const durations = cells.filter((c) => c.state === "done" && c.durationMs !== null).map((c) => c.durationMs!);
  durations.sort((a, b) => a - b);
  const at = (q: number) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]!;
  const medianMs = durations.length ? at(0.5) : null;
  return {
    medianMs,
    slowMs: durations.length >= 2 ? Math.max(at(0.9), medianMs! * 1.5) : null,
    maxMs: durations.length ? durations[durations.length - 1]! : null,
    failed: cells.filter((c) => c.state === "failed").length,
  };
}

/** The character and look of one cell: failures and the slowest stand out, unfinished work is quiet. */
export function cellLook(cell: HeatCell, stats: HeatStats, shade: HeatShade, now: number): { char: string; look: Look } {
  switch (cell.state) {
    case "failed":
      return { char: "█", look: { color: "red", bold: true } };
    case "upstream_failed":
      return { char: "▒", look: stateLook("upstream_failed") };
    case "cancelled":
      return { char: "×", look: stateLook("cancelled") };
    case "running":
      return { char: "▓", look: stateLook("running") };
    case "done":
      return { char: "█", look: doneLook(cell, stats, shade, now) };
    default:
      return { char: "·", look: stateLook(cell.state) };
  }
}

function doneLook(cell: HeatCell, stats: HeatStats, shade: HeatShade, now: number): Look {
  if (shade === "age") {
    // Fresh work bright, older work dimmer: the boundary is an hour, what most maxLags are.
    const age = cell.finishedAt === null ? Infinity : now - cell.finishedAt;
    return age < 3_600_000 ? { color: "green", bold: age < 60_000 } : { color: "green", dim: true };
  }
  const ms = cell.durationMs;
  if (ms === null || stats.slowMs === null) return { color: "green" };
  if (ms >= stats.slowMs) return { color: "yellow", bold: ms === stats.maxMs };
  return ms <= (stats.medianMs ?? 0) ? { color: "green", dim: true } : { color: "green" };
}

/**
 * The cursor after a move; the grid is `columns` wide. Up and down go to the same column
 * of the row above or below (the last cell when that row is shorter) and stay put at the
 * first or last row; the rest stop at the ends.
 */
export function moveCursor(cursor: number, count: number, columns: number, move: "left" | "right" | "up" | "down" | "page-up" | "page-down" | "top" | "bottom", rows: number): number {
  const last = Math.max(0, count - 1);
  if (move === "up" || move === "down") {
    const row = Math.floor(cursor / columns) + (move === "up" ? -1 : 1);
    return row < 0 || row > Math.floor(last / columns) ? cursor : Math.min(last, cursor + (move === "up" ? -columns : columns));
  }
  const step = { left: -1, right: 1, "page-up": -columns * rows, "page-down": columns * rows, top: -Infinity, bottom: Infinity }[move];
  return clamp(cursor + step, 0, last);
}

/** The first visible grid row, moved as little as needed to keep the cursor's row on screen. */
export function scrollTo(scroll: number, cursor: number, columns: number, rows: number): number {
  const row = Math.floor(cursor / columns);
  if (row < scroll) return row;
  if (row >= scroll + rows) return row - rows + 1;
  return scroll;
}

/** The line above the grid: which run (and the job it was for, when another), how many IDs, failures, the slowest against the median. */
export function summaryLine(data: HeatmapData, stats: HeatStats, shade: HeatShade): string {
  const of = data.runJob === data.job ? "" : ` of ${data.runJob}`;
  const parts = [`run ${data.runId}${of} · ${data.status} · ${data.cells.length} ID${data.cells.length === 1 ? "" : "s"}`];
  if (stats.failed > 0) parts.push(`${stats.failed} failed`);
  if (stats.maxMs !== null) parts.push(`slowest ${formatDuration(stats.maxMs)} (median ${formatDuration(stats.medianMs!)})`);
  parts.push(shade === "duration" ? "shaded by duration: yellow slow, dim fast" : "shaded by age: bright fresh, dim older than 1h");
  return parts.join(" · ");
}

/** The line below the grid: the cell under the cursor. */
export function cursorLine(cell: HeatCell | undefined, now: number): string {
  if (!cell) return "no work IDs in this run";
  const parts = [`ID ${JSON.stringify(cell.id)}`, `chunk ${chunkLabel(cell.chunkId)}`, cell.state.replace("_", " ")];
  if (cell.attempts > 1) parts.push(`attempt ${cell.attempts}`);
  if (cell.durationMs !== null) parts.push(`took ${formatDuration(cell.durationMs)}`);
  if (cell.finishedAt !== null) parts.push(`ended ${ago(cell.finishedAt, now)}`);
  return parts.join(" · ");
}
