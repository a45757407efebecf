import { formatDuration } from "../config/duration.js";
import { formatProblem } from "../config/problem.js";
import { displayPath, type ProjectPaths } from "../config/project.js";
import type { JobSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { kwargsKey } from "../graph/kwargs-key.js";
import { resolve } from "../graph/resolve.js";
import type { FreshnessView } from "../graph/types.js";
import type { Registry } from "../jobs/load.js";
import { parseLogLine, type AttemptLog } from "../store/logs.js";
import type { ArchivedRun } from "../store/records.js";
import type { JobView, LogLine, PlanPreview } from "./contract.js";

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
  for (const [name, problems] of registry.broken) {
    const lines = problems.map(formatProblem);
    views.push({ name, file: problems[0]?.file ?? name, broken: lines[0] ?? "does not load", problems: lines, dependencies: [], chunkSize: null });
  }
  return views.sort((a, b) => a.name.localeCompare(b.name));
}

/** What a plan preview reads: the jobs, selectWork, freshness, past runs (for durations) and the workers. */
export interface PlanSources {
  readonly registry: Registry;
  readonly selectWork: (spec: JobSpec, kwargs: Kwargs) => Promise<WorkId[]>;
  readonly freshness: FreshnessView;
  readonly recent: readonly ArchivedRun[];
  readonly workers: number;
}

export async function planPreview({ registry, selectWork, freshness, recent, workers }: PlanSources, job: string, now = Date.now()): Promise<PlanPreview> {
  const spec = registry.jobs.get(job);
  if (!spec) throw new Error(`job ${job} does not load: ${(registry.broken.get(job) ?? []).map(formatProblem).join("; ")}`);
  const workIds = spec.hasSelectWork ? await selectWork(spec, {}) : null;
  const plan = resolve({ jobs: registry.jobs, job, kwargs: {}, workIds, now, freshness });
  // Past durations per job (time on a worker thread), from the runs the console knows.
  const durations = new Map<string, number[]>();
  for (const { chunks } of recent) {
    for (const c of chunks) {
      const ms = c.durationMs ?? (c.startedAt !== null && c.finishedAt !== null ? c.finishedAt - c.startedAt : null);
      if (c.state !== "done" || ms === null) continue;
      const list = durations.get(c.job);
      if (list) list.push(ms);
      else durations.set(c.job, [ms]);
    }
  }
  let total = 0;
  let known = false;
  const jobs = plan.jobs.map((node) => {
    const chunks = plan.chunks.filter((c) => c.job === node.job).length;
    const past = durations.get(node.job);
    if (past?.length) {
      known = true;
      total += (past.reduce((a, b) => a + b, 0) / past.length) * chunks;
    }
    // Fresh until the tightest maxLag of the edges that lead to it runs out.
    const lags = [...registry.jobs.values()].flatMap((s) => s.dependencies.filter((d) => d.job === node.job).map((d) => d.maxLagMs));
    const freshUntil = node.status === "fresh" && node.freshSince && lags.length ? node.freshSince + Math.min(...lags) : null;
    return { job: node.job, status: node.status, chunks, freshUntil };
  });
  return { job, workIds: workIds?.length ?? 0, jobs, chunks: plan.chunks.length, etaMs: known ? total / Math.max(1, workers) : null };
}

export function graphLines(registry: Registry, freshness: FreshnessView, root: string, now = Date.now()): string[] {
  const lines: string[] = [];
  const walk = (job: string, prefix: string, lag: number | null, seen: Set<string>) => {
    const last = freshness.lastSuccess(job, kwargsKey({}), null);
    const state = registry.broken.has(job)
      ? "broken"
      : last === undefined
        ? "never ran"
        : lag === null
          ? `last success ${formatDuration(now - last)} ago`
          : last + lag >= now
            ? `fresh for ${formatDuration(last + lag - now)}`
            : `stale by ${formatDuration(now - last - lag)}`;
    lines.push(`${prefix}${job}${lag === null ? "" : ` (maxLag ${formatDuration(lag)})`} — ${state}`);
    if (seen.has(job)) return;
    const deps = registry.jobs.get(job)?.dependencies ?? [];
    deps.forEach((dep, i) => walk(dep.job, `${prefix.replace(/[├└]─ $/, (m) => (m.startsWith("├") ? "│  " : "   "))}${i === deps.length - 1 ? "└─ " : "├─ "}`, dep.maxLagMs, new Set([...seen, job])));
  };
  walk(root, "", null, new Set());
  return lines;
}

/** The lines of stored attempt logs as the console shows them, oldest first, the newest `count`. */
export function logLines(logs: readonly AttemptLog[], count: number): LogLine[] {
  return logs
    .flatMap((log) => log.text.split("\n").filter(Boolean).slice(-count).map((raw) => ({ job: log.job, chunkId: log.chunkId, attempt: log.attempt, ...parseLogLine(raw) })))
    .sort((a, b) => a.at - b.at)
    .slice(-count);
}
