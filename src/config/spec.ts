import type { Kwargs, WorkId } from "./types.js";

/** A dependency edge after validation: durations in ms, every option defaulted. */
export interface DependencySpec {
  readonly job: string;
  readonly maxLagMs: number;
  readonly allowMissingWorkIds: boolean;
  readonly kwargs: Kwargs;
  readonly unique: boolean;
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
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  readonly hasSelectWork: boolean;
}

export interface ScheduleEntrySpec {
  readonly id: string;
  readonly job: string;
  readonly cron: string | null;
  readonly everyMs: number | null;
  readonly kwargs: Kwargs;
  readonly workIds: readonly WorkId[] | null;
  readonly timezone: string | null;
  readonly catchUp: boolean;
  readonly enabled: boolean;
}

export const DEFAULT_RETRY_DELAY_MS = 5_000;
