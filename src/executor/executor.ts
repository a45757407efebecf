import type { JobSpec } from "../config/spec.js";
import { type Clock, systemClock } from "../clock.js";
import * as T from "../engine/transitions.js";
import { errorMessage } from "../errors.js";
import type { EventBus } from "../events.js";
import type { Registry } from "../jobs/load.js";
import type { ChunkRecord, InstanceInfo } from "../store/records.js";
import type { ClaimFilter, Completion, WorkQueue } from "../store/store.js";
import { cancelledOutcome } from "../exec/outcomes.js";
import type { ExecPool } from "../exec/pool.js";
import type { ThreadsNow } from "../exec/threads.js";
import { taskOf } from "../exec/protocol.js";
import { CLAIMS_IN_FLIGHT, claimSize, joinReady, nextAverage, takeBatch } from "./claim-ahead.js";
import { claimFilter, concurrencyLimits } from "./claim-filter.js";
import { Trouble } from "./trouble.js";

/** What the executor needs of a worker pool. */
export type ChunkRunner = Pick<ExecPool, "size" | "runChunks" | "cancel" | "abortAll" | "slotOf" | "threadsNow">;

export interface ExecutorOptions {
  readonly queue: WorkQueue;
  readonly pool: ChunkRunner;
  readonly instance: InstanceInfo;
  readonly events: EventBus;
  readonly registry: () => Registry;
  /** Why not to take on work now (the store cannot record it), or null; claiming resumes by itself. */
  readonly held?: () => string | null;
  /** Only chunks of these runs (`stau run` on the embedded store); absent: any. */
  readonly onlyRuns?: () => readonly string[];
  readonly clock?: Clock;
}

/** How often to look for work and cancels when no notification came (a lost NOTIFY, a reconnect). */
const POLL_MS = 1_000;
/** How long results the store could not take wait before they are offered again. */
const RETRY_MS = 1_000;

interface Finished {
  readonly chunk: ChunkRecord;
  readonly completion: Completion;
  readonly result: T.AttemptResult;
}

/**
 * The only code that runs chunks, whatever the store: claims pending chunks from the
 * work queue (as many as the pool has free threads, more when chunks are short), runs
 * them, and completes them in batches, each with its claim's token. Whoever
 * orchestrates learns the results from the queue.
 */
export class Executor {
  private readonly queue: WorkQueue;
  private readonly pool: ChunkRunner;
  private readonly clock: Clock;
  private readonly owner: string;
  /** Claimed by this instance and not yet recorded as finished. */
  private readonly owned = new Map<string, ChunkRecord>();
  /** Claimed ahead, waiting for a free thread. */
  private ready: ChunkRecord[] = [];
  /** Chunks handed to threads (in batches) and not yet ended, and the threads they occupy. */
  private executing = 0;
  private threadsBusy = 0;
  /** Attempt durations, over all jobs (how far to claim ahead) and per job (which chunks travel in batches). */
  private averageMs: number | null = null;
  private readonly jobAverageMs = new Map<string, number>();
  /** Claims under way, and how many chunks they asked for. */
  private claims = 0;
  private requested = 0;
  /** News of work came while claims were under way: look again when one ends. */
  private claimAgain = false;
  /** A suspect (it was running when its instance died) running alone: nothing runs beside it. */
  private alone: ChunkRecord | null = null;
  private stopping = false;
  private handingBack = false;
  /** Runs an operator cancelled that this instance still holds chunks of. */
  private readonly cancelling = new Set<string>();
  /** Jobs this instance cannot run (broken or unknown here): left for others. */
  private readonly unrunnable = new Set<string>();
  private finished: Finished[] = [];
  private readonly trouble = new Trouble((message) => this.warn(message));
  /** Stopping past the drain's timeout: results the store still cannot take are let go. */
  private givingUp = false;
  private flushing: Promise<void> | null = null;
  private readonly tasks = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private readonly unlisten: (() => void)[] = [];

  constructor(private readonly options: ExecutorOptions) {
    this.queue = options.queue;
    this.pool = options.pool;
    this.clock = options.clock ?? systemClock;
    this.owner = options.instance.id;
  }

  async start(): Promise<void> {
    this.unlisten.push(await this.queue.listen("work", () => this.claim()));
    this.unlisten.push(await this.queue.listen("cancel", (runId) => this.cancelRun(runId)));
    this.timer = setInterval(() => {
      this.claim();
      void this.checkCancelled();
    }, POLL_MS);
    this.claim();
  }

  /** The chunks this instance holds (claimed and not yet recorded), for its heartbeat. */
  heldChunks(): string[] {
    return [...this.owned.keys()];
  }

  /** How many of this instance's threads run chunks now. */
  get busy(): number {
    return this.threadsBusy;
  }

  /** What this instance's threads do now (ThreadsNow): the pool's, and the chunks back in line here (given back by their batch, or left by its stop). */
  threadsNow(): ThreadsNow {
    const { running, waiting } = this.pool.threadsNow();
    return { running, waiting: waiting.concat(this.ready.map((chunk) => chunk.id)) };
  }

  /** Hot reload: jobs that did not load here may now. */
  registryChanged(): void {
    this.unrunnable.clear();
    this.claim();
  }

  /** Claims pending chunks when this instance runs low, up to what it should hold. */
  claim(): void {
    if (this.stopping || this.alone || this.options.held?.()) return;
    if (this.claims >= CLAIMS_IN_FLIGHT) {
      this.claimAgain = true;
      return;
    }
    this.claimAgain = false;
    const wanted = claimSize({ threads: this.pool.size, executing: this.executing, ready: this.ready.length, requested: this.requested, averageMs: this.averageMs });
    if (wanted <= 0) return;
    this.claims++;
    this.requested += wanted;
    let more = false;
    this.track(
      this.queue
        .claim(this.owner, wanted, this.filter(false), T.claim(this.owner, this.clock.now()))
        .then((chunks) => {
          for (const chunk of chunks) this.owned.set(chunk.id, chunk);
          if (this.stopping) return void this.track(this.handBack(chunks, "its stau instance was stopping"));
          this.ready = joinReady(this.ready, chunks);
          more = chunks.length === wanted;
        })
        .then(() => this.trouble.report("claiming chunks", null), (error) => this.trouble.report("claiming chunks", error))
        .finally(() => {
          this.claims--;
          this.requested -= wanted;
          this.startReady();
          // A full claim means there may be more: look again at once (an empty one waits for news).
          if (more || this.claimAgain) this.claim();
          else this.claimSuspect();
        }),
    );
  }

  /**
   * With nothing else to do, runs one suspect, alone: if it is what kills stau, it dies
   * alone, and the orchestrator can tell (transitions.orphaned).
   */
  private claimSuspect(): void {
    if (this.stopping || this.alone || this.claims > 0 || this.executing > 0 || this.ready.length > 0 || this.options.held?.()) return;
    this.claims++;
    this.track(
      this.queue
        .claim(this.owner, 1, this.filter(true), T.claim(this.owner, this.clock.now(), true))
        .then((chunks) => {
          for (const chunk of chunks) this.owned.set(chunk.id, chunk);
          if (this.stopping) return void this.track(this.handBack(chunks, "its stau instance was stopping"));
          const [suspect] = chunks;
          if (!suspect) return;
          this.alone = suspect;
          this.track(this.run([suspect]));
        })
        .catch((error) => this.trouble.report("claiming chunks", error))
        .finally(() => this.claims--),
    );
  }

  private filter(suspects: boolean): ClaimFilter {
    return claimFilter(this.options.registry(), this.unrunnable, suspects, this.options.onlyRuns?.());
  }

  private startReady(): void {
    while (this.threadsBusy < this.pool.size && this.ready.length > 0 && !this.stopping && !this.alone) this.track(this.run(this.nextBatch()));
  }

  /** The next chunks for a free thread (see takeBatch). */
  private nextBatch(): ChunkRecord[] {
    const taken = takeBatch(this.ready, (job) => this.jobAverageMs.get(job) ?? null, this.pool.size - this.threadsBusy);
    const batch = this.ready.slice(0, taken);
    this.ready = this.ready.slice(taken);
    return batch;
  }

  private async run(chunks: readonly ChunkRecord[]): Promise<void> {
    const registry = this.options.registry();
    const runs: { chunk: ChunkRecord; spec: JobSpec }[] = [];
    const skipped: ChunkRecord[] = [];
    for (const chunk of chunks) {
      const spec = registry.jobs.get(chunk.job);
      if (!spec) {
        // Another instance may know the job: give it back at once.
        this.unrunnable.add(chunk.job);
        if (this.alone === chunk) this.alone = null;
        skipped.push(chunk);
      } else runs.push({ chunk, spec });
    }
    if (skipped.length > 0) await this.handBack(skipped, `job ${skipped[0]!.job} does not load on instance ${this.owner}`);
    if (runs.length === 0) return;
    this.executing += runs.length;
    this.threadsBusy++;
    const began = this.clock.now();
    // A cancelled run's chunks end without running.
    const cancelled = new Set(runs.filter(({ chunk }) => this.cancelling.has(chunk.runId)).map(({ chunk }) => chunk));
    const toRun = runs.filter(({ chunk }) => !cancelled.has(chunk));
    // Chunks a straggling batch gives back run on other threads meanwhile.
    const givenBack = new Set<ChunkRecord>();
    const giveBack = (indexes: number[]) => {
      const back = indexes.map((index) => toRun[index]!.chunk);
      for (const chunk of back) givenBack.add(chunk);
      this.executing -= back.length;
      this.ready = back.concat(this.ready);
      this.startReady();
    };
    const running = toRun.length > 0 ? this.pool.runChunks(toRun.map(({ chunk, spec }) => ({ spec, task: taskOf(chunk) })), giveBack) : Promise.resolve([]);
    if (this.options.events.heard("chunk:started")) for (const { chunk } of toRun) this.options.events.emit("chunk:started", { chunk: { ...chunk, worker: this.pool.slotOf(chunk.id) } });
    const worker = toRun.length > 0 ? this.pool.slotOf(toRun[0]!.chunk.id) : null;
    const ends = await running;
    this.executing -= runs.length - givenBack.size;
    this.threadsBusy--;
    if (runs.some(({ chunk }) => this.alone === chunk)) this.alone = null;
    const now = this.clock.now();
    const back: ChunkRecord[] = [];
    const again: ChunkRecord[] = [];
    let ran = 0;
    for (const { chunk, spec } of runs) {
      const end = cancelled.has(chunk) ? { outcome: cancelledOutcome, durationMs: 0 } : ends[ran++];
      if (givenBack.has(chunk)) continue;
      if (!end) {
        // Never began (its batch ended early): it runs again here, or elsewhere if this instance stops.
        (this.stopping ? back : again).push(chunk);
        continue;
      }
      // From its start on a thread: a chunk claimed ahead waited before that.
      const durationMs = end.durationMs ?? now - began;
      this.learn(spec, durationMs);
      if (!end.outcome.ok && this.handingBack) {
        back.push(chunk);
        continue;
      }
      const result = T.settleAttempt(chunk, spec, end.outcome, this.cancelling.has(chunk.runId), now, durationMs, worker);
      this.finished.push({ chunk, result, completion: { id: chunk.id, token: chunk.token!, patch: result.patch } });
    }
    this.ready = again.concat(this.ready);
    this.startReady();
    if (back.length > 0) await this.handBack(back, this.handingBack ? "its stau instance stopped while it ran" : "its stau instance was stopping");
    this.flush();
    this.claim();
  }

  private learn(spec: JobSpec, durationMs: number): void {
    this.averageMs = nextAverage(this.averageMs, durationMs);
    // A program job's attempt is a process of its own, never one of a thread's batch:
    // with no average it is never taken as short (takeBatch), so it always goes alone.
    if (!spec.program) this.jobAverageMs.set(spec.name, nextAverage(this.jobAverageMs.get(spec.name) ?? null, durationMs));
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
      recorded = await this.queue.complete(batch.map((f) => f.completion));
      this.trouble.report("recording chunk results", null);
    } catch (error) {
      if (this.givingUp || (this.stopping && this.options.held?.())) {
        // Stopping, and the store still cannot take them: the chunks are handed back (or
        // released when this instance's heartbeat stops) and run again.
        this.warn(`${batch.length} chunk result(s) could not be recorded before stopping: ${errorMessage(error)}`);
        for (const { chunk } of batch) this.forget(chunk);
        return;
      }
      // Kept, and still held (so still heartbeated): tried again until the store takes them.
      this.trouble.report("recording chunk results", error);
      this.finished = batch.concat(this.finished);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      return;
    }
    // A recorded end frees a place of its job's `concurrency`, which the claim made as the chunk ended could not use.
    if (concurrencyLimits(this.options.registry())) this.claim();
    for (const { chunk, result } of batch) {
      this.forget(chunk);
      if (!recorded.has(chunk.id)) {
        this.warn(`the result of chunk ${chunk.id} (attempt ${chunk.attempts}) was dropped: the chunk was released from this instance meanwhile and runs elsewhere`);
        continue;
      }
      // Announced once durable: nobody hears of a result that a crash could still undo.
      if (!this.options.events.heard(result.error ? "chunk:failed" : "chunk:done")) continue;
      const settled: ChunkRecord = { ...chunk, ...result.patch };
      const durationMs = settled.durationMs ?? 0;
      if (result.error) this.options.events.emit("chunk:failed", { chunk: settled, error: result.error, willRetry: settled.state === "queued", durationMs });
      else this.options.events.emit("chunk:done", { chunk: settled, durationMs });
    }
  }

  private forget(chunk: ChunkRecord): void {
    this.owned.delete(chunk.id);
    if (this.cancelling.has(chunk.runId) && ![...this.owned.values()].some((c) => c.runId === chunk.runId)) this.cancelling.delete(chunk.runId);
  }

  private async handBack(chunks: readonly ChunkRecord[], reason: string): Promise<void> {
    if (chunks.length === 0) return;
    try {
      const back = new Set(await this.queue.handBack(this.owner, chunks.map((c) => c.id), T.interrupted(reason)));
      for (const chunk of chunks) if (back.has(chunk.id)) this.options.events.emit("chunk:interrupted", { chunk: { ...chunk, ...T.interrupted(reason) }, reason });
    } catch (error) {
      this.warn(`handing back ${chunks.length} chunk(s) failed (they are released when this instance's heartbeat stops): ${errorMessage(error)}`);
    }
    for (const chunk of chunks) this.forget(chunk);
  }

  private cancelRun(runId: string): void {
    const held = [...this.owned.values()].filter((c) => c.runId === runId);
    if (held.length === 0) return;
    this.cancelling.add(runId);
    for (const chunk of held) this.pool.cancel(chunk.id);
  }

  /** Cancels a notification did not bring. */
  private async checkCancelled(): Promise<void> {
    const runs = [...new Set([...this.owned.values()].map((c) => c.runId))].filter((id) => !this.cancelling.has(id));
    try {
      for (const runId of await this.queue.cancelledRuns(runs)) this.cancelRun(runId);
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
   * handed back to the queue, as are chunks claimed ahead. Resolves when all is recorded.
   */
  async drain(timeoutMs: number): Promise<{ aborted: number; finished: number }> {
    this.stopping = true;
    const running = this.executing;
    if (this.timer) clearInterval(this.timer);
    for (const stop of this.unlisten.splice(0)) stop();
    // Claimed ahead and not started: another instance (or the next start) can run them now.
    await this.handBack(this.ready.splice(0), "its stau instance was stopping");
    const settled = this.settled().then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    let aborted = 0;
    const inTime = await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    if (!inTime) {
      aborted = this.executing;
      this.handingBack = true;
      this.givingUp = true;
      this.pool.abortAll("stau is shutting down; the chunk goes back to the queue");
      await this.settled();
    }
    // Anything still held (a result that could not be recorded) goes back too.
    await this.handBack([...this.owned.values()], "its stau instance stopped");
    return { aborted, finished: running - aborted };
  }

  private async settled(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }
}
