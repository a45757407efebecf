import type { JobFacts } from "./graph/plan-facts.js";
import type { Plan } from "./graph/types.js";
import type { ArchivedRun, ChunkRecord, ChunkState } from "./store/records.js";
import { statesOf, type RunSummary } from "./store/run-summary.js";

// The JSON contracts (README, "JSON contracts"), built in one place. Tests and scripts outside this
// repository rely on these shapes: fields may be added, never renamed or removed.

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `stau plan --json`: each node (a job under one kwargs) with why it runs (planFacts). */
export function planJson(plan: Plan, facts: readonly JobFacts[]) {
  return {
    job: plan.job,
    workIds: plan.workIds,
    jobs: facts.map((j) => ({
      job: j.job,
      status: j.status,
      kwargs: j.kwargs,
      chunks: j.chunks,
      staleIds: j.staleIds,
      freshIds: j.freshIds,
      lastSuccess: iso(j.lastSuccess),
      freshUntil: iso(j.freshUntil),
      reason: j.reason,
    })),
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
function chunkCounts(states: RunSummary["states"]) {
  const n = (state: ChunkState) => states[state] ?? 0;
  return { done: n("done"), running: n("running"), queued: n("queued") + n("pending"), failed: n("failed") + n("upstream_failed") + n("cancelled") };
}

/**
 * `stau runs --json` (and the runs of `stau status`). `interrupted` marks an unfinished run
 * no live instance will take further (`instancesAlive` false): its status stays as stored,
 * and the next instance to start takes it up.
 */
export function runsJson(runs: readonly (ArchivedRun | RunSummary)[], instancesAlive = true) {
  return runs.map((listed) => ({ run: listed.run, states: "states" in listed ? listed.states : statesOf(listed.chunks) })).map(({ run, states }) => ({
    id: run.id,
    job: run.job,
    status: run.status,
    trigger: run.trigger,
    createdAt: new Date(run.createdAt).toISOString(),
    finishedAt: run.finishedAt === null ? null : new Date(run.finishedAt).toISOString(),
    chunks: chunkCounts(states),
    /** Chunks per state as stored (added after `chunks`, whose failed bucket also holds upstream_failed and cancelled ones). */
    states: { ...states },
    interrupted: !instancesAlive && run.finishedAt === null,
  }));
}

/** A word for a POSIX shell: quoted only when it has to be. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** The command that runs one chunk's work again: its job, on its work IDs, with its kwargs (`stau run`, dependencies as fresh as they need). */
export function chunkRerunCommand(chunk: Pick<ChunkRecord, "job" | "kwargs" | "workIds">): string {
  const words = ["stau", "run", chunk.job];
  if (Object.keys(chunk.kwargs).length > 0) words.push("--kwargs", JSON.stringify(chunk.kwargs));
  // "1,2,3" turns IDs that look like numbers into numbers: string IDs go as a JSON array.
  if (chunk.workIds.length > 0) words.push("--work", chunk.workIds.every((id) => typeof id === "number") ? chunk.workIds.join(",") : JSON.stringify(chunk.workIds));
  return words.map(shellWord).join(" ");
}

/** `stau show <run> --json`: everything about one run, each chunk with its last error and where it ran. */
export function showJson({ run, chunks }: ArchivedRun) {
  return {
    run: {
      id: run.id,
      job: run.job,
      status: run.status,
      trigger: run.trigger,
      kwargs: run.kwargs,
      workIds: run.workIds ?? run.requestedWorkIds,
      gitCommit: run.gitCommit,
      gitDirty: run.gitDirty ?? null,
      createdAt: iso(run.createdAt),
      finishedAt: iso(run.finishedAt),
      startedAt: iso(run.startedAt),
      scheduleEntry: run.scheduleEntry,
      origin: run.origin,
      error: run.error,
      rerun: `stau rerun ${run.id}`,
    },
    chunks: chunks.map((chunk) => ({
      id: chunk.id,
      job: chunk.job,
      workIds: chunk.workIds,
      status: chunk.state,
      attempts: chunk.attempts,
      durationMs: chunk.durationMs ?? null,
      error: chunk.error ? { message: chunk.error.message, kind: chunk.error.kind, stack: chunk.error.stack ?? null } : null,
      kwargs: chunk.kwargs,
      dependsOn: chunk.dependsOn,
      startedAt: iso(chunk.startedAt ?? null),
      finishedAt: iso(chunk.finishedAt ?? null),
      instance: chunk.ranOn?.instance ?? chunk.owner,
      worker: chunk.ranOn ? chunk.ranOn.worker : (chunk.worker ?? null),
      rerun: chunkRerunCommand(chunk),
    })),
  };
}
