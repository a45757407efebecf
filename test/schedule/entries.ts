import type { ScheduleEntrySpec } from "../../src/config/spec.js";

/** An epoch-ms instant from an ISO string; every instant in these tests is written out. */
export const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad instant in test: ${iso}`);
  return ms;
};

export const isoOf = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());

/** A validated schedule entry; UTC unless a test is about time zones, so the machine's zone never matters. */
export function entry(fields: Partial<ScheduleEntrySpec> & { id?: string }): ScheduleEntrySpec {
  return { id: "e", job: "job", cron: null, everyMs: null, kwargs: {}, workIds: null, timezone: "UTC", catchUp: true, enabled: true, ...fields };
}

/** The calendar date of an instant in a zone ("2026-03-29"). */
export function localDate(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(ms));
}
