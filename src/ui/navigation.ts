import { computeLayout, paneRows } from "./layout.js";
import { LIST_PANES, PANES, type ConsoleState, type ListPaneId, type PaneId } from "./state.js";
import { clamp, visibleWindow } from "./virtual-list.js";

/** The pane after (dir 1) or before (dir -1) `focus`, wrapping around. */
export function cyclePane(focus: PaneId, dir: 1 | -1): PaneId {
  return PANES[(PANES.indexOf(focus) + dir + PANES.length) % PANES.length];
}

/** Rows a pane shows in the current layout (what a page is). */
export function rowsOf(state: Pick<ConsoleState, "size" | "focus">, pane: PaneId): number {
  return paneRows(computeLayout(state.size, state.focus), pane);
}

/** Moves a list pane's selection by `delta` rows (±Infinity: first/last), scrolling minimally. */
export function moveSelection(state: ConsoleState, pane: ListPaneId, delta: number): ConsoleState {
  const length = state.views[pane].length;
  if (length === 0) return state;
  const selected = clamp(state.selected[pane] + delta, 0, length - 1);
  const top = visibleWindow(length, selected, rowsOf(state, pane), state.top[pane]).start;
  if (selected === state.selected[pane] && top === state.top[pane]) return state;
  return { ...state, selected: { ...state.selected, [pane]: selected }, top: { ...state.top, [pane]: top } };
}

/** Keeps every selection inside its list and in view, after the lists or the size changed. */
export function clampSelections(state: ConsoleState): ConsoleState {
  let selected = state.selected;
  let top = state.top;
  for (const pane of LIST_PANES) {
    const length = state.views[pane].length;
    const sel = length === 0 ? 0 : clamp(state.selected[pane], 0, length - 1);
    const start = length === 0 ? 0 : visibleWindow(length, sel, rowsOf(state, pane), state.top[pane]).start;
    if (sel !== selected[pane]) selected = { ...selected, [pane]: sel };
    if (start !== top[pane]) top = { ...top, [pane]: start };
  }
  return selected === state.selected && top === state.top ? state : { ...state, selected, top };
}
