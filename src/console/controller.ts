import { EventBus } from "../events.js";
import type { Instance } from "../instance/instance.js";
import type { ConsoleController, ConsoleSnapshot } from "./contract.js";
import { readHeatmap } from "./heatmap.js";
import { readHeldRuns, recentFailedRuns } from "./held-runs.js";
import { readSnapshot } from "./snapshot.js";
import { watchStore } from "./store-watcher.js";
import { graphLines, logLines, planPreview, triggerOrder } from "./views.js";

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
  // The schedule's pause lives with the orchestrator; one elsewhere knows what it asked for.
  let pausedHere = false;

  const snapshot = async (): Promise<ConsoleSnapshot> => {
    const scheduler = instance.orchestrator()?.scheduler;
    const read = await readSnapshot(store, instance.currentRegistry(), paths, { workers: instance.pool.size, startedAt, paused: scheduler?.paused ?? pausedHere, fires: scheduler?.nextFires() ?? null });
    // Its id tells chunks on this instance's threads from those it claimed ahead of one.
    return { ...read, instance: instance.info.id };
  };

  return {
    events,
    snapshot,
    busyWorkers: () => instance.busy(),
    threadsNow: () => instance.threadsNow(),
    async plan(job, options) {
      // The orchestrator's freshness is current; another instance reads what it recorded.
      if (!instance.orchestrator()) await store.syncFreshness(true);
      // Runs read now, not at the last snapshot: the ETA learns from the run that just ended.
      const recent = await readHeldRuns(store);
      return planPreview({ registry: instance.currentRegistry(), selectWork: (spec, kwargs) => instance.pool.selectWork(spec, kwargs), freshness: store.freshness(), recent, workers: instance.pool.size }, job, options);
    },
    trigger: async (job, options) => (await instance.order<{ run: { id: string } }>(triggerOrder(job, options))).run.id,
    async retry(runId) {
      await instance.order({ cmd: "retry", run: runId });
    },
    async retryAllFailed() {
      const failed = await recentFailedRuns(store);
      for (const run of failed) await instance.order({ cmd: "retry", run });
      return failed.length;
    },
    async cancel(runId) {
      await instance.order({ cmd: "cancel", run: runId });
    },
    async setPaused(paused) {
      await instance.order({ cmd: paused ? "pause" : "resume" });
      pausedHere = paused;
    },
    logTail: async (job, lines, chunkId) => logLines(await store.logs.find({ job, chunkId, limit: 50, maxBytes: lines * 400 }), lines),
    heatmap: (job) => readHeatmap(store, job),
    graph: (job) => graphLines(instance.currentRegistry(), store.freshness(), job),
    async quit(force) {
      // Events keep coming while stau drains, so the console shows the drain as it happens.
      try {
        await quit(force);
      } finally {
        stopWatching();
        stopForwarding();
      }
    },
  };
}
