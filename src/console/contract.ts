import type { Kwargs, WorkId } from "../config/types.js";
import type { EventBus } from "../events.js";
import type { ThreadsNow } from "../exec/threads.js";
import type { ArchivedRun, ChunkState, RunStatus } from "../store/records.js";

// The contract between the console (ui/) and a running stau. The console knows nothing
// else of stau: it renders a snapshot, folds the event stream into it, and calls these.

/** A job as the console lists it. */
export interface JobView {
  readonly name: string;
  /** Path relative to the project. */
  readonly file: string;
  /** The first problem when the file does not load or validate, with file:line; null when fine. */
  readonly broken: string | null;
  /** Every problem of a broken file, one per line (shown in Failures). */
  readonly problems: readonly string[];
  readonly dependencies: readonly { readonly job: string; readonly maxLagMs: number }[];
  readonly chunkSize: number | null;
}

export interface ConsoleSnapshot {
  readonly project: string;
  /** Where the store lives, for the header. */
  readonly store: string;
  readonly workers: number;
  readonly startedAt: number;
  readonly paused: boolean;
  /** Why the store cannot record changes now, or null (absent: null). */
  readonly storeProblem?: string | null;
  /** The running instance this console attached to (`stau dev` beside `stau start`), or null when it runs in this process. */
  readonly attachedTo?: { readonly pid: number; readonly command: string } | null;
  readonly jobs: readonly JobView[];
  /** Active runs, then recent finished ones (newest first), with their chunks. */
  readonly runs: readonly ArchivedRun[];
  /** Earliest next scheduled fire per job (epoch ms), null when not scheduled. */
  readonly nextFires: Readonly<Record<string, number | null>>;
  /** Last success per job (epoch ms), null when never. */
  readonly lastSuccess: Readonly<Record<string, number | null>>;
  /**
   * This instance's id (InstanceInfo.id). A running chunk it owns runs on one of its
   * threads only once chunk:started named the worker; before that it is claimed ahead.
   * Another instance's running chunk counts as running: the store does not say which
   * thread holds it. Absent (a console attached from outside runs no chunk itself):
   * every running chunk counts as running.
   */
  readonly instance?: string;
}

/** What a trigger from the console carries beyond the job (the `T` form). */
export interface TriggerOptions {
  readonly kwargs?: Kwargs;
  /** The work IDs to run; absent or null: the job's selectWork decides. */
  readonly workIds?: readonly WorkId[] | null;
}

export interface PlanPreviewJob {
  readonly job: string;
  /** Its effective kwargs (absent from instances older than this field: none shown). */
  readonly kwargs?: Kwargs;
  readonly status: "run" | "fresh" | "skipped";
  readonly chunks: number;
  /** When its fresh part goes stale, by the maxLag of the edges this plan reaches; null when nothing of it is fresh. */
  readonly freshUntil: number | null;
  /** Why it runs or not (absent from older instances). */
  readonly reason?: string;
}

/** What pressing Enter on a trigger would start ("plan before you press"). */
export interface PlanPreview {
  readonly job: string;
  readonly workIds: number;
  /** One entry per job and kwargs (planFacts): a job needed under two kwargs is two entries. */
  readonly jobs: readonly PlanPreviewJob[];
  readonly chunks: number;
  /**
   * A lower bound on the time to run the plan: from each job's past chunk durations,
   * its number of chunks and the critical path over the workers (see planPreview).
   * Null when a job that runs has no history (listed in `noHistory`) or nothing runs.
   */
  readonly etaMs: number | null;
  /** Jobs the plan runs that never finished a chunk: why there is no ETA (absent: none). */
  readonly noHistory?: readonly string[];
}

export interface LogLine {
  readonly job: string;
  readonly chunkId: string;
  readonly attempt: number;
  readonly at: number;
  readonly level: string;
  readonly text: string;
}

/** One work ID of a run, as the heatmap draws it. */
export interface HeatCell {
  readonly id: WorkId;
  readonly chunkId: string;
  readonly state: ChunkState;
  readonly attempts: number;
  /** Time on the worker thread of its last attempt, when it ran. */
  readonly durationMs: number | null;
  readonly finishedAt: number | null;
}

/** A job's latest run, ID by ID, in chunk order. */
export interface HeatmapData {
  readonly job: string;
  readonly runId: string;
  /** The job the run was triggered for: this one, or one that needs it. */
  readonly runJob: string;
  readonly status: RunStatus;
  readonly cells: readonly HeatCell[];
}

export interface ConsoleController {
  /** Everything the console shows, read now: taken when it starts and after a reload. */
  snapshot(): Promise<ConsoleSnapshot>;
  /**
   * Live events (src/events.ts): every change of a run or a chunk, whichever instance
   * made it, and "registry:reloaded" after a job file or the schedule changed (the
   * console then takes a new snapshot for jobs).
   */
  readonly events: EventBus;
  busyWorkers(): number;
  /**
   * What this instance's threads do now: the chunks on them and those waiting in a batch
   * (ThreadsNow); for an attached console, as its last status read said. Absent or
   * undefined where it is not known (an instance of an older stau), and every chunk sent
   * to a thread is then shown as on it.
   */
  threadsNow?(): ThreadsNow | undefined;
  /** What a trigger with these options would start. */
  plan(job: string, options?: TriggerOptions): Promise<PlanPreview>;
  /** Returns the new run's id. */
  trigger(job: string, options?: TriggerOptions): Promise<string>;
  /** Failed and upstream_failed chunks of a finished run, again. */
  retry(runId: string): Promise<void>;
  /** Retries every finished run that failed; returns how many. */
  retryAllFailed(): Promise<number>;
  cancel(runId: string): Promise<void>;
  setPaused(paused: boolean): Promise<void>;
  /**
   * The newest `lines` log lines of a job (or of all jobs when null), read from the tail
   * of its files; with `chunkId`, of that chunk's attempts only.
   */
  logTail(job: string | null, lines: number, chunkId?: string): Promise<LogLine[]>;
  /** The work IDs of a job's latest run with each one's chunk, state and duration; null when it has no run in view. */
  heatmap(job: string): Promise<HeatmapData | null>;
  /** The dependency graph of a job as text lines, each dependency with its freshness. */
  graph(job: string): string[];
  /** Drains like SIGTERM (force: stop at once). Resolves when stau has stopped. */
  quit(force: boolean): Promise<void>;
}
