import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync } from "node:fs";
import { dirname } from "node:path";
import type { ArchivedRun } from "../records.js";
import { archivedRunProblem } from "./shapes.js";

/** A line of history that could not be read, and was skipped. */
export interface DamagedLine {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** What is wrong with it. */
  readonly problem: string;
}

/** The warning people read for a damaged line of history. */
export function describeDamagedLine(damage: DamagedLine): string {
  return `${damage.file} line ${damage.line} is damaged (${damage.problem}); it was skipped, so the run it held is not listed. Remove or repair that line to silence this.`;
}

/**
 * Finished runs, one JSON line each, appended and never rewritten: archiving a run
 * costs the same with ten runs in history as with a hundred thousand. A run retried
 * after it finished is appended again; readers keep the newest line of each id.
 */
export class History {
  private checkedTail = false;
  /** Damaged lines met so far, by byte offset, so each is reported once. */
  private readonly damage = new Map<number, DamagedLine>();

  /** `onDamaged` hears of each damaged line once, the first time a read meets it. */
  constructor(
    private readonly file: string,
    private readonly onDamaged: (damage: DamagedLine) => void = () => undefined,
  ) {}

  append(runs: readonly ArchivedRun[]): void {
    if (runs.length === 0) return;
    if (!existsSync(dirname(this.file))) mkdirSync(dirname(this.file), { recursive: true });
    // A line cut short by a crash stays as it is (readers skip it), but the next line
    // must not be glued onto it.
    const separator = this.checkedTail || endsWithNewline(this.file) ? "" : "\n";
    this.checkedTail = true;
    appendFileSync(this.file, separator + runs.map((r) => JSON.stringify(r)).join("\n") + "\n");
  }

  /** The damaged lines reads have met so far, in file order (each reported once to `onDamaged`). */
  damagedLines(): DamagedLine[] {
    return [...this.damage.entries()].sort(([a], [b]) => a - b).map(([, damage]) => damage);
  }

  /**
   * Newest first, reading the file backwards in blocks, as far as the caller iterates.
   * A damaged line is skipped and reported (history is a record for people, and one bad
   * line must not hide the rest); a last line without its newline is not: it is being
   * appended right now, or a crash cut it short.
   */
  *newestFirst(): Generator<ArchivedRun> {
    if (!existsSync(this.file)) return;
    const fd = openSync(this.file, "r");
    try {
      const seen = new Set<string>();
      let position = fstatSync(fd).size;
      // Bytes, not strings: a block edge may fall inside a multi-byte character.
      let carry = Buffer.alloc(0);
      let complete = false; // whether the line being read ends with its newline
      while (position > 0) {
        const length = Math.min(1 << 20, position);
        position -= length;
        const block = Buffer.alloc(length);
        readSync(fd, block, 0, length, position);
        const text = Buffer.concat([block, carry]);
        let end = text.length;
        for (let nl = text.lastIndexOf(10, end - 1); nl >= 0; nl = text.lastIndexOf(10, end - 1)) {
          const run = this.parse(fd, text.toString("utf8", nl + 1, end), position + nl + 1, complete);
          complete = true;
          if (run && !seen.has(run.run.id)) {
            seen.add(run.run.id);
            yield run;
          }
          end = nl;
          if (end === 0) break;
        }
        carry = text.subarray(0, end);
      }
      const first = this.parse(fd, carry.toString("utf8"), 0, complete);
      if (first && !seen.has(first.run.id)) yield first;
    } finally {
      closeSync(fd);
    }
  }

  find(id: string): ArchivedRun | null {
    for (const run of this.newestFirst()) if (run.run.id === id) return run;
    return null;
  }

  /** The run on a line starting at byte `offset`, or null (blank, torn, or damaged and reported). */
  private parse(fd: number, line: string, offset: number, complete: boolean): ArchivedRun | null {
    if (!line) return null;
    let problem: string | null;
    let value: unknown;
    try {
      value = JSON.parse(line);
      problem = archivedRunProblem(value);
    } catch (error) {
      problem = `not valid JSON: ${(error as Error).message}`;
    }
    if (problem === null) return value as ArchivedRun;
    if (complete && !this.damage.has(offset)) {
      const damage: DamagedLine = { file: this.file, line: lineNumberAt(fd, offset), problem };
      this.damage.set(offset, damage);
      this.onDamaged(damage);
    }
    return null;
  }
}

/** The 1-based number of the line starting at byte `offset` (counted only for damaged lines, which are rare). */
function lineNumberAt(fd: number, offset: number): number {
  let newlines = 0;
  const block = Buffer.alloc(1 << 20);
  for (let at = 0; at < offset; ) {
    const read = readSync(fd, block, 0, Math.min(block.length, offset - at), at);
    if (read === 0) break;
    for (let i = 0; i < read; i++) if (block[i] === 10) newlines++;
    at += read;
  }
  return newlines + 1;
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
