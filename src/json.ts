import type { Plan } from "./graph/types.js";
import type { ArchivedRun, ChunkRecord } from "./store/records.js";

// The JSON contracts (README, "JSON contracts"), built in one place. Tests and scripts outside this
// repository rely on these shapes: fields may be added, never renamed or removed.

export function planJson(plan: Plan) {
  return {
    job: plan.job,
    workIds: plan.workIds,
    jobs: plan.jobs.map((j) => ({ job: j.job, status: j.status })),
    chunks: plan.chunks.map((c) => ({ id: c.id, job: c.job, workIds: c.workIds, kwargs: c.kwargs, dependsOn: c.dependsOn })),
  };
}

function chunkJson(chunk: ChunkRecord) {
  return {
    id: chunk.id,
    job: chunk.job,
    workIds: chunk.workIds,
    status: chunk.state,
    attempts: chunk.attempts,
    error: chunk.error ? { message: chunk.error.message, kind: chunk.error.kind } : null,
  };
}

export function runResultJson({ run, chunks }: ArchivedRun) {
  return { run: { id: run.id, job: run.job, status: run.status }, chunks: chunks.map(chunkJson) };
}

/** Chunk counts of `stau runs`: queued includes pending, failed includes upstream_failed and cancelled. */
function chunkCounts(chunks: readonly ChunkRecord[]) {
  const counts = { done: 0, running: 0, queued: 0, failed: 0 };
  for (const chunk of chunks) {
    if (chunk.state === "done") counts.done++;
    else if (chunk.state === "running") counts.running++;
    else if (chunk.state === "queued" || chunk.state === "pending") counts.queued++;
    else counts.failed++;
  }
  return counts;
}

/**
 * `stau runs --json` (and the runs of `stau status`). `interrupted` marks an unfinished run
 * no live instance will take further (`instancesAlive` false): its status stays as stored,
 * and the next instance to start takes it up.
 */
export function runsJson(runs: readonly ArchivedRun[], instancesAlive = true) {
  return runs.map(({ run, chunks }) => ({
    id: run.id,
    job: run.job,
    status: run.status,
    trigger: run.trigger,
    createdAt: new Date(run.createdAt).toISOString(),
    finishedAt: run.finishedAt === null ? null : new Date(run.finishedAt).toISOString(),
    chunks: chunkCounts(chunks),
    interrupted: !instancesAlive && run.finishedAt === null,
  }));
}
