import { type Clock, systemClock } from "../clock.js";
import { errorMessage } from "../errors.js";
import * as T from "../engine/transitions.js";
import type { EventBus } from "../engine/events.js";
import type { ExecPool } from "../exec/pool.js";
import type { Registry } from "../jobs/load.js";
import type { Completion, PgStore } from "../store/pg/pg-store.js";
import type { ChunkRecord } from "../store/records.js";
import type { InstanceInfo } from "../store/store.js";

export interface ChunkWorkerOptions {
  readonly store: PgStore;
  readonly pool: ExecPool;
  readonly instance: InstanceInfo;
  readonly events: EventBus;
  readonly registry: () => Registry;
  /**
   * Whether this copy orchestrates. The orchestrator reports every copy's chunks, so
   * while it does, this worker stays quiet instead of saying the same thing twice.
   */
  readonly leading: () => boolean;
  readonly clock?: Clock;
  /** How often to look for work when no notification came (a lost NOTIFY, a reconnect). */
  readonly pollMs?: number;
}

interface Finished {
  readonly chunk: ChunkRecord;
  readonly completion: Completion;
  readonly result: T.AttemptResult;
  readonly durationMs: number;
}

/**
 * Every copy's worker: claims pending chunks from the shared store in batches (as
 * many as it has free threads), runs them on this copy's pool and records their ends
 * in batches, each with the attempt token its claim got.
 */
export class ChunkWorker {
  private readonly store: PgStore;
  private readonly pool: ExecPool;
  private readonly clock: Clock;
  /** Claimed by this copy and not yet recorded as finished. */
  private readonly owned = new Map<string, ChunkRecord>();
  private executing = 0;
  private claiming = false;
  private claimAgain = false;
  private stopping = false;
  private handingBack = false;
  private readonly cancelledRuns = new Set<string>();
  /** Jobs this copy cannot run (broken or unknown here): left for other copies. */
  private readonly unrunnable = new Set<string>();
  private finished: Finished[] = [];
  private flushQueued = false;
  private readonly tasks = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopListening: (() => void)[] = [];

  constructor(private readonly options: ChunkWorkerOptions) {
    this.store = options.store;
    this.pool = options.pool;
    this.clock = options.clock ?? systemClock;
  }

  async start(): Promise<void> {
    this.stopListening.push(await this.store.listen(this.store.channel("work"), () => this.claim()));
    this.stopListening.push(await this.store.listen(this.store.channel("cancel"), (runId) => this.cancelRun(runId)));
    this.timer = setInterval(() => {
      this.claim();
      void this.checkCancelled();
    }, this.options.pollMs ?? 1_000);
    this.claim();
  }

  /** The chunks this copy holds (claimed and not yet recorded), for its heartbeat. */
  heldChunks(): string[] {
    return [...this.owned.keys()];
  }

  /** How many chunks this copy runs now. */
  get busy(): number {
    return this.executing;
  }

  /** Hot reload: jobs that did not run here may now. */
  registryChanged(): void {
    this.unrunnable.clear();
    this.claim();
  }

  /** Claims as many pending chunks as there are free threads, and again while there is more. */
  claim(): void {
    if (this.stopping) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    const free = this.pool.size - this.executing;
    if (free <= 0) return;
    this.claiming = true;
    this.claimAgain = false;
    const registry = this.options.registry();
    const skip = [...new Set([...registry.broken.keys(), ...this.unrunnable])];
    this.track(
      this.store
        .claim(this.options.instance.id, free, skip, this.clock.now())
        .then((chunks) => {
          for (const chunk of chunks) this.track(this.run(chunk));
          if (chunks.length === free) this.claimAgain = true;
        })
        .catch((error) => this.warn(`claiming chunks failed: ${errorMessage(error)}`))
        .finally(() => {
          this.claiming = false;
          if (this.claimAgain) this.claim();
        }),
    );
  }

  private async run(chunk: ChunkRecord): Promise<void> {
    const spec = this.options.registry().jobs.get(chunk.job);
    this.owned.set(chunk.id, chunk);
    if (!spec || this.stopping) {
      // Another copy may know the job (or be staying): give it back at once.
      if (!spec) this.unrunnable.add(chunk.job);
      await this.handBack([chunk.id], spec ? "its stau copy was stopping" : `job ${chunk.job} does not load on copy ${this.options.instance.id}`);
      return;
    }
    this.executing++;
    const quiet = this.options.leading();
    if (!quiet) this.options.events.emit("chunk:started", { chunk });
    const outcome = await this.pool.runChunk(spec, { runId: chunk.runId, chunkId: chunk.id, attempt: chunk.attempts, workIds: chunk.workIds, kwargs: chunk.kwargs });
    this.executing--;
    if (!outcome.ok && this.handingBack) {
      await this.handBack([chunk.id], "interrupted: its stau copy stopped while it ran");
      return;
    }
    const now = this.clock.now();
    const result = T.settleAttempt(chunk, spec, outcome, this.cancelledRuns.has(chunk.runId), now);
    this.finished.push({ chunk, result, durationMs: now - (chunk.startedAt ?? now), completion: { id: chunk.id, token: chunk.token!, patch: result.patch, success: result.success } });
    if (!this.flushQueued) {
      this.flushQueued = true;
      // Ends that arrive together are recorded together.
      setImmediate(() => this.track(this.flush()));
    }
    this.claim();
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const batch = this.finished;
    this.finished = [];
    if (batch.length === 0) return;
    let recorded: Set<string>;
    try {
      recorded = await this.store.complete(batch.map((f) => f.completion));
    } catch (error) {
      // Not recorded: the chunks stay running until their heartbeat stops, then run again elsewhere.
      this.warn(`recording ${batch.length} chunk result(s) failed: ${errorMessage(error)}`);
      for (const { chunk } of batch) this.owned.delete(chunk.id);
      return;
    }
    const quiet = this.options.leading();
    for (const { chunk, result, durationMs } of batch) {
      this.owned.delete(chunk.id);
      if (!recorded.has(chunk.id)) {
        this.warn(`the result of chunk ${chunk.id} (attempt ${chunk.attempts}) was dropped: the chunk was released from this copy meanwhile and runs elsewhere`);
        continue;
      }
      if (quiet) continue;
      const settled = { ...chunk, ...result.patch, owner: null, token: null };
      if (result.error) this.options.events.emit("chunk:failed", { chunk: settled, error: result.error, willRetry: settled.state === "queued", durationMs });
      else this.options.events.emit("chunk:done", { chunk: settled, durationMs });
    }
  }

  private async handBack(ids: string[], reason: string): Promise<void> {
    try {
      await this.store.handBack(this.options.instance.id, ids, reason);
    } catch (error) {
      this.warn(`handing back ${ids.length} chunk(s) failed (they are released when this copy's heartbeat stops): ${errorMessage(error)}`);
    }
    for (const id of ids) this.owned.delete(id);
  }

  private cancelRun(runId: string): void {
    this.cancelledRuns.add(runId);
    for (const chunk of this.owned.values()) if (chunk.runId === runId) this.pool.cancel(chunk.id);
  }

  /** Cancels a notification did not bring. */
  private async checkCancelled(): Promise<void> {
    const runs = [...new Set([...this.owned.values()].map((c) => c.runId))].filter((id) => !this.cancelledRuns.has(id));
    try {
      for (const runId of await this.store.cancelledRuns(runs)) this.cancelRun(runId);
    } catch {
      // The next poll asks again.
    }
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  private warn(message: string): void {
    this.options.events.emit("warning", { message });
  }

  /**
   * Stops claiming; running chunks get `timeoutMs` to finish, then are stopped and
   * handed back to the queue at once for another copy. Resolves when all is recorded.
   */
  async drain(timeoutMs: number): Promise<{ aborted: number }> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    for (const stop of this.stopListening.splice(0)) stop();
    const settled = this.settled().then(() => true);
    const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
    let aborted = 0;
    if (!(await Promise.race([settled, timedOut]))) {
      aborted = this.executing;
      this.handingBack = true;
      this.pool.abortAll("stau is shutting down; the chunk goes back to the queue for another copy");
      await this.settled();
    }
    // Anything still held (a result that could not be recorded) goes back too.
    if (this.owned.size > 0) await this.handBack([...this.owned.keys()], "interrupted: its stau copy stopped");
    return { aborted };
  }

  private async settled(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }
}
