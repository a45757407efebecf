import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { formatLogLines, logFile } from "../store/logs.js";
import type { AttemptError } from "../store/records.js";
import { stackFrames } from "../stack.js";

/**
 * Appends chunk log lines to their files. Lines of one file are buffered and written in
 * order by one promise chain, so a chatty job costs a few writes a second, not one per
 * line; files are only created when something is said.
 */
class LogFiles {
  private readonly pending = new Map<string, { lines: string[]; chain: Promise<void>; timer: NodeJS.Timeout | null }>();

  constructor(private readonly flushEveryMs: number) {}

  append(file: string, at: number, level: string, text: string): void {
    let entry = this.pending.get(file);
    if (!entry) {
      entry = { lines: [], chain: mkdir(dirname(file), { recursive: true }).then(() => undefined), timer: null };
      this.pending.set(file, entry);
    }
    entry.lines.push(formatLogLines(at, level, text));
    entry.timer ??= setTimeout(() => void this.flush(file), this.flushEveryMs);
  }

  has(file: string): boolean {
    return this.pending.has(file);
  }

  /** Writes what is buffered for `file`; resolves when it is on disk. */
  flush(file: string): Promise<void> {
    const entry = this.pending.get(file);
    if (!entry) return Promise.resolve();
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    const text = entry.lines.join("");
    entry.lines = [];
    entry.chain = entry.chain.then(() => (text ? appendFile(file, text) : undefined)).catch(() => undefined);
    return entry.chain;
  }

  /** Nothing more is expected for `file`: write the rest and forget it. */
  async end(file: string): Promise<void> {
    const entry = this.pending.get(file);
    if (!entry) return;
    // Lines may come while a write is on its way (a note about a closed attempt): they
    // go in the same chain, and the file is forgotten only once nothing is left.
    do await this.flush(file);
    while (entry.lines.length > 0);
    if (this.pending.get(file) === entry && entry.lines.length === 0) this.pending.delete(file);
  }
}

interface OpenAttempt {
  readonly job: string;
  readonly chunkId: string;
  readonly attempt: number;
  /** Its path, worked out when the first line comes (most attempts say nothing). */
  file: string | null;
  /** The pool has its result. */
  settled: boolean;
  /** No more lines come from its worker ("end" heard, it never logged, or its thread is gone). */
  drained: boolean;
  /** Written last, when the log closes: why the attempt failed. */
  failure: { readonly at: number; readonly level: string; readonly text: string } | null;
  timer: NodeJS.Timeout | null;
}

/** Past its result, how long an attempt's lines may trail before its log is closed without the worker's "end". */
const TRAILING_LINES_MS = 1_000;

/**
 * Each chunk attempt's log, from its first line to its close: the job's lines, a failed
 * attempt's error and stack as its last lines, and notes stau adds later (a stray error
 * from the attempt's code). A log is closed, and `onClosed` called, once the pool has
 * the attempt's result and its worker has sent every line; a silent successful attempt
 * costs nothing and leaves no file.
 */
export class AttemptLogs {
  private readonly files: LogFiles;
  private readonly open = new Map<string, OpenAttempt>();
  /** Closed logs (and notes on closed attempts) being written, for close() to wait on. */
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly dataDir: string,
    private readonly onClosed?: (job: string, chunkId: string, attempt: number, file: string) => void,
    flushEveryMs = 200,
  ) {
    this.files = new LogFiles(flushEveryMs);
  }

  /** An attempt starts: its lines have somewhere to go. */
  start(job: string, chunkId: string, attempt: number): void {
    this.open.set(`${chunkId}#${attempt}`, { job, chunkId, attempt, file: null, settled: false, drained: false, failure: null, timer: null });
  }

  /** A line the attempt's code wrote; dropped once its log is closed. */
  line(chunkId: string, attempt: number, at: number, level: string, text: string): void {
    const entry = this.open.get(`${chunkId}#${attempt}`);
    if (entry) this.files.append(this.fileOf(entry), at, level, text);
  }

  private fileOf(entry: OpenAttempt): string {
    return (entry.file ??= logFile(this.dataDir, entry.job, entry.chunkId, entry.attempt));
  }

  /** The worker sent every line of the attempt. */
  drained(chunkId: string, attempt: number): void {
    const entry = this.open.get(`${chunkId}#${attempt}`);
    if (!entry) return;
    entry.drained = true;
    if (entry.settled) void this.finish(entry);
  }

  /**
   * The pool has the attempt's result. `logged`: whether its worker said it wrote lines
   * (unknown when its thread was stopped or died, so a timer stands in for "end").
   */
  settled(chunkId: string, attempt: number, logged: boolean | undefined, failure: { kind: string; error: AttemptError } | null): void {
    const entry = this.open.get(`${chunkId}#${attempt}`);
    if (!entry) return;
    entry.settled = true;
    if (failure) entry.failure = { at: Date.now(), ...failureText(attempt, failure.kind, failure.error) };
    if (logged === false) entry.drained = true;
    if (entry.drained) void this.finish(entry);
    else entry.timer = setTimeout(() => void this.finish(entry), TRAILING_LINES_MS).unref();
  }

  /** stau's own lines about an attempt, whether its log is still open or was closed (or never written). */
  note(job: string, chunkId: string, attempt: number, at: number, level: string, text: string): void {
    const entry = this.open.get(`${chunkId}#${attempt}`);
    if (entry) return this.files.append(this.fileOf(entry), at, level, text);
    const file = logFile(this.dataDir, job, chunkId, attempt);
    this.files.append(file, at, level, text);
    void this.write(job, chunkId, attempt, file);
  }

  /** Writes the rest of a closed log; close() waits for it. */
  private write(job: string, chunkId: string, attempt: number, file: string): Promise<void> {
    const written = this.files.end(file).then(() => this.onClosed?.(job, chunkId, attempt, file));
    this.writing.add(written);
    void written.finally(() => this.writing.delete(written));
    return written;
  }

  private finish(entry: OpenAttempt): Promise<void> {
    if (this.open.get(`${entry.chunkId}#${entry.attempt}`) !== entry) return Promise.resolve();
    this.open.delete(`${entry.chunkId}#${entry.attempt}`);
    if (entry.timer) clearTimeout(entry.timer);
    if (entry.failure) this.files.append(this.fileOf(entry), entry.failure.at, entry.failure.level, entry.failure.text);
    // Nothing was said: no file, nothing to keep.
    const file = entry.file;
    if (file === null || !this.files.has(file)) return Promise.resolve();
    return this.write(entry.job, entry.chunkId, entry.attempt, file);
  }

  /** Closes every log (the pool is closing): lines that did not arrive by now never will. */
  async close(): Promise<void> {
    await Promise.all([...[...this.open.values()].map((entry) => this.finish(entry)), ...this.writing]);
  }
}

/**
 * A failed attempt's last lines: kind and message, then the stack's frames. A cancelled
 * attempt was asked to stop (an operator's cancel, stau shutting down): a warning that
 * says so, not an error with a stack.
 */
export function failureText(attempt: number, kind: string, error: AttemptError): { level: string; text: string } {
  if (kind === "cancelled") return { level: "warn", text: `[stau] attempt ${attempt} cancelled: ${error.message}` };
  const head = `[stau] attempt ${attempt} failed (${kind}): ${error.message}`;
  const frames = stackFrames(error.stack);
  return { level: "error", text: frames ? `${head}\n${frames}` : head };
}
