import type { ChunkPatch, ChunkRecord, RunRecord } from "../store/records.js";
import { isFinished } from "./transitions.js";

/**
 * The engine's index of one unfinished run: its chunks, who depends on whom, and
 * counters, so that every transition is O(its own edges) instead of a scan. Only the
 * run book changes it.
 */
export class ActiveRun {
  run: RunRecord;
  readonly chunks = new Map<string, ChunkRecord>();
  /** chunk id → ids of chunks that depend on it */
  readonly dependents = new Map<string, string[]>();
  /** chunk id → dependencies not yet done, for chunks waiting on any (none: absent, so a run of independent chunks keeps no entry per chunk) */
  readonly waitingOn = new Map<string, number>();
  unfinished = 0;
  /** Unfinished chunks per job, kept as chunks change: the wait rule asks at every batch of results while a run waits. */
  private readonly unfinishedOf = new Map<string, number>();
  /** Set while the run is being resolved, so it is not started twice. */
  resolving = false;
  /** What the run waits on, once reported (a wait is reported once, not at every check). */
  reportedWait: string[] | null = null;

  constructor(run: RunRecord) {
    this.run = run;
  }

  get cancelRequested(): boolean {
    return this.run.cancelRequested === true;
  }

  /** Indexes chunks (all of a run's chunks, or those a resolution added). */
  index(chunks: Iterable<ChunkRecord>): void {
    for (const chunk of chunks) {
      const before = this.chunks.get(chunk.id);
      this.chunks.set(chunk.id, chunk);
      if (before && !isFinished(before.state)) this.count(before.job, -1);
      if (!isFinished(chunk.state)) this.count(chunk.job, +1);
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
      if (open > 0) this.waitingOn.set(chunk.id, open);
      else this.waitingOn.delete(chunk.id);
    }
  }

  /** Keeps the index in step with a patch. */
  update(id: string, patch: ChunkPatch): ChunkRecord {
    const before = this.chunks.get(id)!;
    return this.replace(before, { ...before, ...patch });
  }

  /** Keeps the index in step with a chunk's record as the store has it now. */
  set(chunk: ChunkRecord): ChunkRecord {
    return this.replace(this.chunks.get(chunk.id)!, chunk);
  }

  private replace(before: ChunkRecord, after: ChunkRecord): ChunkRecord {
    const id = after.id;
    this.chunks.set(id, after);
    const wasFinished = isFinished(before.state);
    const nowFinished = isFinished(after.state);
    if (!wasFinished && nowFinished) this.count(after.job, -1);
    if (wasFinished && !nowFinished) this.count(after.job, +1);
    if (before.state !== "done" && after.state === "done") for (const dep of this.dependents.get(id) ?? []) this.waiting(dep, -1);
    if (before.state === "done" && after.state !== "done") for (const dep of this.dependents.get(id) ?? []) this.waiting(dep, +1);
    return after;
  }

  private waiting(id: string, by: number): void {
    const open = (this.waitingOn.get(id) ?? 0) + by;
    if (open > 0) this.waitingOn.set(id, open);
    else this.waitingOn.delete(id);
  }

  /** Queued chunks whose dependencies are all done (after `doneId` finished, or all of them). */
  releasable(doneId?: string): string[] {
    const candidates = doneId === undefined ? this.chunks.keys() : (this.dependents.get(doneId) ?? []);
    const out: string[] = [];
    for (const id of candidates) if (!this.waitingOn.has(id) && this.chunks.get(id)!.state === "queued") out.push(id);
    return out;
  }

  /** Unfinished chunks depending on `id`, directly or transitively. */
  downstream(id: string): string[] {
    const seen = new Set<string>();
    const stack = [...(this.dependents.get(id) ?? [])];
    while (stack.length) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      for (const dep of this.dependents.get(next) ?? []) stack.push(dep);
    }
    return [...seen].filter((d) => !isFinished(this.chunks.get(d)!.state));
  }

  /** Jobs with unfinished chunks in this run (for the wait rule). */
  busyJobs(): string[] {
    return [...this.unfinishedOf.keys()];
  }

  private count(job: string, by: 1 | -1): void {
    this.unfinished += by;
    const left = (this.unfinishedOf.get(job) ?? 0) + by;
    if (left > 0) this.unfinishedOf.set(job, left);
    else this.unfinishedOf.delete(job);
  }
}
