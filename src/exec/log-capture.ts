import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { formatLogLines } from "../store/logs.js";

/**
 * Appends chunk log lines to their files. Lines of one attempt are buffered and
 * written in order by one promise chain, so a chatty job costs a few writes a second,
 * not one per line; files are only created when a chunk says something.
 */
export class LogCapture {
  private readonly pending = new Map<string, { lines: string[]; chain: Promise<void>; timer: NodeJS.Timeout | null }>();

  constructor(private readonly flushEveryMs = 200) {}

  append(file: string, at: number, level: string, text: string): void {
    let entry = this.pending.get(file);
    if (!entry) {
      entry = { lines: [], chain: mkdir(dirname(file), { recursive: true }).then(() => undefined), timer: null };
      this.pending.set(file, entry);
    }
    entry.lines.push(formatLogLines(at, level, text));
    entry.timer ??= setTimeout(() => this.flush(file), this.flushEveryMs);
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

  /** The attempt is over: write the rest and forget the file. */
  async end(file: string): Promise<void> {
    await this.flush(file);
    this.pending.delete(file);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((file) => this.end(file)));
  }
}
