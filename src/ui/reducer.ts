import type { Action, EngineEventEntry } from "./actions.js";
import { applyCommand } from "./command-reducer.js";
import { heatmapAnswer, heatmapTick } from "./heatmap-reducer.js";
import { commandFor, keyContext } from "./key-map.js";
import type { ConsoleSnapshot } from "../console/contract.js";
import type { ThreadsNow } from "../exec/threads.js";
import { applyEvents, dataFromSnapshot } from "./data-reducer.js";
import { appendLogs, applyTail, initialLogs, setScope, TAIL_LINES, type NewLine } from "./logs-reducer.js";
import { clampSelections } from "./navigation.js";
import type { ConsoleState, DataState, Effect, Size } from "./state.js";
import type { KeyPress } from "./use-pane-input.js";
import { deriveViews } from "./views.js";

/** How long a footer notice stays. */
export const NOTICE_MS = 8000;

/** The state a console starts in; its effects ask for the first log tail (all jobs). */
export function initialState(snapshot: ConsoleSnapshot, size: Size, now: number): ConsoleState {
  const data = dataFromSnapshot(snapshot);
  return {
    size,
    now,
    focus: "jobs",
    selected: { jobs: 0, queue: 0, running: 0, failures: 0 },
    top: { jobs: 0, queue: 0, running: 0, failures: 0 },
    data,
    views: deriveViews(data),
    logs: setScope(initialLogs(), null, 1),
    overlay: null,
    notice: null,
    quit: "running",
    interrupted: false,
    nextRequest: 2,
    effects: [{ type: "log-tail", job: null, lines: TAIL_LINES, request: 1 }],
  };
}

/** The console's reducer: pure, so every behaviour is testable by feeding it actions. */
export function reduce(previous: ConsoleState, action: Action): ConsoleState {
  // Effects belong to the action that asked for them; the store takes them after each one.
  const state = previous.effects.length > 0 ? { ...previous, effects: [] } : previous;
  switch (action.type) {
    case "events":
      return withThreads(reduceEvents(state, action.events, action.at ?? state.now, action.folded ?? false), action.busy, action.threads);
    case "snapshot":
      return withData(state, dataFromSnapshot(action.snapshot, state.data));
    case "command":
      return applyCommand(state, action.command);
    case "keys":
      return applyKeys(state, action.presses);
    case "resize":
      if (action.rows === state.size.rows && action.columns === state.size.columns) return state;
      return clampSelections({ ...state, size: { rows: action.rows, columns: action.columns } });
    case "tick": {
      const expired = state.notice !== null && action.now - state.notice.at >= NOTICE_MS;
      return heatmapTick(withThreads({ ...state, now: action.now, notice: expired ? null : state.notice }, action.busy, action.threads));
    }
    case "logs":
      return { ...state, logs: applyTail(state.logs, action.request, action.lines) };
    case "plan": {
      const overlay = state.overlay;
      // An answer for a dialog already closed (Esc) or replaced is dropped.
      if (overlay?.kind !== "plan" || overlay.request !== action.request) return state;
      return { ...state, overlay: { ...overlay, preview: action.preview, error: action.preview ? null : (action.error ?? "no plan") } };
    }
    case "show-text":
      return { ...state, overlay: { kind: "text", title: action.title, lines: action.lines, scroll: 0, ...(action.back ? { back: action.back } : {}) } };
    case "heatmap":
      return heatmapAnswer(state, action.request, action.data, action.error);
    case "notice":
      return { ...state, notice: { text: action.text, level: action.level, at: state.now } };
  }
}

/** Each key of a burst in turn, its meaning looked up in the state the previous key left; effects add up. */
function applyKeys(state: ConsoleState, presses: readonly KeyPress[]): ConsoleState {
  let next = state;
  const effects: Effect[] = [];
  for (const press of presses) {
    const command = commandFor(press.input, press.key, keyContext(next));
    if (!command) continue;
    next = applyCommand(next, command);
    for (const effect of next.effects) effects.push(effect);
    next = next.effects.length > 0 ? { ...next, effects: [] } : next;
  }
  return effects.length > 0 ? { ...next, effects } : next;
}

/**
 * `state` with busy workers and what the threads do now as the controller last said
 * (undefined: it could not say).
 */
function withThreads(state: ConsoleState, busy: number | undefined, threads: ThreadsNow | undefined): ConsoleState {
  let data = state.data;
  if (busy !== undefined && busy !== data.busy) data = { ...data, busy };
  const known = data.threadsNow;
  const at = threads?.at ?? null;
  if (threads && !(known && known.at === at && sameIds(threads.running, known.running) && sameIds(threads.waiting, known.waiting))) {
    data = { ...data, threadsNow: { running: new Set(threads.running), waiting: new Set(threads.waiting), at } };
  }
  return withData(state, data);
}

const sameIds = (ids: readonly string[], known: ReadonlySet<string>) => ids.length === known.size && ids.every((id) => known.has(id));

/** Replaces the data, re-deriving only the views whose inputs changed. */
function withData(state: ConsoleState, data: DataState): ConsoleState {
  if (data === state.data) return state;
  return clampSelections({ ...state, data, views: deriveViews(data, { data: state.data, views: state.views }) });
}

function reduceEvents(state: ConsoleState, events: readonly EngineEventEntry[], at: number, folded: boolean): ConsoleState {
  const { data, refresh } = applyEvents(state.data, events, at, folded);
  const lines: NewLine[] = [];
  const effects: Effect[] = refresh ? [{ type: "refresh" }] : [];
  let notice = state.notice;
  for (const event of events) {
    if (event.name === "chunk:log") {
      const { chunkId, attempt, level, text, job } = event.payload;
      lines.push({ job: job ?? data.chunks.get(chunkId)?.job ?? data.tally.recordOf(chunkId)?.job ?? "?", chunkId, attempt, at, level, text });
    } else if (event.name === "warning") {
      notice = { text: event.payload.message, level: "warn", at };
    } else if (event.name === "store:problem") {
      notice = event.payload.problem ? { text: event.payload.problem, level: "error", at } : { text: "the store writes again: claiming resumes", level: "info", at };
    } else if (event.name === "instance:stopped") {
      effects.push({ type: "exit" });
    }
  }
  const next = withData({ ...state, notice, logs: appendLogs(state.logs, lines) }, data);
  return effects.length > 0 ? { ...next, effects } : next;
}
