import type { ProjectPaths } from "../config/project.js";
import { systemClock } from "../clock.js";
import { controlResponse, type ControlRequest, type ControlResponse } from "../control/protocol.js";
import { Engine } from "../engine/engine.js";
import type { EventBus } from "../engine/events.js";
import { gitCommit } from "../engine/git.js";
import { errorMessage } from "../errors.js";
import type { ExecPool } from "../exec/pool.js";
import type { Registry } from "../jobs/load.js";
import { Scheduler } from "../schedule/scheduler.js";
import type { PgStore } from "../store/pg/pg-store.js";
import type { InstanceInfo } from "../store/store.js";
import { handleControl, scheduleHost } from "../cli/orchestration.js";

/** A copy that stopped heartbeating this long is taken for dead: its chunks run again elsewhere. */
export const SILENT_COPY_MS = 5_000;
/** How often the orchestrator looks without being notified. */
const POLL_MS = 500;

export interface OrchestratorOptions {
  readonly store: PgStore;
  readonly pool: ExecPool;
  readonly registry: Registry;
  readonly instance: InstanceInfo;
  readonly events: EventBus;
  readonly paths: ProjectPaths;
  /** What `stau status` says of this copy. */
  readonly describeCopy: () => Record<string, unknown>;
  /**
   * The orchestrator's view and the database may have parted (a write failed): it must
   * stop, and a new orchestrator rebuild from the database.
   */
  readonly stepDown: (reason: string) => void;
}

/**
 * The work of the one copy that holds the orchestrator lock: the engine (resolving
 * runs, moving chunks from queued to pending, finishing runs), the scheduler, orders
 * from other machines, and releasing the chunks of copies that went silent.
 */
export class Orchestrator {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unlisten: (() => void)[] = [];
  private pulling: Promise<void> | null = null;
  private pullAgain = false;
  private commandsRunning: Promise<void> | null = null;
  private stopped = false;

  private constructor(
    private readonly options: OrchestratorOptions,
    readonly engine: Engine,
    readonly scheduler: Scheduler,
  ) {}

  static async start(options: OrchestratorOptions): Promise<Orchestrator> {
    const { store, pool, registry, instance, events, paths } = options;
    let commit: Promise<string | null> | null = null;
    const engine = await Engine.start({
      store,
      queue: null,
      stopRunning: (runId) => void store.requestCancel(runId).catch((error) => events.emit("warning", { message: `asking copies to stop run ${runId} failed: ${errorMessage(error)}` })),
      pool,
      registry,
      instance,
      events,
      gitCommit: () => (commit ??= gitCommit(paths.jobsDir)),
    });
    const scheduler = new Scheduler({ entries: registry.schedule.entries, marks: await store.scheduleMarks(), clock: systemClock, host: scheduleHost(engine, store, events) });
    const orchestrator = new Orchestrator(options, engine, scheduler);
    await orchestrator.begin();
    return orchestrator;
  }

  private async begin(): Promise<void> {
    const { store } = this.options;
    this.unlisten.push(await store.listen(store.channel("changes"), () => this.pull()));
    this.unlisten.push(await store.listen(store.channel("commands"), () => this.takeCommands()));
    this.timers.push(setInterval(() => this.pull(), POLL_MS));
    this.timers.push(setInterval(() => this.takeCommands(), POLL_MS));
    this.timers.push(setInterval(() => void this.releaseSilent(), 1_000));
    this.pull();
    this.takeCommands();
    this.scheduler.start();
  }

  /** Applies what the copies' workers did, batch after batch until none is left. */
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
          while ((changes = await this.options.store.takeChanges(2_000)).length > 0) await this.engine.observe(changes);
        } catch (error) {
          // Taken changes are no longer flagged: only a fresh start from the database sees them again.
          this.options.stepDown(`applying chunk results failed: ${errorMessage(error)}`);
          this.stopped = true;
        }
      } while (this.pullAgain && !this.stopped);
      this.pulling = null;
    })();
  }

  private takeCommands(): void {
    if (this.stopped || this.commandsRunning) return;
    const { store, instance } = this.options;
    this.commandsRunning = (async () => {
      try {
        for (const { id, request } of await store.takeCommands(instance.id)) await store.answerCommand(id, await this.answer(request as ControlRequest));
      } catch (error) {
        this.warn(`taking orders failed: ${errorMessage(error)}`);
      } finally {
        this.commandsRunning = null;
      }
    })();
  }

  private async answer(request: ControlRequest): Promise<ControlResponse> {
    const { store, describeCopy } = this.options;
    try {
      const result = await handleControl({ engine: this.engine, store, scheduler: this.scheduler, describe: async () => ({ instance: describeCopy(), copies: await store.copies() }) }, request);
      return controlResponse({ ok: true, result });
    } catch (error) {
      return controlResponse({ ok: false, error });
    }
  }

  private async releaseSilent(): Promise<void> {
    try {
      const released = await this.options.store.releaseSilent(SILENT_COPY_MS);
      for (const [copy, count] of released) this.warn(`copy ${copy} stopped heartbeating: ${count} of its running chunk(s) go back to the queue for another attempt`);
    } catch (error) {
      this.warn(`looking for silent copies failed: ${errorMessage(error)}`);
    }
  }

  private warn(message: string): void {
    this.options.events.emit("warning", { message });
  }

  /** Hot reload on the orchestrating copy: the graph and the schedule follow the new files. */
  setRegistry(registry: Registry): void {
    this.engine.setRegistry(registry);
    this.scheduler.setEntries(registry.schedule.entries);
  }

  /** Stops firing and taking orders; what is written stays for the next orchestrator. */
  async stop(): Promise<void> {
    this.scheduler.stop();
    await this.scheduler.settled();
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const stop of this.unlisten) stop();
    await this.pulling;
    await this.commandsRunning;
    await this.engine.drain(0);
  }
}
