import { randomInt } from "node:crypto";
import type { Kwargs, WorkId } from "../config/types.js";

// The records stau persists, and the formats of their ids. Field names here are what
// `stau runs --json` and the other JSON contracts are built from, so renaming one is a
// breaking change.

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
  /** Whether the jobs folder had uncommitted changes then (null: not a checkout; absent in older records). */
  readonly gitDirty?: boolean | null;
  /** Why the run failed as a whole (a cycle, a failing selectWork), if it did. */
  readonly error: string | null;
  /** An operator cancelled it: executors stop its chunks, and none of them is retried. */
  readonly cancelRequested?: boolean;
}

export interface ChunkRecord {
  readonly id: string;
  readonly runId: string;
  readonly job: string;
  readonly kwargs: Kwargs;
  /** Canonical JSON of kwargs: the freshness key of this job node. */
  readonly kwargsKey: string;
  /** Content hash of its job's code when the run was resolved (jobs/code-hash.ts); absent in older records. */
  readonly codeHash?: string | null;
  readonly workIds: readonly WorkId[];
  readonly dependsOn: readonly string[];
  readonly state: ChunkState;
  /** Attempts started so far (claimed, whether or not the attempt got to finish). */
  readonly attempts: number;
  /** Attempts already made when an operator last retried it (its retries count from there). */
  readonly retryFrom?: number;
  readonly error: ChunkError | null;
  /** When the current or last attempt was claimed. */
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** Time the last attempt spent on its worker thread, from its start there to its end (absent in older records). */
  readonly durationMs?: number | null;
  /** A retry waits until this time (epoch ms). */
  readonly notBefore: number | null;
  /**
   * It was running when its instance died: until it ends it runs alone on an instance,
   * so that if it is what kills stau, the next death proves it.
   */
  readonly suspect?: boolean;
  /** Claimed as a suspect, to run alone. */
  readonly alone?: boolean;
  /** Which of the instance's pool workers (1…N) runs it, while it runs. */
  readonly worker?: number | null;
  /** Where its last attempt ran: the instance and its pool worker (absent in older records). */
  readonly ranOn?: { readonly instance: string; readonly worker: number | null } | null;
  /** Which stau instance runs it, and the token that instance must show to complete it. */
  readonly owner: string | null;
  readonly token: string | null;
}

export type RunPatch = Partial<Omit<RunRecord, "id" | "job">>;
export type ChunkPatch = Partial<Omit<ChunkRecord, "id" | "runId" | "job">>;

/** A finished run as history keeps it. */
export interface ArchivedRun {
  readonly run: RunRecord;
  readonly chunks: readonly ChunkRecord[];
}

/** The freshness a successful chunk earns: its job node's last success on its work IDs. */
export interface Success {
  readonly job: string;
  readonly kwargsKey: string;
  /** Empty for a job without work IDs. */
  readonly workIds: readonly WorkId[];
  readonly at: number;
  /** The code hash the chunk ran (for codeAware dependencies); null or absent when unknown. */
  readonly codeHash?: string | null;
}

/** How one chunk attempt ended on its worker thread. */
export type AttemptOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: "error" | "timeout" | "cancelled"; readonly error: AttemptError };

export interface AttemptError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | null;
  /** Thrown as NonRetryableError: fail without retries. */
  readonly nonRetryable: boolean;
}

/** Who runs stau: one process, on one data directory or as one of the instances sharing a database. */
export interface InstanceInfo {
  readonly id: string;
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: number;
  readonly command: string;
}

// --- ids ------------------------------------------------------------------------

/** Sortable by creation time, unique within a store: r<base36 time><random>. */
export function newRunId(now: number): string {
  // randomInt draws from a cache of random bytes: a run costs no call into the system's generator.
  return `r${now.toString(36)}${randomInt(0x10000).toString(16).padStart(4, "0")}`;
}

/** A chunk's id: its run's id, then the plan's id of the chunk (`<run>.<job>.<n>`). */
export function chunkId(runId: string, planId: string): string {
  // A join makes one flat string; a template makes a rope of three strings (~100 bytes
  // against ~50), which a million chunks keep for as long as they are active.
  return [runId, planId].join(".");
}

/** The run a chunk id belongs to. */
export function runIdOfChunk(id: string): string {
  return id.slice(0, id.indexOf("."));
}

/** A chunk id without its run's id: the plan's id (`<job>.<n>`). */
export function planIdOfChunk(id: string): string {
  const dot = id.indexOf(".");
  return dot > 0 ? id.slice(dot + 1) : id;
}
