import type { PaneId, Size } from "./state.js";

// Where the panes go for a terminal size. The frame is one row shorter than the
// terminal: Ink clears the whole screen (flicker, lost scrollback) once its output
// reaches the terminal height, so the console never lets it get there.

export interface PaneBox {
  readonly pane: PaneId;
  /** Rows including the pane's title line. */
  readonly height: number;
  readonly width: number;
}

export interface Layout {
  /** Total rows the console draws: always less than the terminal's rows. */
  readonly frame: number;
  readonly header: number;
  readonly footer: number;
  readonly body: number;
  readonly width: number;
  /** Side-by-side columns of stacked panes; one column holding the focused pane when small. */
  readonly columns: readonly (readonly PaneBox[])[];
}

/** Columns from which Jobs/Queue sit left of Running/Failures/Logs. */
export const WIDE_COLUMNS = 110;
/** Columns the right side keeps at least: a Running row with a long chunk label, a bar and its count. */
export const RIGHT_MIN = 56;
/** Body rows below which only the focused pane is shown (Tab still cycles all). */
export const STACK_MIN_BODY = 15;
const MIN_PANE = 3;

/**
 * The layout for a terminal size; `focus` matters only when the terminal fits one pane.
 * `leftWants` is the width Jobs and Queue need to show their values uncut (their name
 * column follows the longest job name): the left side gets it, between 45% of the
 * width and what leaves the right side RIGHT_MIN.
 */
export function computeLayout(size: Size, focus: PaneId, leftWants = 0): Layout {
  const frame = Math.max(0, Math.floor(size.rows) - 1);
  const width = Math.max(1, Math.floor(size.columns));
  const header = frame >= 14 ? 2 : frame >= 4 ? 1 : 0;
  const footer = frame >= 2 ? 1 : 0;
  const body = frame - header - footer;
  const column = (panes: readonly PaneId[], weights: readonly number[], w: number): PaneBox[] =>
    split(body, weights, MIN_PANE).map((height, i) => ({ pane: panes[i], height, width: w }));
  let columns: PaneBox[][];
  if (width >= WIDE_COLUMNS && body >= 2 * MIN_PANE + 6) {
    // One blank column separates the two sides.
    const left = Math.max(Math.floor((width - 1) * 0.45), Math.min(leftWants, width - 1 - RIGHT_MIN));
    columns = [column(["jobs", "queue"], [3, 2], left), column(["running", "failures", "logs"], [2, 2, 4], width - 1 - left)];
  } else if (body >= STACK_MIN_BODY) {
    columns = [column(["jobs", "running", "queue", "failures", "logs"], [3, 2, 2, 2, 3], width)];
  } else {
    columns = body > 0 ? [[{ pane: focus, height: body, width }]] : [];
  }
  return { frame, header, footer, body, width, columns };
}

/** `total` rows split by weight, each at least `min`, summing exactly to `total`. */
export function split(total: number, weights: readonly number[], min: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const spare = Math.max(0, total - min * weights.length);
  const sizes = weights.map((w) => min + Math.floor((spare * w) / sum));
  let left = total - sizes.reduce((a, b) => a + b, 0);
  for (let i = sizes.length - 1; left > 0; i = (i - 1 + sizes.length) % sizes.length, left--) sizes[i]++;
  return sizes;
}

/** The rows a pane has for list items (its height minus the title), or 0 when hidden. */
export function paneRows(layout: Layout, pane: PaneId): number {
  for (const column of layout.columns) for (const box of column) if (box.pane === pane) return Math.max(0, box.height - 1);
  return 0;
}
