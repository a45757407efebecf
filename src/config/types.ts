import type { Duration } from "./duration.js";

/** A unit of work a job covers: a unit id, a date, a file name. */
export type WorkId = string | number;

/** Plain-data arguments of a run. They travel to workers and into the store as JSON. */
export type Kwargs = Record<string, unknown>;

/** One edge of the dependency graph, written inside `defineJob({ dependencies })`. */
export interface Dependency {
  /** Name of the job this one needs (its file name in `jobs/` without extension). */
  job: string;
  /**
   * How old the dependency's last successful run on a work ID may be before it is run
   * again as part of this run: `"1h"`, `"1d"`, or milliseconds. `0` always re-runs it.
   */
  maxLag: Duration;
  /**
   * Treat the dependency as one unit: it counts as fresh when it succeeded on *any*
   * work IDs within `maxLag`, and otherwise runs on all IDs this job needs.
   */
  allowMissingWorkIds?: boolean;
  /** Arguments passed to the dependency (and everything below it). Deeper edges win. */
  kwargs?: Kwargs;
  /** Give each chunk of this job its own chunks of the dependency instead of sharing them. */
  unique?: boolean;
  /**
   * Count a success of the dependency only if it ran the code its job file (and the
   * local files that file imports) has now: after an edit it runs again, however fresh.
   * stau hashes the files' content; no git needed.
   * @default false
   * @example { job: "clean_measurements", maxLag: "1d", codeAware: true }
   */
  codeAware?: boolean;
}

/** What `run()` receives for one chunk. */
export interface JobContext<K extends Kwargs = Kwargs> {
  /** The work IDs of this chunk, in order (empty for a job without work IDs). */
  workIds: WorkId[];
  /** The run's arguments, after edge kwargs are applied. */
  kwargs: K;
  /** Writes a line to this chunk attempt's log (same as `console.log` inside a job). */
  log: (...args: unknown[]) => void;
  /** Reports progress for the console: `progress(3, 10)`. */
  progress: (done: number, total: number) => void;
  /** Aborted when the chunk is cancelled, times out or stau shuts down. */
  signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  runId: string;
  chunkId: string;
}

/**
 * A job's config and code: the default export of a file in `jobs/`. It gives `run`, or
 * `command` for a program that lives elsewhere (dbt, a CLI).
 */
export type JobConfig<K extends Kwargs = Kwargs> = JobOptions<K> & (
  | {
      /** Executes one chunk inside a worker thread. Throwing fails the chunk. */
      run: (context: JobContext<K>) => unknown | Promise<unknown>;
      command?: undefined;
    }
  | {
      /**
       * Runs each chunk as this program instead of `run`, started in the project root
       * with the chunk in its environment (`STAU_WORK_IDS`, `STAU_KWARGS`, …), its output
       * in the chunk's log, exit 0 for done: the protocol of program jobs (README, "Jobs
       * in any language").
       * @example command: ["dbt", "run", "--select", "daily_stats"]
       */
      command: string[];
      run?: undefined;
    }
);

/** Everything of a job's config but its code. */
export interface JobOptions<K extends Kwargs = Kwargs> {
  /** Work IDs per chunk. Default: all of a run's work IDs in one chunk. */
  chunkSize?: number;
  /** Jobs whose results this one reads, each with how stale it may be. */
  dependencies?: Dependency[];
  /** Extra attempts after a retryable error. Default 0. */
  retries?: number;
  /** Wait before the first retry, doubled for each further attempt. Default `"5s"`. */
  retryDelay?: Duration;
  /** Longest a chunk may run; past it the worker is terminated and the chunk fails. */
  timeout?: Duration;
  /**
   * Whether a scheduled trigger may start a run while another run of this job is
   * active. Default false: the tick is skipped and the skip recorded.
   */
  allowConcurrentRuns?: boolean;
  /**
   * At most this many chunks of this job run at once, across every stau instance sharing
   * the store: for a rate-limited API or a database that takes few connections. Other
   * jobs' chunks use the free workers meanwhile. Default: no limit.
   * @example concurrency: 2
   */
  concurrency?: number;
  /**
   * Sends a `job:stale` notification (stau.config.ts, `notify`) when the job's last
   * success is older than this: `"26h"` for a daily job. Default: never.
   */
  alertAfter?: Duration;
  /** Tables or files this job reads (documentation and lineage only). */
  reads?: string[];
  /** Tables or files this job writes (documentation and lineage only). */
  writes?: string[];
  /** The work IDs a run covers when this job is the one triggered. */
  selectWork?: (kwargs: K) => WorkId[] | Promise<WorkId[]>;
}

/** One entry of `stau.schedule.ts`. Exactly one of `cron` and `every` is required. */
export interface ScheduleEntry {
  /** Unique name of the entry; stau remembers its last fire under it. */
  id: string;
  /** The job to trigger. */
  job: string;
  /** A cron expression with 5 or 6 fields (seconds first when 6), croner syntax. */
  cron?: string;
  /** A fixed interval instead of cron: `"15m"`, `"6h"`. */
  every?: Duration;
  /** Arguments of the triggered run. */
  kwargs?: Kwargs;
  /** Work IDs of the triggered run, instead of the job's `selectWork`. */
  workIds?: WorkId[];
  /** IANA time zone the cron expression is read in, e.g. `"Europe/Copenhagen"`. Default: the machine's. */
  timezone?: string;
  /** Fire once on start when a tick was missed while stau was down. Default true. */
  catchUp?: boolean;
  /** Set false to keep the entry without firing it. Default true. */
  enabled?: boolean;
}
