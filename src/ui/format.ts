
// Small text helpers shared by the panes. Everything here is pure and width-aware in
// the simple sense (one code unit, one column): Ink's truncation catches the rest.

// Instants and ages for people are written here and nowhere else: clockTime and dateTime
// in local time (the person's wall clock), ages by ago/until, so the console, the live
// `stau run`, the headless lines and the commands write the same moment the same way.
// Machine-read output (JSON, log files) keeps ISO in UTC; a measured span in a sentence
// ("done in 1.5s") keeps config/duration's formatDuration, which is exact.

/**
 * The console's one way to write a span of time: its largest unit only, rounded down
 * (42s, 5m, 3h, 2d). Every age, countdown, elapsed time and ETA uses it, so columns
 * can be sized once ("cancelled 59m ago" is as wide as a value gets) and no two panes
 * write the same moment differently.
 */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** "5m ago", or `never` for null. */
export function ago(at: number | null, now: number): string {
  return at === null ? "never" : `${shortDuration(now - at)} ago`;
}

/** "in 5m" (or "due" once past), or "—" for null. */
export function until(at: number | null, now: number): string {
  if (at === null) return "—";
  return at <= now ? "due" : `in ${shortDuration(at - now)}`;
}

const two = (n: number) => String(n).padStart(2, "0");

/** Local wall-clock time HH:MM:SS, with milliseconds (HH:MM:SS.mmm) for log lines that must order within a second. */
export function clockTime(at: number, withMs = false): string {
  const d = new Date(at);
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return withMs ? `${time}.${String(d.getMilliseconds()).padStart(3, "0")}` : time;
}

/** Local date and time YYYY-MM-DD HH:MM:SS, for instants that may not be today. */
export function dateTime(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clockTime(at)}`;
}

/** Cuts to `width` columns with an ellipsis, then pads to exactly `width`. */
export function cell(text: string, width: number): string {
  if (width <= 0) return "";
  return text.length > width ? (width === 1 ? "…" : text.slice(0, width - 1) + "…") : text.padEnd(width);
}

/** A progress bar of `width` cells. */
export function bar(done: number, total: number, width: number): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const full = Math.round(ratio * width);
  return "█".repeat(full) + "░".repeat(width - full);
}

/** The first line of a message. */
export function firstLine(text: string): string {
  const i = text.indexOf("\n");
  return i < 0 ? text : text.slice(0, i);
}

/** Removes escape sequences and control characters that would move the cursor (job output is untrusted). */
export function printable(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?|\u001b./g, "").replace(/\t/g, "  ").replace(/[\u0000-\u001f\u007f]/g, "");
}

/** The chunk id without its run id, e.g. "r1a2b.daily_stats.3" → "daily_stats.3". */
export { planIdOfChunk as chunkLabel } from "../store/records.js";

/** Work IDs compactly: [1,2,3] or [1…90] (90). */
export { formatWorkIds as workIds } from "../config/work-ids.js";

/** Spinner frame for a shared clock time (one frame per tick). */
export function spinner(now: number, tickMs = 1000): string {
  const frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
  return frames[Math.floor(now / tickMs) % frames.length];
}
