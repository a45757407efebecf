import { appendFileSync, existsSync, readFileSync, writeSync } from "node:fs";
import { replaceDurably } from "./durable-write.js";

// Where each run's line starts in the history file, so `stau show` of a run from a year
// ago reads one line instead of the whole history backwards. One line per archived run,
// `<run id>\t<byte offset>`, appended after the history lines it points at. It is only
// ever a shortcut: a missing or lagging index (a crash between the two appends) or an
// entry that points at the wrong line sends the reader back to scanning, never to a
// wrong answer.

export interface IndexEntry {
  readonly id: string;
  readonly offset: number;
}

export class HistoryIndex {
  constructor(readonly file: string) {}

  exists(): boolean {
    return existsSync(this.file);
  }

  append(entries: readonly IndexEntry[]): void {
    if (entries.length > 0) appendFileSync(this.file, lines(entries));
  }

  /** Replaces the whole index, atomically (after a rewrite of the history, or to build one). */
  replace(entries: readonly IndexEntry[]): void {
    replaceDurably(this.file, (fd) => {
      for (let at = 0; at < entries.length; at += 10_000) writeSync(fd, lines(entries.slice(at, at + 10_000)));
    });
  }

  /**
   * The newest offset recorded for `id` (null: none), and the offset of the last entry —
   * history after that line is not indexed yet. Null altogether without an index.
   */
  lookup(id: string): { offset: number | null; last: number | null } | null {
    let text: Buffer;
    try {
      text = readFileSync(this.file);
    } catch {
      return null;
    }
    // A last line without its newline is being appended right now: not yet an entry.
    const end = text.lastIndexOf(10) + 1;
    const offsetAt = (start: number) => {
      const tab = text.indexOf(9, start);
      const newline = text.indexOf(10, start);
      return tab === -1 || newline === -1 || tab > newline ? null : Number(text.toString("latin1", tab + 1, newline));
    };
    const lastStart = end === 0 ? -1 : text.lastIndexOf(10, end - 2) + 1;
    const key = Buffer.from(`${id}\t`);
    let offset: number | null = null;
    for (let at = text.lastIndexOf(key, end - 1); at >= 0; at = at === 0 ? -1 : text.lastIndexOf(key, at - 1)) {
      if (at === 0 || text[at - 1] === 10) {
        offset = offsetAt(at);
        break;
      }
    }
    return { offset, last: lastStart === -1 ? null : offsetAt(lastStart) };
  }
}

const lines = (entries: readonly IndexEntry[]) => entries.map((e) => `${e.id}\t${e.offset}\n`).join("");
