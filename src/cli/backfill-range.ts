import { parseDuration } from "../config/duration.js";
import { UsageError } from "../errors.js";

// `stau backfill --range KEY=FROM..TO [--step S]`: the values a backfill runs, one run
// each. Dates step by whole days (UTC calendar days: a date names a day, not an instant,
// so no time zone or DST can skip or repeat one); integers by a whole number.

export interface BackfillRange {
  readonly key: string;
  readonly values: readonly (string | number)[];
}

/** More than this many runs is almost surely a typo in the range. */
const MAX_VALUES = 100_000;
const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INTEGER = /^-?\d+$/;

const example = "for example --range day=2026-01-01..2026-01-31 or --range shard=0..15";

export function parseBackfillRange(range: string, step: string | undefined): BackfillRange {
  const match = range.match(/^([A-Za-z_][\w-]*)=([^.]+)\.\.([^.]+)$/);
  if (!match) throw new UsageError(`--range must be KEY=FROM..TO, received ${JSON.stringify(range)}`, example);
  const [, key, from, to] = match as unknown as [string, string, string, string];
  if (DATE.test(from) && DATE.test(to)) return { key, values: dates(from, to, step) };
  if (INTEGER.test(from) && INTEGER.test(to)) return { key, values: integers(from, to, step) };
  throw new UsageError(`--range ${key}=${from}..${to}: FROM and TO must both be dates (YYYY-MM-DD) or both integers`, example);
}

function dates(from: string, to: string, step: string | undefined): string[] {
  const start = dayOf(from);
  const end = dayOf(to);
  const ms = step === undefined ? DAY_MS : parseDuration(step);
  if (ms === undefined || ms <= 0 || ms % DAY_MS !== 0) {
    throw new UsageError(`--step for a date range must be a whole number of days, received ${JSON.stringify(step)}`, "for example --step 1d or --step 7d");
  }
  return inOrder(start, end, ms, `${from}..${to}`).map((at) => new Date(at).toISOString().slice(0, 10));
}

function integers(from: string, to: string, step: string | undefined): number[] {
  const by = step === undefined ? 1 : Number(step);
  if (!Number.isSafeInteger(by) || by <= 0) throw new UsageError(`--step for an integer range must be a whole number above 0, received ${JSON.stringify(step)}`, "for example --step 10");
  return inOrder(Number(from), Number(to), by, `${from}..${to}`);
}

function dayOf(date: string): number {
  const at = Date.parse(`${date}T00:00:00Z`);
  // Date.parse rolls 2026-02-30 over to March: a date must read back as itself.
  if (Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== date) throw new UsageError(`--range: ${date} is not a date`, example);
  return at;
}

function inOrder(start: number, end: number, step: number, text: string): number[] {
  if (start > end) throw new UsageError(`--range ${text}: FROM is after TO`, example);
  const count = Math.floor((end - start) / step) + 1;
  if (count > MAX_VALUES) throw new UsageError(`--range ${text} makes ${count} runs, more than ${MAX_VALUES}`, "split it, or use a larger --step");
  return Array.from({ length: count }, (_, i) => start + i * step);
}
