import type { ProjectPaths } from "../config/project.js";
import type { ControlRequest } from "../control/protocol.js";
import { StauError } from "../errors.js";
import { EventBus } from "../events.js";
import { ExecPool } from "../exec/pool.js";
import type { ThreadsNow } from "../exec/threads.js";
import { loadRegistry } from "../jobs/load.js";
import { openOrders, openStore, type StoreConfig } from "../store/open.js";
import type { Store } from "../store/store.js";
import type { ConsoleController } from "./contract.js";
import { readHeatmap } from "./heatmap.js";
import { readHeldRuns, recentFailedRuns } from "./held-runs.js";
import { readSnapshot } from "./snapshot.js";
import { graphLines, logLines, planPreview, triggerOrder } from "./views.js";

/**
 * How often the attached console asks the instance how busy it is and which chunks its
 * threads run (a status without the active runs: the events carry those).
 */
const STATUS_MS = 250;

interface Status {
  /** `threads`: absent from an instance of a stau before it (the Running pane then shows every chunk sent to a thread). */
  readonly instance: { readonly id: string; readonly pid: number; readonly workers: number; readonly busy: number; readonly startedAt: string; readonly threads?: ThreadsNow };
  readonly schedule: { readonly paused: boolean; readonly next: Readonly<Record<string, string | null>> };
}

/**
 * The console attached to an instance that runs in another process (`stau dev` on a
 * data directory a `stau start` holds): its events arrive over the control socket, its
 * orders go back the same way, and what the console reads (runs, logs, freshness) comes
 * from the store beside it, read-only. Quitting detaches and leaves the instance running;
 * `ended` settles (with why) when the instance stops or goes away.
 */
export async function attachConsole(paths: ProjectPaths, config: StoreConfig): Promise<{ controller: ConsoleController; detach: () => Promise<void>; ended: Promise<string> }> {
  const { orders, close } = await openOrders(config);
  if (!orders.follow) throw new StauError("no_attach", `the instance on ${config.dataDir} cannot be attached to`, { exitCode: 2 });
  const order = <T>(request: ControlRequest) => orders.call<T>(request);
  const readStatus = () => order<Status>({ cmd: "status", runs: false });
  let status = await readStatus();
  const registry = await loadRegistry(paths);
  const events = new EventBus();
  let instanceEnded!: (why: string) => void;
  const ended = new Promise<string>((resolve) => (instanceEnded = resolve));
  const unfollow = await orders.follow(
    (name, payload) => {
      events.emit(name, payload);
    },
    (why) => instanceEnded(why === "stopping" ? `the instance (pid ${status.instance.pid}) stopped, and the console with it` : why),
  );
  const poll = setInterval(() => void readStatus().then((next) => (status = next), () => undefined), STATUS_MS);
  // A store read now and then (it changes under the instance): the newest is kept for what reads it synchronously.
  let view: Store = await openStore(config, "read");
  const reread = async () => {
    const next = await openStore(config, "read");
    const old = view;
    view = next;
    await old.close();
    return next;
  };
  let pool: ExecPool | null = null;
  let detached: Promise<void> | null = null;
  // Detaching leaves the instance running; it may be asked more than once (quit, then the session's stop).
  const detach = () =>
    (detached ??= (async () => {
      clearInterval(poll);
      unfollow();
      await pool?.close();
      await view.close();
      await close();
    })());

  const controller: ConsoleController = {
    events,
    async snapshot() {
      const store = await reread();
      const fires = new Map(Object.entries(status.schedule.next).map(([id, at]) => [id, at === null ? null : Date.parse(at)]));
      const read = await readSnapshot(store, registry, paths, {
        workers: status.instance.workers,
        startedAt: Date.parse(status.instance.startedAt),
        paused: status.schedule.paused,
        fires,
        attachedTo: { pid: status.instance.pid, command: "start" },
      });
      // As in the instance's own console: its id tells chunks on its threads from those it claimed ahead of one.
      return { ...read, instance: status.instance.id };
    },
    busyWorkers: () => status.instance.busy,
    threadsNow: () => status.instance.threads,
    async plan(job, options) {
      // selectWork is job code: it runs in a worker thread of this process, as `stau plan` does.
      pool ??= new ExecPool({ workers: 1, dataDir: paths.dataDir });
      const store = await reread();
      // Runs read now, not at the last snapshot: the ETA learns from the run that just ended.
      const past = await readHeldRuns(store);
      return planPreview({ registry, selectWork: (spec, kwargs) => pool!.selectWork(spec, kwargs), freshness: store.freshness(), recent: past, workers: status.instance.workers }, job, options);
    },
    trigger: async (job, options) => (await order<{ run: { id: string } }>(triggerOrder(job, options))).run.id,
    async retry(runId) {
      await order({ cmd: "retry", run: runId });
    },
    async retryAllFailed() {
      const failed = await recentFailedRuns(await reread());
      for (const run of failed) await order({ cmd: "retry", run });
      return failed.length;
    },
    async cancel(runId) {
      await order({ cmd: "cancel", run: runId });
    },
    async setPaused(paused) {
      await order({ cmd: paused ? "pause" : "resume" });
    },
    logTail: async (job, lines, chunkId) => logLines(await view.logs.find({ job, chunkId, limit: 50, maxBytes: lines * 400 }), lines),
    heatmap: async (job) => readHeatmap(await reread(), job),
    graph: (job) => graphLines(registry, view.freshness(), job),
    quit: () => detach(),
  };
  return { controller, detach, ended };
}
