import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync } from "node:fs";
import { dirname } from "node:path";
import type { ArchivedRun } from "../records.js";

/**
 * Finished runs, one JSON line each, appended and never rewritten: archiving a run
 * costs the same with ten runs in history as with a hundred thousand. A run retried
 * after it finished is appended again; readers keep the newest line of each id.
 */
export class History {
  private checkedTail = false;

  constructor(private readonly file: string) {}

  append(runs: readonly ArchivedRun[]): void {
    if (runs.length === 0) return;
    if (!existsSync(dirname(this.file))) mkdirSync(dirname(this.file), { recursive: true });
    // A line cut short by a crash stays as it is (readers skip it), but the next line
    // must not be glued onto it.
    const separator = this.checkedTail || endsWithNewline(this.file) ? "" : "\n";
    this.checkedTail = true;
    appendFileSync(this.file, separator + runs.map((r) => JSON.stringify(r)).join("\n") + "\n");
  }

  /**
   * Newest first, reading the file backwards in blocks until `limit` runs are found
   * (or `accept` picks one). Damaged lines are skipped: history is a record for people,
   * and one bad line must not hide the rest.
   */
  *newestFirst(): Generator<ArchivedRun> {
    if (!existsSync(this.file)) return;
    const fd = openSync(this.file, "r");
    try {
      const seen = new Set<string>();
      let position = fstatSync(fd).size;
      // Bytes, not strings: a block edge may fall inside a multi-byte character.
      let carry = Buffer.alloc(0);
      while (position > 0) {
        const length = Math.min(1 << 20, position);
        position -= length;
        const block = Buffer.alloc(length);
        readSync(fd, block, 0, length, position);
        const text = Buffer.concat([block, carry]);
        let end = text.length;
        for (let nl = text.lastIndexOf(10, end - 1); nl >= 0; nl = text.lastIndexOf(10, end - 1)) {
          const run = parse(text.toString("utf8", nl + 1, end));
          if (run && !seen.has(run.run.id)) {
            seen.add(run.run.id);
            yield run;
          }
          end = nl;
          if (end === 0) break;
        }
        carry = text.subarray(0, end);
      }
      const first = parse(carry.toString("utf8"));
      if (first && !seen.has(first.run.id)) yield first;
    } finally {
      closeSync(fd);
    }
  }

  find(id: string): ArchivedRun | null {
    for (const run of this.newestFirst()) if (run.run.id === id) return run;
    return null;
  }
}

function endsWithNewline(file: string): boolean {
  if (!existsSync(file)) return true;
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 10;
  } finally {
    closeSync(fd);
  }
}

function parse(line: string): ArchivedRun | null {
  if (!line) return null;
  try {
    return JSON.parse(line) as ArchivedRun;
  } catch {
    return null;
  }
}
