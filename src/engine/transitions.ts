import type { JobSpec } from "../config/spec.js";
import type { AttemptOutcome, ChunkError, ChunkPatch, ChunkRecord, ChunkState, RunStatus, Success } from "../store/records.js";

// The chunk and run state machine (README, "How a trigger becomes chunks") as pure
// functions: given a record and what happened, the patch to apply. No I/O, no clock:
// time is passed in. Both stores apply these patches as they are (SQL only checks
// tokens and states); nothing else decides a chunk's next state.

/** queued → pending once every dependency is done (or a retry's backoff is over). */
export function release(): ChunkPatch {
  return { state: "pending" };
}

/**
 * pending → running for `owner`. The store adds what only it can: the attempt count
 * goes up by one and a fresh token is issued, which the owner must show to complete it.
 * `alone`: a suspect claimed to run with nothing else beside it.
 */
export function claim(owner: string, at: number, alone = false): ChunkPatch {
  const patch: ChunkPatch = { state: "running", owner, startedAt: at, finishedAt: null, notBefore: null, durationMs: null, worker: null };
  return alone ? { ...patch, alone: true } : patch;
}

/** Delay before retry number `attempt` (1 = the first retry): doubled each time. */
export function backoffMs(spec: Pick<JobSpec, "retryDelayMs">, failedAttempts: number): number {
  return spec.retryDelayMs * 2 ** Math.max(0, failedAttempts - 1);
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

/** How an attempt ended, as the patch to record and the error it met. */
export interface AttemptResult {
  readonly patch: ChunkPatch;
  readonly error: ChunkError | null;
}

type Place = NonNullable<ChunkRecord["ranOn"]>;
/** Where attempts ran, one frozen record per instance and worker, shared by their chunks (a million-chunk run keeps a handful, not a million). */
const places = new Map<string, Place>();
const PLACES_KEPT = 1_000;

function placeOf(instance: string, worker: number | null): Place {
  const key = `${instance}\u0000${worker}`;
  let place = places.get(key);
  if (!place) {
    // Instances come and go over months; the shared records need not.
    if (places.size >= PLACES_KEPT) places.clear();
    places.set(key, (place = Object.freeze({ instance, worker })));
  }
  return place;
}

/**
 * running → done, queued for a retry, failed or cancelled, from the attempt's outcome.
 * `durationMs` is the time the attempt spent on its worker thread, `worker` the pool
 * worker it ran on (kept with its owner in `ranOn`, for `stau show`).
 */
export function settleAttempt(
  chunk: ChunkRecord,
  spec: Pick<JobSpec, "retries" | "retryDelayMs">,
  outcome: AttemptOutcome,
  cancelRequested: boolean,
  now: number,
  durationMs: number,
  worker: number | null = null,
): AttemptResult {
  const ranOn = chunk.owner === null ? null : placeOf(chunk.owner, worker);
  // An attempt that got to its end clears suspicion: whatever kills stau, it was not this one.
  const cleared = chunk.suspect ? ({ suspect: false, alone: false } as const) : null;
  if (outcome.ok) {
    // Every success: one literal (a spread that adds fields costs several times its size).
    const done = { state: "done", finishedAt: now, error: null, owner: null, token: null, worker: null, ranOn, durationMs } as const;
    return { patch: cleared ? { ...done, ...cleared } : done, error: null };
  }
  const ended = { owner: null, token: null, worker: null, ranOn, durationMs, ...cleared } as const;
  const error: ChunkError = { message: outcome.error.message, kind: outcome.kind, stack: outcome.error.stack };
  return { patch: { ...fail(chunk, spec, error, outcome.error.nonRetryable || cancelRequested, now), ...ended }, error };
}

/** The freshness a chunk's success earns (null for a chunk that is not done). */
export function earned(chunk: ChunkRecord): Success | null {
  if (chunk.state !== "done") return null;
  return { job: chunk.job, kwargsKey: chunk.kwargsKey, workIds: chunk.workIds, at: chunk.finishedAt ?? chunk.startedAt ?? 0, codeHash: chunk.codeHash ?? null };
}

/** A dependency finally failed: the chunks below it will never run. */
export function upstreamFailed(failedChunkId: string, now: number): ChunkPatch {
  return { state: "upstream_failed", error: { kind: "upstream", message: `upstream chunk ${failedChunkId} failed` }, finishedAt: now };
}

/** An operator stopped a chunk that was not running. */
export function cancel(now: number): ChunkPatch {
  return { state: "cancelled", error: { kind: "cancelled", message: "cancelled by an operator" }, finishedAt: now, notBefore: null };
}

/**
 * A running chunk whose instance stopped (drained, killed, went silent) goes back to
 * pending: its dependencies are done, so any free worker may take it at once. Its
 * attempt stays counted.
 */
export function interrupted(reason: string): ChunkPatch {
  return { state: "pending", owner: null, token: null, worker: null, notBefore: null, alone: false, error: { kind: "cancelled", message: `interrupted: ${reason}` } };
}

/**
 * A running chunk whose instance died under it (killed, crashed, lost) goes back to
 * pending, its attempt counted, as a suspect: it may be what kills stau (a native crash,
 * a main-process OOM, process.kill), so from now on it runs alone on an instance. A
 * suspect that was running alone when its instance died did it: that counts as a failed
 * attempt, and once its attempts are used it fails instead of taking the schedule and
 * every other run down at every start.
 */
export function orphaned(chunk: ChunkRecord, spec: Pick<JobSpec, "retries">, reason: string, now: number): ChunkPatch {
  const back = { ...interrupted(reason), suspect: true, alone: false };
  if (!chunk.alone) return back;
  const used = chunk.attempts - (chunk.retryFrom ?? 0);
  if (used <= spec.retries) return back;
  const message = `${reason} again, running alone this time: the chunk is what stops stau (a crash, running out of memory, process.kill), so it is not run again; fix the job, then retry the run`;
  return { state: "failed", owner: null, token: null, worker: null, notBefore: null, alone: false, finishedAt: now, error: { kind: "error", message } };
}

/**
 * An operator retry: failed work gets a fresh set of retries. Attempts keep counting,
 * so every attempt keeps its own number (and log file).
 */
export function requeue(chunk: Pick<ChunkRecord, "attempts">): ChunkPatch {
  return { state: "queued", retryFrom: chunk.attempts, error: null, finishedAt: null, startedAt: null, notBefore: null };
}

/** Which chunks an operator retry runs again. */
export function retriable(state: ChunkState): boolean {
  return state === "failed" || state === "upstream_failed" || state === "cancelled";
}

export const FINISHED_CHUNK_STATES: ReadonlySet<ChunkState> = new Set(["done", "failed", "upstream_failed", "cancelled"]);
export const FINISHED_RUN_STATES: ReadonlySet<RunStatus> = new Set(["done", "failed", "cancelled"]);

export function isFinished(state: ChunkState): boolean {
  return FINISHED_CHUNK_STATES.has(state);
}

/** A finished chunk whose dependents will never run: it failed, was cancelled, or its own upstream failed. */
export function blocksDependents(state: ChunkState): boolean {
  return state === "failed" || state === "cancelled" || state === "upstream_failed";
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
