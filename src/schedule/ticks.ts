import { Cron } from "croner";
import type { ScheduleEntrySpec } from "../config/spec.js";

// Pure time math for schedule entries: no timers, no clock. Everything is epoch ms.

/** What the store remembers of a schedule entry, so restarts neither skip nor double-fire. */
export interface ScheduleMark {
  /** The tick (epoch ms) the entry last fired for. */
  readonly lastTickAt: number | null;
  /** The last tick skipped, and why (overlap policy, broken job…). */
  readonly lastSkip: { readonly tickAt: number; readonly reason: string } | null;
  /** An `onFiles` entry: the content hash of every file it fired for, by path (each content fires once). */
  readonly files?: Readonly<Record<string, string>>;
  /** An `onFiles` entry: the files its last run was for. */
  readonly lastFiles?: readonly string[];
  /**
   * An `onFiles` entry: a fire written down before it happened, so that whoever reads the
   * mark next knows, by whether the tick fired (store.tickFired), whether these files
   * were handled — a kill between the run and the mark neither loses nor repeats them.
   */
  readonly firing?: { readonly tickAt: number; readonly files: Readonly<Record<string, string>> };
}

/** The ticks of one entry. Build it once per entry: parsing a cron expression is not free. */
export interface TickSource {
  /** The first tick strictly after `after`, or null when there is none (disabled, or a date that never comes). */
  next(after: number): number | null;
  /** The latest tick at or before `at`, or null. */
  lastAtOrBefore(at: number): number | null;
}

const NO_TICKS: TickSource = { next: () => null, lastAtOrBefore: () => null };

/**
 * The ticks of an entry.
 *
 * - `cron`: croner in the entry's timezone (the machine's local time when it has none),
 *   5 fields or 6 with seconds first. Across DST croner follows Vixie cron: a fixed-time
 *   expression (`30 2 * * *`) whose time does not exist runs once right after the gap,
 *   and once (the first time) when its time happens twice; an interval expression
 *   (`0 * * * *`) skips the missing hour and runs in both passes of a repeated one, which
 *   are different instants anyway.
 * - `every`: multiples of the interval since 1970-01-01T00:00Z, so ticks are the same
 *   across restarts and machines whatever the timezone (which is only used for display).
 */
export function tickSource(entry: ScheduleEntrySpec): TickSource {
  if (!entry.enabled) return NO_TICKS;
  if (entry.everyMs !== null && entry.everyMs > 0) {
    const every = entry.everyMs;
    return {
      next: (after) => (Math.floor(after / every) + 1) * every,
      lastAtOrBefore: (at) => Math.floor(at / every) * every,
    };
  }
  if (entry.cron !== null) {
    // A paused Cron without a function never sets a timer; it is only asked for dates.
    // It must not be stop()ped: a stopped Cron answers null to every nextRun().
    const cron = new Cron(entry.cron, { timezone: entry.timezone ?? undefined, paused: true, mode: "5-or-6-parts" });
    return {
      // nextRun() drops the milliseconds of its reference and answers strictly after it.
      next: (after) => cron.nextRun(new Date(after))?.getTime() ?? null,
      // previousRuns() answers strictly before its reference (ticks are whole seconds), so
      // one ms past `at` includes a tick exactly at `at`. Like nextRun it runs a repeated
      // local time once and a missing one right after the gap, so both walks agree.
      lastAtOrBefore: (at) => cron.previousRuns(1, new Date(at + 1))[0]?.getTime() ?? null,
    };
  }
  return NO_TICKS;
}

/**
 * When an entry fires next, as a start at `now` would count: the first tick after now,
 * and never one a mark already accounts for (a mark ahead of now means the clock went
 * back since those ticks were dealt with). Null for a disabled entry or no tick to come.
 * The scheduler, `stau schedule`, `stau explain` and the console all ask this.
 */
export function nextFire(entry: ScheduleEntrySpec, mark: ScheduleMark | undefined, now: number, ticks: TickSource = tickSource(entry)): number | null {
  return ticks.next(Math.max(now, markedTick(mark) ?? now));
}

/** The latest tick of an entry at or before `at` (epoch ms), or null. */
export function lastTickAtOrBefore(entry: ScheduleEntrySpec, at: number): number | null {
  return tickSource(entry).lastAtOrBefore(at);
}

/** The latest tick a mark accounts for (fired or skipped), or null for a fresh entry. */
export function markedTick(mark: ScheduleMark | undefined): number | null {
  if (!mark) return null;
  const ticks = [mark.lastTickAt, mark.lastSkip?.tickAt ?? null].filter((t): t is number => t !== null);
  return ticks.length ? Math.max(...ticks) : null;
}

/**
 * The tick a catch-up on start at `now` stands for: the latest tick after the mark and
 * at or before `now`, or null when none was missed. Entries without a mark missed
 * nothing: they start counting at `now`. However many ticks were missed, this is one.
 */
export function missedTick(ticks: TickSource, mark: ScheduleMark | undefined, now: number): number | null {
  const since = markedTick(mark);
  if (since === null) return null;
  const first = ticks.next(since);
  if (first === null || first > now) return null;
  // Never earlier than `first`, even if croner's backward walk ever disagreed with its forward one.
  return Math.max(first, ticks.lastAtOrBefore(now) ?? first);
}

/** One fire `stau schedule --simulate` predicts. */
export interface SimulatedFire {
  readonly entryId: string;
  readonly job: string;
  /** When the run would start. */
  readonly at: number;
  /** The tick it stands for: `at` itself, or for a catch-up the missed tick. */
  readonly tickAt: number;
  /** A tick missed while stau was down, fired once on start. */
  readonly catchUp: boolean;
}

/** How many fires `simulate` lists at most: a per-second cron over a week is 600k. */
export const SIMULATE_LIMIT = 10_000;

/**
 * Every fire between `from` (exclusive, except catch-ups, which fire at `from`) and
 * `until` (inclusive) if stau started at `from` with these marks, sorted by time.
 * At most `limit` fires; to learn whether the window holds more, ask for one more.
 */
export function simulate(
  entries: readonly ScheduleEntrySpec[],
  marks: ReadonlyMap<string, ScheduleMark>,
  from: number,
  until: number,
  limit = SIMULATE_LIMIT,
): SimulatedFire[] {
  const fires: SimulatedFire[] = [];
  const cursors: { entry: ScheduleEntrySpec; ticks: TickSource; next: number | null }[] = [];
  for (const entry of entries) {
    if (!entry.enabled) continue;
    const ticks = tickSource(entry);
    const mark = marks.get(entry.id);
    const missed = missedTick(ticks, mark, from);
    if (missed !== null && entry.catchUp && from <= until) {
      fires.push({ entryId: entry.id, job: entry.job, at: from, tickAt: missed, catchUp: true });
    }
    cursors.push({ entry, ticks, next: nextFire(entry, mark, from, ticks) });
  }
  // Merge the entries' ticks lazily, earliest first, so the limit bounds the work too.
  while (fires.length < limit) {
    let soonest: (typeof cursors)[number] | null = null;
    for (const cursor of cursors) {
      if (cursor.next !== null && cursor.next <= until && (soonest === null || cursor.next < soonest.next!)) soonest = cursor;
    }
    if (soonest === null) break;
    const at = soonest.next!;
    fires.push({ entryId: soonest.entry.id, job: soonest.entry.job, at, tickAt: at, catchUp: false });
    soonest.next = soonest.ticks.next(at);
  }
  return fires.slice(0, limit);
}
