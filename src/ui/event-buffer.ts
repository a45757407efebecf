import { EVENT_NAMES, type EventBus } from "../events.js";
import type { EngineEventEntry } from "./actions.js";

// Events arrive in bursts (thousands of chunk:log lines, progress from every
// worker). Re-rendering per event would pin a core, so events are collected here and
// handed to the reducer as one batch at most every `intervalMs`.

export interface EventBuffer {
  push(entry: EngineEventEntry): void;
  /** Hands over what is buffered now (used before a snapshot, so older events never land after it). */
  flush(): void;
  /** Stops the timer and drops what is buffered. */
  close(): void;
}

export interface EventBufferOptions {
  readonly intervalMs?: number;
  /**
   * The wait while events come at `floodPerSecond` or more. A stream that heavy (a big
   * run of short chunks) changes the screen all over at every batch, and each batch is
   * a whole frame to draw: it is drawn less often.
   */
  readonly floodMs?: number;
  readonly floodPerSecond?: number;
  /**
   * Folds an event on arrival (a summarized run's chunk change: summarized-runs.ts):
   * returns null when nothing of it is left to buffer, or what is. A batch with folded
   * events is handed over even when nothing else was buffered, for the reducer to take them.
   */
  readonly fold?: (entry: EngineEventEntry) => EngineEventEntry | null;
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
}

/** What a person waits to see (a run queued, started or ended): never held for a flood's longer wait. */
const PROMPT: ReadonlySet<EngineEventEntry["name"]> = new Set(["run:queued", "run:started", "run:waiting", "run:finished"]);

/**
 * Collects events and calls `onFlush` with all of them at most once per interval (per
 * `floodMs` while a flood lasts, except that a run's own events shorten that wait to
 * the interval). The first event of a quiet period starts the timer, so an idle console
 * wakes up for nothing.
 * Progress events are coalesced per chunk: only the newest count matters.
 */
export function createEventBuffer(onFlush: (entries: EngineEventEntry[]) => void, options: EventBufferOptions = {}): EventBuffer {
  const intervalMs = options.intervalMs ?? 100;
  const floodMs = options.floodMs ?? 500;
  const floodPerSecond = options.floodPerSecond ?? 2000;
  let waitMs = intervalMs;
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  const fold = options.fold ?? ((entry: EngineEventEntry) => entry);
  let entries: EngineEventEntry[] = [];
  /** Events folded since the last flush. */
  let folded = 0;
  let progressAt = new Map<string, number>();
  let timer: unknown = null;
  /** When the armed timer fires. */
  let dueAt = 0;
  let closed = false;
  const arm = (ms: number) => {
    if (timer !== null) clearTimer(timer);
    timer = setTimer(flush, ms);
    dueAt = Date.now() + ms;
  };
  const flush = () => {
    if (timer !== null) clearTimer(timer);
    timer = null;
    if (entries.length === 0 && folded === 0) return;
    const batch = entries;
    entries = [];
    // The batch gathered over about one wait: its size gives the stream's rate.
    waitMs = ((batch.length + folded) * 1000) / waitMs >= floodPerSecond ? Math.max(intervalMs, floodMs) : intervalMs;
    folded = 0;
    progressAt = new Map();
    onFlush(batch);
  };
  return {
    push(arrived) {
      if (closed) return;
      const entry = fold(arrived);
      if (entry === null) {
        folded++;
        if (timer === null) arm(waitMs);
        return;
      }
      if (entry.name === "chunk:progress") {
        const at = progressAt.get(entry.payload.chunkId);
        if (at !== undefined) {
          entries[at] = entry;
          return;
        }
        progressAt.set(entry.payload.chunkId, entries.length);
      }
      entries.push(entry);
      if (timer === null) arm(waitMs);
      else if (PROMPT.has(entry.name) && dueAt - Date.now() > intervalMs) arm(intervalMs);
    },
    flush,
    close() {
      closed = true;
      if (timer !== null) clearTimer(timer);
      timer = null;
      entries = [];
      folded = 0;
    },
  };
}

/** Subscribes the buffer to every engine event; returns the unsubscribe. */
export function attachEventBuffer(bus: EventBus, buffer: EventBuffer): () => void {
  const offs = EVENT_NAMES.map((name) => bus.on(name, (payload) => buffer.push({ name, payload } as EngineEventEntry)));
  return () => offs.forEach((off) => off());
}
