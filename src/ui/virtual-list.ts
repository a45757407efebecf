// Long lists (2,000 jobs, 20,000 queued chunks) render only the rows that fit: the
// window is computed from the list length, the selection and the pane height.

/** The rows [start, end) a pane shows, and the top it should remember. */
export interface ListWindow {
  readonly start: number;
  readonly end: number;
  /** The selection clamped into the list (-1 when the list is empty). */
  readonly selected: number;
}

/**
 * The visible window of a list: keeps `top` where it was when the selection is still in
 * view (so moving the cursor does not jump the list), scrolls just enough otherwise, and
 * never leaves empty rows at the bottom while rows above are hidden.
 */
export function visibleWindow(length: number, selected: number, height: number, top = 0): ListWindow {
  const rows = Math.max(0, Math.floor(height));
  if (length <= 0 || rows === 0) return { start: 0, end: 0, selected: length > 0 ? clamp(selected, 0, length - 1) : -1 };
  const sel = clamp(selected, 0, length - 1);
  let start = clamp(top, 0, Math.max(0, length - rows));
  if (sel < start) start = sel;
  else if (sel >= start + rows) start = sel - rows + 1;
  return { start, end: Math.min(length, start + rows), selected: sel };
}

/** `value` limited to [min, max]. */
export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}
