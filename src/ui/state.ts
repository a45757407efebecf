import type { ChunkRecord, RunRecord } from "../store/records.js";
import type { HeatmapData, JobView, PlanPreview, TriggerOptions } from "../console/contract.js";
import type { Activity } from "./activity.js";
import type { HeatShade } from "./heatmap.js";
import type { PersistentMap } from "./persistent-map.js";
import type { RunTally } from "./summarized-runs.js";
import type { Views } from "./views.js";

// The whole console state. It is plain data changed only by the reducer, so every
// behaviour of the console can be tested by feeding actions, without rendering. One
// part is not: DataState.tally, where a big run's chunk changes are folded as they
// arrive (summarized-runs.ts); the reducer takes what it folded at each batch, and
// events handed to the reducer whole are folded there the same way.

/** The panes, in Tab order. */
export const PANES = ["jobs", "queue", "running", "failures", "logs"] as const;
export type PaneId = (typeof PANES)[number];
/** Panes that show a selectable list (the logs pane scrolls by line instead). */
export type ListPaneId = Exclude<PaneId, "logs">;
/** The panes with a selectable row list. */
export const LIST_PANES: readonly ListPaneId[] = ["jobs", "queue", "running", "failures"];

export interface Size {
  readonly rows: number;
  readonly columns: number;
}

export interface Progress {
  readonly done: number;
  readonly total: number;
}

/** What the engine told us: the last snapshot with every later event applied. */
export interface DataState {
  readonly project: string;
  readonly store: string;
  readonly workers: number;
  readonly startedAt: number;
  readonly paused: boolean;
  readonly jobs: readonly JobView[];
  /** Active runs and the newest finished ones (capped), in snapshot order. */
  readonly runs: ReadonlyMap<string, RunRecord>;
  /** Chunks of the runs above, plus chunks seen in events before their run was; of a summarized run only those listed (summarized-runs.ts). */
  readonly chunks: PersistentMap<string, ChunkRecord>;
  /** The runs held in sums (summarized-runs.ts): too big to hold chunk by chunk. The tally's runs as of this state. */
  readonly summarized: ReadonlySet<string>;
  /** Folds the summarized runs' chunk changes as they arrive; shared by every state (summarized-runs.ts). */
  readonly tally: RunTally;
  /** What the panes count and list of those chunks, kept up to date change by change. */
  readonly activity: Activity;
  /** Only for running chunks: dropped when a chunk ends, so it stays bounded. */
  readonly progress: ReadonlyMap<string, Progress>;
  /** What a waiting run waits for (from run:waiting), dropped once it starts. */
  readonly waitingOn: ReadonlyMap<string, readonly string[]>;
  readonly nextFires: Readonly<Record<string, number | null>>;
  readonly lastSuccess: Readonly<Record<string, number | null>>;
  readonly busy: number;
  /**
   * What this instance's threads do now (controller.threadsNow, read with `busy`), or
   * null when not known. Of the chunks it sent to threads, Running lists those on them;
   * those `waiting` in a batch count as claimed; the others have ended, their results on
   * the way to the store, and count as running until recorded. A chunk started after
   * `at` (a reading older than the events, an attached console's) is taken as on its
   * thread, as when nothing is known.
   */
  readonly threadsNow: { readonly running: ReadonlySet<string>; readonly waiting: ReadonlySet<string>; readonly at: number | null } | null;
  /** stau is shutting down (instance:draining seen). */
  readonly draining: boolean;
  /** Why the store cannot record changes now (claiming is stopped meanwhile), or null. */
  readonly storeProblem: string | null;
  /** The instance in another process this console is attached to, or null. */
  readonly attachedTo: { readonly pid: number; readonly command: string } | null;
  /** The id of the instance whose threads the Running pane shows (ConsoleSnapshot.instance), or null when unknown. */
  readonly instance: string | null;
}

/** One log line in the console's ring buffer; `seq` only grows, so it anchors scrolling. */
export interface LogEntry {
  readonly seq: number;
  readonly job: string;
  readonly chunkId: string;
  readonly attempt: number;
  readonly at: number;
  readonly level: string;
  readonly text: string;
}

export interface LogsState {
  /** Ascending by seq, at most LOG_CAPACITY long. */
  readonly lines: readonly LogEntry[];
  readonly nextSeq: number;
  /** The job whose logs are shown; null shows every job, prefixed. */
  readonly scope: string | null;
  readonly follow: boolean;
  /** Seq of the bottom visible line while follow is off. */
  readonly anchor: number | null;
  readonly wrap: boolean;
  readonly query: string;
  readonly editing: boolean;
  /** The logTail request in flight: its id and the seq live lines had when it was sent. */
  readonly request: { readonly id: number; readonly sinceSeq: number } | null;
}

/** Something to confirm with Enter; Esc backs out. */
export type Confirm = { readonly kind: "cancel-run"; readonly runId: string; readonly job: string } | { readonly kind: "quit"; readonly running: number };

/** The `T` form: kwargs and work IDs as typed, checked when Enter asks for the plan. */
export interface TriggerForm {
  readonly job: string;
  /** A JSON object; empty means {}. */
  readonly kwargs: string;
  /** `1,2,3` or a JSON array; empty lets the job's selectWork decide. */
  readonly workIds: string;
  readonly field: "kwargs" | "workIds";
  /** Why the last Enter was refused, per field. */
  readonly errors: { readonly kwargs: string | null; readonly workIds: string | null };
}

export type Overlay =
  | { readonly kind: "help"; readonly scroll: number }
  /** `back`: the dialog Esc returns to (the heatmap a chunk's log was opened from). */
  | { readonly kind: "text"; readonly title: string; readonly lines: readonly string[]; readonly scroll: number; readonly back?: Overlay }
  | {
      readonly kind: "heatmap";
      readonly job: string;
      readonly request: number;
      /** Null until the first answer; then the newest, refreshed while its run is active. */
      readonly data: HeatmapData | null;
      readonly error: string | null;
      /** Index of the cell under the cursor, and the first grid row shown. */
      readonly cursor: number;
      readonly scroll: number;
      readonly shade: HeatShade;
      /** When it last asked for the data (the clock of state.now). */
      readonly askedAt: number;
    }
  | {
      readonly kind: "plan";
      readonly job: string;
      readonly request: number;
      readonly preview: PlanPreview | null;
      readonly error: string | null;
      readonly scroll: number;
      /** What the form asked for; absent for a plain `t`. */
      readonly options?: TriggerOptions;
      /** The form it came from: Esc goes back to it. */
      readonly form?: TriggerForm;
    }
  | { readonly kind: "form"; readonly form: TriggerForm; readonly scroll: number }
  | { readonly kind: "confirm"; readonly confirm: Confirm; readonly scroll: number };

/** A call on the controller the reducer asks for; the store runs it after the state change. */
export type Effect =
  | { readonly type: "plan"; readonly job: string; readonly request: number; readonly options?: TriggerOptions }
  | { readonly type: "trigger"; readonly job: string; readonly options?: TriggerOptions }
  | { readonly type: "retry"; readonly runId: string }
  | { readonly type: "retry-all" }
  | { readonly type: "cancel"; readonly runId: string }
  | { readonly type: "pause"; readonly paused: boolean }
  | { readonly type: "log-tail"; readonly job: string | null; readonly lines: number; readonly request: number }
  | { readonly type: "graph"; readonly job: string }
  | { readonly type: "heatmap"; readonly job: string; readonly request: number }
  /** A chunk's log, shown as text; Esc goes `back`. */
  | { readonly type: "chunk-log"; readonly job: string; readonly chunkId: string; readonly back: Overlay }
  | { readonly type: "refresh" }
  | { readonly type: "quit"; readonly force: boolean }
  | { readonly type: "exit" };

export interface Notice {
  readonly text: string;
  readonly level: "info" | "warn" | "error";
  readonly at: number;
}

/** running → (q confirmed or Ctrl+C) draining → (second Ctrl+C) forcing. */
export type QuitPhase = "running" | "draining" | "forcing";

export interface ConsoleState {
  readonly size: Size;
  readonly now: number;
  readonly focus: PaneId;
  readonly selected: Readonly<Record<ListPaneId, number>>;
  /** First visible row of each list pane; kept so moving the cursor scrolls minimally. */
  readonly top: Readonly<Record<ListPaneId, number>>;
  readonly data: DataState;
  /** Row lists derived from data, recomputed once per data change (see views.ts). */
  readonly views: Views;
  readonly logs: LogsState;
  readonly overlay: Overlay | null;
  readonly notice: Notice | null;
  readonly quit: QuitPhase;
  /** Ctrl+C asked for the quit: stau then exits 130 (interrupted), as every command does on Ctrl+C. */
  readonly interrupted: boolean;
  /** Ids for requests whose answers may arrive late (plans, log tails). */
  readonly nextRequest: number;
  /** Side effects asked for by the last action; the store takes and clears them. */
  readonly effects: readonly Effect[];
}
