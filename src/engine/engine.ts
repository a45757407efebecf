import type { JobSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { type TimerClock, systemClock } from "../clock.js";
import { StauError, UsageError, errorMessage } from "../errors.js";
import type { EventBus } from "../events.js";
import { jobProblem, type Registry } from "../jobs/load.js";
import type { ScheduleMark } from "../schedule/ticks.js";
import { newRunId, type ArchivedRun, type ChunkRecord, type RunRecord, type Success, type TriggerSource } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { ActiveRun } from "./active-run.js";
import { blockers } from "./admission.js";
import type { GitState } from "./git.js";
import { outcomeOf } from "./outcomes.js";
import { brokenMessage, failedResolution, resolveChunks } from "./resolution.js";
import { RunBook } from "./run-book.js";
import { Timers } from "./timers.js";
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
  readonly registry: Registry;
  readonly events: EventBus;
  /** Runs a job's selectWork (job code: in a worker thread). */
  readonly selectWork: (spec: JobSpec, kwargs: Kwargs) => Promise<WorkId[]>;
  readonly clock?: TimerClock;
  /** Git commit of the jobs folder and whether it had uncommitted changes, recorded on every run. */
  readonly git?: () => Promise<GitState>;
  /** A run waiting longer than this on other runs is reported as a warning. */
  readonly waitWarningMs?: number;
  /** The current code hash of each job `root` reaches (jobs/code-hash.ts), for codeAware freshness; absent: none recorded. */
  readonly codeHashes?: (jobs: ReadonlyMap<string, JobSpec>, root: string) => ReadonlyMap<string, string>;
  /** Take up the runs the store holds (false: only runs this engine creates, as `stau run` on the embedded store). */
  readonly adopt?: boolean;
}

/**
 * The orchestrator: turns triggers into runs, resolves them into chunks, releases
 * chunks whose dependencies are done, retries, cascades failures and finishes runs. It
 * never runs a chunk: executors claim them from the store's work queue, and the engine
 * learns what became of them through observe(), the same way whatever the store.
 */
export class Engine {
  private registry: Registry;
  private readonly store: Store;
  private readonly clock: TimerClock;
  private readonly book: RunBook;
  private readonly timers: Timers;
  private resolving: Promise<void> = Promise.resolve();
  private accepting = true;
  /** Runs an operator retry is bringing back from history (so a second retry is refused meanwhile). */
  private readonly reviving = new Set<string>();

  private constructor(private readonly options: EngineOptions) {
    this.store = options.store;
    this.registry = options.registry;
    this.clock = options.clock ?? systemClock;
    this.book = new RunBook(options.store, options.events);
    this.timers = new Timers(this.clock);
  }

  /** Builds an engine and picks up where the last orchestrator on this store stopped. */
  static async start(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    await engine.recover();
    return engine;
  }

  /**
   * Indexes the active runs and derives again what their chunks' states ask for: a
   * change taken but not acted on before a stop or a crash is acted on now.
   */
  private async recover(): Promise<void> {
    if (this.options.adopt === false) return;
    const { runs, chunks } = await this.store.active();
    const byRun = new Map<string, ChunkRecord[]>();
    for (const chunk of chunks) {
      const list = byRun.get(chunk.runId);
      if (list) list.push(chunk);
      else byRun.set(chunk.runId, [chunk]);
    }
    const adopted: ActiveRun[] = [];
    for (const record of runs.sort((a, b) => a.createdAt - b.createdAt)) {
      const own = byRun.get(record.id) ?? [];
      const run = this.book.adopt(record, own);
      // A run stopped while being resolved is resolved again.
      if (record.status === "running" && own.length === 0) this.book.patchRun(run, { status: "waiting" });
      if (run.run.status === "waiting") continue;
      adopted.push(run);
      const freshness = this.store.freshness();
      this.book.earn(own.flatMap((c) => T.earned(c) ?? []).filter((s) => !recorded(freshness, s)));
      for (const chunk of own) if (T.blocksDependents(chunk.state)) this.cascade(run, chunk.id);
      // A cancelled run's chunks that came back to pending or queued do not run again.
      if (run.cancelRequested) this.cancelWaiting(run);
      else this.releaseReady(run, run.releasable());
    }
    await this.commit();
    for (const run of adopted) await this.finishIfDone(run);
    this.startWaiting();
  }

  /** Hot reload: new specs for new work. */
  setRegistry(registry: Registry): void {
    this.registry = registry;
  }

  get currentRegistry(): Registry {
    return this.registry;
  }

  get activeRuns(): readonly ActiveRun[] {
    return this.book.all();
  }

  async trigger(request: TriggerRequest): Promise<RunRecord> {
    // The code the run will run, looked up first: nothing below may change while it is awaited.
    const git = await this.options.git?.();
    if (!this.accepting) throw new StauError("stopping", "stau is shutting down and takes no new runs");
    // The answer must be the truth: a run the store cannot record is not taken.
    const problem = this.store.problem();
    if (problem) throw new StauError("store_unwritable", `no run was created: ${problem}`, { hint: "free space (or fix the store) and trigger again; stau resumes by itself", exitCode: 1 });
    // A broken job's run is created and fails with its load error; an unknown name, or one two files share, is refused.
    const jobIssue = jobProblem(this.registry, request.job);
    if (jobIssue && jobIssue.kind !== "broken") throw jobIssue;
    const now = this.clock.now();
    const run = this.book.open({
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
      gitCommit: git?.commit ?? null,
      gitDirty: git?.dirty ?? null,
      error: null,
    });
    // Resolution goes ahead while the run's record is on its way to disk; the caller
    // hears back once it is there.
    this.startWaiting();
    await this.commit();
    return run.run;
  }

  /** Resolves when the run has finished and its end is durable. */
  async waitForRun(id: string): Promise<ArchivedRun> {
    const finished = this.book.waitFor(id) ?? this.store.getRun(id);
    const run = await finished;
    if (!run) throw new UsageError(`no run ${id}`);
    return run;
  }

  /** Stops a run: chunks not started are cancelled, executors stop the running ones. */
  async cancel(runId: string): Promise<boolean> {
    const run = this.book.get(runId);
    if (!run) return false;
    this.book.patchRun(run, { cancelRequested: true });
    this.cancelWaiting(run);
    // Executors learn of the cancel once it is durable (they also poll for it).
    await this.commit();
    await this.store.queue.requestCancel(runId);
    await this.finishIfDone(run);
    return true;
  }

  /** Runs a finished run's failed, upstream_failed and cancelled chunks again, in the same run. */
  async retry(runId: string): Promise<RunRecord | null> {
    if (this.book.get(runId) || this.reviving.has(runId)) throw new UsageError(`run ${runId} has not finished yet`, "retry it when it has ended, or cancel it first");
    let archived: ArchivedRun | null;
    this.reviving.add(runId);
    try {
      // A run with nothing that failed is not reopened: the operator hears there is nothing to retry.
      const finished = await this.store.getRun(runId);
      if (!finished) return null;
      if (!finished.chunks.some((c) => T.retriable(c.state))) {
        throw new StauError("nothing_to_retry", `run ${runId} of ${finished.run.job} ended ${finished.run.status} with no failed, upstream_failed or cancelled chunk: there is nothing to retry`, {
          hint: `stau rerun ${runId} starts a new run with the same job, kwargs and work IDs`,
          exitCode: 1,
        });
      }
      archived = await this.store.reviveRun(runId);
    } finally {
      this.reviving.delete(runId);
    }
    if (!archived) return null;
    const again = archived.chunks.filter((c) => T.retriable(c.state));
    const run = this.book.reopen(archived, { status: "running", finishedAt: null, error: null, cancelRequested: false }, again, T.requeue);
    this.releaseReady(run, run.releasable());
    await this.commit();
    await this.finishIfDone(run);
    return run.run;
  }

  /** A new run with the same job, kwargs and work IDs as an earlier one. */
  async rerun(runId: string): Promise<RunRecord | null> {
    const old = this.book.get(runId)?.run ?? (await this.store.getRun(runId))?.run;
    if (!old) return null;
    return this.trigger({ job: old.job, kwargs: old.kwargs, workIds: old.workIds ?? old.requestedWorkIds, source: "rerun", origin: old.id });
  }

  /**
   * What executors did to chunks (finished them, or gave them back), as the work queue
   * reports it: the index follows, and each change's consequences are written once.
   */
  async observe(changes: readonly ChunkRecord[]): Promise<void> {
    const touched = new Set<ActiveRun>();
    const earned: Success[] = [];
    for (const chunk of changes) {
      const run = this.book.get(chunk.runId);
      if (!run) continue;
      const before = run.chunks.get(chunk.id)?.state;
      this.book.observe(chunk);
      touched.add(run);
      if (before === chunk.state) continue;
      const outcome = outcomeOf(chunk);
      if (outcome.kind === "done") {
        earned.push(outcome.success);
        if (!run.cancelRequested) this.releaseReady(run, run.releasable(chunk.id));
      } else if (outcome.kind === "retry") {
        this.releaseReady(run, [chunk.id]);
      } else if (outcome.kind === "blocked") {
        this.cascade(run, chunk.id);
      }
    }
    // A cancelled run's chunks that came back (a retry, an interrupted attempt) do not run again.
    for (const run of touched) if (run.cancelRequested) this.cancelWaiting(run);
    this.book.earn(earned);
    // A run these results ended is finished in the same commit (one durable write less),
    // unless a guarded patch of it may yet find a chunk moved on.
    for (const run of touched) if (!this.book.unconfirmed(run)) this.finishNow(run);
    await this.commit();
    for (const run of touched) await this.finishIfDone(run);
    // A waiting run may wait for exactly the chunks that just finished.
    if (touched.size > 0 && this.book.all().some((r) => r.run.status === "waiting")) this.startWaiting();
  }

  /** Records what a schedule entry last did (durable when it resolves). */
  async markSchedule(entryId: string, mark: ScheduleMark): Promise<void> {
    this.book.mark(entryId, mark);
    await this.commit();
  }

  /** Chunks the queue released from instances that are gone: announced, then acted on like any change. */
  async released(chunks: readonly ChunkRecord[], reason: (chunk: ChunkRecord) => string): Promise<void> {
    this.book.released(chunks, reason);
    await this.observe(chunks);
  }

  // --- resolution -------------------------------------------------------------

  /** Starts waiting runs whose dependencies are not busy in other runs, one at a time. */
  private startWaiting(): void {
    this.resolving = this.resolving.then(() => this.startWaitingNow()).catch((error) => this.warn(`resolving runs failed: ${errorMessage(error)}`));
  }

  private async startWaitingNow(): Promise<void> {
    for (const run of this.book.all()) {
      if (run.run.status !== "waiting" || !this.accepting || run.resolving) continue;
      if (run.cancelRequested) {
        await this.finishIfDone(run);
        continue;
      }
      const on = blockers(this.registry.jobs, run, this.book.all());
      if (on.length > 0) {
        this.reportWait(run, on);
        continue;
      }
      this.timers.cancel(`wait:${run.run.id}`);
      await this.resolveRun(run);
    }
  }

  private reportWait(run: ActiveRun, on: string[]): void {
    if (run.reportedWait?.join() === on.join()) return;
    const first = run.reportedWait === null;
    run.reportedWait = on;
    this.book.waiting(run, on);
    if (!first) return;
    const warnAfter = this.options.waitWarningMs ?? 5 * 60_000;
    this.timers.at(`wait:${run.run.id}`, this.clock.now() + warnAfter, () => {
      if (run.run.status === "waiting") this.warn(`run ${run.run.id} of ${run.run.job} has waited ${Math.round(warnAfter / 1000)}s for ${run.reportedWait?.join(", ")}`);
    });
  }

  private async resolveRun(run: ActiveRun): Promise<void> {
    const { job, kwargs } = run.run;
    run.resolving = true;
    try {
      const spec = this.registry.jobs.get(job);
      if (!spec) throw new StauError("load", brokenMessage(this.registry, job));
      const workIds = run.run.requestedWorkIds ?? (spec.hasSelectWork ? await this.options.selectWork(spec, kwargs) : null);
      const now = this.clock.now();
      const codeHashes = this.options.codeHashes?.(this.registry.jobs, job);
      this.book.start(run, resolveChunks(this.registry, run.run, workIds, this.store.freshness(), now, codeHashes), { status: "running", workIds, startedAt: now });
    } catch (error) {
      const now = this.clock.now();
      this.book.start(run, [failedResolution(run.run, error, now)], { status: "running", startedAt: now, error: errorMessage(error) });
    } finally {
      run.resolving = false;
    }
    await this.commit();
    if (run.cancelRequested && run.unfinished > 0) await this.cancel(run.run.id);
    else await this.finishIfDone(run);
  }

  // --- consequences -----------------------------------------------------------

  /** Queued chunks whose dependencies are done go to pending now, or when their retry's backoff is over. */
  private releaseReady(run: ActiveRun, ids: readonly string[]): void {
    const now = this.clock.now();
    const release: string[] = [];
    for (const id of ids) {
      const notBefore = run.chunks.get(id)?.notBefore ?? 0;
      if (notBefore <= now) release.push(id);
      // While stopping no retry is armed: the chunk stays queued for the next start.
      else if (this.accepting) this.timers.at(id, notBefore, () => void this.releaseLater(run, id));
    }
    this.book.release(run, release, T.release());
  }

  private async releaseLater(run: ActiveRun, id: string): Promise<void> {
    // While stopping no retry is released: the chunk stays queued for the next start.
    if (!this.accepting || run.cancelRequested || this.book.get(run.run.id) !== run || run.chunks.get(id)?.state !== "queued") return;
    this.book.release(run, [id], T.release());
    await this.commit().catch((error) => this.warn(`writing the store failed: ${errorMessage(error)}`));
  }

  /** Chunks of a cancelled run that have not started are cancelled. */
  private cancelWaiting(run: ActiveRun): void {
    const waiting = [...run.chunks.values()].filter((c) => c.state === "queued" || c.state === "pending").map((c) => c.id);
    for (const id of waiting) this.timers.cancel(id);
    this.book.cancelled(run, waiting, T.cancel(this.clock.now()));
  }

  /** A chunk finally failed: everything below it in its run will never run. */
  private cascade(run: ActiveRun, failedId: string): void {
    this.book.upstreamFailed(run, run.downstream(failedId), T.upstreamFailed(failedId, this.clock.now()));
  }

  private async finishIfDone(run: ActiveRun): Promise<void> {
    if (!this.finishNow(run)) return;
    await this.commit();
    this.startWaiting();
  }

  /** Writes the end of a run whose chunks have all ended (durable at the next commit); false while it has not. */
  private finishNow(run: ActiveRun): boolean {
    if (run.unfinished > 0 || run.resolving || this.book.get(run.run.id) !== run) return false;
    const status = T.finalStatus([...run.chunks.values()].map((c) => c.state), run.cancelRequested);
    this.book.finish(run, { status, finishedAt: this.clock.now() });
    this.timers.cancel(`wait:${run.run.id}`);
    return true;
  }

  /** Makes what the run book wrote durable; chunks that had moved on meanwhile are acted on as changes. */
  private async commit(): Promise<void> {
    const moved = await this.book.commit();
    if (moved.length > 0) await this.observe(moved);
  }

  private warn(message: string): void {
    this.options.events.emit("warning", { message });
  }

  /** No more triggers, resolutions or released retries; results are still applied. */
  stopTaking(): void {
    this.accepting = false;
    this.timers.clear();
  }

  /** Stops; resolves when what it wrote is durable. */
  async stop(): Promise<void> {
    this.stopTaking();
    await this.resolving;
    await this.commit();
  }
}

/** Whether the freshness store already holds a success (a restart need not record it again). */
function recorded(freshness: ReturnType<Store["freshness"]>, success: Success): boolean {
  if ((freshness.lastSuccess(success.job, success.kwargsKey, null) ?? 0) < success.at) return false;
  return success.workIds.every((id) => (freshness.lastSuccess(success.job, success.kwargsKey, id) ?? 0) >= success.at);
}
