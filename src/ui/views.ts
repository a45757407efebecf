import { FINISHED_RUN_STATES } from "../engine/transitions.js";
import type { ChunkRecord, ChunkState, RunRecord } from "../store/records.js";
import type { JobView } from "../console/contract.js";
import type { DataState } from "./state.js";

// The row lists the panes show, derived from DataState once per data change — never per
// row or per frame. Each list is rebuilt only when the maps it reads were replaced.

export type JobState = "idle" | "queued" | "running" | "failed" | "broken";

export interface JobRow {
  readonly name: string;
  readonly state: JobState;
  readonly broken: string | null;
  /** The newest chunk outcome (or run failure) of this job. */
  readonly lastRun: { readonly at: number; readonly state: ChunkState } | null;
  readonly nextFire: number | null;
  readonly lastSuccess: number | null;
}

export type QueueRow = { readonly kind: "run"; readonly run: RunRecord; readonly on: readonly string[] } | { readonly kind: "chunk"; readonly chunk: ChunkRecord };

export type FailureRow =
  | { readonly kind: "broken"; readonly job: JobView }
  | { readonly kind: "chunk"; readonly chunk: ChunkRecord }
  | { readonly kind: "run"; readonly run: RunRecord };

export interface Views {
  readonly jobs: readonly JobRow[];
  readonly queue: readonly QueueRow[];
  readonly running: readonly ChunkRecord[];
  readonly failures: readonly FailureRow[];
  /** Chunks per state over runs that have not finished (what is in flight now). */
  readonly counts: Readonly<Record<ChunkState, number>>;
}

const same = (a: DataState, b: DataState, keys: readonly (keyof DataState)[]) => keys.every((k) => a[k] === b[k]);

/** Views for `data`, reusing every list of `prev` whose inputs did not change. */
export function deriveViews(data: DataState, prev?: { readonly data: DataState; readonly views: Views }): Views {
  const reuse = (keys: readonly (keyof DataState)[]) => prev !== undefined && same(prev.data, data, keys);
  const activity = reuse(["runs", "chunks"]);
  return {
    jobs: reuse(["jobs", "runs", "chunks", "nextFires", "lastSuccess"]) ? prev!.views.jobs : jobRows(data),
    queue: reuse(["runs", "chunks", "waitingOn"]) ? prev!.views.queue : queueRows(data),
    running: activity ? prev!.views.running : runningRows(data),
    failures: reuse(["jobs", "runs", "chunks"]) ? prev!.views.failures : failureRows(data),
    counts: activity ? prev!.views.counts : counts(data),
  };
}

function jobRows(data: DataState): JobRow[] {
  const agg = new Map<string, { running: number; queued: number; last: JobRow["lastRun"] }>();
  const of = (job: string) => agg.get(job) ?? agg.set(job, { running: 0, queued: 0, last: null }).get(job)!;
  for (const chunk of data.chunks.values()) {
    const a = of(chunk.job);
    if (chunk.state === "running") a.running++;
    else if (chunk.state === "queued" || chunk.state === "pending") a.queued++;
    const at = chunk.finishedAt ?? chunk.startedAt;
    if (at !== null && chunk.state !== "running" && (!a.last || at >= a.last.at)) a.last = { at, state: chunk.state };
  }
  for (const run of data.runs.values()) {
    if (run.status === "waiting") of(run.job).queued++;
    // A run can fail before it has chunks (a cycle, a throwing selectWork).
    if (run.status === "failed" && run.error && run.finishedAt !== null) {
      const a = of(run.job);
      if (!a.last || run.finishedAt >= a.last.at) a.last = { at: run.finishedAt, state: "failed" };
    }
  }
  return data.jobs.map((job) => {
    const a = agg.get(job.name);
    const state: JobState = job.broken ? "broken" : a?.running ? "running" : a?.queued ? "queued" : a?.last?.state === "failed" ? "failed" : "idle";
    return { name: job.name, state, broken: job.broken, lastRun: a?.last ?? null, nextFire: data.nextFires[job.name] ?? null, lastSuccess: data.lastSuccess[job.name] ?? null };
  });
}

function queueRows(data: DataState): QueueRow[] {
  const rows: QueueRow[] = [];
  const waiting = [...data.runs.values()].filter((r) => r.status === "waiting").sort((a, b) => a.createdAt - b.createdAt);
  for (const run of waiting) rows.push({ kind: "run", run, on: data.waitingOn.get(run.id) ?? [] });
  for (const chunk of data.chunks.values()) if (chunk.state === "queued" || chunk.state === "pending") rows.push({ kind: "chunk", chunk });
  return rows;
}

function runningRows(data: DataState): ChunkRecord[] {
  const rows: ChunkRecord[] = [];
  for (const chunk of data.chunks.values()) if (chunk.state === "running") rows.push(chunk);
  return rows.sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
}

function failureRows(data: DataState): FailureRow[] {
  const dated: { at: number; row: FailureRow }[] = [];
  for (const chunk of data.chunks.values()) if (chunk.state === "failed") dated.push({ at: chunk.finishedAt ?? 0, row: { kind: "chunk", chunk } });
  for (const run of data.runs.values()) if (run.status === "failed" && run.error) dated.push({ at: run.finishedAt ?? run.createdAt, row: { kind: "run", run } });
  dated.sort((a, b) => b.at - a.at);
  const broken: FailureRow[] = data.jobs.filter((j) => j.broken).map((job) => ({ kind: "broken", job }));
  return [...broken, ...dated.map((d) => d.row)];
}

function counts(data: DataState): Record<ChunkState, number> {
  const result: Record<ChunkState, number> = { queued: 0, pending: 0, running: 0, done: 0, failed: 0, upstream_failed: 0, cancelled: 0 };
  for (const chunk of data.chunks.values()) {
    const run = data.runs.get(chunk.runId);
    if (!run || !FINISHED_RUN_STATES.has(run.status)) result[chunk.state]++;
  }
  return result;
}

