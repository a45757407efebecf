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
   * Whether this copy orchestrates. The orchestrator reports how every copy's chunks
   * ended, so while it does, this worker reports only the starts of its own.
   */
  readonly leading: () => boolean;
  readonly clock?: Clock;
}

/** How often to look for work when no notification came (a lost NOTIFY, a reconnect). */
const POLL_MS = 1_000;
/** Chunks shorter than this on average are claimed several per thread at a time. */
const SHORT_CHUNK_MS = 20;
const CLAIM_AHEAD = 32;

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
  /** Claimed ahead, waiting for a free thread. */
  private readonly ready: ChunkRecord[] = [];
  private executing = 0;
  /** Moving average of recent attempts' durations, to decide how far to claim ahead. */
  private averageMs: number | null = null;
  private claiming = false;
  private claimAgain = false;
  private stopping = false;
  private handingBack = false;
  private readonly cancelledRuns = new Set<string>();
  /** Jobs this copy cannot run (broken or unknown here): left for other copies. */
  private readonly unrunnable = new Set<string>();
  private finished: Finished[] = [];
  private flushing: Promise<void> | null = null;
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
    }, POLL_MS);
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

  /**
   * How many chunks to hold: one per thread while chunks take a while (claiming ahead
   * would keep them from idle copies); several per thread when they are short, so a
   * claim's round trip to the database is shared by many chunks.
   */
  private holdTarget(): number {
    return this.averageMs !== null && this.averageMs < SHORT_CHUNK_MS ? this.pool.size * CLAIM_AHEAD : this.pool.size;
  }

  /** Claims pending chunks when this copy runs low, up to what it should hold. */
  claim(): void {
    if (this.stopping) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    const target = this.holdTarget();
    // Claim again once half of what is held ahead has started: the round trip then
    // overlaps with running the other half.
    if (this.ready.length > Math.max(0, (target - this.pool.size) / 2)) return;
    const wanted = target - this.executing - this.ready.length;
    if (wanted <= 0) return;
    this.claiming = true;
    this.claimAgain = false;
    const registry = this.options.registry();
    const skip = [...new Set([...registry.broken.keys(), ...this.unrunnable])];
    this.track(
      this.store
        .claim(this.options.instance.id, wanted, skip, this.clock.now())
        .then((chunks) => {
          for (const chunk of chunks) this.owned.set(chunk.id, chunk);
          if (this.stopping) return void this.track(this.handBack(chunks.map((c) => c.id), "its stau copy was stopping"));
          this.ready.push(...chunks);
          this.startReady();
          if (chunks.length === wanted) this.claimAgain = true;
        })
        .catch((error) => this.warn(`claiming chunks failed: ${errorMessage(error)}`))
        .finally(() => {
          this.claiming = false;
          if (this.claimAgain) this.claim();
        }),
    );
  }

  private startReady(): void {
    while (this.executing < this.pool.size && this.ready.length > 0 && !this.stopping) this.track(this.run(this.ready.shift()!));
  }

  private async run(chunk: ChunkRecord): Promise<void> {
    const spec = this.options.registry().jobs.get(chunk.job);
    if (!spec) {
      // Another copy may know the job: give it back at once.
      this.unrunnable.add(chunk.job);
      await this.handBack([chunk.id], `job ${chunk.job} does not load on copy ${this.options.instance.id}`);
      return;
    }
    this.executing++;
    this.options.events.emit("chunk:started", { chunk });
    const began = this.clock.now();
    const outcome = await this.pool.runChunk(spec, { runId: chunk.runId, chunkId: chunk.id, attempt: chunk.attempts, workIds: chunk.workIds, kwargs: chunk.kwargs });
    this.executing--;
    const now = this.clock.now();
    // From its start on a thread: a chunk claimed ahead waited before that.
    const durationMs = now - began;
    this.averageMs = this.averageMs === null ? durationMs : this.averageMs * 0.8 + durationMs * 0.2;
    this.startReady();
    if (!outcome.ok && this.handingBack) {
      await this.handBack([chunk.id], "interrupted: its stau copy stopped while it ran");
      return;
    }
    const result = T.settleAttempt(chunk, spec, outcome, this.cancelledRuns.has(chunk.runId), now);
    this.finished.push({ chunk, result, durationMs, completion: { id: chunk.id, token: chunk.token!, patch: result.patch } });
    this.flush();
    this.claim();
  }

  /** One write of results at a time: results that end while one is on its way go in the next. */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      while (this.finished.length > 0) await this.record(this.finished.splice(0));
      this.flushing = null;
    })();
    this.track(this.flushing);
  }

  private async record(batch: Finished[]): Promise<void> {
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
    // Claimed ahead and not started: another copy can start them now.
    const waiting = this.ready.splice(0);
    if (waiting.length > 0) await this.handBack(waiting.map((c) => c.id), "its stau copy was stopping");
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
