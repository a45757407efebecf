import { basename } from "node:path";
import { callOrchestrator } from "../control/cluster-client.js";
import type { ControlRequest } from "../control/protocol.js";
import { errorMessage } from "../errors.js";
import { kwargsKey } from "../graph/kwargs-key.js";
import { nextTick } from "../schedule/ticks.js";
import type { ArchivedRun } from "../store/records.js";
import type { ScheduleMark } from "../store/store.js";
import type { ConsoleController, ConsoleSnapshot } from "../ui/controller.js";
import { graphLines, jobViews, logLine, planPreview } from "../cli/console-controller.js";
import type { Copy } from "./copy.js";

const RECENT_RUNS = 100;
/** How often the console reads the shared store for work other copies did. */
const POLL_MS = 1_000;
/** How far back each look for other copies' logs reaches. */
const LOG_LOOKBACK_MS = 2_000;

interface StoreView {
  readonly active: ArchivedRun[];
  readonly recent: ArchivedRun[];
  readonly marks: ReadonlyMap<string, ScheduleMark>;
}

async function readView(copy: Copy): Promise<StoreView> {
  const { store } = copy;
  const { runs, chunks } = await store.active();
  const active = runs.map((run) => ({ run, chunks: chunks.filter((c) => c.runId === run.id) }));
  return { active, recent: await store.listRuns(RECENT_RUNS), marks: await store.scheduleMarks() };
}

/** What changed between two views, cheaply: run states and chunk state counts. */
function signature(view: StoreView): string {
  return [...view.active, ...view.recent.slice(0, 10)].map(({ run, chunks }) => `${run.id}:${run.status}:${chunks.map((c) => c.state[0]).join("")}`).join("|");
}

/**
 * The console of a copy on a shared store: it shows every copy's work, read from the
 * database each second, and sends its orders (trigger, retry, cancel) to whichever
 * copy orchestrates, as `stau trigger` does from another machine.
 */
export async function createCopyConsoleController(copy: Copy, quit: (force: boolean) => Promise<void>): Promise<ConsoleController> {
  const { store, events, paths, pool } = copy;
  let view = await readView(copy);
  let seen = signature(view);
  let polling = false;
  const startedAt = Date.now();
  // Log lines of attempts run here arrive live; those of other copies arrive through
  // the database when their attempt ends, and are passed on as the same events. Each
  // look goes back a little (rows commit out of order, and the database's clock is finer
  // than a millisecond), and what was passed on already is remembered for as long.
  let logsSince = (await store.logs(null, null, 1))[0]?.writtenAt ?? 0;
  let relayed = new Map<string, number>();
  const relayLogs = async () => {
    const logs = (await store.logs(null, null, 500, logsSince - LOG_LOOKBACK_MS)).reverse();
    for (const log of logs) {
      logsSince = Math.max(logsSince, log.writtenAt);
      const key = `${log.chunkId}#${log.attempt}`;
      if (log.copy === copy.instance.id || relayed.has(key)) continue;
      relayed.set(key, log.writtenAt);
      for (const raw of log.text.split("\n").filter(Boolean)) {
        const { level, text } = logLine(log.job, log.chunkId, log.attempt, raw);
        events.emit("chunk:log", { chunkId: log.chunkId, attempt: log.attempt, level, text, job: log.job });
      }
    }
    relayed = new Map([...relayed].filter(([, at]) => at >= logsSince - 2 * LOG_LOOKBACK_MS));
  };
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    void Promise.all([readView(copy), store.reloadFreshness(false), relayLogs()])
      .then(([next]) => {
        view = next;
        const now = signature(next);
        if (now !== seen) events.emit("store:changed", {});
        seen = now;
      })
      .catch((error) => events.emit("warning", { message: `reading the shared store failed: ${errorMessage(error)}` }))
      .finally(() => (polling = false));
  }, POLL_MS);
  const order = <T>(request: ControlRequest) => callOrchestrator<T>(store, request);

  const snapshot = (): ConsoleSnapshot => {
    const registry = copy.currentRegistry();
    const orchestrator = copy.orchestrator();
    const fires = orchestrator?.scheduler.nextFires();
    const now = Date.now();
    const nextFires: Record<string, number | null> = {};
    for (const entry of registry.schedule.entries) {
      if (!registry.jobs.has(entry.job)) continue;
      const at = fires ? (fires.get(entry.id) ?? null) : entry.enabled ? nextTick(entry, Math.max(now, view.marks.get(entry.id)?.lastTickAt ?? 0)) : null;
      const known = nextFires[entry.job];
      nextFires[entry.job] = known == null ? at : at == null ? known : Math.min(known, at);
    }
    const activeIds = new Set(view.active.map((a) => a.run.id));
    const jobs = jobViews(registry, paths);
    return {
      project: basename(paths.root),
      store: store.location,
      workers: pool.size,
      startedAt,
      paused: orchestrator?.scheduler.paused ?? false,
      jobs,
      runs: [...view.active, ...view.recent.filter((r) => !activeIds.has(r.run.id))],
      nextFires,
      lastSuccess: Object.fromEntries(jobs.map((j) => [j.name, store.freshness().lastSuccess(j.name, kwargsKey({}), null) ?? null])),
    };
  };

  return {
    events,
    snapshot,
    busyWorkers: () => copy.busy(),
    async plan(job) {
      if (!copy.orchestrator()) await store.reloadFreshness(true);
      return planPreview({ registry: copy.currentRegistry(), pool, freshness: store.freshness(), recent: view.recent }, job);
    },
    trigger: async (job) => (await order<{ run: { id: string } }>({ cmd: "trigger", job })).run.id,
    async retry(runId) {
      await order({ cmd: "retry", run: runId });
    },
    async retryAllFailed() {
      const failed = view.recent.filter((r) => r.run.status === "failed");
      for (const run of failed) await order({ cmd: "retry", run: run.run.id });
      return failed.length;
    },
    async cancel(runId) {
      await order({ cmd: "cancel", run: runId });
    },
    setPaused(paused) {
      const orchestrator = copy.orchestrator();
      if (!orchestrator) throw new Error(`only the copy that orchestrates fires the schedule; pause it there (see stau status)`);
      if (paused) orchestrator.scheduler.pause();
      else orchestrator.scheduler.resume();
    },
    async logTail(job, lines) {
      const logs = await store.logs(job, null, 50);
      return logs
        .flatMap((log) => log.text.split("\n").filter(Boolean).map((raw) => logLine(log.job, log.chunkId, log.attempt, raw)))
        .sort((a, b) => a.at - b.at)
        .slice(-lines);
    },
    graph: (job) => graphLines(copy.currentRegistry(), store.freshness(), job),
    async quit(force) {
      clearInterval(timer);
      await quit(force);
    },
  };
}
