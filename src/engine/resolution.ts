import type { WorkId } from "../config/types.js";
import { formatProblem } from "../config/problem.js";
import { StauError, errorMessage } from "../errors.js";
import { kwargsKey } from "../graph/kwargs-key.js";
import { UnknownJobError } from "../graph/raw-graph.js";
import { resolve } from "../graph/resolve.js";
import type { FreshnessView } from "../graph/types.js";
import type { Registry } from "../jobs/load.js";
import { chunkId, type ChunkRecord, type ChunkState, type RunRecord } from "../store/records.js";

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
  // One plain literal per chunk, and one canonical key per plan node: a run may have a
  // million chunks, and a spread of a fresh object costs several times its fields.
  const keys = plan.jobs.map((node) => kwargsKey(node.kwargs));
  const chunks = new Array<ChunkRecord>(plan.chunks.length);
  for (let i = 0; i < chunks.length; i++) {
    const c = plan.chunks[i]!;
    const dependsOn = c.dependsOn.length === 0 ? NO_DEPENDENCIES : c.dependsOn.map((d) => chunkId(run.id, d));
    const state = dependsOn.length > 0 ? "queued" : "pending";
    chunks[i] = record(chunkId(run.id, c.id), run.id, c.job, c.kwargs, keys[c.node]!, c.workIds, dependsOn, state, codeHashes?.get(c.job) ?? null);
  }
  return chunks;
}

/** Shared by every chunk without dependencies (records are never mutated). */
const NO_DEPENDENCIES: readonly string[] = Object.freeze([]);

/**
 * A run that cannot be resolved (broken job file, cycle, failing selectWork) fails
 * with one chunk of its job carrying the reason, so every consumer of chunks sees it.
 */
export function failedResolution(run: RunRecord, error: unknown, now: number): ChunkRecord {
  return {
    ...record(chunkId(run.id, `${run.job}.0`), run.id, run.job, run.kwargs, kwargsKey(run.kwargs), run.requestedWorkIds ?? [], NO_DEPENDENCIES, "failed", null),
    error: { kind: "load", message: errorMessage(error), stack: null },
    finishedAt: now,
  };
}

/**
 * A chunk not started yet, every field in one literal (one shape for all of them),
 * including those only a claim or a result sets (`worker`, `ranOn`): a copy that adds a
 * field the original lacks costs V8 about four times a copy that does not (measured:
 * ~730 against ~170 bytes for this record), and every claim and result copies it.
 */
function record(id: string, runId: string, job: string, kwargs: RunRecord["kwargs"], key: string, workIds: readonly WorkId[], dependsOn: readonly string[], state: ChunkState, codeHash: string | null): ChunkRecord {
  return {
    id,
    runId,
    job,
    kwargs,
    kwargsKey: key,
    codeHash,
    workIds,
    dependsOn,
    state,
    attempts: 0,
    error: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    notBefore: null,
    owner: null,
    token: null,
    worker: null,
    ranOn: null,
  };
}

/** Why a job cannot run: the problems of its file. */
export function brokenMessage(registry: Registry, job: string): string {
  const problems = registry.broken.get(job) ?? [];
  return `job ${job} cannot be loaded: ${problems.map(formatProblem).join("; ") || "unknown reason"}`;
}
