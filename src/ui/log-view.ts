import { clockTime, printable } from "./format.js";
import { attemptTag } from "../store/logs.js";
import { logMatches } from "./logs-reducer.js";
import type { LogEntry, LogsState } from "./state.js";

/** One screen row of the logs pane (a line, or part of a wrapped one). */
export interface LogRow {
  readonly key: string;
  /** Time and the `[chunk#attempt]` tag (the chunk names its job): drawn dim. */
  readonly prefix: string;
  readonly text: string;
  readonly level: string;
}

/** What stands before a log line everywhere the console shows one: its time and its attempt's tag. */
const prefixOf = (line: Pick<LogEntry, "at" | "chunkId" | "attempt">) => `${clockTime(line.at)} ${attemptTag(line.chunkId, line.attempt)} `;

/** A log line as one plain text line (a chunk's log in a text dialog). */
export function logLineText(line: Pick<LogEntry, "at" | "chunkId" | "attempt" | "text">): string {
  return prefixOf(line) + printable(line.text);
}

/** One line's rows. The same prefix whether one job or all show: the tag already names the job. */
function rowsOf(line: LogEntry, wrap: boolean, width: number, max: number): LogRow[] {
  const prefix = prefixOf(line);
  const text = printable(line.text);
  if (!wrap || prefix.length + text.length <= width) return [{ key: `${line.seq}`, prefix, text, level: line.level }];
  const rows: LogRow[] = [{ key: `${line.seq}`, prefix, text: text.slice(0, Math.max(1, width - prefix.length)), level: line.level }];
  const indent = Math.min(4, width - 1);
  for (let at = rows[0].text.length; at < text.length && rows.length < max; at += width - indent) {
    rows.push({ key: `${line.seq}.${rows.length}`, prefix: " ".repeat(indent), text: text.slice(at, at + width - indent), level: line.level });
  }
  return rows;
}

/** Index of the newest line with seq ≤ `seq` (lines ascend by seq); -1 when none. */
function indexAtOrBefore(lines: readonly LogEntry[], seq: number): number {
  let lo = 0;
  let hi = lines.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].seq <= seq) (found = mid), (lo = mid + 1);
    else hi = mid - 1;
  }
  return found;
}

/**
 * The rows the logs pane shows: walking up from the newest line (follow) or from the
 * anchor, over matching lines only, until `height` rows are filled — never the whole
 * buffer. When scrolled near the top, lines below the anchor fill the rest.
 */
export function visibleLogRows(logs: LogsState, height: number, width: number): LogRow[] {
  if (height <= 0) return [];
  const { lines, scope, query, wrap } = logs;
  const bottom = logs.follow || logs.anchor === null ? lines.length - 1 : Math.max(0, indexAtOrBefore(lines, logs.anchor));
  const above: LogRow[][] = [];
  let used = 0;
  for (let i = bottom; i >= 0 && used < height; i--) {
    if (!logMatches(lines[i], scope, query)) continue;
    const rows = rowsOf(lines[i], wrap, width, height);
    above.push(rows);
    used += rows.length;
  }
  const below: LogRow[] = [];
  for (let i = bottom + 1; i < lines.length && used < height; i++) {
    if (!logMatches(lines[i], scope, query)) continue;
    const rows = rowsOf(lines[i], wrap, width, height);
    below.push(...rows);
    used += rows.length;
  }
  const all = [...above.reverse().flat(), ...below];
  return below.length > 0 ? all.slice(0, height) : all.slice(-height);
}

/** `text` split around case-insensitive matches of `query`, for highlighting. */
export function highlightParts(text: string, query: string): { text: string; match: boolean }[] {
  if (query === "") return [{ text, match: false }];
  const parts: { text: string; match: boolean }[] = [];
  const lower = text.toLowerCase();
  const q = query.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(q); at >= 0; at = lower.indexOf(q, from)) {
    if (at > from) parts.push({ text: text.slice(from, at), match: false });
    parts.push({ text: text.slice(at, at + q.length), match: true });
    from = at + q.length;
  }
  if (from < text.length) parts.push({ text: text.slice(from), match: false });
  return parts;
}
