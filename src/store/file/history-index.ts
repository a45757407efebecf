import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shardOf } from "./shard.js";

// Where each run's line starts in the history file, so `stau show` of a run from a year
// ago reads one line instead of the whole history backwards. A directory of 64 shards,
// each run's entry in the shard its id hashes to, one line per archived run,
// `<run id>\t<byte offset>`, appended after the history lines they point at: a lookup
// reads one shard (a million runs make shards of about 300 KB). It is only ever a
// shortcut: a missing or lagging index (a crash between the appends) or an entry that
// points at the wrong line sends the reader back to scanning, never to a wrong answer.

const SHARDS = 64;

export interface IndexEntry {
  readonly id: string;
  readonly offset: number;
}

export class HistoryIndex {
  /** Shards held open for appends by the writer, so archiving a run opens no file. */
  private readonly appending = new Map<number, number>();

  constructor(readonly dir: string) {}

  exists(): boolean {
    return existsSync(this.dir);
  }

  private shard(n: number, dir = this.dir): string {
    return join(dir, `${n}.idx`);
  }

  /**
   * Appends entries to their shards. With no index yet, only a history that had no line
   * before these gets one (it is then whole); otherwise the next writer to open builds it.
   */
  append(entries: readonly IndexEntry[], historyWasEmpty: boolean): void {
    if (entries.length === 0) return;
    if (this.appending.size === 0 && !this.exists()) {
      if (!historyWasEmpty) return;
      mkdirSync(this.dir, { recursive: true });
    }
    for (const [n, list] of byShard(entries)) {
      let fd = this.appending.get(n);
      if (fd === undefined) this.appending.set(n, (fd = openSync(this.shard(n), "a")));
      writeFileSync(fd, lines(list));
    }
  }

  /** Closes the shards held open (before they are replaced, and when the store closes). */
  close(): void {
    for (const fd of this.appending.values()) closeSync(fd);
    this.appending.clear();
  }

  /** Replaces the whole index (after a rewrite of the history, or to build one): the new shards are written aside, then put in place. */
  replace(entries: readonly IndexEntry[]): void {
    this.close();
    const fresh = `${this.dir}.new`;
    rmSync(fresh, { recursive: true, force: true });
    mkdirSync(fresh, { recursive: true });
    for (const [n, list] of byShard(entries)) writeFileSync(this.shard(n, fresh), lines(list));
    rmSync(this.dir, { recursive: true, force: true });
    renameSync(fresh, this.dir);
  }

  /**
   * The newest offset recorded for `id` (null: none), and an offset up to which every
   * run is indexed (null: none is): the oldest of the shards' last entries, so history
   * after it may hold runs a shard has not (yet) recorded. Null altogether without an index.
   */
  lookup(id: string): { offset: number | null; last: number | null } | null {
    try {
      return this.lookupIn(id);
    } catch {
      // Being replaced by the writer right now (or unreadable): scanning gives the answer.
      return null;
    }
  }

  private lookupIn(id: string): { offset: number | null; last: number | null } | null {
    if (!this.exists()) return null;
    return { offset: newestOffset(this.read(shardOf(id, SHARDS)), id), last: this.indexedUpTo() };
  }

  /** A shard's entries (none if it has no file yet). */
  private read(n: number): Buffer {
    try {
      return readFileSync(this.shard(n));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      return Buffer.alloc(0);
    }
  }

  /** The oldest of the shards' last entries: every run before it is indexed (null: no entry at all). */
  indexedUpTo(): number | null {
    let oldest: number | null = null;
    for (const name of readdirSync(this.dir)) {
      const last = lastEntryOffset(join(this.dir, name));
      if (last !== null) oldest = oldest === null ? last : Math.min(oldest, last);
    }
    return oldest;
  }

  /** Whether the newest entry of each of these runs is at the offset given (each shard read once). */
  holds(entries: readonly IndexEntry[]): boolean {
    for (const [n, list] of byShard(entries)) {
      const text = this.read(n);
      if (list.some(({ id, offset }) => newestOffset(text, id) !== offset)) return false;
    }
    return true;
  }
}

/** The offset of the newest whole entry of `id` in a shard's text, or null. */
function newestOffset(text: Buffer, id: string): number | null {
  // A last line without its newline is being appended right now: not yet an entry.
  const end = text.lastIndexOf(10) + 1;
  const key = Buffer.from(`${id}\t`);
  for (let at = text.lastIndexOf(key, end - 1); at >= 0; at = at === 0 ? -1 : text.lastIndexOf(key, at - 1)) {
    if (at === 0 || text[at - 1] === 10) return offsetAt(text, at);
  }
  return null;
}

function byShard(entries: readonly IndexEntry[]): Map<number, IndexEntry[]> {
  const shards = new Map<number, IndexEntry[]>();
  for (const entry of entries) {
    const n = shardOf(entry.id, SHARDS);
    const list = shards.get(n);
    if (list) list.push(entry);
    else shards.set(n, [entry]);
  }
  return shards;
}

const lines = (entries: readonly IndexEntry[]) => entries.map((e) => `${e.id}\t${e.offset}\n`).join("");

/** The offset in the entry line starting at `start`, or null for a line that is no entry. */
function offsetAt(text: Buffer, start: number): number | null {
  const tab = text.indexOf(9, start);
  const newline = text.indexOf(10, start);
  return tab === -1 || newline === -1 || tab > newline ? null : Number(text.toString("latin1", tab + 1, newline));
}

/** The offset of a shard's last whole entry, read from its tail. */
function lastEntryOffset(file: string): number | null {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(size, 256));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    const end = tail.lastIndexOf(10);
    if (end === -1) return null;
    const start = tail.lastIndexOf(10, end - 1) + 1;
    // A tail that starts inside a line longer than it holds no whole entry.
    if (start === 0 && size > tail.length) return null;
    return offsetAt(tail, start);
  } finally {
    closeSync(fd);
  }
}
