import { closeSync, constants, ftruncateSync, openSync, readFileSync, truncateSync, write, writeSync } from "node:fs";
import { promisify } from "node:util";
import { StoreError } from "../../errors.js";

const writeAsync = promisify(write) as (fd: number, text: string) => Promise<unknown>;

/**
 * An append-only log of store operations with group commit. Writes between two
 * commits go to disk as one synchronous-data write, so the cost of a state change
 * is one short line, whatever the size of the rest of the store.
 */
export class Journal<Op> {
  private fd: number;
  private buffer: string[] = [];
  /** The write under way, and the one queued behind it for everything appended since. */
  private writing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private lines = 0;

  private constructor(
    file: string,
    existingLines: number,
    private readonly full: { lines: number; compact: () => void },
  ) {
    // O_DSYNC: each write returns once its data is on disk, one round trip to the disk
    // thread instead of a write and an fdatasync.
    this.fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC, 0o644);
    this.lines = existingLines;
  }

  /**
   * Opens for appending after `read()` has replayed what is there. A torn last line
   * is cut off first, or the next append would glue onto it.
   */
  static open<Op>(
    file: string,
    existing: { lines: number; validBytes: number; tornTail: boolean },
    full: { lines: number; compact: () => void },
  ): Journal<Op> {
    if (existing.tornTail) truncateSync(file, existing.validBytes);
    return new Journal<Op>(file, existing.lines, full);
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
    lines.forEach((line, index) => {
      try {
        ops.push(JSON.parse(line) as Op);
      } catch (error) {
        throw new StoreError(
          "store_corrupt",
          `${file} is damaged: line ${index + 1} is not valid JSON (${(error as Error).message})`,
          "stau left the file untouched. Restore it from a backup, or move the data directory away to start with an empty store.",
          error,
        );
      }
    });
    return { ops, validBytes: Buffer.byteLength(text) - Buffer.byteLength(last), tornTail };
  }

  append(op: Op): void {
    this.buffer.push(JSON.stringify(op));
  }

  /**
   * Resolves when every operation appended so far is durable. While one write is on
   * its way to disk the next batch gathers behind it (group commit), so a busy engine
   * makes few, larger writes instead of one fsync per change.
   */
  commit(): Promise<void> {
    this.queued ??= (async () => {
      await (this.writing ?? new Promise<void>((resolve) => setImmediate(resolve)));
      this.queued = null;
      const current = this.writeBuffer();
      this.writing = current;
      try {
        await current;
      } finally {
        if (this.writing === current) this.writing = null;
      }
    })();
    return this.queued;
  }

  private async writeBuffer(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join("\n") + "\n";
    this.lines += this.buffer.length;
    this.buffer = [];
    await writeAsync(this.fd, text);
    // Compaction runs here, inside the chain of writes, so no other write is under way.
    if (this.lines >= this.full.lines) this.full.compact();
  }

  /** Waits for the write under way, if any (before compaction and close). */
  async settle(): Promise<void> {
    while (this.writing || this.queued) await (this.queued ?? this.writing);
  }

  /** Writes and syncs the buffer right now (used on close and before compaction). */
  flushNow(): void {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join("\n") + "\n";
    this.lines += this.buffer.length;
    this.buffer = [];
    writeSync(this.fd, text);
  }

  /** Empties the file once a snapshot holds everything in it. */
  truncate(): void {
    this.flushNow();
    ftruncateSync(this.fd, 0);
    this.lines = 0;
  }

  close(): void {
    this.flushNow();
    closeSync(this.fd);
  }
}
