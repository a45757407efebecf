import type { Clock } from "../clock.js";
import type { ScheduleEntrySpec } from "../config/spec.js";
import { errorMessage } from "../errors.js";
import { markedTick, missedTick, nextFire, tickSource, type ScheduleMark, type TickSource } from "./ticks.js";

/** What the scheduler needs from the instance that runs it: the engine and the store. */
export interface ScheduleHost {
  /** Start a run for a tick. Resolves when it is recorded. */
  fire(entry: ScheduleEntrySpec, tickAt: number, catchUp: boolean): Promise<void>;
  /** Why this tick must be skipped (overlap policy: a run of the job is active and the job does not allow concurrent runs; the job is broken), or null to fire. */
  skipReason(entry: ScheduleEntrySpec): Skip | null;
  /** Persist what the entry last did (the host calls store.setScheduleMark and emits events). */
  mark(entryId: string, mark: ScheduleMark): void;
  /** A tick was not fired, and why. */
  skipped(entry: ScheduleEntrySpec, tickAt: number, skip: Skip): void;
}

export interface SchedulerOptions {
  readonly entries: readonly ScheduleEntrySpec[];
  /** What each entry last did, from the store: where catch-up and counting start. */
  readonly marks: ReadonlyMap<string, ScheduleMark>;
  readonly clock: Clock;
  readonly host: ScheduleHost;
}

/** Why a tick was not fired: the kind, for counting (metrics), and the reason, for people. */
export interface Skip {
  readonly kind: "paused" | "overlap" | "broken" | "error";
  readonly reason: string;
}

/** The reason recorded for ticks that come while the schedule is paused. */
export const PAUSED_REASON = "the schedule is paused";

/** The longest the timer sleeps, so a clock that is changed (or jumps) is noticed within it. */
const MAX_SLEEP_MS = 60_000;

interface EntryState {
  entry: ScheduleEntrySpec;
  ticks: TickSource;
  /** Ticks at or before this instant are dealt with (fired, skipped or passed over). */
  cursor: number;
  /** `ticks.next(cursor)`, kept because croner walks calendars and the timer wakes often. */
  next: number | null;
}

/**
 * Calls the host where it only reports (mark, skipped). Its failures are its own to
 * report; one of them must not stop the timer or, in a promise, crash the process.
 */
function quietly(report: () => void): void {
  try {
    report();
  } catch {
    // Deliberately ignored, see above.
  }
}

const sameTiming = (a: ScheduleEntrySpec, b: ScheduleEntrySpec) =>
  a.cron === b.cron && a.everyMs === b.everyMs && a.timezone === b.timezone && a.enabled === b.enabled;

/**
 * Fires schedule entries on their ticks. Each tick fires at most once: the next tick is
 * always looked for after the last one dealt with, so a clock going backwards waits
 * instead of repeating, and marks are written after every fire or skip so a restart
 * neither skips nor repeats. A catch-up is one fire however many ticks were missed.
 */
export class Scheduler {
  readonly #clock: Clock;
  readonly #host: ScheduleHost;
  #entries: readonly ScheduleEntrySpec[];
  readonly #marks: Map<string, ScheduleMark>;
  readonly #states = new Map<string, EntryState>();
  readonly #inFlight = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running = false;
  #paused = false;

  constructor(options: SchedulerOptions) {
    this.#entries = options.entries;
    this.#marks = new Map(options.marks);
    this.#clock = options.clock;
    this.#host = options.host;
  }

  /**
   * Catches up, then arms the timer. An enabled entry whose mark is older than a tick at
   * or before now fires once with `catchUp` (or, with `catchUp: false`, silently counts
   * from now); an entry without a mark starts counting from now.
   */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const now = this.#clock.now();
    for (const entry of this.#entries) {
      const state = this.#track(entry, now);
      const missed = missedTick(state.ticks, this.#marks.get(entry.id), now);
      if (missed !== null && entry.catchUp) this.#handle(entry, missed, true);
    }
    this.#arm();
  }

  /** No more fires; runs already started are not touched (see `settled`). */
  stop(): void {
    this.#running = false;
    this.#states.clear();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Ticks while paused are recorded as skipped, so resuming never fires a backlog. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Hot reload. Marks of entries whose id still exists are kept; an entry whose timing
   * (cron, every, timezone, enabled) changed, or a new one, counts from now, so an edit
   * never fires a tick that lies in the past.
   */
  setEntries(entries: readonly ScheduleEntrySpec[]): void {
    const ids = new Set(entries.map((e) => e.id));
    for (const id of [...this.#marks.keys()]) if (!ids.has(id)) this.#marks.delete(id);
    this.#entries = entries;
    if (!this.#running) return;
    const now = this.#clock.now();
    const old = new Map(this.#states);
    this.#states.clear();
    for (const entry of entries) {
      const before = old.get(entry.id);
      if (before && sameTiming(before.entry, entry)) this.#states.set(entry.id, { ...before, entry });
      else this.#track(entry, Math.max(now, before?.cursor ?? now));
    }
    this.#arm();
  }

  /** The next fire of each entry (null: disabled or never again), for `stau explain` and the console. */
  nextFires(): Map<string, number | null> {
    const now = this.#clock.now();
    return new Map(
      this.#entries.map((entry) => {
        const state = this.#states.get(entry.id);
        if (state) return [entry.id, state.next];
        return [entry.id, nextFire(entry, this.#marks.get(entry.id), now)];
      }),
    );
  }

  /** Resolves when every fire started so far has been recorded (or failed and been marked). */
  async settled(): Promise<void> {
    while (this.#inFlight.size) await Promise.allSettled([...this.#inFlight]);
  }

  #track(entry: ScheduleEntrySpec, now: number): EntryState {
    // A mark ahead of now means the clock went back since: those ticks were dealt with.
    const mark = this.#marks.get(entry.id);
    const cursor = Math.max(now, markedTick(mark) ?? now);
    const ticks = tickSource(entry);
    const state = { entry, ticks, cursor, next: nextFire(entry, mark, now, ticks) };
    this.#states.set(entry.id, state);
    return state;
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#running) return;
    let soonest = Infinity;
    for (const state of this.#states.values()) if (state.next !== null) soonest = Math.min(soonest, state.next);
    if (soonest === Infinity) return;
    const delay = Math.min(Math.max(soonest - this.#clock.now(), 0), MAX_SLEEP_MS);
    this.#timer = setTimeout(() => this.#wake(), delay);
    this.#timer.unref?.();
  }

  #wake(): void {
    this.#timer = null;
    try {
      const now = this.#clock.now();
      for (const state of this.#states.values()) {
        const first = state.next;
        if (first === null || first > now) continue;
        // Normally one tick is due. More means the timers did not run (the machine slept,
        // the clock jumped forward): fire the latest once, flagged as a catch-up.
        const second = state.ticks.next(first);
        const latest = second !== null && second <= now ? Math.max(second, state.ticks.lastAtOrBefore(now) ?? second) : first;
        state.cursor = latest;
        state.next = latest === first ? second : state.ticks.next(latest);
        this.#handle(state.entry, latest, latest !== first);
      }
    } finally {
      this.#arm();
    }
  }

  #handle(entry: ScheduleEntrySpec, tickAt: number, catchUp: boolean): void {
    let skip: Skip | null;
    try {
      skip = this.#paused ? { kind: "paused", reason: PAUSED_REASON } : this.#host.skipReason(entry);
    } catch (error) {
      skip = { kind: "error", reason: `could not check whether the job may run: ${errorMessage(error)}` };
    }
    if (skip !== null) return this.#skip(entry, tickAt, skip);
    let fired: Promise<void>;
    try {
      fired = Promise.resolve(this.#host.fire(entry, tickAt, catchUp));
    } catch (error) {
      fired = Promise.reject(error);
    }
    const done = fired.then(
      () => this.#mark(entry.id, tickAt, null),
      (error: unknown) => this.#skip(entry, tickAt, { kind: "error", reason: `could not start a run: ${errorMessage(error)}` }),
    );
    this.#inFlight.add(done);
    void done.finally(() => this.#inFlight.delete(done));
  }

  #skip(entry: ScheduleEntrySpec, tickAt: number, skip: Skip): void {
    this.#mark(entry.id, tickAt, { tickAt, reason: skip.reason });
    quietly(() => this.#host.skipped(entry, tickAt, skip));
  }

  #mark(entryId: string, tickAt: number, skip: ScheduleMark["lastSkip"]): void {
    const before = this.#marks.get(entryId);
    // Fires can settle out of order; the mark never moves back to an older tick.
    const lastTickAt = Math.max(tickAt, before?.lastTickAt ?? tickAt);
    const mark: ScheduleMark = { lastTickAt, lastSkip: skip ?? before?.lastSkip ?? null };
    this.#marks.set(entryId, mark);
    quietly(() => this.#host.mark(entryId, mark));
  }
}
