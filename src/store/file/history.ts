import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { endsWithNewline, idOfLine, lineNumberAt, linesFrom, readLineAt, sizeOf } from "./history-lines.js";
import { replaceDurably } from "./durable-write.js";
import { HistoryIndex, type IndexEntry } from "./history-index.js";
import { dirname, join } from "node:path";
import type { ArchivedRun, RunRecord } from "../records.js";
import { statesOf, type RunSummary } from "../run-summary.js";
import { ApartChunkFiles, CHUNKS_APART_OVER, type ApartChunks } from "./history-chunks.js";
import { archivedRunProblem } from "./shapes.js";

/**
 * A line of history: a finished run with its chunks, or, for a run of many chunks, with
 * `apart` summing them up and the chunks in a file of their own (history-chunks.ts).
 * Lines older stau versions wrote have their chunks inline, as small runs still do.
 */
export type HistoryLine = ArchivedRun & { readonly apart?: ApartChunks };

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
 * after it finished is appended again; readers keep the newest line of each id. A run
 * of many chunks keeps them apart, so every line stays short.
 */
export class History {
  private appender: { fd: number; size: number; separator: string } | null = null;
  /** Damaged lines met so far, by byte offset, so each is reported once. */
  private readonly damage = new Map<number, DamagedLine>();

  /** Where each run's line starts (history-index.ts): `show` of an old run reads one line. */
  private readonly index: HistoryIndex;
  private readonly apart: ApartChunkFiles;
  /** Chunk files of large runs that could not be read, by run, each reported once. */
  private readonly apartProblems = new Map<string, string>();

  /** `onDamaged` hears of each damaged line once, the first time a read meets it. */
  constructor(
    private readonly file: string,
    private readonly onDamaged: (damage: DamagedLine) => void = () => undefined,
  ) {
    this.index = new HistoryIndex(join(dirname(file), "index"));
    this.apart = new ApartChunkFiles(join(dirname(file), "chunks"));
  }

  append(runs: readonly ArchivedRun[]): void {
    if (runs.length === 0) return;
    const out = (this.appender ??= this.openAppender());
    const lines = runs.map((r) => JSON.stringify(r.chunks.length > CHUNKS_APART_OVER ? { run: r.run, chunks: [], apart: this.apart.write(r) } : r) + "\n");
    const text = out.separator + lines.join("");
    const historyWasEmpty = out.size === 0;
    let offset = out.size + out.separator.length;
    try {
      writeFileSync(out.fd, text);
    } catch (error) {
      // Part of it may be written (a full disk): the next append looks at the file afresh.
      this.close();
      throw error;
    }
    out.size += Buffer.byteLength(text);
    out.separator = "";
    this.index.append(
      runs.map((r, i) => {
        const entry = { id: r.run.id, offset };
        offset += Buffer.byteLength(lines[i]!);
        return entry;
      }),
      historyWasEmpty,
    );
  }

  /**
   * The file held open for appends, with its size, while this store writes (archiving a
   * run is on the way from its last result to its end: no open, stat and close per run).
   * A line cut short by a crash stays as it is (readers skip it), but the next line must
   * not be glued onto it.
   */
  private openAppender(): { fd: number; size: number; separator: string } {
    if (!existsSync(dirname(this.file))) mkdirSync(dirname(this.file), { recursive: true });
    const separator = endsWithNewline(this.file) ? "" : "\n";
    const fd = openSync(this.file, "a");
    return { fd, size: fstatSync(fd).size, separator };
  }

  /** Lets go of the file (a rewrite puts a new one in its place; a closing store). */
  close(): void {
    if (this.appender) closeSync(this.appender.fd);
    this.appender = null;
    this.index.close();
  }

  /**
   * Builds the index of a history written before there was one (or whose index was lost),
   * by one pass over it. Only the writer does this, when it opens the store.
   */
  ensureIndex(): void {
    if (!existsSync(this.file) || (this.index.exists() && this.indexHoldsTail())) return;
    // The one-file index of versions before the shards: built again, as shards.
    rmSync(`${this.file}.idx`, { force: true });
    const entries: IndexEntry[] = [];
    const fd = openSync(this.file, "r");
    try {
      for (const line of linesFrom(fd, 0)) {
        const id = idOfLine(line.text);
        if (id !== null) entries.push({ id, offset: line.offset });
      }
    } finally {
      closeSync(fd);
    }
    this.index.replace(entries);
  }

  /** The damaged lines reads have met so far, in file order (each reported once to `onDamaged`). */
  damagedLines(): DamagedLine[] {
    return [...this.damage.entries()].sort(([a], [b]) => a - b).map(([, damage]) => damage);
  }

  /**
   * Whether the runs after the index's oldest shard end are all in it, each at its newest
   * line. Not so after a crash between the appends, or once an older stau version (whose
   * index was one file) archived runs here: then it is built again.
   */
  private indexHoldsTail(): boolean {
    try {
      const from = this.index.indexedUpTo();
      if (from === null) return sizeOf(this.file) === 0;
      const newest = new Map<string, number>();
      const fd = openSync(this.file, "r");
      try {
        for (const line of linesFrom(fd, from)) {
          const id = idOfLine(line.text);
          if (id !== null) newest.set(id, line.offset);
        }
      } finally {
        closeSync(fd);
      }
      return this.index.holds([...newest].map(([id, offset]) => ({ id, offset })));
    } catch {
      return false;
    }
  }

  /** What reads met and skipped so far, for people: damaged lines, then chunk files of large runs that could not be read. */
  skipped(): string[] {
    return [...this.damagedLines().map(describeDamagedLine), ...[...this.apartProblems.values()].map((problem) => `${problem}; the run is shown without its chunks. Restore the file from a backup to see them.`)];
  }

  /** A line with its chunks, read from their own file when they are kept apart. */
  private withChunks(line: HistoryLine): ArchivedRun {
    if (!line.apart) return { run: line.run, chunks: line.chunks };
    const chunks = this.apart.read(line.run.id);
    if (Array.isArray(chunks)) return { run: line.run, chunks };
    this.apartProblems.set(line.run.id, chunks.problem);
    return { run: line.run, chunks: [] };
  }

  /** A line's run and its chunks counted by state, without reading chunks kept apart. */
  static summary(line: HistoryLine): RunSummary {
    return { run: line.run, states: line.apart?.states ?? statesOf(line.chunks) };
  }

  /** Whether any chunk of the line's run is of `job`. */
  static touches(line: HistoryLine, job: string): boolean {
    return line.run.job === job || (line.apart?.jobs.includes(job) ?? line.chunks.some((c) => c.job === job));
  }

  /**
   * Newest first, reading the file backwards in blocks, as far as the caller iterates.
   * A damaged line is skipped and reported (history is a record for people, and one bad
   * line must not hide the rest); a last line without its newline is not: it is being
   * appended right now, or a crash cut it short. A line whose bytes `pass` accepts is
   * passed over unparsed (asked as each line is reached).
   */
  *newestFirst(pass: (text: Buffer) => boolean = () => false): Generator<HistoryLine> {
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
          const run = pass(text.subarray(nl + 1, end)) ? null : this.parse(fd, text.toString("utf8", nl + 1, end), position + nl + 1, complete);
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
      const first = pass(carry) ? null : this.parse(fd, carry.toString("utf8"), 0, complete);
      if (first && !seen.has(first.run.id)) yield first;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Rewrites the history with only the runs `keep` accepts (each once: its newest line),
   * atomically — a new file written and synced beside the old, then renamed over it — so
   * a crash leaves either the old history or the new one. Damaged lines go too (they
   * were reported when read). Returns the ids of the runs left out.
   */
  rewrite(keep: (run: HistoryLine) => boolean): string[] {
    const kept: HistoryLine[] = [];
    const dropped: HistoryLine[] = [];
    for (const run of this.newestFirst()) {
      if (keep(run)) kept.push(run);
      else dropped.push(run);
    }
    if (dropped.length === 0) return [];
    this.close();
    const entries: IndexEntry[] = [];
    let offset = 0;
    replaceDurably(this.file, (fd) => {
      // Oldest first, as appends wrote them; a thousand lines per write.
      for (let end = kept.length; end > 0; end -= 1_000) {
        const lines = kept.slice(Math.max(0, end - 1_000), end).reverse().map((run) => {
          const line = JSON.stringify(run) + "\n";
          entries.push({ id: run.run.id, offset });
          offset += Buffer.byteLength(line);
          return line;
        });
        // Whole: a short write on a nearly full disk would leave the new file cut short.
        writeFileSync(fd, lines.join(""));
      }
    });
    // A crash here leaves the old index over the new history: its entries are checked on use, and it is rebuilt at the next open.
    this.index.replace(entries);
    this.damage.clear();
    // Chunk files go once no line points at them; a crash before leaves files nothing reads.
    for (const line of dropped) if (line.apart) this.apart.remove(line.run.id);
    return dropped.map((line) => line.run.id);
  }

  /**
   * The `limit` newest runs by creation, `active` ones (not in history) included, with
   * their chunks; of those only the ones `holds` accepts (see Store.listRuns), whose
   * chunks kept apart are read only then.
   */
  newest(active: readonly ArchivedRun[], limit: number, holds: (run: RunRecord, chunks: number) => boolean = () => true): ArchivedRun[] {
    const lines = this.newestOf<HistoryLine>(active, limit, (line) => line);
    return lines.filter((line) => holds(line.run, line.apart?.count ?? line.chunks.length)).map((line) => this.withChunks(line));
  }

  /** The same runs as `newest`, summed up: chunks kept apart are never read. */
  newestSummaries(active: readonly RunSummary[], limit: number): RunSummary[] {
    return this.newestOf(active, limit, History.summary);
  }

  /**
   * History is in the order runs finished, not created: it is read back only until a run
   * finished before the limit-th newest creation found so far (it, and all before it,
   * are older).
   */
  private newestOf<T extends { readonly run: ArchivedRun["run"] }>(active: readonly T[], limit: number, take: (line: HistoryLine) => T): T[] {
    const ids = new Set(active.map((a) => a.run.id));
    const found: T[] = [...active];
    let cutoff = -Infinity;
    for (const line of this.newestFirst()) {
      if (found.length >= limit && (line.run.finishedAt ?? line.run.createdAt) < cutoff) break;
      if (ids.has(line.run.id)) continue;
      found.push(take(line));
      if (found.length >= limit) cutoff = found.map((r) => r.run.createdAt).sort((a, b) => b - a)[limit - 1]!;
    }
    return found.sort((a, b) => b.run.createdAt - a.run.createdAt).slice(0, limit);
  }

  /**
   * The newest run by creation with chunks of `job`, `active` ones first, however far back
   * in history: read back until a run finished before the newest such creation found.
   */
  latestOf(job: string, active: readonly ArchivedRun[]): ArchivedRun | null {
    const ids = new Set(active.map((a) => a.run.id));
    let best: ArchivedRun | HistoryLine | null = null;
    for (const run of active) if (run.chunks.some((c) => c.job === job) && run.run.createdAt > (best?.run.createdAt ?? -Infinity)) best = run;
    // Until a run is found, a line that does not name the job anywhere cannot be it and is
    // not parsed: a job that never ran, or long ago, is looked for at the speed of a search.
    // Once one is found, every line is read, for when it finished.
    const name = Buffer.from(JSON.stringify(job));
    for (const line of this.newestFirst((text) => best === null && text.indexOf(name) < 0)) {
      if (best && (line.run.finishedAt ?? line.run.createdAt) < best.run.createdAt) break;
      if (!ids.has(line.run.id) && History.touches(line, job) && line.run.createdAt > (best?.run.createdAt ?? -Infinity)) best = line;
    }
    return best && (ids.has(best.run.id) ? best : this.withChunks(best));
  }

  /**
   * The newest line of run `id`: looked for first in the history not yet indexed (a
   * crash between the two appends), then where the index says it starts; a missing index
   * or an entry pointing at another line falls back to reading the history backwards.
   */
  find(id: string): ArchivedRun | null {
    const found = this.index.lookup(id);
    if (found !== null && found.last !== null) {
      const fd = openSync(this.file, "r");
      try {
        const last = readLineAt(fd, found.last);
        if (last !== null && idOfLine(last.text) !== null) {
          // The runs after it may not all be indexed yet: the newest line of `id` among them wins.
          let newest: string | null = null;
          for (const line of linesFrom(fd, last.end)) if (idOfLine(line.text) === id) newest = line.text;
          if (newest !== null) return this.parseFound(newest, id);
          if (found.offset === null) return null;
          const line = readLineAt(fd, found.offset);
          const run = line && idOfLine(line.text) === id ? this.parseFound(line.text, id) : null;
          if (run) return run;
        }
      } finally {
        closeSync(fd);
      }
    }
    for (const line of this.newestFirst()) if (line.run.id === id) return this.withChunks(line);
    return null;
  }

  private parseFound(line: string, id: string): ArchivedRun | null {
    try {
      const value = JSON.parse(line) as unknown;
      return archivedRunProblem(value) === null && (value as ArchivedRun).run.id === id ? this.withChunks(value as HistoryLine) : null;
    } catch {
      return null;
    }
  }

  /** The run on a line starting at byte `offset`, or null (blank, torn, or damaged and reported). */
  private parse(fd: number, line: string, offset: number, complete: boolean): HistoryLine | null {
    if (!line) return null;
    let problem: string | null;
    let value: unknown;
    try {
      value = JSON.parse(line);
      problem = archivedRunProblem(value);
    } catch (error) {
      problem = `not valid JSON: ${(error as Error).message}`;
    }
    if (problem === null) return value as HistoryLine;
    if (complete && !this.damage.has(offset)) {
      const damage: DamagedLine = { file: this.file, line: lineNumberAt(fd, offset), problem };
      this.damage.set(offset, damage);
      this.onDamaged(damage);
    }
    return null;
  }
}
