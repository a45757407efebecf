import { helpLines, type Command } from "./key-map.js";
import { computeLayout } from "./layout.js";
import type { ConsoleState, Overlay, TriggerForm } from "./state.js";
import { checkForm, describeOptions, eraseFrom, otherField, typeInto } from "./trigger-form.js";
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
      // Summary, ETA, kwargs and work IDs when typed, a gap and the column heads (PlanDialog).
      return overlay.preview ? overlay.preview.jobs.length + 4 + (Object.keys(overlay.options?.kwargs ?? {}).length > 0 ? 1 : 0) + (overlay.options?.workIds ? 1 : 0) : 1;
    case "confirm":
      return 1;
    case "form":
      return FORM_LINES;
    case "heatmap":
      // It moves a cursor, not a scroll (heatmap-reducer.ts).
      return 1;
  }
}

/** Lines the form draws: per field its label, its text and its error. */
export const FORM_LINES = 6;

/** Keys while a dialog is open: scroll it, confirm it, or close it. */
export function overlayCommand(state: ConsoleState, command: Command): ConsoleState {
  const overlay = state.overlay!;
  if (overlay.kind === "form") return formCommand(state, overlay.form, command);
  switch (command.type) {
    case "up":
    case "down": {
      const max = Math.max(0, overlayLength(overlay) - overlayRows(state));
      const scroll = clamp(overlay.scroll + (command.type === "up" ? -1 : 1), 0, max);
      return scroll === overlay.scroll ? state : { ...state, overlay: { ...overlay, scroll } };
    }
    case "close":
      // A plan the form asked for goes back to the form, to change what was typed; a chunk's log to its heatmap.
      if (overlay.kind === "text" && overlay.back) return { ...state, overlay: overlay.back };
      return { ...state, overlay: overlay.kind === "plan" && overlay.form ? { kind: "form", form: overlay.form, scroll: 0 } : null };
    case "confirm":
      return confirm(state, overlay);
    default:
      return state;
  }
}

/** The `T` form: typing, moving between the two fields, and Enter, which checks them and asks for the plan. */
function formCommand(state: ConsoleState, form: TriggerForm, command: Command): ConsoleState {
  const withForm = (next: TriggerForm) => (next === form ? state : { ...state, overlay: { kind: "form" as const, form: next, scroll: 0 } });
  switch (command.type) {
    case "form-type":
      return withForm(typeInto(form, command.text));
    case "form-erase":
      return withForm(eraseFrom(form));
    case "next-field":
    case "prev-field":
      return withForm(otherField(form));
    case "close":
      return { ...state, overlay: null };
    case "confirm": {
      const checked = checkForm(form);
      if ("form" in checked) return withForm(checked.form);
      const request = state.nextRequest;
      const { options } = checked;
      return {
        ...state,
        nextRequest: request + 1,
        overlay: { kind: "plan", job: form.job, request, preview: null, error: null, scroll: 0, options, form: { ...form, errors: { kwargs: null, workIds: null } } },
        effects: [...state.effects, { type: "plan", job: form.job, request, options }],
      };
    }
    default:
      return state;
  }
}

function confirm(state: ConsoleState, overlay: Overlay): ConsoleState {
  const closed = { ...state, overlay: null };
  switch (overlay.kind) {
    case "plan":
      // Enter before the plan arrived does nothing: the plan is shown so nothing starts unseen.
      // A plan the form asked for that failed (a bad work ID, say) goes back to the form.
      if (!overlay.preview) return !overlay.error ? state : overlay.form ? { ...state, overlay: { kind: "form", form: overlay.form, scroll: 0 } } : closed;
      return {
        ...closed,
        notice: { text: `triggering ${overlay.job}${describeOptions(overlay.options)}…`, level: "info", at: state.now },
        effects: [...state.effects, overlay.options ? { type: "trigger", job: overlay.job, options: overlay.options } : { type: "trigger", job: overlay.job }],
      };
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
