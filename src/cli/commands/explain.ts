import { formatDuration } from "../../config/duration.js";
import { formatProblem } from "../../config/problem.js";
import type { JobSpec } from "../../config/spec.js";
import type { WorkId } from "../../config/types.js";
import { ActiveRun } from "../../engine/active-run.js";
import { blockers } from "../../engine/admission.js";
import { errorMessage } from "../../errors.js";
import { newestSuccess, planFacts, type JobFacts } from "../../graph/plan-facts.js";
import { resolve } from "../../graph/resolve.js";
import type { FreshnessView } from "../../graph/types.js";
import { codeHashes } from "../../jobs/code-hash.js";
import { jobProblem, loadRegistry } from "../../jobs/load.js";
import { nextFire } from "../../schedule/ticks.js";
import type { ChunkRecord, RunRecord } from "../../store/records.js";
import { parseKwargs, parseWorkIds } from "../args.js";
import { paint, printJson } from "../output.js";
import { currentProject, readStore, type RuntimeFlags } from "../runtime.js";
import { selectedWork } from "../select-work.js";
import { dateTime } from "../../ui/format.js";

const at = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

export interface ExplainFlags extends RuntimeFlags {
  json?: boolean;
  kwargs?: string;
  work?: string;
}

/**
 * `stau explain <job>`: why a job is or is not running now — broken, waiting on which
 * run, how fresh each dependency is on the work IDs a trigger would cover (the plan's
 * own facts, so explain and plan agree), next tick, skipped by overlap. Reads the
 * store, so it works with or without a running instance.
 */
export async function explainCommand(job: string, flags: ExplainFlags): Promise<number> {
  const kwargs = parseKwargs(flags.kwargs);
  const given = parseWorkIds(flags.work);
  const paths = currentProject(flags);
  const registry = await loadRegistry(paths);
  const spec = registry.jobs.get(job);
  const broken = registry.broken.get(job);
  // A broken job is explained (that it is broken, and why); any other problem is the answer.
  const problem = jobProblem(registry, job);
  if (problem && problem.kind !== "broken") throw problem;
  let planError: string | null = null;
  let workIds: WorkId[] | null = null;
  if (spec) workIds = await selectedWork(paths, spec, kwargs, given).catch((error) => ((planError = `selectWork failed: ${errorMessage(error)}`), null));
  const now = Date.now();
  const { runs, chunks, marks, fresh, holder } = await readStore(flags, async (store) => ({
    ...(await store.active()),
    marks: await store.scheduleMarks(),
    fresh: store.freshness(),
    holder: await store.leadership.holder(),
  }));

  const involved = activeRunsOf(job, registry.jobs, runs, chunks);
  const variants = fresh.kwargsKeys(job).map((key) => ({ kwargs: JSON.parse(key) as unknown, lastSuccess: fresh.lastSuccess(job, key, null) ?? null }));
  const lastSuccess = newestSuccess(fresh, job);
  let dependencies: ReturnType<typeof dependencyReport> = [];
  if (spec && planError === null) {
    try {
      dependencies = dependencyReport(spec, registry.jobs, fresh, kwargs, workIds, now);
    } catch (error) {
      planError = errorMessage(error);
    }
  }
  const schedule = registry.schedule.entries
    .filter((e) => e.job === job)
    .map((entry) => {
      const mark = marks.get(entry.id);
      return {
        entry: entry.id,
        enabled: entry.enabled,
        /** A glob: the entry fires on arrivals, not on ticks. */
        onFiles: entry.onFiles,
        lastFiles: mark?.lastFiles ?? [],
        nextTick: at(nextFire(entry, mark, now)),
        lastTick: at(mark?.lastTickAt),
        lastSkip: mark?.lastSkip ? { at: at(mark.lastSkip.tickAt), reason: mark.lastSkip.reason } : null,
      };
    });
  const report = {
    job,
    broken: broken ? broken.map(formatProblem) : null,
    instance: holder ? { pid: holder.pid, command: holder.command, hostname: holder.hostname } : null,
    runs: involved,
    lastSuccess: at(lastSuccess),
    lastSuccessByKwargs: variants.map((v) => ({ kwargs: v.kwargs, lastSuccess: at(v.lastSuccess) })),
    workIds: workIds?.length ?? null,
    planError,
    dependencies,
    schedule,
  };
  if (flags.json) {
    printJson(report);
    return 0;
  }
  const out = process.stdout;
  const say = (text: string) => out.write(text + "\n");
  // The report's ISO instants (for --json), as people read them everywhere else.
  const shown = (iso: string | null) => (iso === null ? "never" : dateTime(Date.parse(iso)));
  say(paint("bold", job));
  if (broken) say(`  ${paint("red", "broken", out)}: it is not scheduled and its chunks are held until the file is fixed\n${broken.map((p) => `    ${formatProblem(p)}`).join("\n")}`);
  say(report.instance ? `  stau is running (pid ${report.instance.pid} on ${report.instance.hostname}, ${report.instance.command}): it orchestrates` : "  no stau instance orchestrates on this store: nothing fires the schedule");
  if (involved.length === 0) say("  not in any active run");
  for (const run of involved) {
    const c = run.chunks as Record<string, number>;
    say(`  in run ${run.id} (${run.job}, ${run.status}): running ${c.running}, queued ${c.queued + c.pending}, done ${c.done}, failed ${c.failed}`);
    if (run.waitingOn.length > 0) say(`    waiting for ${run.waitingOn.map((w) => `run ${w}`).join(", ")} to finish the jobs it depends on`);
  }
  // Under which kwargs, unless it only ever ran without any.
  const perKwargs = variants.length > 1 || (variants.length === 1 && Object.keys(variants[0].kwargs as object).length > 0);
  say(`  last success: ${shown(report.lastSuccess)}${perKwargs ? ` (${variants.map((v) => `${JSON.stringify(v.kwargs)} ${v.lastSuccess === null ? "never" : dateTime(v.lastSuccess)}`).join(", ")})` : ""}`);
  if (planError) say(`  ${paint("red", "cannot plan it", out)}: ${planError}`);
  else if (workIds !== null) say(`  a trigger now covers ${workIds.length} work ID${workIds.length === 1 ? "" : "s"}${given ? " (as given)" : spec?.hasSelectWork ? " (from selectWork)" : ""}`);
  for (const dep of dependencies) {
    const kw = Object.keys(dep.kwargs).length ? ` ${JSON.stringify(dep.kwargs)}` : "";
    const until = dep.freshUntil ? ` until ${shown(dep.freshUntil)}` : "";
    const state = dep.fresh ? paint("green", `fresh${until}`, out) : paint("yellow", `${dep.reason}${dep.freshIds > 0 ? ` (the other ${dep.freshIds} fresh${until})` : ""}`, out);
    say(`  needs ${dep.job}${kw} (maxLag ${dep.maxLag}): ${state}; last success ${shown(dep.lastSuccess)}`);
  }
  if (schedule.length === 0) say("  not in the schedule");
  for (const entry of schedule) {
    const when = entry.onFiles !== null ? `fires when files matching ${entry.onFiles} appear or change` : `next tick ${shown(entry.nextTick)}`;
    const last = entry.onFiles !== null ? (entry.lastTick ? `, last fired ${shown(entry.lastTick)} for ${entry.lastFiles.join(", ")}` : "") : entry.lastTick ? `, last tick ${shown(entry.lastTick)}` : "";
    say(`  schedule ${entry.entry}: ${entry.enabled ? when : "disabled"}${last}`);
    if (entry.lastSkip) say(`    last skipped ${shown(entry.lastSkip.at)}: ${entry.lastSkip.reason}`);
  }
  return 0;
}

/** Active runs of `job` or holding chunks of it, with what a waiting run waits for (the engine's wait rule). */
function activeRunsOf(job: string, jobs: ReadonlyMap<string, JobSpec>, runs: readonly RunRecord[], chunks: readonly ChunkRecord[]) {
  const active = runs.map((run) => {
    const index = new ActiveRun(run);
    index.index(chunks.filter((c) => c.runId === run.id));
    return index;
  });
  return active
    .map((run) => ({ run, mine: [...run.chunks.values()].filter((c) => c.job === job) }))
    .filter(({ run, mine }) => run.run.job === job || mine.length > 0)
    .map(({ run, mine }) => ({
      id: run.run.id,
      job: run.run.job,
      status: run.run.status,
      chunks: Object.fromEntries(["queued", "pending", "running", "done", "failed"].map((s) => [s, mine.filter((c) => c.state === s).length])),
      /** "<run> (<job>)" for each run holding unfinished chunks of a job this one depends on. */
      waitingOn: run.run.status === "waiting" ? blockers(jobs, run, active) : [],
    }));
}

/** Each direct dependency as the plan of a trigger now sees it (planFacts), in the order the job lists them. */
function dependencyReport(spec: JobSpec, jobs: ReadonlyMap<string, JobSpec>, freshness: FreshnessView, kwargs: Record<string, unknown>, workIds: WorkId[] | null, now: number) {
  const hashes = codeHashes(jobs, spec.name);
  const plan = resolve({ jobs, job: spec.name, kwargs, workIds, now, freshness, codeHashes: hashes });
  const facts = planFacts(plan, freshness, now, hashes);
  return plan.edges
    .filter((edge) => edge.parent === 0)
    .map(({ child, dep }) => {
      const node: JobFacts = facts[child];
      return {
        job: dep.job,
        kwargs: node.kwargs,
        maxLag: formatDuration(dep.maxLagMs),
        lastSuccess: at(node.lastSuccess),
        freshUntil: at(node.freshUntil),
        fresh: node.status === "fresh",
        staleIds: node.staleIds,
        freshIds: node.freshIds,
        reason: node.reason,
      };
    });
}
