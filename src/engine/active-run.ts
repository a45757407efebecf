import type { ChunkPatch, ChunkRecord, RunRecord } from "../store/records.js";
import { isFinished } from "./transitions.js";

/**
 * The engine's index of one unfinished run: its chunks, who depends on whom, and
 * counters, so that every transition is O(its own edges) instead of a scan.
 */
export class ActiveRun {
  run: RunRecord;
  readonly chunks = new Map<string, ChunkRecord>();
  /** chunk id → ids of chunks that depend on it */
  readonly dependents = new Map<string, string[]>();
  /** chunk id → dependencies not yet done */
  readonly waitingOn = new Map<string, number>();
  unfinished = 0;
  cancelRequested = false;
  /** Set while the run is being resolved, so it is not started twice. */
  resolving = false;
  /** What the run waits on, once reported (a wait is reported once, not at every check). */
  reportedWait: string[] | null = null;
  waitTimer: NodeJS.Timeout | null = null;

  constructor(run: RunRecord) {
    this.run = run;
  }

  /** Indexes chunks (all of a run's chunks, or re-queued ones on retry). */
  index(chunks: Iterable<ChunkRecord>): void {
    for (const chunk of chunks) {
      this.chunks.set(chunk.id, chunk);
      if (!isFinished(chunk.state)) this.unfinished++;
    }
    this.dependents.clear();
    for (const chunk of this.chunks.values()) {
      let open = 0;
      for (const dep of chunk.dependsOn) {
        let list = this.dependents.get(dep);
        if (!list) this.dependents.set(dep, (list = []));
        list.push(chunk.id);
        if (this.chunks.get(dep)?.state !== "done") open++;
      }
      this.waitingOn.set(chunk.id, open);
    }
  }

  /** Keeps the index in step with a patch the store applied. */
  update(id: string, patch: ChunkPatch): ChunkRecord {
    const before = this.chunks.get(id)!;
    const after = { ...before, ...patch };
    this.chunks.set(id, after);
    const wasFinished = isFinished(before.state);
    const nowFinished = isFinished(after.state);
    if (!wasFinished && nowFinished) this.unfinished--;
    if (wasFinished && !nowFinished) this.unfinished++;
    return after;
  }

  /** Every chunk depending on `id`, directly or transitively. */
  downstream(id: string): string[] {
    const seen = new Set<string>();
    const stack = [...(this.dependents.get(id) ?? [])];
    while (stack.length) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(this.dependents.get(next) ?? []));
    }
    return [...seen];
  }

  /** Jobs with unfinished chunks in this run (for the wait rule). */
  busyJobs(): Set<string> {
    const jobs = new Set<string>();
    for (const chunk of this.chunks.values()) if (!isFinished(chunk.state)) jobs.add(chunk.job);
    return jobs;
  }
}
