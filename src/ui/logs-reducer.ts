import type { LogLine } from "../console/contract.js";
import type { LogEntry, LogsState } from "./state.js";
import { clamp } from "./virtual-list.js";

/** Log lines the console keeps; older ones fall out (the files keep everything). */
export const LOG_CAPACITY = 5000;
/** Lines asked from controller.logTail when the logs pane switches job. */
export const TAIL_LINES = 1000;

export type NewLine = Omit<LogEntry, "seq">;

/** Empty logs, all jobs, following. */
export function initialLogs(): LogsState {
  return { lines: [], nextSeq: 1, scope: null, follow: true, anchor: null, wrap: false, query: "", editing: false, request: null };
}

/** Whether a line is shown under the current scope and search. */
export function logMatches(line: LogEntry, scope: string | null, query: string): boolean {
  return (scope === null || line.job === scope) && (query === "" || line.text.toLowerCase().includes(query.toLowerCase()));
}

/** Appends lines, dropping the oldest past LOG_CAPACITY (a ring buffer, immutably). */
export function appendLogs(logs: LogsState, incoming: readonly NewLine[]): LogsState {
  if (incoming.length === 0) return logs;
  let seq = logs.nextSeq;
  const added = incoming.slice(-LOG_CAPACITY).map((line) => ({ ...line, seq: seq++ }));
  const keep = Math.max(0, LOG_CAPACITY - added.length);
  const lines = keep === 0 ? added : [...logs.lines.slice(-keep), ...added];
  return { ...logs, lines, nextSeq: logs.nextSeq + incoming.length };
}

/** Switches to one job's logs (or all with null) and remembers the tail request. */
export function setScope(logs: LogsState, scope: string | null, requestId: number): LogsState {
  return { ...logs, scope, follow: true, anchor: null, request: { id: requestId, sinceSeq: logs.nextSeq } };
}

const key = (line: { chunkId: string; attempt: number; text: string }) => `${line.chunkId}#${line.attempt}\u0000${line.text}`;

/**
 * The answer to a tail request replaces the buffer: the tail read from the files, then
 * the live lines that arrived since the request — minus those the files already had.
 */
export function applyTail(logs: LogsState, requestId: number, tail: readonly LogLine[]): LogsState {
  if (logs.request?.id !== requestId) return logs;
  const live = logs.lines.filter((l) => l.seq >= logs.request!.sinceSeq);
  const liveKeys = new Map<string, number>();
  for (const l of live) liveKeys.set(key(l), (liveKeys.get(key(l)) ?? 0) + 1);
  // Only the end of the tail can overlap lines that arrived live after the request.
  const overlapFrom = Math.max(0, tail.length - live.length);
  const fromFiles = tail.filter((line, i) => {
    if (i < overlapFrom) return true;
    const n = liveKeys.get(key(line)) ?? 0;
    if (n > 0) liveKeys.set(key(line), n - 1);
    return n === 0;
  });
  const base = { ...logs, lines: [], nextSeq: logs.nextSeq, request: null };
  const merged = appendLogs(base, [...fromFiles.map(({ job, chunkId, attempt, at, level, text }) => ({ job, chunkId, attempt, at, level, text })), ...live.map(({ seq: _, ...rest }) => rest)]);
  return { ...merged, anchor: logs.follow ? null : (merged.lines.at(-1)?.seq ?? null) };
}

/** Indexes of the lines shown under the current scope and search. */
export function matchingIndexes(logs: LogsState): number[] {
  const result: number[] = [];
  logs.lines.forEach((line, i) => logMatches(line, logs.scope, logs.query) && result.push(i));
  return result;
}

/** Position (in matching) of the bottom line shown: the newest one at or above the anchor. */
export function bottomPosition(logs: LogsState, matching: readonly number[]): number {
  if (logs.follow || logs.anchor === null) return matching.length - 1;
  let lo = 0;
  let hi = matching.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (logs.lines[matching[mid]].seq <= logs.anchor) (found = mid), (lo = mid + 1);
    else hi = mid - 1;
  }
  return found;
}

/**
 * Scrolls by `delta` shown lines (negative is up). Any scroll up pauses follow; reaching
 * the newest line again resumes it. `page` keeps the bottom line low enough to fill a page.
 */
export function scrollLogs(logs: LogsState, delta: number, page: number): LogsState {
  const matching = matchingIndexes(logs);
  if (matching.length === 0) return delta < 0 ? { ...logs, follow: false, anchor: logs.lines.at(-1)?.seq ?? null } : logs;
  const last = matching.length - 1;
  const first = Math.min(Math.max(0, page - 1), last);
  const from = Math.max(bottomPosition(logs, matching), first);
  const next = clamp(from + delta, first, last);
  if (delta > 0 && next === last) return { ...logs, follow: true, anchor: null };
  if (delta >= 0 && logs.follow) return logs;
  return { ...logs, follow: false, anchor: logs.lines[matching[next]].seq };
}

/** `f`: on jumps to the newest line; off freezes the view where it is. */
export function toggleFollow(logs: LogsState): LogsState {
  return logs.follow ? { ...logs, follow: false, anchor: logs.lines.at(-1)?.seq ?? null } : { ...logs, follow: true, anchor: null };
}
