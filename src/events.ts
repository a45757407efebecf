import type { ChunkError, ChunkRecord, RunRecord } from "./store/records.js";

/**
 * Everything a running stau instance tells the outside world, and when: the console and
 * the log lines of --no-ui are listeners on this one stream. Every change of a run or a
 * chunk is an event, announced by whoever made it (the engine, an executor, the
 * instance), after it is durable; a console on a shared store turns changes other
 * instances made into the same events (console/store-watcher.ts).
 */
export interface StauEvents {
  /** A trigger created the run; it is `waiting` to be resolved. */
  "run:queued": { run: RunRecord };
  /** It waits for other runs to finish chunks of jobs it depends on (README, step 2), listed in `on`. */
  "run:waiting": { run: RunRecord; on: string[] };
  /** It was resolved into chunks, or an operator retried it: `records` are the chunks it (re)starts with. */
  "run:started": { run: RunRecord; chunks: number; records: readonly ChunkRecord[] };
  /** All its chunks are finished; `run.status` says how it ended. */
  "run:finished": { run: RunRecord };
  /** queued → pending: its dependencies are done, or its retry's backoff is over. */
  "chunk:pending": { chunk: ChunkRecord };
  /** An executor of this instance claimed it and started it on a worker thread. */
  "chunk:started": { chunk: ChunkRecord };
  /** Its attempt succeeded; `durationMs` is the time on the worker thread. */
  "chunk:done": { chunk: ChunkRecord; durationMs: number };
  /** Its attempt failed: queued again after a backoff (`willRetry`), or failed or cancelled for good. */
  "chunk:failed": { chunk: ChunkRecord; error: ChunkError; willRetry: boolean; durationMs: number };
  /** running → pending: the instance running it stopped or went silent; it runs again, its attempt counted. */
  "chunk:interrupted": { chunk: ChunkRecord; reason: string };
  /** An operator cancelled it before it started. */
  "chunk:cancelled": { chunk: ChunkRecord };
  /** A chunk it depends on failed for good: it will not run. */
  "chunk:upstream_failed": { chunk: ChunkRecord };
  "chunk:progress": { chunkId: string; done: number; total: number };
  /** `job` is given when the chunk may be unknown to the listener (a line another instance stored). */
  "chunk:log": { chunkId: string; attempt: number; level: string; text: string; job?: string };
  "schedule:fired": { entryId: string; job: string; tickAt: number; catchUp: boolean; runId: string };
  /** `kind`: paused, overlap (a run of the job is active), broken, or error. */
  "schedule:skipped": { entryId: string; job: string; tickAt: number; reason: string; kind: "paused" | "overlap" | "broken" | "error" };
  "instance:started": { pid: number; workers: number; dataDir: string; socket: string | null };
  "instance:draining": { running: number; timeoutMs: number };
  /** This instance took the orchestrator's lock (`copy` is its id). */
  "instance:orchestrating": { copy: string };
  /**
   * `finished`: chunks that were running when the drain began and ended in time; `aborted`:
   * those stopped at the drain timeout (queued again); `left`: unfinished chunks and runs
   * the store keeps for the next start (or another instance), when it could say.
   */
  "instance:stopped": { aborted: number; finished?: number; left?: { runs: number; chunks: number } | null };
  "registry:reloaded": { files: string[]; broken: string[] };
  /** The store cannot record changes now (`problem` says what, where and why), or can again (null): claiming stops meanwhile. */
  "store:problem": { problem: string | null };
  /** Retention (stau.config.ts) removed finished runs that finished before `before`, with their chunks and logs. */
  "store:pruned": { runs: number; chunks: number; logs: number; before: number };
  warning: { message: string };
}

/** Every event name, for listeners that follow all of them (the bus has no wildcard). */
export const EVENT_NAMES = Object.keys({
  "run:queued": 1, "run:waiting": 1, "run:started": 1, "run:finished": 1,
  "chunk:pending": 1, "chunk:started": 1, "chunk:done": 1, "chunk:failed": 1, "chunk:interrupted": 1, "chunk:cancelled": 1, "chunk:upstream_failed": 1,
  "chunk:progress": 1, "chunk:log": 1,
  "schedule:fired": 1, "schedule:skipped": 1,
  "instance:started": 1, "instance:draining": 1, "instance:orchestrating": 1, "instance:stopped": 1,
  "registry:reloaded": 1, "store:problem": 1, "store:pruned": 1, warning: 1,
} satisfies Record<keyof StauEvents, 1>) as (keyof StauEvents)[];

type Listener<E extends keyof StauEvents> = (payload: StauEvents[E]) => void;

/** A typed event bus where a throwing listener cannot break the engine. */
export class EventBus {
  private readonly listeners = new Map<keyof StauEvents, Set<Listener<never>>>();

  on<E extends keyof StauEvents>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** Whether anyone listens to `event` (an emitter may skip building a payload nobody reads). */
  heard(event: keyof StauEvents): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends keyof StauEvents>(event: E, payload: StauEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        if (event !== "warning") this.emit("warning", { message: `a listener of ${event} threw: ${String(error)}` });
      }
    }
  }

  /** Passes every event on to `target` too; returns how to stop. */
  forward(target: EventBus): () => void {
    const offs = EVENT_NAMES.map((name) => this.on(name, (payload) => target.emit(name, payload as never)));
    return () => offs.forEach((off) => off());
  }
}
