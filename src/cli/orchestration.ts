import { formatProblem } from "../config/problem.js";
import type { ScheduleEntrySpec } from "../config/spec.js";
import type { ControlRequest } from "../control/protocol.js";
import type { Engine } from "../engine/engine.js";
import type { EventBus } from "../engine/events.js";
import type { Registry } from "../jobs/load.js";
import { UsageError, errorMessage } from "../errors.js";
import type { ScheduleHost, Scheduler } from "../schedule/scheduler.js";
import type { ArchivedRun } from "../store/records.js";
import type { Store } from "../store/store.js";
import { runsJson } from "./json.js";

// What the orchestrating instance does besides the engine's own work, shared by a
// single instance on its data directory and the orchestrating copy of a shared store.

/** Says what does not load, at start (every broken job) or after a reload (the schedule). */
export function reportLoadProblems(registry: Registry, events: EventBus, jobs = true): void {
  for (const problem of registry.schedule.problems) events.emit("warning", { message: `schedule not loaded: ${formatProblem(problem)}` });
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
      store.setScheduleMark(entryId, mark);
      store.commit().catch((error) => events.emit("warning", { message: `recording schedule entry ${entryId} failed: ${errorMessage(error)}` }));
    },
    skipped(entry, tickAt, reason) {
      events.emit("schedule:skipped", { entryId: entry.id, job: entry.job, tickAt, reason });
    },
  };
}

function skipReason(engine: Engine, entry: ScheduleEntrySpec): string | null {
  const registry = engine.currentRegistry;
  const spec = registry.jobs.get(entry.job);
  if (!spec) return `job ${entry.job} is broken: ${(registry.broken.get(entry.job) ?? []).map(formatProblem).join("; ") || "it does not load"}`;
  if (spec.allowConcurrentRuns) return null;
  const active = engine.activeRuns.find((run) => run.run.job === entry.job);
  return active ? `run ${active.run.id} of ${entry.job} is still ${active.run.status} (allowConcurrentRuns is false)` : null;
}

export interface ControlContext {
  readonly engine: Engine;
  readonly store: Store;
  readonly scheduler: Scheduler;
  /** What `stau status` says of the instance (or copies) besides runs and schedule. */
  readonly describe: () => Promise<Record<string, unknown>>;
}

/** Active runs as the store has them: with a shared store, the chunks other copies run too. */
async function activeRuns(ctx: ControlContext): Promise<ArchivedRun[]> {
  if (ctx.engine.executesLocally) return ctx.engine.activeRuns.map((run) => ({ run: run.run, chunks: [...run.chunks.values()] }));
  const { runs, chunks } = await ctx.store.active();
  return runs.map((run) => ({ run, chunks: chunks.filter((c) => c.runId === run.id) }));
}

/** Carries out an order from `stau trigger/retry/cancel/rerun/status`, however it arrived. */
export async function handleControl(ctx: ControlContext, request: ControlRequest): Promise<unknown> {
  const { engine, scheduler } = ctx;
  const summary = (run: { id: string; job: string; status: string }) => ({ run: { id: run.id, job: run.job, status: run.status } });
  switch (request.cmd) {
    case "trigger":
      return summary(await engine.trigger({ job: request.job, kwargs: request.kwargs, workIds: request.workIds ?? null, source: "trigger" }));
    case "retry": {
      const run = await engine.retry(request.run);
      if (!run) throw new UsageError(`no run ${request.run}`, "list runs with stau runs");
      return summary(run);
    }
    case "rerun": {
      const run = await engine.rerun(request.run);
      if (!run) throw new UsageError(`no run ${request.run}`, "list runs with stau runs");
      return summary(run);
    }
    case "cancel": {
      if (await engine.cancel(request.run)) return { run: { id: request.run, cancelled: true } };
      const old = await ctx.store.getRun(request.run);
      if (!old) throw new UsageError(`no run ${request.run}`, "list runs with stau runs");
      throw new UsageError(`run ${request.run} has already finished (${old.run.status})`);
    }
    case "status":
      return {
        ...(await ctx.describe()),
        runs: runsJson(await activeRuns(ctx)),
        schedule: { paused: scheduler.paused, next: Object.fromEntries([...scheduler.nextFires()].map(([id, at]) => [id, at === null ? null : new Date(at).toISOString()])) },
      };
    default:
      throw new UsageError(`unknown command ${JSON.stringify((request as { cmd?: unknown }).cmd)}`);
  }
}
