import { closeSync, constants, ftruncateSync, openSync, readFileSync, statfsSync, truncateSync, writeFile, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { StoreError, errorMessage } from "../../errors.js";
import { journalLineProblem } from "./shapes.js";
import { WriteRoute } from "./write-route.js";

// Whole writes: a write(2) on a nearly full disk may write part of what it was given and
// still succeed; these go on until all of it is written or one fails.
const writeAsync = promisify(writeFile) as (fd: number, text: string) => Promise<void>;

/** How long a journal that could not write waits before it tries again. */
const RETRY_MS = 1_000;

/** Why the journal cannot write now (a full disk, an I/O error), for people. */
export interface WriteProblem {
  readonly message: string;
  readonly since: number;
}

interface Waiter {
  readonly upTo: number;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * An append-only log of store operations with group commit. Writes between two
 * commits go to disk as one synchronous-data write, so the cost of a state change
 * is one short line, whatever the size of the rest of the store.
 *
 * A write that fails (no space left, an I/O error) loses nothing: what it did write is
 * cut off again, the lines stay buffered, the commits waiting for them keep waiting,
 * and the journal tries again every second until a write succeeds. `onProblem` hears
 * when that starts and ends, so the store can say so and stop taking on work.
 */
export class Journal<Op> {
  private readonly fd: number;
  private buffer: string[] = [];
  /** Lines appended, and lines on disk (as counts since the journal opened). */
  private appended = 0;
  private written = 0;
  private waiters: Waiter[] = [];
  /** Commits durable and not yet told, oldest first (see tell()). */
  private ready: Waiter[] = [];
  private telling = false;
  private writing = false;
  private scheduled = false;
  private lines: number;
  /** Bytes of the file known to be whole lines: a failed write is cut back to this. */
  private validBytes: number;
  private problem: WriteProblem | null = null;
  private readonly route = new WriteRoute();
  private retry: NodeJS.Timeout | null = null;
  /** Set when the store closes while it cannot write: commits fail at once instead of waiting. */
  private abandoned: string | null = null;

  private constructor(
    private readonly file: string,
    existing: { lines: number; validBytes: number },
    private readonly full: { lines: () => number; compact: () => void },
    private readonly onProblem: (problem: WriteProblem | null) => void,
  ) {
    // O_DSYNC: each write returns once its data is on disk, one round trip to the disk
    // thread instead of a write and an fdatasync.
    this.fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC, 0o644);
    this.lines = existing.lines;
    this.validBytes = existing.validBytes;
  }

  /**
   * Opens for appending after `read()` has replayed what is there. A torn last line
   * is cut off first, or the next append would glue onto it.
   */
  static open<Op>(
    file: string,
    existing: { lines: number; validBytes: number; tornTail: boolean },
    full: { lines: () => number; compact: () => void },
    onProblem: (problem: WriteProblem | null) => void = () => undefined,
  ): Journal<Op> {
    if (existing.tornTail) truncateSync(file, existing.validBytes);
    return new Journal<Op>(file, existing, full, onProblem);
  }

  /**
   * The operations in a journal file. A last line without its newline is a write a
   * crash cut short: it was never committed, so it is dropped. Any other line that
   * does not parse means the file is damaged, and that is reported, not repaired.
   */
  static read<Op>(file: string): { ops: Op[]; validBytes: number; tornTail: boolean } {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { ops: [], validBytes: 0, tornTail: false };
      throw error;
    }
    const lines = text.split("\n");
    const last = lines.pop()!;
    const tornTail = last !== "";
    const ops: Op[] = [];
    const untouched = "stau left the file untouched. Restore it from a backup, or move the data directory away to start with an empty store.";
    lines.forEach((line, index) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new StoreError("store_corrupt", `${file} is damaged: line ${index + 1} is not valid JSON (${(error as Error).message})`, untouched, error);
      }
      // A line that parses but is no operation (`null`, a hand edit) is damage too, never replayed.
      const problem = journalLineProblem(value);
      if (problem) throw new StoreError("store_corrupt", `${file} is damaged: line ${index + 1} is not a journal entry (${problem})`, untouched);
      ops.push(value as Op);
    });
    return { ops, validBytes: Buffer.byteLength(text) - Buffer.byteLength(last), tornTail };
  }

  append(op: Op): void {
    this.buffer.push(JSON.stringify(op));
    this.appended++;
  }

  /** Why it cannot write now, or null. */
  get writeProblem(): WriteProblem | null {
    return this.problem;
  }

  /**
   * Resolves when every operation appended so far is durable. While one write is on
   * its way to disk the next batch gathers behind it (group commit), so a busy engine
   * makes few, larger writes instead of one per change.
   */
  commit(): Promise<void> {
    if (this.written >= this.appended && !this.telling) return Promise.resolve();
    if (this.abandoned && this.problem) return Promise.reject(this.abandonedError());
    return new Promise((resolve, reject) => {
      const waiter = { upTo: this.appended, resolve, reject };
      if (waiter.upTo > this.written) {
        this.waiters.push(waiter);
        this.kick();
      } else {
        // Durable already, but commits before it are still being told: it waits its turn.
        this.ready.push(waiter);
      }
    });
  }

  private kick(): void {
    if (this.writing || this.scheduled || this.retry) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.writeAll();
    });
  }

  /** Writes what is buffered, and what gathers meanwhile, each write by the way WriteRoute picks. */
  private async writeAll(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.buffer.length > 0) {
        const count = this.buffer.length;
        const text = this.buffer.join("\n") + "\n";
        const started = performance.now();
        const inline = this.route.inline();
        try {
          if (inline) writeFileSync(this.fd, text);
          else await writeAsync(this.fd, text);
        } catch (error) {
          this.failed(error);
          return;
        }
        const ms = performance.now() - started;
        if (inline) this.route.wroteInline(ms);
        else this.route.wroteByPool(ms, this.buffer.length > count);
        this.wrote(count, Buffer.byteLength(text));
        // Compaction runs here, inside the chain of writes, so no other write is under way.
        if (this.lines >= this.full.lines()) this.compactSafely();
      }
    } finally {
      this.writing = false;
    }
  }

  private wrote(count: number, bytes: number): void {
    this.buffer.splice(0, count);
    this.written += count;
    this.lines += count;
    this.validBytes += bytes;
    if (this.problem) {
      this.problem = null;
      this.onProblem(null);
    }
    // Waiters are in the order they asked, so their upTo only grows.
    let durable = 0;
    while (durable < this.waiters.length && this.waiters[durable]!.upTo <= this.written) durable++;
    for (const waiter of this.waiters.splice(0, durable)) this.ready.push(waiter);
    this.tell();
  }

  /**
   * Resolves durable commits in the order they were asked for, one per turn of the event
   * loop, so that whoever waited on each has reacted before the next hears. One write
   * often carries the changes of several parties (a trigger's new run and an executor's
   * claim of its chunk; an executor's result and the orchestrator's end of the run it
   * finished): this way what they announce once durable follows the order of the
   * journal, whatever the depth of each one's chain of promises. The first waiter of a
   * write is told at once; the turn after it is kept even when nobody else waits yet, as
   * a write made at once (compaction, close) may add waiters in the same turn.
   */
  private tell(): void {
    if (this.telling) return;
    const next = this.ready.shift();
    if (!next) return;
    next.resolve();
    this.telling = true;
    setImmediate(() => {
      this.telling = false;
      this.tell();
    });
  }

  /** A write failed: cut off what it wrote, keep the lines, say so, and try again later. */
  private failed(error: unknown): void {
    try {
      ftruncateSync(this.fd, this.validBytes);
    } catch {
      // The next write cuts it, or the next start drops a torn last line.
    }
    if (!this.problem) {
      this.problem = { message: describeWriteError(this.file, error), since: Date.now() };
      this.onProblem(this.problem);
    }
    if (this.abandoned) return this.rejectWaiters();
    this.retry = setTimeout(() => {
      this.retry = null;
      this.kick();
    }, RETRY_MS);
  }

  private compactSafely(): void {
    try {
      this.full.compact();
    } catch (error) {
      // The journal keeps growing until a later compaction succeeds; nothing is lost.
      if (!this.problem) this.onProblem({ message: `compacting the store failed: ${errorMessage(error)}`, since: Date.now() });
    }
  }

  /** Waits for the writes under way (before compaction and close). */
  async settle(): Promise<void> {
    while (this.writing || this.scheduled) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Writes the buffer right now (before compaction, and on close); throws if it cannot. */
  flushNow(): void {
    if (this.buffer.length === 0) return;
    const count = this.buffer.length;
    const text = this.buffer.join("\n") + "\n";
    try {
      writeFileSync(this.fd, text);
    } catch (error) {
      try {
        ftruncateSync(this.fd, this.validBytes);
      } catch {
        // As in failed().
      }
      throw new StoreError("store_unwritable", describeWriteError(this.file, error), undefined, error);
    }
    this.wrote(count, Buffer.byteLength(text));
  }

  /** Empties the file once a snapshot holds everything in it. */
  truncate(): void {
    this.flushNow();
    ftruncateSync(this.fd, 0);
    this.lines = 0;
    this.validBytes = 0;
  }

  /**
   * Stops waiting: the commits still waiting fail with why (the store is closing while
   * it cannot write). The lines stay buffered for a last try at close.
   */
  abandon(reason: string): void {
    this.abandoned = reason;
    if (!this.problem) return;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.rejectWaiters();
  }

  private abandonedError(): StoreError {
    return new StoreError("store_unwritable", `${this.abandoned}: ${this.problem?.message ?? "the store cannot write"}`);
  }

  private rejectWaiters(): void {
    const error = this.abandonedError();
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  /** A last write of what is buffered; throws, naming what is lost, if it cannot. */
  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    try {
      const unwritten = this.buffer.length;
      try {
        this.flushNow();
      } catch (error) {
        throw new StoreError("store_unwritable", `${(error as Error).message}; ${unwritten} change(s) could not be written and are lost (chunks done since they were made run again)`, undefined, error);
      }
    } finally {
      closeSync(this.fd);
      for (const waiter of this.waiters.splice(0)) waiter.reject(new StoreError("store_unwritable", "the store closed before this change was written"));
    }
  }
}

/** What a failed write means for people: the file, the error, and the free space on its disk. */
function describeWriteError(file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  let free = "";
  try {
    const fs = statfsSync(dirname(file));
    free = `; ${((fs.bavail * fs.bsize) / 1024 / 1024).toFixed(1)} MB free on its disk`;
  } catch {
    // No figure to give.
  }
  return `cannot write ${file}: ${code === "ENOSPC" ? "no space left on its disk" : errorMessage(error)}${free}`;
}
