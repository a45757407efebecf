import type { StauConfig } from "./project-config.js";
import type { JobConfig, Kwargs, ScheduleEntry } from "./types.js";

/** Declares a job. An identity function that exists for its types. */
export function defineJob<K extends Kwargs = Kwargs>(config: JobConfig<K>): JobConfig<K> {
  return config;
}

/** Declares the schedule in `stau.schedule.ts`. An identity function that exists for its types. */
export function defineSchedule(entries: ScheduleEntry[]): ScheduleEntry[] {
  return entries;
}

/** Declares `stau.config.ts` (notifications). An identity function that exists for its types. */
export function defineConfig(config: StauConfig): StauConfig {
  return config;
}

/**
 * Marks errors that retrying cannot fix (bad input, a missing file): the chunk fails at
 * once even when the job has retries left. Recognised by a registered symbol, so it
 * works when a project has its own copy of stau.
 */
export const NON_RETRYABLE = Symbol.for("stau.nonRetryable");

export class NonRetryableError extends Error {
  readonly [NON_RETRYABLE] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NonRetryableError";
  }
}

export function isNonRetryable(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[NON_RETRYABLE] === true;
}
