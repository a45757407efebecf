import { helpLines, type Command } from "./key-map.js";
import { computeLayout } from "./layout.js";
import type { ConsoleState, Overlay } from "./state.js";
import { clamp } from "./virtual-list.js";

/** Content rows of an overlay: the body minus its title and its key hint line. */
export function overlayRows(state: Pick<ConsoleState, "size" | "focus">): number {
  return Math.max(1, computeLayout(state.size, state.focus).body - 2);
}

/** Lines an overlay's content has, so scrolling stops at its end. */
export function overlayLength(overlay: Overlay): number {
  switch (overlay.kind) {
    case "help":
      return helpLines().length;
    case "text":
      return overlay.lines.length;
    case "plan":
      return overlay.preview ? overlay.preview.jobs.length + 3 : 1;
    case "confirm":
      return 1;
  }
}

/** Keys while a dialog is open: scroll it, confirm it, or close it. */
export function overlayCommand(state: ConsoleState, command: Command): ConsoleState {
  const overlay = state.overlay!;
  switch (command.type) {
    case "up":
    case "down": {
      const max = Math.max(0, overlayLength(overlay) - overlayRows(state));
      const scroll = clamp(overlay.scroll + (command.type === "up" ? -1 : 1), 0, max);
      return scroll === overlay.scroll ? state : { ...state, overlay: { ...overlay, scroll } };
    }
    case "close":
      return { ...state, overlay: null };
    case "confirm":
      return confirm(state, overlay);
    default:
      return state;
  }
}

function confirm(state: ConsoleState, overlay: Overlay): ConsoleState {
  const closed = { ...state, overlay: null };
  switch (overlay.kind) {
    case "plan":
      // Enter before the plan arrived does nothing: confirming what you have not seen is what §8 avoids.
      if (!overlay.preview) return overlay.error ? closed : state;
      return { ...closed, notice: { text: `triggering ${overlay.job}…`, level: "info", at: state.now }, effects: [...state.effects, { type: "trigger", job: overlay.job }] };
    case "confirm": {
      const c = overlay.confirm;
      if (c.kind === "cancel-run") return { ...closed, effects: [...state.effects, { type: "cancel", runId: c.runId }] };
      if (state.quit !== "running") return closed;
      return { ...closed, quit: "draining", notice: { text: `stopping: ${c.running} running chunk(s) may finish — Ctrl+C forces`, level: "warn", at: state.now }, effects: [...state.effects, { type: "quit", force: false }] };
    }
    default:
      return closed;
  }
}
