import type { StauEvents } from "../events.js";
import type { ThreadsNow } from "../exec/threads.js";
import type { ConsoleSnapshot, HeatmapData, LogLine, PlanPreview } from "../console/contract.js";
import type { Command } from "./key-map.js";
import type { KeyPress } from "./use-pane-input.js";
import type { Notice, Overlay } from "./state.js";

/** One engine event as the event buffer collected it. */
export type EngineEventEntry = { [E in keyof StauEvents]: { readonly name: E; readonly payload: StauEvents[E] } }[keyof StauEvents];

/** Everything that can change the console state. */
export type Action =
  /**
   * A batch of engine events, flushed by the event buffer at most every 100 ms; `busy` is
   * controller.busyWorkers() read as it is handed over, so the workers count agrees with the Running pane.
   * `folded`: the buffer offered each event to the tally as it arrived (summarized-runs.ts),
   * so these are what it left; without it the reducer offers them.
   */
  | { readonly type: "events"; readonly events: readonly EngineEventEntry[]; readonly at?: number; readonly busy?: number; readonly threads?: ThreadsNow; readonly folded?: boolean }
  /** A fresh controller.snapshot(): replaces the data, keeps the UI state. */
  | { readonly type: "snapshot"; readonly snapshot: ConsoleSnapshot }
  | { readonly type: "command"; readonly command: Command }
  /** Key presses, in order: each becomes a command against the state the one before left. */
  | { readonly type: "keys"; readonly presses: readonly KeyPress[] }
  | { readonly type: "resize"; readonly rows: number; readonly columns: number }
  /** The shared clock; `busy` and `threads` are controller.busyWorkers() and threadsNow() read at the same tick. */
  | { readonly type: "tick"; readonly now: number; readonly busy?: number; readonly threads?: ThreadsNow }
  /** The answer to a log-tail effect. */
  | { readonly type: "logs"; readonly request: number; readonly lines: readonly LogLine[] }
  /** The answer to a plan effect (preview or the error message). */
  | { readonly type: "plan"; readonly request: number; readonly preview: PlanPreview | null; readonly error?: string }
  /** A text overlay to show (the dependency graph, a chunk's log); Esc goes `back` to the dialog it came from. */
  | { readonly type: "show-text"; readonly title: string; readonly lines: readonly string[]; readonly back?: Overlay }
  /** The answer to a heatmap effect. */
  | { readonly type: "heatmap"; readonly request: number; readonly data: HeatmapData | null; readonly error?: string }
  /** A one-line message in the footer (results and errors of controller calls). */
  | { readonly type: "notice"; readonly text: string; readonly level: Notice["level"] };
