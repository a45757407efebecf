import { basename } from "node:path";
import { kwargsKey } from "../graph/kwargs-key.js";
import { EventBus } from "../events.js";
import type { Instance } from "../instance/instance.js";
import { activeRuns } from "../instance/orders.js";
import { nextFire } from "../schedule/ticks.js";
import type { ArchivedRun } from "../store/records.js";
import type { ConsoleController, ConsoleSnapshot } from "./contract.js";
import { watchStore } from "./store-watcher.js";
import { graphLines, jobViews, logLines, planPreview } from "./views.js";

const RECENT_RUNS = 100;

/**
 * The console's view of a running instance, on either store: snapshots read from the
 * store, events from this instance (and, on a shared store, what others did), and
 * orders sent to whichever instance orchestrates.
 */
export async function createConsoleController(instance: Instance, quit: (force: boolean) => Promise<void>): Promise<ConsoleController> {
  const { store, paths } = instance;
  const events = new EventBus();
  const stopForwarding = instance.events.forward(events);
  const stopWatching = store.shared ? await watchStore(instance, events) : () => undefined;
  const startedAt = Date.now();
  let recent: readonly ArchivedRun[] = [];
  // The schedule's pause lives with the orchestrator; one elsewhere knows what it asked for.
  let pausedHere = false;

  const snapshot = async (): Promise<ConsoleSnapshot> => {
    const registry = instance.currentRegistry();
    const [active, history, marks] = await Promise.all([activeRuns(store), store.listRuns(RECENT_RUNS), store.scheduleMarks(), store.syncFreshness(false)]);
    recent = history;
    const activeIds = new Set(active.map((a) => a.run.id));
    const scheduler = instance.orchestrator()?.scheduler;
    const fires = scheduler?.nextFires();
    const now = Date.now();
    const nextFires: Record<string, number | null> = {};
    for (const entry of registry.schedule.entries) {
      // A broken job's ticks are skipped: it has no next fire until its file is fixed.
      if (!registry.jobs.has(entry.job)) continue;
      const at = fires ? (fires.get(entry.id) ?? null) : nextFire(entry, marks.get(entry.id), now);
      const known = nextFires[entry.job];
      nextFires[entry.job] = known == null ? at : at == null ? known : Math.min(known, at);
    }
    const jobs = jobViews(registry, paths);
    return {
      project: basename(paths.root),
      store: store.location,
      workers: instance.pool.size,
      startedAt,
      paused: scheduler?.paused ?? pausedHere,
      storeProblem: store.problem(),
      jobs,
      runs: [...active, ...history.filter((r) => !activeIds.has(r.run.id))],
      nextFires,
      lastSuccess: Object.fromEntries(jobs.map((j) => [j.name, store.freshness().lastSuccess(j.name, kwargsKey({}), null) ?? null])),
    };
  };

  return {
    events,
    snapshot,
    busyWorkers: () => instance.busy(),
    async plan(job) {
      // The orchestrator's freshness is current; another instance reads what it recorded.
      if (!instance.orchestrator()) await store.syncFreshness(true);
      return planPreview({ registry: instance.currentRegistry(), selectWork: (spec, kwargs) => instance.pool.selectWork(spec, kwargs), freshness: store.freshness(), recent, workers: instance.pool.size }, job);
    },
    trigger: async (job) => (await instance.order<{ run: { id: string } }>({ cmd: "trigger", job })).run.id,
    async retry(runId) {
      await instance.order({ cmd: "retry", run: runId });
    },
    async retryAllFailed() {
      const failed = (await store.listRuns(RECENT_RUNS)).filter((r) => r.run.status === "failed");
      for (const run of failed) await instance.order({ cmd: "retry", run: run.run.id });
      return failed.length;
    },
    async cancel(runId) {
      await instance.order({ cmd: "cancel", run: runId });
    },
    async setPaused(paused) {
      await instance.order({ cmd: paused ? "pause" : "resume" });
      pausedHere = paused;
    },
    logTail: async (job, lines) => logLines(await store.logs.find({ job, limit: 50, maxBytes: lines * 400 }), lines),
    graph: (job) => graphLines(instance.currentRegistry(), store.freshness(), job),
    async quit(force) {
      stopWatching();
      stopForwarding();
      await quit(force);
    },
  };
}
