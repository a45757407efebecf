import type { Server } from "node:http";
import type { ProjectPaths } from "../config/project.js";
import type { ControlRequest } from "../control/protocol.js";
import { errorMessage } from "../errors.js";
import type { EventBus, StauEvents } from "../events.js";
import { Executor } from "../executor/executor.js";
import type { ExecPool } from "../exec/pool.js";
import type { ThreadsNow } from "../exec/threads.js";
import { loadRegistry, type Registry } from "../jobs/load.js";
import { openStore, type StoreConfig } from "../store/open.js";
import type { ArchivedRun, InstanceInfo } from "../store/records.js";
import { HEARTBEAT_MS, HEARTBEAT_RENEW_MS, type Store } from "../store/store.js";
import { FINISHED_CHUNK_STATES } from "../engine/transitions.js";
import { holdHeapCloseToLive } from "./heap-growth.js";
import { Election } from "./election.js";
import { listenHealth, type Health, type Scrape } from "./health.js";
import type { Metrics } from "./metrics.js";
import { startNotifier } from "./notifier.js";
import type { ProjectConfigSpec } from "../config/project-config.js";
import { Orchestrator } from "./orchestrator.js";
import { instanceInfo, openPool, type PoolSize } from "./pool.js";
import { reportLoadProblems } from "./schedule-host.js";

/** How long notifications still under way may take once the instance has stopped. */
const NOTIFY_GRACE_MS = 3_000;

/** What a stop did and left: running chunks that finished or were aborted, and the work left queued. */
export type StopResult = StauEvents["instance:stopped"];

export interface InstanceOptions {
  readonly paths: ProjectPaths;
  readonly store: StoreConfig;
  readonly pool: PoolSize;
  /** What started it, for `stau status` and lock messages ("dev", "start", "run <job>"). */
  readonly command: string;
  readonly events: EventBus;
  /**
   * Fire the schedule while orchestrating. On a shared store it is fired whatever this
   * says: the instance holding the lock is the only one that can.
   */
  readonly schedule: boolean;
  /** Answer GET /healthz on 127.0.0.1 at this port. */
  readonly healthPort?: number;
  /**
   * Touch only the runs this instance starts (`stau run`): runs another instance left
   * unfinished stay as they are. On a shared store an instance serves every run whatever
   * this says: it may hold the only orchestrator lock.
   */
  readonly ownRunsOnly?: boolean;
  /** Send notifications by these rules (stau.config.ts). */
  /** stau.config.ts (`stau start` reads it): notifications and retention. */
  readonly config?: ProjectConfigSpec;
}

/** A running stau: what `stau dev`, `stau start` and `stau run` drive, and what the console shows. */
export interface Instance {
  readonly paths: ProjectPaths;
  readonly info: InstanceInfo;
  readonly store: Store;
  readonly events: EventBus;
  readonly pool: ExecPool;
  currentRegistry(): Registry;
  /**
   * Hot reload: new chunks run the new code (pool threads are recycled; running chunks
   * finish on the old ones), the graph and the schedule follow the new files.
   */
  applyRegistry(registry: Registry, files: string[]): Promise<void>;
  /** The orchestrator, while this instance is the one that orchestrates. */
  orchestrator(): Orchestrator | null;
  /** Chunks running on this instance's threads. */
  busy(): number;
  /** What this instance's threads do now, and which chunks wait for one (ThreadsNow). */
  threadsNow(): ThreadsNow;
  /** An order for whichever instance orchestrates: carried out here when it is this one. */
  order<T = unknown>(request: ControlRequest): Promise<T>;
  /** Resolves with a run once it has finished, whoever orchestrates it. */
  waitForRun(id: string): Promise<ArchivedRun>;
  /** Resolves, with the reason, if the instance cannot go on (its owner then stops it). */
  readonly failed: Promise<Error>;
  /** Stops claiming; running chunks get `timeoutMs` to finish, then go back to the queue. Results are still applied. */
  drain(timeoutMs: number): Promise<{ aborted: number }>;
  /** Stops orchestrating, drains running chunks up to `timeoutMs`, closes everything. */
  stop(timeoutMs: number): Promise<StopResult>;
}

/**
 * Starts an instance on either store: an executor always, and the orchestrator while it
 * holds the right to (on the embedded store, the data directory's lock, taken at start
 * or the start fails; on a shared store, whichever instance takes the lock first).
 */
export async function startInstance(options: InstanceOptions): Promise<Instance> {
  const { paths, events } = options;
  // The health port first: a port that cannot be had fails the start before the store is taken.
  let health: Server | null = null;
  let report: () => Health = () => ({ draining: false, starting: true });
  let metrics: Metrics | null = null;
  const scrape: Scrape = async () => (metrics ? { contentType: metrics.contentType, text: await metrics.text() } : null);
  if (options.healthPort !== undefined) health = await listenHealth(options.healthPort, () => report(), scrape);
  // prom-client is loaded only for an instance that serves metrics (~75 ms of modules otherwise).
  const metricsModule = health ? await import("./metrics.js") : null;
  let store: Store;
  try {
    store = await openStore(options.store, "write");
  } catch (error) {
    await closeServer(health);
    throw error;
  }
  const info = instanceInfo(options.command);
  const warn = (message: string) => events.emit("warning", { message });
  // The pool's threads start now, setting up the TypeScript loader while the job files
  // are read in a thread of their own (the main thread only waits meanwhile): a
  // one-shot `stau run` no longer starts them only once the jobs are known.
  const pool = openPool(options.pool, paths.dataDir, events, store, info);
  let registry: Registry;
  const election = new Election({ leadership: store.leadership, instance: info, begin: () => orchestrate(), failed: (reason) => fail(reason), warn });
  try {
    await election.first();
    registry = await loadRegistry(paths);
  } catch (error) {
    // The reason to report is why the start failed, not how closing went.
    await pool.close().catch(() => undefined);
    await store.close();
    await closeServer(health);
    throw error;
  }
  reportLoadProblems(registry, events);
  const ownRunsOnly = options.ownRunsOnly === true && !store.shared;
  const executor = new Executor({
    queue: store.queue,
    pool,
    instance: info,
    events,
    registry: () => registry,
    held: () => store.problem(),
    onlyRuns: ownRunsOnly ? () => orchestrator?.engine.activeRuns.map((r) => r.run.id) ?? [] : undefined,
  });
  // A store that cannot record says so, stops new work, and says when it can again.
  const unwatch = store.onProblem((problem) => events.emit("store:problem", { problem }));
  const releaseHeap = holdHeapCloseToLive();
  let orchestrator: Orchestrator | null = null;
  let draining = false;
  // Counting from here, before this instance may orchestrate: what recovery announces counts too.
  if (metricsModule) metrics = metricsModule.instanceMetrics({ events, store, workers: () => ({ busy: executor.busy, total: pool.size }), orchestrator: () => orchestrator });
  const notifier = options.config?.notify.length ? startNotifier({ config: options.config, root: paths.root, events, store, orchestrator: () => orchestrator, registry: () => registry }) : null;
  let fail!: (reason: string) => void;
  const failed = new Promise<Error>((resolve) => {
    fail = (reason) => {
      warn(`${reason}; this instance stops so that another orchestrates from the store`);
      resolve(new Error(reason));
    };
  });

  const describe = async () => ({
    instance: { id: info.id, pid: process.pid, hostname: info.hostname, dataDir: paths.dataDir, startedAt: new Date(info.startedAt).toISOString(), workers: pool.size, busy: executor.busy, threads: { ...executor.threadsNow(), at: Date.now() }, draining, orchestrating: orchestrator !== null, storeProblem: store.problem() },
    ...(store.shared ? { copies: await store.leadership.instances() } : {}),
  });
  async function orchestrate(): Promise<void> {
    orchestrator = await Orchestrator.start({ store, pool, registry, instance: info, events, jobsDir: paths.jobsDir, retentionMs: options.config?.retentionMs ?? null, schedule: options.schedule || store.shared, ownRunsOnly, describe, failed: fail });
    if (store.shared) events.emit("instance:orchestrating", { copy: info.id });
  }

  await store.queue.heartbeat(info, [], HEARTBEAT_RENEW_MS);
  // A heartbeat that fails is said once, not every second, and so is its return.
  let beating = true;
  const beat = async () => {
    try {
      await store.queue.heartbeat(info, executor.heldChunks(), HEARTBEAT_RENEW_MS);
      if (!beating) warn("heartbeats go through again");
      beating = true;
    } catch (error) {
      if (beating) warn(`heartbeat failed: ${errorMessage(error)}; trying every second`);
      beating = false;
    }
  };
  const heartbeat = setInterval(() => void beat(), HEARTBEAT_MS);
  await executor.start();
  await election.run();
  report = () => {
    const storeProblem = store.problem();
    return { draining: draining || storeProblem !== null, storeProblem, workers: pool.size, busy: executor.busy, orchestrating: orchestrator !== null, activeRuns: orchestrator?.engine.activeRuns.length ?? null };
  };
  // An instance that stays up says it started once its threads are ready, so a trigger
  // right after does not wait for them; a one-shot (`stau run`) goes straight to its own
  // run, whose first chunk waits for a thread either way.
  if (!ownRunsOnly) await pool.ready;
  events.emit("instance:started", { pid: process.pid, workers: pool.size, dataDir: paths.dataDir, socket: store.orders.address });

  return {
    paths,
    info,
    store,
    events,
    pool,
    currentRegistry: () => registry,
    orchestrator: () => orchestrator,
    busy: () => executor.busy,
    threadsNow: () => executor.threadsNow(),
    order: <T>(request: ControlRequest) => (orchestrator ? (orchestrator.order(request) as Promise<T>) : store.orders.call<T>(request)),
    // On the embedded store this instance orchestrates for good and its engine knows first;
    // on a shared store orchestration may move to another instance, so the store says.
    waitForRun: (id) => (!store.shared && orchestrator ? orchestrator.engine.waitForRun(id) : waitForRun(store, events, id)),
    failed,
    drain: (timeoutMs) => executor.drain(timeoutMs),
    async applyRegistry(next, files) {
      // Idle threads go at once (busy ones after their chunk), so no new chunk meets old code.
      const recycled = pool.recycle();
      registry = next;
      orchestrator?.setRegistry(next);
      executor.registryChanged();
      reportLoadProblems(next, events, false);
      events.emit("registry:reloaded", { files, broken: [...next.broken.keys()] });
      await recycled;
    },
    async stop(timeoutMs) {
      draining = true;
      // While the store cannot write, nothing waits for it any more: what can be written is, at close.
      if (store.problem()) store.abandon("stau is stopping");
      const stopAbandoning = store.onProblem((problem) => problem && store.abandon("stau is stopping"));
      await election.stop();
      // Ticks, orders and new runs stop first. On a shared store the lock goes at once, so
      // another instance orchestrates (and applies this one's last results) while this one
      // drains; on the embedded store this instance applies them itself, then stops.
      const leading = orchestrator as Orchestrator | null;
      const stopping = (what: string) => (error: unknown) => warn(`${what}: ${errorMessage(error)}`);
      await leading?.stopTaking().catch(stopping("stopping the scheduler and orders"));
      if (leading && store.shared) {
        await leading.stop().catch(stopping("stopping to orchestrate"));
        orchestrator = null;
        await store.leadership.release(info).catch(stopping("giving up the orchestrator lock"));
      }
      events.emit("instance:draining", { running: executor.busy, timeoutMs });
      const result = await executor.drain(timeoutMs);
      await (orchestrator as Orchestrator | null)?.stop().catch(stopping("stopping to orchestrate"));
      clearInterval(heartbeat);
      await store.leadership.stopped(info).catch(() => undefined);
      await closeServer(health);
      metrics?.close();
      // A failure announced while draining still gets out, unless its receiver is slow.
      await notifier?.close(NOTIFY_GRACE_MS);
      await pool.close();
      stopAbandoning();
      unwatch();
      releaseHeap();
      const left = await unfinished(store);
      await store.close().catch(stopping("closing the store"));
      const stopped = { ...result, left };
      events.emit("instance:stopped", stopped);
      return stopped;
    },
  };
}

/** What stays to be done after a stop: the unfinished chunks of active runs, or null when the store cannot say. */
async function unfinished(store: Store): Promise<{ runs: number; chunks: number } | null> {
  try {
    const { runs, chunks } = await store.active();
    return { runs: runs.length, chunks: chunks.filter((chunk) => !FINISHED_CHUNK_STATES.has(chunk.state)).length };
  } catch {
    return null;
  }
}

/** A run's end: heard from this instance's engine when it orchestrates, read from the store when another does. */
function waitForRun(store: Store, events: EventBus, id: string): Promise<ArchivedRun> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = () =>
      store.getRun(id).then((run) => {
        if (done || run?.run.finishedAt == null) return;
        done = true;
        off();
        clearInterval(timer);
        resolve(run);
      }, reject);
    const off = events.on("run:finished", ({ run }) => void (run.id === id && check()));
    const timer: NodeJS.Timeout = setInterval(() => void check(), 1_000);
    void check();
  });
}

function closeServer(server: Server | null): Promise<void> {
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
