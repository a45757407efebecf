import type { JobSpec } from "../config/spec.js";
import type { ChunkOutcome } from "../exec/pool.js";
import type { ChunkError, ChunkPatch, ChunkRecord, ChunkState, RunStatus } from "../store/records.js";
import type { Success } from "../store/store.js";

// The chunk and run state machine of SPEC §3 as pure functions: given a record and
// what happened, the patch to apply. No I/O, no clock: time is passed in.

/** queued → pending once every dependency is done. */
export function release(): ChunkPatch {
  return { state: "pending" };
}

/** Delay before retry number `attempt` (1 = the first retry): doubled each time. */
export function backoffMs(spec: Pick<JobSpec, "retryDelayMs">, failedAttempts: number): number {
  return spec.retryDelayMs * 2 ** Math.max(0, failedAttempts - 1);
}

/** running → done. */
export function succeed(now: number): ChunkPatch {
  return { state: "done", finishedAt: now, error: null };
}

/**
 * running → queued (after a backoff) while attempts are left and the error is
 * retryable; → failed otherwise. Timeouts retry like errors; cancels never do.
 */
export function fail(chunk: ChunkRecord, spec: Pick<JobSpec, "retries" | "retryDelayMs">, error: ChunkError, nonRetryable: boolean, now: number): ChunkPatch {
  const retryable = !nonRetryable && (error.kind === "error" || error.kind === "timeout");
  // Attempts since the last operator retry count against the job's retries.
  const used = chunk.attempts - (chunk.retryFrom ?? 0);
  if (retryable && used <= spec.retries) {
    return { state: "queued", error, notBefore: now + backoffMs(spec, used), finishedAt: null };
  }
  return { state: error.kind === "cancelled" ? "cancelled" : "failed", error, finishedAt: now, notBefore: null };
}

/** How an attempt ended, as the patch to record, the freshness it earns and the error it met. */
export interface AttemptResult {
  readonly patch: ChunkPatch;
  readonly success: Success | null;
  readonly error: ChunkError | null;
}

/** running → done, queued for a retry, failed or cancelled, from the pool's outcome. */
export function settleAttempt(chunk: ChunkRecord, spec: Pick<JobSpec, "retries" | "retryDelayMs">, outcome: ChunkOutcome, cancelRequested: boolean, now: number): AttemptResult {
  if (outcome.ok) return { patch: succeed(now), success: { job: chunk.job, kwargsKey: chunk.kwargsKey, workIds: chunk.workIds, at: now }, error: null };
  const error: ChunkError = { message: outcome.error.message, kind: outcome.kind, stack: outcome.error.stack };
  return { patch: fail(chunk, spec, error, outcome.error.nonRetryable || cancelRequested, now), success: null, error };
}

/** A dependency finally failed: the chunks below it will never run. */
export function upstreamFailed(failedChunkId: string, now: number): ChunkPatch {
  return { state: "upstream_failed", error: { kind: "upstream", message: `upstream chunk ${failedChunkId} failed` }, finishedAt: now };
}

/** An operator stopped a chunk that was not running. */
export function cancel(now: number): ChunkPatch {
  return { state: "cancelled", error: { kind: "cancelled", message: "cancelled by an operator" }, finishedAt: now, notBefore: null };
}

/** A chunk that was running when its instance stopped goes back to the queue; its attempt stays counted. */
export function interrupted(): ChunkPatch {
  return { state: "queued", owner: null, token: null, notBefore: null, worker: null, error: { kind: "cancelled", message: "interrupted: stau stopped while this chunk ran" } };
}

/**
 * An operator retry: failed work gets a fresh set of retries. Attempts keep counting,
 * so every attempt keeps its own number (and log file).
 */
export function requeue(chunk: Pick<ChunkRecord, "attempts">): ChunkPatch {
  return { state: "queued", retryFrom: chunk.attempts, error: null, finishedAt: null, startedAt: null, notBefore: null };
}

export function isFinished(state: ChunkState): boolean {
  return state === "done" || state === "failed" || state === "upstream_failed" || state === "cancelled";
}

/** A run's status once all its chunks are finished. */
export function finalStatus(states: Iterable<ChunkState>, cancelled: boolean): RunStatus {
  let failed = false;
  for (const state of states) {
    if (state === "failed" || state === "upstream_failed") failed = true;
    if (state === "cancelled") cancelled = true;
  }
  return cancelled ? "cancelled" : failed ? "failed" : "done";
}
