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

/**
 * Chunks per state over runs that have not finished (what is in flight now). `running`
 * counts chunks on a worker thread; `claimed` those an executor took ahead of a free
 * thread (the store calls both running).
 */
export type ChunkCounts = Readonly<Record<ChunkState | "claimed", number>>;

/** What the Failures pane lists, by kind: it reaches past the active runs to the recent finished ones. */
export interface FailureCounts {
  readonly chunks: number;
  /** Runs that failed before they had chunks (a cycle, a throwing selectWork). */
  readonly runs: number;
  readonly broken: number;
}

export interface Views {
  readonly jobs: readonly JobRow[];
  /** Waiting runs, then chunks claimed ahead, then pending and queued chunks. */
  readonly queue: readonly QueueRow[];
  /** Chunks on a worker thread, oldest first. */
  readonly running: readonly ChunkRecord[];
  readonly failures: readonly FailureRow[];
  readonly failureCounts: FailureCounts;
  readonly counts: ChunkCounts;
}

/**
 * Whether a chunk the store calls running is on a worker thread. An executor claims a
 * little ahead of its threads; such a chunk of this console's instance (`self`) is only
 * claimed until chunk:started names its worker. Another instance's chunks carry no
 * worker (the store does not keep it), nor do any for a console attached from outside
 * (`self` null): they count as running, as nothing better is known.
 */
export function onThread(chunk: ChunkRecord, self: string | null): boolean {
  return chunk.state === "running" && (chunk.worker != null || self === null || chunk.owner !== self);
}

const same = (a: DataState, b: DataState, keys: readonly (keyof DataState)[]) => keys.every((k) => a[k] === b[k]);

/** Views for `data`, reusing every list of `prev` whose inputs did not change. */
export function deriveViews(data: DataState, prev?: { readonly data: DataState; readonly views: Views }): Views {
  const reuse = (keys: readonly (keyof DataState)[]) => prev !== undefined && same(prev.data, data, keys);
  const activity = reuse(["runs", "chunks", "instance"]);
  const failures = reuse(["jobs", "runs", "chunks"]) ? prev!.views.failures : failureRows(data);
  return {
    jobs: reuse(["jobs", "runs", "chunks", "nextFires", "lastSuccess", "instance"]) ? prev!.views.jobs : jobRows(data),
    queue: reuse(["runs", "chunks", "waitingOn", "instance"]) ? prev!.views.queue : queueRows(data),
    running: activity ? prev!.views.running : runningRows(data),
    failures,
    failureCounts: prev && failures === prev.views.failures ? prev.views.failureCounts : failureCounts(failures),
    counts: activity ? prev!.views.counts : counts(data),
  };
}

function jobRows(data: DataState): JobRow[] {
  const agg = new Map<string, { running: number; queued: number; last: JobRow["lastRun"] }>();
  const of = (job: string) => agg.get(job) ?? agg.set(job, { running: 0, queued: 0, last: null }).get(job)!;
  for (const chunk of data.chunks.values()) {
    const a = of(chunk.job);
    // A chunk claimed ahead is waiting for a thread like a queued one.
    if (chunk.state === "running") onThread(chunk, data.instance) ? a.running++ : a.queued++;
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
  // Claimed chunks start next, so they lead; the Queue pane names them "claimed".
  for (const chunk of data.chunks.values()) if (chunk.state === "running" && !onThread(chunk, data.instance)) rows.push({ kind: "chunk", chunk });
  for (const chunk of data.chunks.values()) if (chunk.state === "queued" || chunk.state === "pending") rows.push({ kind: "chunk", chunk });
  return rows;
}

function runningRows(data: DataState): ChunkRecord[] {
  const rows: ChunkRecord[] = [];
  for (const chunk of data.chunks.values()) if (onThread(chunk, data.instance)) rows.push(chunk);
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

function failureCounts(rows: readonly FailureRow[]): FailureCounts {
  const result = { chunks: 0, runs: 0, broken: 0 };
  for (const row of rows) result[row.kind === "chunk" ? "chunks" : row.kind === "run" ? "runs" : "broken"]++;
  return result;
}

function counts(data: DataState): ChunkCounts {
  const result: Record<ChunkState | "claimed", number> = { queued: 0, pending: 0, claimed: 0, running: 0, done: 0, failed: 0, upstream_failed: 0, cancelled: 0 };
  for (const chunk of data.chunks.values()) {
    const run = data.runs.get(chunk.runId);
    if (run && FINISHED_RUN_STATES.has(run.status)) continue;
    result[chunk.state === "running" && !onThread(chunk, data.instance) ? "claimed" : chunk.state]++;
  }
  return result;
}

