import { join } from "node:path";
import { planIdOfChunk } from "./records.js";

// The one owner of chunk logs: where their files live (data/logs/<job>/<chunk>.<attempt>.log),
// what one line looks like ("<ISO time> <level> <text>"), how an attempt is tagged for
// people, and the contract both stores keep them under.

export const DEFAULT_LOG_CAP_BYTES = 1024 * 1024;

/** The line that replaces an attempt's output past its log cap. */
export function logCapNote(capBytes: number): string {
  return `[stau] log cap of ${capBytes} bytes reached; further output of this attempt is dropped`;
}

export function logDir(dataDir: string, job: string): string {
  return join(dataDir, "logs", job);
}

const safe = (chunkId: string) => chunkId.replace(/[^A-Za-z0-9_.~-]/g, "_");

export function logFile(dataDir: string, job: string, chunkId: string, attempt: number): string {
  return join(logDir(dataDir, job), `${safe(chunkId)}.${attempt}.log`);
}

/** The chunk (as its file names it) and attempt of a log file name, or null for another file. */
export function parseLogFileName(name: string): { chunkId: string; attempt: number } | null {
  const match = name.match(/^(.*)\.(\d+)\.log$/);
  return match ? { chunkId: match[1]!, attempt: Number(match[2]) } : null;
}

/** The lines one log call writes: each line of `text` with the time and level in front. */
export function formatLogLines(at: number, level: string, text: string): string {
  const prefix = `${new Date(at).toISOString()} ${level.padEnd(5)} `;
  return text
    .split("\n")
    .map((line) => prefix + line + "\n")
    .join("");
}

export interface ParsedLogLine {
  readonly at: number;
  readonly level: string;
  readonly text: string;
}

/** One line as formatLogLines wrote it; a line in another shape is kept as plain text. */
export function parseLogLine(raw: string): ParsedLogLine {
  const parsed = raw.match(/^(\S+) (\S+)\s+(.*)$/);
  const at = parsed ? Date.parse(parsed[1]!) : NaN;
  if (!parsed || Number.isNaN(at)) return { at: 0, level: "log", text: raw };
  return { at, level: parsed[2]!, text: parsed[3]! };
}

/**
 * How an attempt is named beside its lines, everywhere people read them (`stau logs`,
 * the console, the live `stau run`): `[daily_stats.3#2]`, the chunk without its run id,
 * which would take a third of a pane and is said once where it matters.
 */
export function attemptTag(chunkId: string, attempt: number): string {
  return `[${planIdOfChunk(chunkId)}#${attempt}]`;
}

/** One attempt's log as a store keeps it. */
export interface AttemptLog {
  readonly job: string;
  readonly chunkId: string;
  readonly attempt: number;
  readonly runId: string;
  /** The instance that ran it, when the store knows. */
  readonly instance: string | null;
  /** Its text (the last `maxBytes` of it, cut at a line start). */
  readonly text: string;
  /** When its last line was written (epoch ms). */
  readonly writtenAt: number;
}

export interface LogQuery {
  /** One job's logs, or every job's. */
  readonly job: string | null;
  readonly runId?: string | null;
  /** One chunk's attempts. */
  readonly chunkId?: string | null;
  /** Only logs written after this instant (epoch ms). */
  readonly since?: number | null;
  readonly limit: number;
  /** Per attempt, at most this much of its end (default: the whole capped log). */
  readonly maxBytes?: number;
}

/**
 * Chunk logs. Each instance writes the attempts it runs into files under its data
 * directory; `keep` puts a finished attempt's log where readers on any machine find it.
 */
export interface LogStore {
  /** An attempt's log file is complete. */
  keep(log: { readonly job: string; readonly chunkId: string; readonly attempt: number; readonly file: string; readonly instance: string }): Promise<void>;
  /** Attempts' logs, newest first. */
  find(query: LogQuery): Promise<AttemptLog[]>;
}
