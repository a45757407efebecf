import type { ControlRequest } from "../control/protocol.js";
import type { Engine } from "../engine/engine.js";
import { codeDrift } from "../engine/git.js";
import { didYouMean } from "../did-you-mean.js";
import { UsageError } from "../errors.js";
import { discoverJobs } from "../jobs/discover.js";
import { JobProblem } from "../jobs/load.js";
import { runsJson } from "../json.js";
import type { Scheduler } from "../schedule/scheduler.js";
import type { ArchivedRun, RunRecord } from "../store/records.js";
import type { Store } from "../store/store.js";

export interface OrderContext {
  readonly engine: Engine;
  readonly store: Store;
  readonly scheduler: Scheduler;
  /** The project's jobs/ folder: a job may have been added there since the instance loaded it. */
  readonly jobsDir: string;
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
      try {
        return summary(await engine.trigger({ job: request.job, kwargs: request.kwargs, workIds: request.workIds ?? null, source: request.source ?? "trigger" }));
      } catch (error) {
        throw addedSinceLoad(ctx, request.job, error);
      }
    case "retry": {
      const run = await engine.retry((await runNamed(ctx, request.run, "latest")).id);
      if (!run) throw new UsageError(`no run ${request.run}`, "list runs with stau runs");
      return summary(run);
    }
    case "rerun": {
      const original = await runNamed(ctx, request.run, "latest");
      const run = await engine.rerun(original.id);
      if (!run) throw new UsageError(`no run ${request.run}`, "list runs with stau runs");
      const warning = codeDrift(original, run);
      return warning ? { ...summary(run), warning } : summary(run);
    }
    case "cancel": {
      const target = await runNamed(ctx, request.run, "active");
      if (await engine.cancel(target.id)) return { run: { id: target.id, job: target.job, cancelled: true } };
      throw new UsageError(`run ${target.id} of ${target.job} has already finished (${target.status})`);
    }
    case "pause":
    case "resume":
      if (request.cmd === "pause") scheduler.pause();
      else scheduler.resume();
      return { paused: scheduler.paused };
    case "events":
      // Streams are the channel's (socket-orders.ts); an order of this kind reaching here came through a database.
      throw new UsageError("an event stream is only served on the control socket");
    case "prune": {
      // Here, on the instance that orchestrates: on the embedded store it alone may write the history.
      const before = Date.now() - request.olderThanMs;
      return { ...(await ctx.store.prune(before, { dryRun: request.dryRun })), before: new Date(before).toISOString(), dryRun: request.dryRun };
    }
    case "status":
      return {
        ...(await ctx.describe()),
        ...(request.runs === false ? {} : { runs: runsJson(await activeRuns(ctx.store)) }),
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

/**
 * The run an order names: a run id, or a job name for that job's newest run (`active`:
 * its newest unfinished one, as cancelling a finished run means nothing). An unknown
 * name is a usage error with the job it is probably a typo of.
 */
async function runNamed(ctx: OrderContext, ref: string, which: "latest" | "active"): Promise<RunRecord> {
  const byId = await ctx.store.getRun(ref);
  if (byId) return byId.run;
  const registry = ctx.engine.currentRegistry;
  const jobs = [...registry.jobs.keys(), ...registry.broken.keys()];
  if (!jobs.includes(ref)) throw new UsageError(`no run or job ${JSON.stringify(ref)}${didYouMean(ref, jobs)}`, "runs are listed by stau runs, jobs are the files in jobs/");
  const runs = which === "active" ? (await ctx.store.active()).runs : (await ctx.store.listRunSummaries(RUNS_SEARCHED)).map((r) => r.run);
  const newest = runs.filter((run) => run.job === ref).sort((a, b) => b.createdAt - a.createdAt)[0];
  if (newest) return newest;
  throw new UsageError(which === "active" ? `job ${ref} has no active run` : `job ${ref} has no run among the newest ${RUNS_SEARCHED}`, "list runs with stau runs");
}

/** How far back a job's newest run is looked for. */
const RUNS_SEARCHED = 500;

/** An unknown job that has a file in jobs/ now was added after this instance read jobs/: say to restart rather than "unknown". */
function addedSinceLoad(ctx: OrderContext, job: string, error: unknown): unknown {
  if (!(error instanceof JobProblem) || error.kind !== "unknown") return error;
  if (!discoverJobs(ctx.jobsDir, (file) => file).files.some((file) => file.name === job)) return error;
  return new UsageError(
    `job ${job} was added to jobs/ after this instance read its jobs, so it does not know it yet`,
    "restart the instance to load it (stau start reads jobs/ when it starts; stau dev reloads by itself)",
  );
}