import { formatProblem } from "../config/problem.js";
import type { ScheduleEntrySpec } from "../config/spec.js";
import type { Engine } from "../engine/engine.js";
import { errorMessage } from "../errors.js";
import type { EventBus } from "../events.js";
import type { Registry } from "../jobs/load.js";
import type { ScheduleHost, Skip } from "../schedule/scheduler.js";
import type { Store } from "../store/store.js";

/** Says what does not load, at start (every broken job) or after a reload (the schedule). */
export function reportLoadProblems(registry: Registry, events: EventBus, jobs = true): void {
  // A problem of the file as a whole (field "") leaves no entry; one of an entry leaves the others scheduled.
  for (const problem of registry.schedule.problems) {
    const what = problem.field === "" ? "schedule not loaded" : "schedule entry not loaded (the other entries are)";
    events.emit("warning", { message: `${what}: ${formatProblem(problem)}` });
  }
  if (!jobs) return;
  for (const [job, problems] of registry.broken) events.emit("warning", { message: `job ${job} is broken: ${problems.map(formatProblem).join("; ")}` });
}

/** The scheduler's view of the engine: fires become runs, marks go to the store. */
export function scheduleHost(engine: Engine, store: Store, events: EventBus): ScheduleHost {
  return {
    async fire(entry, tickAt, catchUp) {
      // An orchestrator that took over may meet ticks its predecessor already fired.
      if (await store.tickFired(entry.id, tickAt)) return;
      const run = await engine.trigger({ job: entry.job, kwargs: entry.kwargs, workIds: entry.workIds, source: "schedule", scheduleEntry: entry.id, scheduleTick: tickAt });
      events.emit("schedule:fired", { entryId: entry.id, job: entry.job, tickAt, catchUp, runId: run.id });
    },
    skipReason: (entry) => skipReason(engine, entry),
    mark(entryId, mark) {
      engine.markSchedule(entryId, mark).catch((error) => events.emit("warning", { message: `recording schedule entry ${entryId} failed: ${errorMessage(error)}` }));
    },
    skipped(entry, tickAt, { kind, reason }) {
      events.emit("schedule:skipped", { entryId: entry.id, job: entry.job, tickAt, reason, kind });
    },
  };
}

function skipReason(engine: Engine, entry: ScheduleEntrySpec): Skip | null {
  const registry = engine.currentRegistry;
  const spec = registry.jobs.get(entry.job);
  if (!spec) return { kind: "broken", reason: `job ${entry.job} is broken: ${(registry.broken.get(entry.job) ?? []).map(formatProblem).join("; ") || "it does not load"}` };
  if (spec.allowConcurrentRuns) return null;
  const active = engine.activeRuns.find((run) => run.run.job === entry.job);
  return active ? { kind: "overlap", reason: `run ${active.run.id} of ${entry.job} is still ${active.run.status} (allowConcurrentRuns is false)` } : null;
}
