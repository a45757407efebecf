import type { Kwargs, WorkId } from "../config/types.js";
import type { JobSpec } from "../config/spec.js";
import type { AttemptError, ChunkRecord } from "../store/records.js";

// The typed protocol between the main thread and pool workers. Tasks and results go
// through tinypool; everything a chunk says while it runs (log lines, progress, an
// exit notice) goes through a BroadcastChannel so it arrives live, not at the end.

/** One chunk attempt, as an element of a batch. */
export interface ChunkTask {
  readonly file: string;
  readonly job: string;
  readonly runId: string;
  readonly chunkId: string;
  readonly attempt: number;
  readonly workIds: readonly WorkId[];
  readonly kwargs: Kwargs;
}

/** A chunk attempt to run: its job and what its code is given. */
export interface ChunkRun {
  readonly spec: JobSpec;
  readonly task: Omit<ChunkTask, "file" | "job">;
}

/** What a chunk's code is given (the pool adds its job's file). */
export function taskOf(chunk: ChunkRecord): ChunkRun["task"] {
  return { runId: chunk.runId, chunkId: chunk.id, attempt: chunk.attempts, workIds: chunk.workIds, kwargs: chunk.kwargs };
}

/** What a thread is sent for an attempt: one literal, since a spread that adds fields costs several times its size (this is per chunk). */
export function chunkTask(spec: JobSpec, task: ChunkRun["task"]): ChunkTask {
  return { file: spec.file, job: spec.name, runId: task.runId, chunkId: task.chunkId, attempt: task.attempt, workIds: task.workIds, kwargs: task.kwargs };
}

export interface SelectWorkTask {
  readonly kind: "selectWork";
  /** Names this call in events (a chunk is named by its chunk id). */
  readonly id: string;
  readonly file: string;
  readonly job: string;
  readonly kwargs: Kwargs;
}

/**
 * Chunk attempts run one after another on one thread, answered together; `state` is
 * the batch's shared memory (batch-state.ts). Long chunks travel alone: a batch of one.
 */
export interface BatchTask {
  readonly kind: "batch";
  /** Names the batch in events. */
  readonly id: string;
  readonly chunks: readonly ChunkTask[];
  readonly state: SharedArrayBuffer;
}

export type WorkerTask = BatchTask | SelectWorkTask;

/** An error as it crosses from a worker thread: the shape of an attempt's error. */
export type SerializedError = AttemptError;

/**
 * How one attempt ended. `logged`: it wrote log lines, so an "end" event follows on the
 * events channel; `ms`: how long its code ran, on its thread.
 */
export type ChunkEnd =
  | { readonly ok: true; readonly logged: boolean; readonly ms: number }
  | { readonly ok: false; readonly error: SerializedError; readonly logged: boolean; readonly ms: number };

/**
 * A batch's answer: an end for each chunk that ran, in order (null: taken out before it
 * began). A batch stops at its first failure, so only successes come before the last end.
 */
export interface BatchResult {
  readonly ends: readonly (ChunkEnd | null)[];
}

export type SelectWorkResult = { readonly ok: true; readonly workIds: WorkId[] } | { readonly ok: false; readonly error: SerializedError };

export type TaskResult = BatchResult | SelectWorkResult;

/** How a task's code raised an error that no caller of its own could catch. */
export type StrayOrigin = "rejection" | "exception" | "exit";

/** Worker → main, on the events channel. `key` names a task: a batch's id, or a selectWork call's id. */
export type WorkerEvent =
  /** The thread has started (one the pool started with, its TypeScript loader set up too). */
  | { readonly type: "ready" }
  | { readonly type: "log"; readonly chunkId: string; readonly attempt: number; readonly level: string; readonly text: string; readonly at: number }
  | { readonly type: "progress"; readonly chunkId: string; readonly done: number; readonly total: number }
  | { readonly type: "exit"; readonly key: string; readonly code: number }
  | { readonly type: "end"; readonly chunkId: string; readonly attempt: number }
  /**
   * A task's code raised an error outside any await of its own (an unhandled rejection,
   * a throw from a timer, process.exit): while the task ran (`running`), or after it
   * had returned. The thread that saw it is retired after the task it runs now.
   */
  | {
      readonly type: "stray";
      readonly key: string;
      readonly job: string;
      /** The attempt whose code it was; null for a selectWork call. */
      readonly chunkId: string | null;
      readonly attempt: number | null;
      readonly running: boolean;
      readonly origin: StrayOrigin;
      readonly error: SerializedError;
      readonly at: number;
    }
  /**
   * A task ended on a thread that must retire. Tinypool hands a thread its next task as
   * soon as it answers, so the answer comes here instead, and the pool ends the task
   * (which terminates the thread) with this result.
   */
  | { readonly type: "retired"; readonly key: string; readonly result: TaskResult };

/** Main → workers, on the control channel. */
export type ControlMessage = { readonly type: "abort"; readonly chunkId: string; readonly reason: string };

export interface PoolChannels {
  readonly events: string;
  readonly control: string;
  /** Bytes of log text one chunk attempt may write before the rest is dropped. */
  readonly logCapBytes: number;
  /** How many threads yet to start set up the TypeScript loader at once (shared: each takes one). */
  readonly warmUps: Int32Array;
}


export function serializeError(error: unknown, nonRetryable: boolean): SerializedError {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack ?? null, nonRetryable };
  }
  return { name: "Error", message: `non-Error value thrown: ${String(error)}`, stack: null, nonRetryable };
}
