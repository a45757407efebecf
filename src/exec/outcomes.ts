import type { AttemptOutcome } from "../store/records.js";
import type { SerializedError, StrayOrigin } from "./protocol.js";

// How the pool words the ends it decides itself: stopped attempts, dead threads, strays.

export type FailureKind = "error" | "timeout" | "cancelled";

/** Why the pool stopped an attempt: decides its failure. */
export interface Stop {
  readonly kind: FailureKind;
  readonly message: string;
  readonly stack: string | null;
}

/** A chunk of a run an operator cancelled, ended without running. */
export const cancelledOutcome: AttemptOutcome = { ok: false, kind: "cancelled", error: { name: "Error", message: "cancelled by an operator", stack: null, nonRetryable: true } };

export function stoppedOutcome(stopped: Stop): AttemptOutcome {
  return { ok: false, kind: stopped.kind, error: { name: "Error", message: stopped.message, stack: stopped.stack, nonRetryable: false } };
}

/** What the job's code did, completing "its code …". */
export function strayText(origin: StrayOrigin, message: string): string {
  if (origin === "exit") return `called ${message}`;
  return origin === "rejection" ? `raised an unhandled promise rejection: ${message}` : `threw an uncaught exception: ${message}`;
}

/** The worker thread itself died: out of memory, or an error from no task's code (see worker.ts). */
export function workerDeath(error: unknown): SerializedError {
  const err = error as NodeJS.ErrnoException;
  const message = err?.code === "ERR_WORKER_OUT_OF_MEMORY"
    ? `ran out of memory (worker heap limit reached): ${err.message}`
    : `the worker thread died: ${err?.message ?? String(error)}`;
  return { name: err?.name ?? "Error", message, stack: err?.stack ?? null, nonRetryable: false };
}
