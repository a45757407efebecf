import ms from "ms";

/** A duration as users write it: `"90s"`, `"15m"`, `"1h"`, `"1d"`, or milliseconds. */
export type Duration = string | number;

/** Milliseconds for a duration, or undefined when it cannot be read. */
export function parseDuration(value: Duration): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const parsed = ms(value.trim() as ms.StringValue);
  return typeof parsed === "number" && Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

/** A short human form of milliseconds for messages: 1500 → "1.5s". */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.round(milliseconds)}ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1).replace(/\.0$/, "")}s`;
  return ms(Math.round(milliseconds), { long: false });
}
