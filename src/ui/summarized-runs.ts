import type { ChunkRecord } from "../store/records.js";

// How the console holds the chunks of a big run. A person reads a run of a hundred
// thousand chunks by its counts, the chunks on threads and its failures, never row by
// row; holding every record cost the console nearly half again what the engine holds for
// the run (a million-chunk run in `stau dev`: 1,299 bytes a chunk at its peak against 893
// headless, and ~1.5 GB kept once it was over). A run of more than DETAILED_CHUNKS is
// summarized: of its chunks the console
// keeps the records of those claimed, running or failed, and for every other one a
// record shared by all its chunks of the same job and state, which is what the counts
// read. The Queue pane shows such a run as one row of counts, and its heatmap is read
// from the store.

/** Runs of more chunks than this are summarized. */
export const DETAILED_CHUNKS = 5_000;

/** Whether a run starting with (or read with) this many chunks is summarized. */
export const summarizes = (chunks: number): boolean => chunks > DETAILED_CHUNKS;

/** A chunk kept as its own record in a summarized run: the panes list these. */
const listed = (chunk: ChunkRecord): boolean => chunk.state === "running" || chunk.state === "failed";

/**
 * The records that stand for a summarized run's other chunks, one per run, job and
 * state. Each carries no times, work IDs or id of its own: what reads it (the counts,
 * a log line's job) reads only its run, job and state.
 */
export class SharedRecords {
  private readonly byKey = new Map<string, ChunkRecord>();
  private last: ChunkRecord | null = null;

  /** What the console holds for `chunk`, a chunk of a summarized run. */
  held(chunk: ChunkRecord): ChunkRecord {
    if (listed(chunk)) return chunk;
    // Chunks arrive in runs of the same job and state: the last one answers most.
    const last = this.last;
    if (last && last.state === chunk.state && last.job === chunk.job && last.runId === chunk.runId) return last;
    const key = `${chunk.runId}\u0000${chunk.job}\u0000${chunk.state}`;
    let shared = this.byKey.get(key);
    if (!shared) {
      shared = { ...chunk, id: `${chunk.runId}.*`, workIds: [], dependsOn: [], startedAt: null, finishedAt: null, durationMs: null, error: null, worker: null, notBefore: null };
      this.byKey.set(key, shared);
    }
    return (this.last = shared);
  }

  /** Forgets the records of runs no longer held. */
  forget(runIds: ReadonlySet<string>): void {
    this.last = null;
    for (const [key, record] of this.byKey) if (runIds.has(record.runId)) this.byKey.delete(key);
  }
}
