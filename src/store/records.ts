import type { Kwargs, WorkId } from "../config/types.js";

// The records stau persists. Field names here are what `stau runs --json` and the
// other JSON contracts are built from, so renaming one is a breaking change.

export type ChunkState = "queued" | "pending" | "running" | "done" | "failed" | "upstream_failed" | "cancelled";
export type RunStatus = "waiting" | "running" | "done" | "failed" | "cancelled";
export type TriggerSource = "cli" | "schedule" | "console" | "trigger" | "retry" | "rerun";
export type ErrorKind = "error" | "timeout" | "cancelled" | "load" | "upstream";

export interface ChunkError {
  readonly message: string;
  readonly kind: ErrorKind;
  readonly stack?: string | null;
}

export interface RunRecord {
  readonly id: string;
  readonly job: string;
  readonly kwargs: Kwargs;
  /** Work IDs the trigger asked for (null: the job's selectWork decides). */
  readonly requestedWorkIds: readonly WorkId[] | null;
  /** Work IDs the run covers once resolved (null: none). */
  readonly workIds: readonly WorkId[] | null;
  readonly status: RunStatus;
  readonly trigger: TriggerSource;
  /** The schedule entry that fired it, when trigger is "schedule". */
  readonly scheduleEntry: string | null;
  /** The tick (epoch ms) of that entry it fired for (absent in records older than this field). */
  readonly scheduleTick?: number | null;
  /** The run this one retries or re-runs. */
  readonly origin: string | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** Git commit of the jobs folder when the run was created, if it is a checkout. */
  readonly gitCommit: string | null;
  /** Why the run failed as a whole (a cycle, a failing selectWork), if it did. */
  readonly error: string | null;
}

export interface ChunkRecord {
  readonly id: string;
  readonly runId: string;
  readonly job: string;
  readonly kwargs: Kwargs;
  /** Canonical JSON of kwargs: the freshness key of this job node. */
  readonly kwargsKey: string;
  readonly workIds: readonly WorkId[];
  readonly dependsOn: readonly string[];
  readonly state: ChunkState;
  /** Attempts started so far. */
  readonly attempts: number;
  /** Attempts already made when an operator last retried it (its retries count from there). */
  readonly retryFrom?: number;
  readonly error: ChunkError | null;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** A retry waits until this time (epoch ms). */
  readonly notBefore: number | null;
  /** Which of the instance's pool workers (1…N) runs it, while it runs. */
  readonly worker?: number | null;
  /** Which stau instance runs it, and the token that instance must show to complete it. */
  readonly owner: string | null;
  readonly token: string | null;
}

export type RunPatch = Partial<Omit<RunRecord, "id" | "job">>;
export type ChunkPatch = Partial<Omit<ChunkRecord, "id" | "runId" | "job">>;

export const FINISHED_CHUNK_STATES: ReadonlySet<ChunkState> = new Set(["done", "failed", "upstream_failed", "cancelled"]);
export const FINISHED_RUN_STATES: ReadonlySet<RunStatus> = new Set(["done", "failed", "cancelled"]);

/** A finished run as history keeps it. */
export interface ArchivedRun {
  readonly run: RunRecord;
  readonly chunks: readonly ChunkRecord[];
}
