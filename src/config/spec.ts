import type { Kwargs, WorkId } from "./types.js";

/** A dependency edge after validation: durations in ms, every option defaulted. */
export interface DependencySpec {
  readonly job: string;
  readonly maxLagMs: number;
  readonly allowMissingWorkIds: boolean;
  readonly kwargs: Kwargs;
  readonly unique: boolean;
  /** Count a success only if it ran the dependency's current code (absent: false). */
  readonly codeAware?: boolean;
}

/** A job as the engine sees it: validated, defaulted and frozen. Holds no code. */
export interface JobSpec {
  readonly name: string;
  /** Absolute path of the job file. */
  readonly file: string;
  readonly chunkSize: number | null;
  readonly dependencies: readonly DependencySpec[];
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly timeoutMs: number | null;
  readonly allowConcurrentRuns: boolean;
  /** At most this many of its chunks run at once, across every instance sharing the store (absent or null: no limit). */
  readonly concurrency?: number | null;
  /** A `job:stale` notification goes out when its last success is older than this (absent or null: never). */
  readonly alertAfterMs?: number | null;
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  readonly hasSelectWork: boolean;
  /**
   * How its chunks run as a process: a program file (`jobs/x.py`, run by its
   * interpreter) or a TypeScript job's `command`. Absent: `run()` in a worker thread.
   */
  readonly program?: ProgramSpec;
}

export interface ProgramSpec {
  /** The program and its arguments, e.g. `["python3", "/abs/jobs/score.py"]`. */
  readonly argv: readonly string[];
  /** The program itself answers the select-work phase (`selectWork = true`). */
  readonly selectsWork: boolean;
}

export interface ScheduleEntrySpec {
  readonly id: string;
  readonly job: string;
  readonly cron: string | null;
  readonly everyMs: number | null;
  /** A glob relative to the project root: the entry fires when matching files appear or change (schedule/file-trigger.ts). */
  readonly onFiles: string | null;
  readonly kwargs: Kwargs;
  readonly workIds: readonly WorkId[] | null;
  readonly timezone: string | null;
  readonly catchUp: boolean;
  readonly enabled: boolean;
}

export const DEFAULT_RETRY_DELAY_MS = 5_000;
