import type { ChunkRecord } from "../store/records.js";
import type { EngineEventEntry } from "./actions.js";
import { keepWorker, lacksWorker, merge, outcomeAt, type ChunkChange, type Outcome } from "./activity.js";

// How the console holds the chunks of a big run. A person reads a run of a hundred
// thousand chunks by its counts, the chunks on threads and its failures, never row by
// row. A run of more than DETAILED_CHUNKS is summarized: of its chunks the console keeps
// the records of those running or failed, and for every other one a record shared by
// all its chunks of the same job and state, which is what the counts read. The Queue
// pane shows such a run as one row of counts, and its heatmap is read from the store.
//
// Such a run's chunk events are folded here as they arrive (RunTally.fold), before the
// event buffer: the reducer then gets, per batch, how many chunks moved between which
// records, instead of two or three events per chunk. Measured on a 20,000-chunk run of
// no-op chunks (`console_busy_cpu`, BENCHMARKS.md): folded in the reducer, the console
// cost 20-25 % of a core beside the engine; folded here, its main thread costs about
// what a headless instance's does, and what is left is V8's helper threads in a
// process's first big run.

/** Runs of more chunks than this are summarized. */
export const DETAILED_CHUNKS = 5_000;

/** Whether a run starting with (or read with) this many chunks is summarized. */
export const summarizes = (chunks: number): boolean => chunks > DETAILED_CHUNKS;

/** A chunk kept as its own record in a summarized run: the panes list these. */
export const listed = (chunk: ChunkRecord): boolean => chunk.state === "running" || chunk.state === "failed";

/** What the reducer takes from the tally at each batch (RunTally.drain). */
export interface TallyChanges {
  /** Changes of the records held for chunks; those between shared records carry how many chunks moved. */
  readonly moves: readonly ChunkChange[];
  /** Each job's newest chunk outcome among the chunks folded (shared records carry no times). */
  readonly outcomes: ReadonlyMap<string, Outcome>;
  /** Each job's newest success (chunk:done), as lastSuccess takes it. */
  readonly succeeded: ReadonlyMap<string, number>;
}

/**
 * The summarized runs' chunks: each chunk's held record, and what changed since the
 * reducer last drained. It is the one mutable part of the console's data (DataState.tally):
 * folding happens as events arrive, so the reducer never sees a summarized run's chunk
 * events one by one; every state shares the one tally, and only the newest reads it.
 */
export class RunTally {
  /** Every followed chunk's held record (its own when listed, else its shared one), by chunk id. */
  private readonly held = new Map<string, ChunkRecord>();
  private readonly shared = new Map<string, ChunkRecord>();
  private lastShared: ChunkRecord | null = null;
  #runs: ReadonlySet<string> = new Set();
  /** Runs followed since the last snapshot (a snapshot read before they started does not list them). */
  private fresh = new Set<string>();
  // Changes since the last drain. A chunk that was listed in that time (running, failed) is
  // given as one change, from the record it had at the last drain to the one it has now:
  // most chunks run and end between two drains, and are then one move between shared
  // records. Other moves between shared records are counted per pair.
  /** Chunk id → its record at the last drain, for chunks listed since. */
  private touched = new Map<string, ChunkRecord | undefined>();
  private readonly pairs = new Map<ChunkRecord | undefined, Map<ChunkRecord | undefined, number>>();
  private pairBefore: ChunkRecord | undefined = undefined;
  private pairAfter: ChunkRecord | undefined = undefined;
  private pairCount = 0;
  private outcomes = new Map<string, Outcome>();
  private succeeded = new Map<string, number>();

  /** The runs followed (a new set whenever one joins or leaves). */
  get runs(): ReadonlySet<string> {
    return this.#runs;
  }

  /**
   * Folds an event of a summarized run: returns null when it is folded whole (a chunk's
   * change), the event without its records when a run:started's records were folded, or
   * the event itself when it is not of a summarized run.
   */
  fold(event: EngineEventEntry, now: () => number): EngineEventEntry | null {
    switch (event.name) {
      case "run:started": {
        const { run, chunks, records } = event.payload;
        if (!this.#runs.has(run.id)) {
          if (!summarizes(chunks)) return event;
          this.follow(run.id);
        }
        if (records.length === 0) return event;
        for (const chunk of records) this.take(chunk);
        return { name: "run:started", payload: { run, chunks, records: [] } };
      }
      case "chunk:done":
        if (!this.take(event.payload.chunk)) return event;
        this.succeeded.set(event.payload.chunk.job, event.payload.chunk.finishedAt ?? now());
        return null;
      case "chunk:pending":
      case "chunk:started":
      case "chunk:failed":
      case "chunk:interrupted":
      case "chunk:cancelled":
      case "chunk:upstream_failed":
        return this.take(event.payload.chunk) ? null : event;
      default:
        return event;
    }
  }

  /** Follows a run read in a snapshot with these records (no-op when followed already: what was folded since is newer). */
  followRead(runId: string, records: readonly ChunkRecord[]): void {
    if (this.#runs.has(runId)) return;
    this.follow(runId);
    this.fresh.delete(runId);
    for (const chunk of records) this.take(chunk);
  }

  /** Takes a record the console held before it followed the chunk's run, unless it holds one already (folded since, so newer). */
  adopt(chunk: ChunkRecord): void {
    if (!this.held.has(chunk.id)) this.take(chunk);
  }

  /** How many chunks are followed. */
  get chunks(): number {
    return this.held.size;
  }

  /** What is held for a followed chunk: its own record when listed, else its shared one (its run, job and state). */
  recordOf(chunkId: string): ChunkRecord | undefined {
    return this.held.get(chunkId);
  }

  /** The distinct records held for a run's chunks (a shared record counts once). */
  recordsOf(runId: string): Set<ChunkRecord> {
    const records = new Set<ChunkRecord>();
    for (const record of this.held.values()) if (record.runId === runId) records.add(record);
    return records;
  }

  /** Stops following these runs: their chunks leave the counts at the next drain. */
  forget(runIds: Iterable<string>): void {
    const gone = new Set([...runIds].filter((id) => this.#runs.has(id)));
    if (gone.size === 0) return;
    for (const [id, record] of this.held) {
      if (!gone.has(record.runId)) continue;
      this.held.delete(id);
      this.move(id, record, undefined);
    }
    for (const [key, record] of this.shared) if (gone.has(record.runId)) this.shared.delete(key);
    this.lastShared = null;
    this.#runs = new Set([...this.#runs].filter((id) => !gone.has(id)));
  }

  /** The changes since the last drain, then none; null when there were none. */
  drain(): TallyChanges | null {
    const moves: ChunkChange[] = [];
    for (const [id, first] of this.touched) {
      const now = this.held.get(id);
      if (now === first) continue;
      if ((first && listed(first)) || (now && listed(now))) moves.push([first, now]);
      else this.count(first, now);
    }
    this.touched = new Map();
    this.closePair();
    if (moves.length === 0 && this.pairs.size === 0 && this.outcomes.size === 0 && this.succeeded.size === 0) return null;
    for (const [before, afters] of this.pairs) for (const [after, count] of afters) moves.push([before, after, count]);
    const changes = { moves, outcomes: this.outcomes, succeeded: this.succeeded };
    this.pairs.clear();
    this.outcomes = new Map();
    this.succeeded = new Map();
    return changes;
  }

  /**
   * For a snapshot, which rebuilds the counts from scratch: every held record as a change
   * from nothing (counted per shared record), with the outcomes and successes not yet
   * drained. Followed runs the snapshot does not hold (`holds` false) are forgotten,
   * unless they started after it was read.
   */
  rebase(holds: (runId: string) => boolean): TallyChanges {
    this.forget([...this.#runs].filter((id) => !holds(id) && !this.fresh.has(id)));
    this.fresh = new Set();
    const { outcomes, succeeded } = this.drain() ?? { outcomes: new Map(), succeeded: new Map() };
    for (const [id, record] of this.held) this.move(id, undefined, record);
    const moves = this.drain()?.moves ?? [];
    return { moves, outcomes, succeeded };
  }

  private follow(runId: string): void {
    this.#runs = new Set(this.#runs).add(runId);
    this.fresh.add(runId);
  }

  /** Folds one chunk's new record; false when its run is not followed. */
  private take(chunk: ChunkRecord): boolean {
    if (!this.#runs.has(chunk.runId)) return false;
    const before = this.held.get(chunk.id);
    const after = listed(chunk) ? (lacksWorker(chunk) ? keepWorker(before, chunk) : chunk) : this.sharedOf(chunk);
    if (after !== before) {
      this.held.set(chunk.id, after);
      this.move(chunk.id, before, after);
    }
    const at = outcomeAt(chunk);
    if (at !== null) {
      const last = this.outcomes.get(chunk.job);
      const next = merge(last ?? null, at, chunk.state, chunk.runId);
      if (next !== last) this.outcomes.set(chunk.job, next);
    }
    return true;
  }

  /** The record shared by a chunk's run, job and state. It carries no times, work IDs or id of its own. */
  private sharedOf(chunk: ChunkRecord): ChunkRecord {
    // Chunks arrive in runs of the same job and state: the last one answers most.
    const last = this.lastShared;
    if (last && last.state === chunk.state && last.job === chunk.job && last.runId === chunk.runId) return last;
    const key = `${chunk.runId}\u0000${chunk.job}\u0000${chunk.state}`;
    let shared = this.shared.get(key);
    if (!shared) {
      shared = { ...chunk, id: `${chunk.runId}.*`, workIds: [], dependsOn: [], startedAt: null, finishedAt: null, durationMs: null, error: null, worker: null, notBefore: null };
      this.shared.set(key, shared);
    }
    return (this.lastShared = shared);
  }

  /** Notes chunk `id`'s move (the held map has its new record already). */
  private move(id: string, before: ChunkRecord | undefined, after: ChunkRecord | undefined): void {
    // A chunk listed since the last drain is given from its record then to its record at the drain.
    if (this.touched.has(id)) return;
    if ((before && listed(before)) || (after && listed(after))) this.touched.set(id, before);
    else this.count(before, after);
  }

  /** Counts one chunk's move between shared records (or none). */
  private count(before: ChunkRecord | undefined, after: ChunkRecord | undefined): void {
    // Consecutive chunks mostly make the same move (queued to done, job after job): counted without a lookup.
    if (this.pairCount > 0 && before === this.pairBefore && after === this.pairAfter) {
      this.pairCount++;
      return;
    }
    this.closePair();
    this.pairBefore = before;
    this.pairAfter = after;
    this.pairCount = 1;
  }

  private closePair(): void {
    if (this.pairCount === 0) return;
    let afters = this.pairs.get(this.pairBefore);
    if (!afters) this.pairs.set(this.pairBefore, (afters = new Map()));
    afters.set(this.pairAfter, (afters.get(this.pairAfter) ?? 0) + this.pairCount);
    this.pairCount = 0;
  }
}
