import { errorMessage } from "../errors.js";
import type { EventBus, StauEvents } from "../events.js";
import type { ScheduleMark } from "../schedule/ticks.js";
import type { ArchivedRun, ChunkPatch, ChunkRecord, RunPatch, RunRecord, Success } from "../store/records.js";
import type { Store } from "../store/store.js";
import { ActiveRun } from "./active-run.js";

type Announcement = { [E in keyof StauEvents]: { name: E; payload: StauEvents[E]; chunkId?: string } }[keyof StauEvents];

/**
 * The orchestrator's single write path: every change it makes to a run or a chunk goes
 * to the store, the engine's index and the event stream together, here. Events are
 * announced when the commit that makes their change durable resolves; a guarded chunk
 * patch that found its chunk moved on (an executor claimed it) is not announced, and
 * the index takes the chunk as the store has it.
 */
export class RunBook {
  private readonly runs = new Map<string, ActiveRun>();
  private announcements: Announcement[] = [];
  /** Callers waiting for a run's end, and the ends written since the last commit (told once durable). */
  private readonly waiters = new Map<string, ((run: ArchivedRun) => void)[]>();
  private ended: ArchivedRun[] = [];
  /** Runs with guarded patches written and not yet committed, and how many commits under way carry some. */
  private guarded = new Set<string>();
  private readonly unsure = new Map<string, number>();
  /** Warnings already given (a damaged file is named once, not at every result). */
  private readonly said = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly events: EventBus,
  ) {}

  get(runId: string): ActiveRun | undefined {
    return this.runs.get(runId);
  }

  /** Active runs, oldest first. */
  all(): ActiveRun[] {
    return [...this.runs.values()];
  }

  /** Indexes a run as the store has it, writing nothing (recovery, and a retried run's history). */
  adopt(record: RunRecord, chunks: readonly ChunkRecord[]): ActiveRun {
    const run = new ActiveRun(record);
    run.index(chunks);
    this.runs.set(record.id, run);
    return run;
  }

  /** A new run, waiting to be resolved. */
  open(record: RunRecord): ActiveRun {
    this.store.insertRun(record);
    this.announce({ name: "run:queued", payload: { run: record } });
    return this.adopt(record, []);
  }

  /** Says what a run waits for (nothing is written: it stays `waiting`). */
  waiting(run: ActiveRun, on: string[]): void {
    this.events.emit("run:waiting", { run: run.run, on });
  }

  patchRun(run: ActiveRun, patch: RunPatch): void {
    this.store.patchRun(run.run.id, patch);
    run.run = { ...run.run, ...patch };
  }

  /** A resolved run gets its chunks. */
  start(run: ActiveRun, chunks: readonly ChunkRecord[], patch: RunPatch): void {
    this.store.addChunks(chunks);
    this.patchRun(run, patch);
    run.index(chunks);
    this.announce({ name: "run:started", payload: { run: run.run, chunks: chunks.length, records: chunks } });
    // A run that could not be resolved starts with one failed chunk saying why.
    for (const chunk of chunks) {
      if (chunk.state === "failed" && chunk.error) this.announce({ name: "chunk:failed", payload: { chunk, error: chunk.error, willRetry: false, durationMs: 0 } });
    }
  }

  /** A finished run comes back for an operator's retry: `again` are its chunks to run again, with their patch. */
  reopen(archived: ArchivedRun, patch: RunPatch, again: readonly ChunkRecord[], requeue: (chunk: ChunkRecord) => ChunkPatch): ActiveRun {
    const run = this.adopt(archived.run, archived.chunks);
    this.patchRun(run, patch);
    this.write(run, again.map((c) => [c.id, requeue(c)]), () => null);
    this.announce({ name: "run:started", payload: { run: run.run, chunks: again.length, records: again.map((c) => run.chunks.get(c.id)!) } });
    return run;
  }

  /** queued → pending. */
  release(run: ActiveRun, ids: readonly string[], patch: ChunkPatch): void {
    this.write(run, ids.map((id) => [id, patch]), (chunk) => ({ name: "chunk:pending", payload: { chunk }, chunkId: chunk.id }));
  }

  /** Chunks an operator cancelled before they started. */
  cancelled(run: ActiveRun, ids: readonly string[], patch: ChunkPatch): void {
    this.write(run, ids.map((id) => [id, patch]), (chunk) => ({ name: "chunk:cancelled", payload: { chunk }, chunkId: chunk.id }));
  }

  /** Chunks below one that failed for good. */
  upstreamFailed(run: ActiveRun, ids: readonly string[], patch: ChunkPatch): void {
    this.write(run, ids.map((id) => [id, patch]), (chunk) => ({ name: "chunk:upstream_failed", payload: { chunk }, chunkId: chunk.id }));
  }

  /**
   * Chunks the queue released from an instance that is gone (already durable): announced
   * now, as interrupted (back to pending) or, when that used up their attempts, failed.
   */
  released(chunks: readonly ChunkRecord[], reason: (chunk: ChunkRecord) => string): void {
    for (const chunk of chunks) {
      if (!this.runOf(chunk)) continue;
      if (chunk.state === "failed" && chunk.error) this.events.emit("chunk:failed", { chunk, error: chunk.error, willRetry: false, durationMs: 0 });
      else this.events.emit("chunk:interrupted", { chunk, reason: reason(chunk) });
    }
  }

  /** A chunk as the store has it now (an executor's change): the index follows. Returns its run, or null for a chunk of no active run. */
  observe(chunk: ChunkRecord): ActiveRun | null {
    const run = this.runOf(chunk);
    if (!run) return null;
    run.set(chunk);
    return run;
  }

  /** What a schedule entry last did. */
  mark(entryId: string, mark: ScheduleMark): void {
    this.store.setScheduleMark(entryId, mark);
  }

  /**
   * Freshness earned by done chunks. What the store cannot record (a damaged freshness
   * file) is said, once per message, and costs only a later re-run of that job.
   */
  earn(successes: readonly Success[]): void {
    if (successes.length === 0) return;
    try {
      this.store.recordSuccesses(successes);
    } catch (error) {
      const message = errorMessage(error);
      if (this.said.has(message)) return;
      this.said.add(message);
      this.events.emit("warning", { message });
    }
  }

  /** A run whose chunks are all finished leaves the index for history. Announced, and its waiters told, once durable. */
  finish(run: ActiveRun, patch: RunPatch): void {
    this.patchRun(run, patch);
    this.store.archiveRun(run.run.id);
    this.runs.delete(run.run.id);
    this.announce({ name: "run:finished", payload: { run: run.run } });
    this.ended.push({ run: run.run, chunks: [...run.chunks.values()] });
  }

  /** Resolves with an active run once its end is durable; null for a run not active here. */
  waitFor(runId: string): Promise<ArchivedRun> | null {
    if (!this.runs.has(runId)) return null;
    return new Promise((resolve) => this.waiters.set(runId, [...(this.waiters.get(runId) ?? []), resolve]));
  }

  /**
   * Whether a guarded patch of this run may still find a chunk moved on: written and
   * not yet committed, or in a commit that has not yet told. Until it tells, the run's
   * index may count a chunk as ended that an executor holds.
   */
  unconfirmed(run: ActiveRun): boolean {
    return this.guarded.has(run.run.id) || (this.unsure.get(run.run.id) ?? 0) > 0;
  }

  /**
   * Makes everything written durable, then announces it. Returns the chunks whose
   * guarded patch found them moved on (as the store has them now): their patch was not
   * applied nor announced, and the caller acts on them as on any change.
   */
  async commit(): Promise<readonly ChunkRecord[]> {
    const { announcements, ended, guarded } = this;
    this.announcements = [];
    this.ended = [];
    this.guarded = new Set();
    for (const id of guarded) this.unsure.set(id, (this.unsure.get(id) ?? 0) + 1);
    let conflicts: readonly ChunkRecord[];
    try {
      ({ conflicts } = await this.store.commit());
    } finally {
      for (const id of guarded) {
        const left = this.unsure.get(id)! - 1;
        if (left > 0) this.unsure.set(id, left);
        else this.unsure.delete(id);
      }
    }
    const moved = new Set(conflicts.map((c) => c.id));
    for (const { name, payload, chunkId } of announcements) {
      if (chunkId === undefined || !moved.has(chunkId)) this.events.emit(name, payload as never);
    }
    for (const archived of ended) {
      for (const resolve of this.waiters.get(archived.run.id) ?? []) resolve(archived);
      this.waiters.delete(archived.run.id);
    }
    return conflicts;
  }

  private write(run: ActiveRun, patches: readonly (readonly [string, ChunkPatch])[], announcement: (chunk: ChunkRecord) => Announcement | null): void {
    if (patches.length === 0) return;
    this.store.patchChunks(patches.map(([id, patch]) => [id, patch, run.chunks.get(id)!.state]));
    this.guarded.add(run.run.id);
    for (const [id, patch] of patches) {
      const chunk = run.update(id, patch);
      const said = announcement(chunk);
      if (said) this.announce(said);
    }
  }

  /** The active run indexing this chunk (found by its run's id, not by a map over every chunk). */
  private runOf(chunk: ChunkRecord): ActiveRun | undefined {
    const run = this.runs.get(chunk.runId);
    return run?.chunks.has(chunk.id) ? run : undefined;
  }

  private announce(announcement: Announcement): void {
    this.announcements.push(announcement);
  }
}
