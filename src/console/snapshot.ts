import { basename } from "node:path";
import type { ProjectPaths } from "../config/project.js";
import { newestSuccess } from "../graph/plan-facts.js";
import { activeRuns } from "../instance/orders.js";
import type { Registry } from "../jobs/load.js";
import { nextFire } from "../schedule/ticks.js";
import type { Store } from "../store/store.js";
import type { ConsoleSnapshot } from "./contract.js";
import { readHeldRuns } from "./held-runs.js";
import { jobViews } from "./views.js";

/** What only the running instance knows, for a snapshot. */
export interface InstanceView {
  readonly workers: number;
  readonly startedAt: number;
  readonly paused: boolean;
  /** The scheduler's next fire per entry, when the instance fires the schedule; else read from the store's marks. */
  readonly fires: ReadonlyMap<string, number | null> | null;
  /** The instance a console attached to (its header says so). */
  readonly attachedTo?: ConsoleSnapshot["attachedTo"];
}

/**
 * Everything the console shows, read from the store now: runs active and recent (with
 * their chunks, as many as the console holds), jobs, next fires, last successes. The
 * same for a console in the instance and for one attached to it.
 */
export async function readSnapshot(store: Store, registry: Registry, paths: ProjectPaths, instance: InstanceView): Promise<ConsoleSnapshot> {
  const [active, history, marks] = await Promise.all([activeRuns(store), readHeldRuns(store), store.scheduleMarks(), store.syncFreshness(false)]);
  const activeIds = new Set(active.map((a) => a.run.id));
  const now = Date.now();
  const nextFires: Record<string, number | null> = {};
  for (const entry of registry.schedule.entries) {
    // A broken job's ticks are skipped: it has no next fire until its file is fixed.
    if (!registry.jobs.has(entry.job)) continue;
    const at = instance.fires ? (instance.fires.get(entry.id) ?? null) : nextFire(entry, marks.get(entry.id), now);
    const known = nextFires[entry.job];
    nextFires[entry.job] = known == null ? at : at == null ? known : Math.min(known, at);
  }
  const jobs = jobViews(registry, paths);
  return {
    project: basename(paths.root),
    store: store.location,
    workers: instance.workers,
    startedAt: instance.startedAt,
    paused: instance.paused,
    storeProblem: store.problem(),
    attachedTo: instance.attachedTo ?? null,
    jobs,
    // The two were read side by side: a run that finished in between is in both, and is shown as active (its events follow).
    runs: [...active, ...history.filter((r) => !activeIds.has(r.run.id))],
    nextFires,
    // Under any kwargs, as chunk:done updates it live.
    lastSuccess: Object.fromEntries(jobs.map((j) => [j.name, newestSuccess(store.freshness(), j.name)])),
  };
}
