import type { ControlRequest } from "../control/protocol.js";
import type { Engine } from "../engine/engine.js";
import { UsageError } from "../errors.js";
import { runsJson } from "../json.js";
import type { Scheduler } from "../schedule/scheduler.js";
import type { ArchivedRun } from "../store/records.js";
import type { Store } from "../store/store.js";

export interface OrderContext {
  readonly engine: Engine;
  readonly store: Store;
  readonly scheduler: Scheduler;
  /** What `stau status` says of the instances besides runs and schedule. */
  readonly describe: () => Promise<Record<string, unknown>>;
}

type RunSummary = { run: { id: string; job: string; status: string } };
const summary = (run: { id: string; job: string; status: string }): RunSummary => ({ run: { id: run.id, job: run.job, status: run.status } });

/** Carries out an order (trigger, retry, cancel, rerun, pause, resume, status) on the orchestrating instance, however it arrived. */
export async function handleOrder(ctx: OrderContext, request: ControlRequest): Promise<unknown> {
  const { engine, scheduler } = ctx;
  switch (request.cmd) {
    case "trigger":
      return summary(await engine.trigger({ job: request.job, kwargs: request.kwargs, workIds: request.workIds ?? null, source: request.source ?? "trigger" }));
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
    case "pause":
    case "resume":
      if (request.cmd === "pause") scheduler.pause();
      else scheduler.resume();
      return { paused: scheduler.paused };
    case "status":
      return {
        ...(await ctx.describe()),
        runs: runsJson(await activeRuns(ctx.store)),
        schedule: { paused: scheduler.paused, next: Object.fromEntries([...scheduler.nextFires()].map(([id, at]) => [id, at === null ? null : new Date(at).toISOString()])) },
      };
    default:
      throw new UsageError(`unknown command ${JSON.stringify((request as { cmd?: unknown }).cmd)}`);
  }
}

/** Active runs as the store has them: the chunks every instance runs. */
export async function activeRuns(store: Store): Promise<ArchivedRun[]> {
  const { runs, chunks } = await store.active();
  const byRun = new Map<string, ArchivedRun["chunks"][number][]>(runs.map((r) => [r.id, []]));
  for (const chunk of chunks) byRun.get(chunk.runId)?.push(chunk);
  return runs.map((run) => ({ run, chunks: byRun.get(run.id)! }));
}
