import type { WorkId } from "../config/types.js";
import { formatProblem } from "../config/problem.js";
import { StauError, errorMessage } from "../errors.js";
import { kwargsKey } from "../graph/kwargs-key.js";
import { UnknownJobError } from "../graph/raw-graph.js";
import { resolve } from "../graph/resolve.js";
import type { FreshnessView } from "../graph/types.js";
import type { Registry } from "../jobs/load.js";
import { chunkId, type ChunkRecord, type RunRecord } from "../store/records.js";

// From a run to its chunk records: the one place that builds a chunk record.

/**
 * The chunks a run resolves into now (README "From a trigger to chunks", steps 1 and 4),
 * each with its job's current code hash, which its success records for codeAware edges.
 */
export function resolveChunks(registry: Registry, run: RunRecord, workIds: readonly WorkId[] | null, freshness: FreshnessView, now: number, codeHashes?: ReadonlyMap<string, string>): ChunkRecord[] {
  let plan;
  try {
    plan = resolve({ jobs: registry.jobs, job: run.job, kwargs: run.kwargs, workIds, now, freshness, codeHashes });
  } catch (error) {
    // A dependency that is a file but failed to load reads better than "unknown".
    if (error instanceof UnknownJobError && registry.broken.has(error.dependency)) throw new StauError("load", brokenMessage(registry, error.dependency));
    throw error;
  }
  return plan.chunks.map((c) => ({
    ...blank(run.id, c.job, c.kwargs, c.workIds),
    id: chunkId(run.id, c.id),
    dependsOn: c.dependsOn.map((d) => chunkId(run.id, d)),
    state: c.dependsOn.length > 0 ? "queued" : "pending",
    codeHash: codeHashes?.get(c.job) ?? null,
  }));
}

/**
 * A run that cannot be resolved (broken job file, cycle, failing selectWork) fails
 * with one chunk of its job carrying the reason, so every consumer of chunks sees it.
 */
export function failedResolution(run: RunRecord, error: unknown, now: number): ChunkRecord {
  return {
    ...blank(run.id, run.job, run.kwargs, run.requestedWorkIds ?? []),
    id: chunkId(run.id, `${run.job}.0`),
    state: "failed",
    error: { kind: "load", message: errorMessage(error), stack: null },
    finishedAt: now,
  };
}

function blank(runId: string, job: string, kwargs: RunRecord["kwargs"], workIds: readonly WorkId[]): ChunkRecord {
  return {
    id: "",
    runId,
    job,
    kwargs,
    kwargsKey: kwargsKey(kwargs),
    workIds,
    dependsOn: [],
    state: "queued",
    attempts: 0,
    error: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    notBefore: null,
    owner: null,
    token: null,
  };
}

/** Why a job cannot run: the problems of its file. */
export function brokenMessage(registry: Registry, job: string): string {
  const problems = registry.broken.get(job) ?? [];
  return `job ${job} cannot be loaded: ${problems.map(formatProblem).join("; ") || "unknown reason"}`;
}
