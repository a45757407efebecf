import { randomBytes } from "node:crypto";
import type { Kwargs, WorkId } from "../config/types.js";
import { formatProblem } from "../config/problem.js";
import { type Clock, systemClock } from "../clock.js";
import { StauError, UsageError, errorMessage } from "../errors.js";
import type { ChunkOutcome, ExecPool } from "../exec/pool.js";
import { kwargsKey } from "../graph/kwargs-key.js";
import { UnknownJobError, upstreamJobs } from "../graph/raw-graph.js";
import { resolve } from "../graph/resolve.js";
import type { Registry } from "../jobs/load.js";
import type { ArchivedRun, ChunkPatch, ChunkRecord, RunRecord, TriggerSource } from "../store/records.js";
import type { ChunkPatchOp, InstanceInfo, LocalQueue, Store } from "../store/store.js";
import { ActiveRun } from "./active-run.js";
import { EventBus } from "./events.js";
import * as T from "./transitions.js";

export interface TriggerRequest {
  readonly job: string;
  readonly kwargs?: Kwargs;
  /** Explicit work IDs; without them the job's selectWork decides. */
  readonly workIds?: readonly WorkId[] | null;
  readonly source: TriggerSource;
  readonly scheduleEntry?: string | null;
  /** The tick (epoch ms) of the schedule entry this run fires for. */
  readonly scheduleTick?: number | null;
  readonly origin?: string | null;
}

export interface EngineOptions {
  readonly store: Store;
  /**
   * The embedded store's claims: the engine runs pending chunks on its own pool.
   * Null with a shared store: every copy's ChunkWorker claims pending chunks from
   * the database, and the engine hears what became of them through observe().
   */
  readonly queue: LocalQueue | null;
  /** Stops the running chunks of a cancelled run (default: on this pool). */
  readonly stopRunning?: (runId: string, chunkIds: readonly string[]) => void;
  readonly pool: ExecPool;
  readonly registry: Registry;
  readonly instance: InstanceInfo;
  readonly clock?: Clock;
  readonly events?: EventBus;
  /** Git commit of the jobs folder, recorded on every run. */
  readonly gitCommit?: () => Promise<string | null>;
  /** A run waiting longer than this on other runs is reported as a warning. */
  readonly waitWarningMs?: number;
}

/**
 * The orchestrator: turns triggers into runs, resolves them into chunks, feeds the
 * pool (or, with a shared store, the copies' chunk workers) and applies the pure
 * transitions of transitions.ts through the store.
 */
export class Engine {
  readonly events: EventBus;
  private registry: Registry;
  private readonly store: Store;
  private readonly pool: ExecPool;
  private readonly clock: Clock;
  private readonly queue: LocalQueue | null;
  private readonly stopRunning: (runId: string, chunkIds: readonly string[]) => void;
  private readonly runs = new Map<string, ActiveRun>();
  private readonly runOfChunk = new Map<string, ActiveRun>();
  private pending: string[] = [];
  private pendingHead = 0;
  /** Pending chunks of jobs that do not load right now, until a reload fixes them. */
  private readonly held = new Set<string>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waiters = new Map<string, ((run: ArchivedRun) => void)[]>();
  private resolving: Promise<void> = Promise.resolve();
  private accepting = true;
  private interrupting = false;

  private constructor(private readonly options: EngineOptions) {
    this.store = options.store;
    this.pool = options.pool;
    this.queue = options.queue;
    this.stopRunning = options.stopRunning ?? ((_, ids) => ids.forEach((id) => this.pool.cancel(id)));
    this.registry = options.registry;
    this.clock = options.clock ?? systemClock;
    this.events = options.events ?? new EventBus();
  }

  /** Builds an engine and picks up where the last instance on this store stopped. */
  static async start(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    await engine.recover();
    return engine;
  }

  private async recover(): Promise<void> {
    const { runs, chunks } = await this.store.active();
    const byRun = new Map<string, ChunkRecord[]>();
    for (const chunk of chunks) {
      const list = byRun.get(chunk.runId);
      if (list) list.push(chunk);
      else byRun.set(chunk.runId, [chunk]);
    }
    for (const record of runs.sort((a, b) => a.createdAt - b.createdAt)) {
      const run = new ActiveRun(record);
      const own = byRun.get(record.id) ?? [];
      run.index(own);
      this.runs.set(record.id, run);
      for (const chunk of own) this.runOfChunk.set(chunk.id, run);
      if (record.status === "waiting" || (record.status === "running" && own.length === 0)) {
        if (record.status !== "waiting") this.patchRun(run, { status: "waiting" });
        continue;
      }
      // Chunks left running were interrupted by a stop or a kill: queue them again.
      // With a shared store they may be running on another copy: its heartbeats say.
      if (this.queue) this.patchChunks(run, own.filter((c) => c.state === "running").map((c) => [c.id, T.interrupted()]));
      for (const chunk of run.chunks.values()) this.schedule(run, chunk);
      if (run.unfinished === 0) await this.finishRun(run);
    }
    await this.store.commit();
    this.startWaiting();
    this.dispatch();
  }

  /** Hot reload: new specs for new work; chunks held for a broken job are released when it loads again. */
  setRegistry(registry: Registry): void {
    this.registry = registry;
    for (const id of this.held) this.enqueue(id);
    this.held.clear();
    this.dispatch();
  }

  /** Whether this engine runs chunks on its own pool (false: a shared store's copies do). */
  get executesLocally(): boolean {
    return this.queue !== null;
  }

  get currentRegistry(): Registry {
    return this.registry;
  }

  get activeRuns(): readonly ActiveRun[] {
    return [...this.runs.values()];
  }

  async trigger(request: TriggerRequest): Promise<RunRecord> {
    if (!this.accepting) throw new StauError("stopping", "stau is shutting down and takes no new runs");
    if (!this.registry.jobs.has(request.job) && !this.registry.broken.has(request.job)) {
      throw new UsageError(`unknown job ${JSON.stringify(request.job)}`, `jobs are the files in jobs/: ${[...this.registry.jobs.keys()].join(", ") || "none yet"}`);
    }
    const now = this.clock.now();
    const record: RunRecord = {
      id: newRunId(now),
      job: request.job,
      kwargs: request.kwargs ?? {},
      requestedWorkIds: request.workIds ?? null,
      workIds: null,
      status: "waiting",
      trigger: request.source,
      scheduleEntry: request.scheduleEntry ?? null,
      scheduleTick: request.scheduleTick ?? null,
      origin: request.origin ?? null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      gitCommit: (await this.options.gitCommit?.()) ?? null,
      error: null,
    };
    this.store.insertRun(record, []);
    this.runs.set(record.id, new ActiveRun(record));
    this.events.emit("run:queued", { run: record });
    this.startWaiting();
    // Resolution goes ahead while the run's record is on its way to disk; the caller
    // hears back once it is there.
    await this.store.commit();
    return record;
  }

  /** Resolves when the run has finished and its end is durable. */
  waitForRun(id: string): Promise<ArchivedRun> {
    return new Promise((resolve, reject) => {
      if (!this.runs.has(id)) {
        void this.store.getRun(id).then((run) => (run ? resolve(run) : reject(new UsageError(`no run ${id}`))));
        return;
      }
      this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]);
    });
  }

  /** Stops a run: chunks not started are cancelled, running ones are stopped. */
  async cancel(runId: string): Promise<boolean> {
    const run = this.runs.get(runId);
    if (!run) return false;
    run.cancelRequested = true;
    const now = this.clock.now();
    const patches: [string, ChunkPatch][] = [];
    const running: string[] = [];
    for (const chunk of run.chunks.values()) {
      if (chunk.state === "running") running.push(chunk.id);
      else if (!T.isFinished(chunk.state)) patches.push([chunk.id, T.cancel(now)]);
    }
    // With a shared store a chunk may run on some copy while this engine still sees it
    // pending (claims are not reported): every copy is told, whatever the engine sees.
    if (running.length || !this.queue) this.stopRunning(runId, running);
    this.patchChunks(run, patches);
    if (run.unfinished === 0 && !run.resolving) await this.finishRun(run);
    return true;
  }

  /** Runs a finished run's failed, upstream_failed and cancelled chunks again, in the same run. */
  async retry(runId: string): Promise<RunRecord | null> {
    if (this.runs.has(runId)) throw new UsageError(`run ${runId} has not finished yet`, "retry it when it has ended, or cancel it first");
    const archived = await this.store.reviveRun(runId);
    if (!archived) return null;
    const run = new ActiveRun(archived.run);
    this.runs.set(runId, run);
    run.index(archived.chunks);
    for (const chunk of archived.chunks) this.runOfChunk.set(chunk.id, run);
    const again = archived.chunks.filter((c) => c.state === "failed" || c.state === "upstream_failed" || c.state === "cancelled");
    this.patchRun(run, { status: "running", finishedAt: null, error: null });
    this.patchChunks(run, again.map((c) => [c.id, T.requeue(c)]));
    for (const chunk of again) this.schedule(run, run.chunks.get(chunk.id)!);
    this.events.emit("run:started", { run: run.run, chunks: again.length });
    if (run.unfinished === 0) await this.finishRun(run);
    this.dispatch();
    return run.run;
  }

  /** A new run with the same job, kwargs and work IDs as an earlier one. */
  async rerun(runId: string): Promise<RunRecord | null> {
    const old = this.runs.get(runId)?.run ?? (await this.store.getRun(runId))?.run;
    if (!old) return null;
    return this.trigger({ job: old.job, kwargs: old.kwargs, workIds: old.workIds ?? old.requestedWorkIds, source: "rerun", origin: old.id });
  }

  // --- resolution -------------------------------------------------------------

  /** Starts waiting runs whose dependencies are not busy in other runs, one at a time. */
  private startWaiting(): void {
    this.resolving = this.resolving.then(() => this.startWaitingNow()).catch((error) => this.events.emit("warning", { message: `resolving runs failed: ${errorMessage(error)}` }));
  }

  private async startWaitingNow(): Promise<void> {
    for (const run of this.runs.values()) {
      if (run.run.status !== "waiting" || !this.accepting) continue;
      if (run.cancelRequested) continue;
      const blockers = this.blockers(run);
      if (blockers.length > 0) {
        this.reportWait(run, blockers);
        continue;
      }
      if (run.waitTimer) clearTimeout(run.waitTimer);
      await this.resolveRun(run);
    }
  }

  private reportWait(run: ActiveRun, blockers: string[]): void {
    if (run.reportedWait?.join() === blockers.join()) return;
    run.reportedWait = blockers;
    this.events.emit("run:waiting", { run: run.run, on: blockers });
    const warnAfter = this.options.waitWarningMs ?? 5 * 60_000;
    run.waitTimer ??= setTimeout(() => {
      if (run.run.status === "waiting") {
        this.events.emit("warning", { message: `run ${run.run.id} of ${run.run.job} has waited ${Math.round(warnAfter / 1000)}s for ${run.reportedWait?.join(", ")}` });
      }
    }, warnAfter);
    run.waitTimer.unref();
  }

  /** Runs (other than `run`) with unfinished chunks of jobs in `run`'s graph, below its own job. */
  private blockers(run: ActiveRun): string[] {
    let upstream: Set<string>;
    try {
      upstream = upstreamJobs(this.registry.jobs, run.run.job);
    } catch {
      return []; // resolution reports the problem
    }
    const blocking: string[] = [];
    for (const other of this.runs.values()) {
      if (other === run || other.run.status !== "running") continue;
      for (const job of other.busyJobs()) if (upstream.has(job)) blocking.push(`${other.run.id} (${job})`);
    }
    return blocking;
  }

  private async resolveRun(run: ActiveRun): Promise<void> {
    const { id, job, kwargs } = run.run;
    run.resolving = true;
    try {
      const spec = this.registry.jobs.get(job);
      if (!spec) throw new StauError("load", brokenMessage(this.registry, job));
      const workIds = run.run.requestedWorkIds ?? (spec.hasSelectWork ? await this.pool.selectWork(spec, kwargs) : null);
      const now = this.clock.now();
      const plan = resolvePlan(this.registry, { job, kwargs, workIds, now, freshness: this.store.freshness() });
      const chunks: ChunkRecord[] = plan.chunks.map((c) => ({
        id: `${id}.${c.id}`,
        runId: id,
        job: c.job,
        kwargs: c.kwargs,
        kwargsKey: kwargsKey(c.kwargs),
        workIds: c.workIds,
        dependsOn: c.dependsOn.map((d) => `${id}.${d}`),
        state: c.dependsOn.length > 0 ? "queued" : "pending",
        attempts: 0,
        error: null,
        startedAt: null,
        finishedAt: null,
        notBefore: null,
        owner: null,
        token: null,
      }));
      this.store.addChunks(chunks);
      this.patchRun(run, { status: "running", workIds, startedAt: now });
      this.adopt(run, chunks);
      this.commitInBackground();
      this.events.emit("run:started", { run: run.run, chunks: chunks.length });
    } catch (error) {
      this.failResolution(run, error);
    } finally {
      run.resolving = false;
    }
    this.dispatch();
    if (run.unfinished === 0 || run.cancelRequested) await this.cancelOrFinish(run);
  }

  private async cancelOrFinish(run: ActiveRun): Promise<void> {
    if (run.cancelRequested && run.unfinished > 0) await this.cancel(run.run.id);
    else if (run.unfinished === 0) await this.finishRun(run);
  }

  /**
   * A run that cannot be resolved (broken job file, cycle, failing selectWork) fails
   * with one chunk of its job carrying the reason, so every consumer of chunks sees it.
   */
  private failResolution(run: ActiveRun, error: unknown): void {
    const now = this.clock.now();
    const chunk: ChunkRecord = {
      id: `${run.run.id}.${run.run.job}.0`,
      runId: run.run.id,
      job: run.run.job,
      kwargs: run.run.kwargs,
      kwargsKey: kwargsKey(run.run.kwargs),
      workIds: run.run.requestedWorkIds ?? [],
      dependsOn: [],
      state: "failed",
      attempts: 0,
      error: { kind: "load", message: errorMessage(error), stack: null },
      startedAt: null,
      finishedAt: now,
      notBefore: null,
      owner: null,
      token: null,
    };
    this.store.addChunks([chunk]);
    this.patchRun(run, { status: "running", startedAt: now, error: errorMessage(error) });
    this.adopt(run, [chunk]);
    this.events.emit("chunk:failed", { chunk, error: chunk.error!, willRetry: false, durationMs: 0 });
  }

  private adopt(run: ActiveRun, chunks: readonly ChunkRecord[]): void {
    run.index(chunks);
    for (const chunk of chunks) {
      this.runOfChunk.set(chunk.id, run);
      if (chunk.state === "pending") this.enqueue(chunk.id);
    }
  }

  /** A pending chunk waits for this pool; with a shared store its state is the queue. */
  private enqueue(id: string): void {
    if (this.queue) this.pending.push(id);
  }

  // --- execution --------------------------------------------------------------

  /** Puts an unfinished chunk where it belongs: the pending queue or a retry timer. */
  private schedule(run: ActiveRun, chunk: ChunkRecord): void {
    if (chunk.state === "pending") {
      this.enqueue(chunk.id);
    } else if (chunk.state === "queued" && run.waitingOn.get(chunk.id) === 0) {
      // While draining no retry is armed: the chunk stays queued for the next start.
      if (!this.accepting) return;
      const delay = Math.max(0, (chunk.notBefore ?? 0) - this.clock.now());
      const timer = setTimeout(() => {
        this.retryTimers.delete(chunk.id);
        const current = run.chunks.get(chunk.id);
        if (current?.state !== "queued" || run.cancelRequested) return;
        this.patchChunks(run, [[chunk.id, T.release()]]);
        this.enqueue(chunk.id);
        this.dispatch();
        // A shared store's workers hear of it once it is written.
        if (!this.queue) this.commitInBackground();
      }, delay);
      this.retryTimers.set(chunk.id, timer);
    }
  }

  /** Claims pending chunks for free workers and starts them. */
  private dispatch(): void {
    if (!this.queue || this.interrupting || !this.accepting) return;
    const free = this.pool.size - this.pool.busy;
    if (free <= 0) return;
    const ids: string[] = [];
    while (ids.length < free && this.pendingHead < this.pending.length) {
      const id = this.pending[this.pendingHead++]!;
      const chunk = this.runOfChunk.get(id)?.chunks.get(id);
      if (chunk?.state !== "pending") continue;
      // A broken job's chunks are held until its file is fixed (hot reload).
      if (!this.registry.jobs.has(chunk.job)) {
        this.held.add(id);
        continue;
      }
      ids.push(id);
    }
    if (this.pendingHead > 4096 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    if (ids.length === 0) return;
    for (const chunk of this.queue.claimChunks(ids, this.options.instance.id, this.clock.now())) {
      const run = this.runOfChunk.get(chunk.id)!;
      run.chunks.set(chunk.id, chunk);
      const task = this.execute(run, chunk).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
    }
  }

  private async execute(run: ActiveRun, claimed: ChunkRecord): Promise<void> {
    const spec = this.registry.jobs.get(claimed.job)!;
    const running = this.pool.runChunk(spec, { runId: claimed.runId, chunkId: claimed.id, attempt: claimed.attempts, workIds: claimed.workIds, kwargs: claimed.kwargs });
    const chunk = { ...claimed, worker: this.pool.slotOf(claimed.id) };
    run.chunks.set(chunk.id, chunk);
    this.events.emit("chunk:started", { chunk });
    const outcome = await running;
    try {
      const done = this.settle(run, chunk, outcome);
      // The worker is free now: independent work need not wait for this result's fsync.
      this.dispatch();
      if (done) {
        // Nothing builds on a result, and nobody hears of it, before it is durable.
        await this.store.commit();
        this.events.emit("chunk:done", { chunk: done, durationMs: (done.finishedAt ?? 0) - (chunk.startedAt ?? 0) });
        this.releaseDependents(run, chunk.id);
      }
      if (run.unfinished === 0) await this.finishRun(run);
    } catch (error) {
      this.events.emit("warning", { message: `recording the end of chunk ${chunk.id} failed: ${errorMessage(error)}` });
    }
    this.dispatch();
  }

  /** Records how a chunk attempt ended; the done record when it succeeded (its dependents may follow). */
  private settle(run: ActiveRun, chunk: ChunkRecord, outcome: ChunkOutcome): ChunkRecord | null {
    const queue = this.queue!;
    const now = this.clock.now();
    const durationMs = now - (chunk.startedAt ?? now);
    const token = chunk.token!;
    if (!outcome.ok && this.interrupting) {
      // Stopped by shutdown, not by its own fault: it runs again on the next start.
      if (queue.completeChunk(chunk.id, token, T.interrupted(), null)) run.update(chunk.id, T.interrupted());
      return null;
    }
    const spec = this.registry.jobs.get(chunk.job) ?? { retries: 0, retryDelayMs: 0 };
    const result = T.settleAttempt(chunk, spec, outcome, run.cancelRequested, now);
    if (!queue.completeChunk(chunk.id, token, result.patch, result.success)) return null;
    const settled = run.update(chunk.id, { ...result.patch, owner: null, token: null, worker: null });
    if (settled.state === "done") return settled;
    this.events.emit("chunk:failed", { chunk: settled, error: result.error!, willRetry: settled.state === "queued", durationMs });
    if (settled.state === "queued") this.schedule(run, settled);
    else this.failDownstream(run, chunk.id, now);
    return null;
  }

  /** A chunk finally failed: everything below it in its run will never run. */
  private failDownstream(run: ActiveRun, failedId: string, now: number): void {
    this.patchChunks(run, run.downstream(failedId).filter((id) => !T.isFinished(run.chunks.get(id)!.state)).map((id) => [id, T.upstreamFailed(failedId, now)]));
  }

  /**
   * With a shared store: what the copies' chunk workers did to this engine's chunks
   * (finished them, or gave them back to pending: a stopping copy, a silent one), as
   * the store reports it. Each change is applied once; a change already known is skipped.
   */
  async observe(changes: readonly ChunkRecord[]): Promise<void> {
    const now = this.clock.now();
    const touched = new Set<ActiveRun>();
    for (const after of changes) {
      const run = this.runOfChunk.get(after.id);
      const before = run?.chunks.get(after.id);
      if (!run || !before || before.state === after.state) {
        if (run && before) run.update(after.id, after);
        continue;
      }
      const chunk = run.update(after.id, after);
      touched.add(run);
      const durationMs = (chunk.finishedAt ?? now) - (chunk.startedAt ?? now);
      switch (chunk.state) {
        case "done":
          this.events.emit("chunk:done", { chunk, durationMs });
          this.releaseDependents(run, chunk.id);
          break;
        case "queued":
          // Failed with retries left: it goes back after its backoff.
          this.events.emit("chunk:failed", { chunk, error: chunk.error!, willRetry: true, durationMs });
          this.schedule(run, chunk);
          break;
        case "failed":
        case "cancelled":
          this.events.emit("chunk:failed", { chunk, error: chunk.error!, willRetry: false, durationMs });
          this.failDownstream(run, chunk.id, now);
          break;
      }
    }
    for (const run of touched) if (run.cancelRequested && run.unfinished > 0) await this.cancel(run.run.id);
    await this.store.commit();
    for (const run of touched) if (run.unfinished === 0 && !run.resolving) await this.finishRun(run);
  }

  private releaseDependents(run: ActiveRun, doneId: string): void {
    const released: [string, ChunkPatch][] = [];
    for (const id of run.dependents.get(doneId) ?? []) {
      const left = run.waitingOn.get(id)! - 1;
      run.waitingOn.set(id, left);
      if (left === 0 && run.chunks.get(id)!.state === "queued" && !run.cancelRequested) released.push([id, T.release()]);
    }
    this.patchChunks(run, released);
    for (const [id] of released) this.enqueue(id);
  }

  private async finishRun(run: ActiveRun): Promise<void> {
    if (!this.runs.has(run.run.id)) return;
    this.runs.delete(run.run.id);
    const status = T.finalStatus([...run.chunks.values()].map((c) => c.state), run.cancelRequested);
    this.patchRun(run, { status, finishedAt: this.clock.now() });
    this.store.archiveRun(run.run.id);
    await this.store.commit();
    for (const id of run.chunks.keys()) this.runOfChunk.delete(id);
    this.events.emit("run:finished", { run: run.run });
    const archived: ArchivedRun = { run: run.run, chunks: [...run.chunks.values()] };
    for (const resolve of this.waiters.get(run.run.id) ?? []) resolve(archived);
    this.waiters.delete(run.run.id);
    this.startWaiting();
  }

  private patchRun(run: ActiveRun, patch: Partial<RunRecord>): void {
    this.store.patchRun(run.run.id, patch);
    run.run = { ...run.run, ...patch };
  }

  private patchChunks(run: ActiveRun, patches: [string, ChunkPatch][]): void {
    if (patches.length === 0) return;
    const ops: ChunkPatchOp[] = patches.map(([id, patch]) => [id, patch, run.chunks.get(id)!.state]);
    this.store.patchChunks(ops);
    for (const [id, patch] of patches) run.update(id, patch);
  }

  private commitInBackground(): void {
    this.store.commit().catch((error) => this.events.emit("warning", { message: `writing the store failed: ${errorMessage(error)}` }));
  }

  // --- shutdown ---------------------------------------------------------------

  /**
   * Stops taking work and lets running chunks finish for up to `timeoutMs`; past it
   * they are aborted and stay queued for the next start. Resolves when all is durable.
   */
  async drain(timeoutMs: number): Promise<{ aborted: number }> {
    this.accepting = false;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    let aborted = 0;
    const settled = Promise.all([...this.inFlight]).then(() => true);
    const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
    if (!(await Promise.race([settled, timedOut]))) {
      aborted = this.pool.busy;
      this.interrupting = true;
      this.pool.abortAll("stau is shutting down; the chunk runs again on the next start");
      await Promise.all([...this.inFlight]);
    }
    await this.resolving;
    await this.store.commit();
    return { aborted };
  }
}

function resolvePlan(registry: Registry, input: Omit<Parameters<typeof resolve>[0], "jobs">) {
  try {
    return resolve({ ...input, jobs: registry.jobs });
  } catch (error) {
    // A dependency that is a file but failed to load reads better than "unknown".
    if (error instanceof UnknownJobError && registry.broken.has(error.dependency)) {
      throw new StauError("load", brokenMessage(registry, error.dependency));
    }
    throw error;
  }
}

function brokenMessage(registry: Registry, job: string): string {
  const problems = registry.broken.get(job) ?? [];
  return `job ${job} cannot be loaded: ${problems.map(formatProblem).join("; ") || "unknown reason"}`;
}

/** Sortable by creation time, unique within a store: r<base36 time><random>. */
function newRunId(now: number): string {
  return `r${now.toString(36)}${randomBytes(2).toString("hex")}`;
}
