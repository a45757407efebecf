import { dirname } from "node:path";
import { systemClock } from "../clock.js";
import type { ControlRequest } from "../control/protocol.js";
import { Engine } from "../engine/engine.js";
import { codeHashes } from "../jobs/code-hash.js";
import { GitWatch } from "../engine/git-watch.js";
import * as T from "../engine/transitions.js";
import { errorMessage } from "../errors.js";
import type { EventBus } from "../events.js";
import type { ExecPool } from "../exec/pool.js";
import type { Registry } from "../jobs/load.js";
import { FileTriggers } from "../schedule/file-trigger.js";
import { Scheduler } from "../schedule/scheduler.js";
import type { InstanceInfo } from "../store/records.js";
import { SILENT_INSTANCE_MS, type Store } from "../store/store.js";
import { handleOrder } from "./orders.js";
import { scheduleHost } from "./schedule-host.js";

/** How often the orchestrator looks for changes and silent instances without being notified. */
const POLL_MS = 500;
const RELEASE_MS = 1_000;

/** How often retention looks for runs to prune. */
const RETAIN_EVERY_MS = 3_600_000;

export interface OrchestratorOptions {
  readonly store: Store;
  readonly pool: ExecPool;
  readonly registry: Registry;
  readonly instance: InstanceInfo;
  readonly events: EventBus;
  readonly jobsDir: string;
  /** Retention (stau.config.ts): finished runs older than this are pruned, now and every hour; null keeps them. */
  readonly retentionMs?: number | null;
  /** Fire the schedule (not in `stau run` on the embedded store). */
  readonly schedule: boolean;
  /** Touch only the runs it creates: no taking up runs left by others, no releasing their chunks. */
  readonly ownRunsOnly: boolean;
  /** What `stau status` says of the instances. */
  readonly describe: () => Promise<Record<string, unknown>>;
  /** The orchestrator cannot go on (its view and the store may have parted): its owner stops it. */
  readonly failed: (reason: string) => void;
}

/**
 * The work of the one instance that holds the right to orchestrate, for as long as it
 * holds it: the engine, fed the changes executors made; the scheduler; orders; and
 * giving back the chunks of instances that are gone.
 */
export class Orchestrator {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unlisten: (() => void)[] = [];
  private stopServing: (() => Promise<void>) | null = null;
  private pulling: Promise<void> | null = null;
  private pullAgain = false;
  private stopped = false;
  private readonly startedAt = Date.now();

  private constructor(
    private readonly options: OrchestratorOptions,
    readonly engine: Engine,
    readonly scheduler: Scheduler,
    /** The schedule's onFiles entries: fired by arrivals rather than by the clock. */
    readonly files: FileTriggers,
    private readonly git: GitWatch,
  ) {}

  static async start(options: OrchestratorOptions): Promise<Orchestrator> {
    const { store, pool, registry, events } = options;
    const git = new GitWatch(options.jobsDir);
    const engine = await Engine.start({
      store,
      registry,
      events,
      adopt: !options.ownRunsOnly,
      selectWork: (spec, kwargs) => pool.selectWork(spec, kwargs),
      git: () => git.read(),
      codeHashes,
    });
    const marks = await store.scheduleMarks();
    const host = scheduleHost(engine, store, events);
    const scheduler = new Scheduler({ entries: registry.schedule.entries, marks, clock: systemClock, host });
    const files = new FileTriggers({
      root: dirname(options.jobsDir),
      entries: registry.schedule.entries,
      marks,
      host,
      record: (entryId, mark) => engine.markSchedule(entryId, mark),
      fired: (entryId, tickAt) => store.tickFired(entryId, tickAt),
      paused: () => scheduler.paused,
    });
    const orchestrator = new Orchestrator(options, engine, scheduler, files, git);
    await orchestrator.begin();
    return orchestrator;
  }

  private async begin(): Promise<void> {
    const { store, instance } = this.options;
    this.unlisten.push(await store.queue.listen("changes", () => this.pull()));
    this.timers.push(setInterval(() => this.pull(), POLL_MS));
    this.timers.push(setInterval(() => void this.releaseSilent(), RELEASE_MS));
    await this.releaseSilent();
    this.pull();
    this.stopServing = await store.orders.serve((request) => this.order(request), { by: instance.id, warn: (message) => this.warn(message), events: this.options.events });
    if (this.options.retentionMs) {
      this.timers.push(setInterval(() => void this.retain(), RETAIN_EVERY_MS));
      void this.retain();
    }
    if (this.options.schedule) {
      this.scheduler.start();
      await this.files.start().catch((error) => this.warn(`watching the files of onFiles entries failed: ${errorMessage(error)}`));
    }
  }

  /** Applies retention once; a failure is a warning, and the next hour tries again. */
  private async retain(): Promise<void> {
    const before = Date.now() - this.options.retentionMs!;
    try {
      const pruned = await this.options.store.prune(before, { dryRun: false });
      if (pruned.runs > 0) this.options.events.emit("store:pruned", { ...pruned, before });
    } catch (error) {
      this.warn(`retention: pruning runs that finished before ${new Date(before).toISOString()} failed: ${errorMessage(error)}`);
    }
  }

  /** Carries out an order here. */
  order(request: ControlRequest): Promise<unknown> {
    return handleOrder({ engine: this.engine, store: this.options.store, scheduler: this.scheduler, jobsDir: this.options.jobsDir, describe: this.options.describe }, request);
  }

  /** Applies what executors did, batch after batch until none is left. */
  private pull(): void {
    if (this.stopped) return;
    if (this.pulling) {
      this.pullAgain = true;
      return;
    }
    this.pulling = (async () => {
      do {
        this.pullAgain = false;
        try {
          let changes;
          while ((changes = await this.options.store.queue.takeChanges(2_000)).length > 0) await this.engine.observe(changes);
        } catch (error) {
          // Taken changes are no longer flagged: only a fresh start from the store sees them again.
          this.stopped = true;
          this.options.failed(`applying chunk results failed: ${errorMessage(error)}`);
        }
      } while (this.pullAgain && !this.stopped);
      this.pulling = null;
    })();
  }

  /** Chunks whose instance is gone go back to pending for another attempt. */
  private async releaseSilent(): Promise<void> {
    if (this.stopped || this.options.ownRunsOnly) return;
    // On a shared store an orchestrator that just took over gives every instance a chance
    // to heartbeat first: after a database outage everyone's heartbeat is old.
    if (this.options.store.shared && Date.now() - this.startedAt < SILENT_INSTANCE_MS) return;
    try {
      const gone = (owner: string) => `its stau instance ${owner} stopped while it ran`;
      const retriesOf = (job: string) => ({ retries: this.engine.currentRegistry.jobs.get(job)?.retries ?? 0 });
      const released = await this.options.store.queue.releaseSilent(SILENT_INSTANCE_MS, (chunk, owner) => T.orphaned(chunk, retriesOf(chunk.job), gone(owner), Date.now()));
      if (released.length === 0) return;
      const byOwner = new Map<string, number>();
      for (const { owner } of released) byOwner.set(owner, (byOwner.get(owner) ?? 0) + 1);
      for (const [owner, count] of byOwner) this.warn(`instance ${owner} is gone: ${count} chunk(s) it was running go back to the queue, or fail when they have used their attempts`);
      const owners = new Map(released.map(({ owner, chunk }) => [chunk.id, owner]));
      await this.engine.released(released.map((r) => r.chunk), (chunk) => gone(owners.get(chunk.id)!));
    } catch (error) {
      this.warn(`looking for instances that are gone failed: ${errorMessage(error)}`);
    }
  }

  private warn(message: string): void {
    this.options.events.emit("warning", { message });
  }

  /** Hot reload on the orchestrating instance: the graph and the schedule follow the new files. */
  setRegistry(registry: Registry): void {
    this.engine.setRegistry(registry);
    this.scheduler.setEntries(registry.schedule.entries);
    void this.files.setEntries(registry.schedule.entries).catch((error) => this.warn(`watching the files of onFiles entries failed: ${errorMessage(error)}`));
  }

  /** No more ticks, orders or runs; results of running chunks are still applied (a draining instance). */
  async stopTaking(): Promise<void> {
    this.scheduler.stop();
    await this.files.stop();
    await this.scheduler.settled();
    const stopServing = this.stopServing;
    this.stopServing = null;
    await stopServing?.();
    this.engine.stopTaking();
  }

  /** Stops for good; what is written stays for the next orchestrator. */
  async stop(): Promise<void> {
    await this.stopTaking();
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const stop of this.unlisten) stop();
    await this.pulling;
    await this.engine.stop();
    await this.git.close();
  }
}
