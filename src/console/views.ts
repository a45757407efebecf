import { formatDuration } from "../config/duration.js";
import { formatProblem, type Problem } from "../config/problem.js";
import type { ControlRequest } from "../control/protocol.js";
import { displayPath, type ProjectPaths } from "../config/project.js";
import type { JobSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { kwargsKey } from "../graph/kwargs-key.js";
import { datasetLines, datasets } from "../graph/lineage.js";
import { planFacts } from "../graph/plan-facts.js";
import { codeHashes } from "../jobs/code-hash.js";
import { resolve } from "../graph/resolve.js";
import type { FreshnessView, PlannedChunk } from "../graph/types.js";
import { jobOfFileProblem, type Registry } from "../jobs/load.js";
import { parseLogLine, type AttemptLog } from "../store/logs.js";
import type { ArchivedRun } from "../store/records.js";
import { shortDuration } from "../ui/format.js";
import type { JobView, LogLine, PlanPreview, TriggerOptions } from "./contract.js";

// What the console shows that is computed from stau's records: the same for an
// instance on either store.

/** Every job as the console lists it: loaded ones, and broken ones with their problems. */
export function jobViews(registry: Registry, paths: ProjectPaths): JobView[] {
  const views: JobView[] = [...registry.jobs.values()].map((spec) => ({
    name: spec.name,
    file: displayPath(paths, spec.file),
    broken: null,
    problems: [],
    dependencies: spec.dependencies.map((d) => ({ job: d.job, maxLagMs: d.maxLagMs })),
    chunkSize: spec.chunkSize,
  }));
  // A name two files share loads from neither: it is listed broken too, not left out.
  const unloaded = new Map<string, readonly Problem[]>(registry.broken);
  for (const problem of registry.fileProblems) {
    const name = jobOfFileProblem(problem);
    if (registry.jobs.has(name) || registry.broken.has(name)) continue;
    unloaded.set(name, [...(unloaded.get(name) ?? []), problem]);
  }
  for (const [name, problems] of unloaded) {
    const lines = problems.map(formatProblem);
    views.push({ name, file: problems[0]?.file ?? name, broken: lines[0] ?? "does not load", problems: lines, dependencies: [], chunkSize: null });
  }
  return views.sort((a, b) => a.name.localeCompare(b.name));
}

/** The order a console trigger sends, kwargs and work IDs as the `T` form typed them; selectWork decides when none are typed. */
export function triggerOrder(job: string, options: TriggerOptions = {}): ControlRequest {
  return { cmd: "trigger", job, kwargs: options.kwargs ?? {}, workIds: options.workIds ? [...options.workIds] : null, source: "console" };
}

/** What a plan preview reads: the jobs, selectWork, freshness, past runs (for durations) and the workers. */
export interface PlanSources {
  readonly registry: Registry;
  readonly selectWork: (spec: JobSpec, kwargs: Kwargs) => Promise<WorkId[]>;
  readonly freshness: FreshnessView;
  readonly recent: readonly ArchivedRun[];
  readonly workers: number;
}

export async function planPreview(sources: PlanSources, job: string, options: TriggerOptions = {}, now = Date.now()): Promise<PlanPreview> {
  const { registry, selectWork, freshness, recent, workers } = sources;
  const spec = registry.jobs.get(job);
  if (!spec) throw new Error(`job ${job} does not load: ${(registry.broken.get(job) ?? []).map(formatProblem).join("; ")}`);
  const kwargs = options.kwargs ?? {};
  // Work IDs typed in the console win over selectWork, as they do for a trigger.
  const workIds = options.workIds != null ? [...options.workIds] : spec.hasSelectWork ? await selectWork(spec, kwargs) : null;
  const hashes = codeHashes(registry.jobs, job);
  const plan = resolve({ jobs: registry.jobs, job, kwargs, workIds, now, freshness, codeHashes: hashes });
  const mean = meanDurations(recent);
  // Per node (a job under one kwargs), fresh until the maxLag of the edges this plan reaches.
  const jobs = planFacts(plan, freshness, now, hashes).map((node) => ({
    job: node.job,
    kwargs: node.kwargs,
    status: node.status,
    chunks: node.chunks,
    freshUntil: node.freshUntil,
    reason: node.reason,
  }));
  const noHistory = [...new Set(plan.chunks.map((c) => c.job))].filter((name) => !mean.has(name));
  const etaMs = noHistory.length > 0 || plan.chunks.length === 0 ? null : estimate(plan.chunks, mean, workers);
  return { job, workIds: workIds?.length ?? 0, jobs, chunks: plan.chunks.length, etaMs, noHistory };
}

/** Mean time on a worker thread of a done chunk, per job, over the runs the console knows. */
function meanDurations(recent: readonly ArchivedRun[]): Map<string, number> {
  const sums = new Map<string, { total: number; n: number }>();
  for (const { chunks } of recent) {
    for (const c of chunks) {
      // Older records have no durationMs: their claim-to-end time is the best there is.
      const ms = c.durationMs ?? (c.startedAt !== null && c.finishedAt !== null ? c.finishedAt - c.startedAt : null);
      if (c.state !== "done" || ms === null) continue;
      const sum = sums.get(c.job) ?? sums.set(c.job, { total: 0, n: 0 }).get(c.job)!;
      sum.total += ms;
      sum.n++;
    }
  }
  return new Map([...sums].map(([job, { total, n }]) => [job, total / n]));
}

/**
 * How long the plan takes at least: no schedule beats the longest chain of chunks that
 * wait for each other (the critical path: one chunk of 10 s takes 10 s however many
 * workers are idle), nor the total work spread evenly over the workers. The larger of
 * the two is a lower bound that is tight in the cases people check — one long chunk, a
 * chain of jobs, many chunks of one job. A simulated schedule could be closer, but it
 * would claim to know the claim order and every chunk's own duration, which stau does
 * not; greedy scheduling is at most (total / workers) + critical path, so the real time
 * lies between the bound and that.
 */
function estimate(chunks: readonly PlannedChunk[], mean: ReadonlyMap<string, number>, workers: number): number {
  const byId = new Map(chunks.map((c) => [c.id, c]));
  const finish = new Map<string, number>();
  // Longest time from the start of the run to the end of `id`, its dependencies first.
  const finishOf = (id: string): number => {
    const known = finish.get(id);
    if (known !== undefined) return known;
    const chunk = byId.get(id);
    if (!chunk) return 0;
    let start = 0;
    for (const dep of chunk.dependsOn) start = Math.max(start, finishOf(dep));
    const end = start + (mean.get(chunk.job) ?? 0);
    finish.set(id, end);
    return end;
  };
  let critical = 0;
  let total = 0;
  // resolve() lists dependencies after the chunks that need them: walking from the end
  // keeps the recursion one level deep.
  for (let i = chunks.length - 1; i >= 0; i--) {
    critical = Math.max(critical, finishOf(chunks[i].id));
    total += mean.get(chunks[i].job) ?? 0;
  }
  return Math.max(critical, total / Math.max(1, workers));
}

/** The dependency tree of `root` with each job's freshness, then the datasets its jobs read and write (lineage). */
export function graphLines(registry: Registry, freshness: FreshnessView, root: string, now = Date.now()): string[] {
  const lines: string[] = [];
  const reached = new Set<string>();
  const walk = (job: string, prefix: string, lag: number | null, seen: Set<string>) => {
    reached.add(job);
    const last = freshness.lastSuccess(job, kwargsKey({}), null);
    const state = registry.broken.has(job)
      ? "broken"
      : last === undefined
        ? "never ran"
        : lag === null
          ? `last success ${shortDuration(now - last)} ago`
          : last + lag >= now
            ? `fresh for ${shortDuration(last + lag - now)}`
            : `stale by ${shortDuration(now - last - lag)}`;
    lines.push(`${prefix}${job}${lag === null ? "" : ` (maxLag ${formatDuration(lag)})`} — ${state}`);
    if (seen.has(job)) return;
    const deps = registry.jobs.get(job)?.dependencies ?? [];
    deps.forEach((dep, i) => walk(dep.job, `${prefix.replace(/[├└]─ $/, (m) => (m.startsWith("├") ? "│  " : "   "))}${i === deps.length - 1 ? "└─ " : "├─ "}`, dep.maxLagMs, new Set([...seen, job])));
  };
  walk(root, "", null, new Set());
  const data = datasets(registry.jobs, reached);
  if (data.length > 0) lines.push("", "datasets (written by → read by):", ...datasetLines(data).map((line) => `  ${line}`));
  return lines;
}

/** The lines of stored attempt logs as the console shows them, oldest first, the newest `count`. */
export function logLines(logs: readonly AttemptLog[], count: number): LogLine[] {
  return logs
    .flatMap((log) => log.text.split("\n").filter(Boolean).slice(-count).map((raw) => ({ job: log.job, chunkId: log.chunkId, attempt: log.attempt, ...parseLogLine(raw) })))
    .sort((a, b) => a.at - b.at)
    .slice(-count);
}
