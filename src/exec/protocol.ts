import type { Kwargs, WorkId } from "../config/types.js";
import type { AttemptError } from "../store/records.js";

// The typed protocol between the main thread and pool workers. Tasks and results go
// through tinypool; everything a chunk says while it runs (log lines, progress, an
// exit notice) goes through a BroadcastChannel so it arrives live, not at the end.

export interface ChunkTask {
  readonly kind: "chunk";
  readonly file: string;
  readonly job: string;
  readonly runId: string;
  readonly chunkId: string;
  readonly attempt: number;
  readonly workIds: readonly WorkId[];
  readonly kwargs: Kwargs;
}

export interface SelectWorkTask {
  readonly kind: "selectWork";
  readonly file: string;
  readonly job: string;
  readonly kwargs: Kwargs;
}

export type WorkerTask = ChunkTask | SelectWorkTask;

/** An error as it crosses from a worker thread: the shape of an attempt's error. */
export type SerializedError = AttemptError;

/** `logged`: the attempt wrote log lines, so an "end" event follows on the events channel. */
export type TaskResult =
  | { readonly ok: true; readonly workIds?: WorkId[]; readonly logged?: boolean }
  | { readonly ok: false; readonly error: SerializedError; readonly logged?: boolean };

/** Worker → main, on the events channel. */
export type WorkerEvent =
  | { readonly type: "log"; readonly chunkId: string; readonly attempt: number; readonly level: string; readonly text: string; readonly at: number }
  | { readonly type: "progress"; readonly chunkId: string; readonly done: number; readonly total: number }
  | { readonly type: "exit"; readonly chunkId: string; readonly code: number }
  | { readonly type: "end"; readonly chunkId: string; readonly attempt: number };

/** Main → workers, on the control channel. */
export type ControlMessage = { readonly type: "abort"; readonly chunkId: string; readonly reason: string };

export interface PoolChannels {
  readonly events: string;
  readonly control: string;
  /** Bytes of log text one chunk attempt may write before the rest is dropped. */
  readonly logCapBytes: number;
}

export function serializeError(error: unknown, nonRetryable: boolean): SerializedError {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack ?? null, nonRetryable };
  }
  return { name: "Error", message: `non-Error value thrown: ${String(error)}`, stack: null, nonRetryable };
}
