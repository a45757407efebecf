import { FINISHED_RUN_STATES } from "../engine/transitions.js";
import type { ChunkRecord, ChunkState, RunRecord } from "../store/records.js";
import type { JobView } from "../console/contract.js";
import type { Activity, Category, Counts, QueuedChunk } from "./activity.js";
import type { DataState } from "./state.js";

// The row lists the panes show, derived from DataState once per data change — never per
// row or per frame. Each list is rebuilt only when what it reads was replaced, and reads
// the chunks' activity (activity.ts), never every chunk.

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

export type QueueRow =
  | { readonly kind: "run"; readonly run: RunRecord; readonly on: readonly string[] }
  /** A summarized run's chunks still to run, counted (summarized-runs.ts). */
  | { readonly kind: "summary"; readonly run: RunRecord; readonly counts: Counts }
  | QueuedChunk;

export type FailureRow =
  | { readonly kind: "broken"; readonly job: JobView }
  | { readonly kind: "chunk"; readonly chunk: ChunkRecord }
  | { readonly kind: "run"; readonly run: RunRecord };

/**
 * Chunks per state over runs that have not finished (what is in flight now). `running`
 * counts chunks on a worker thread; `claimed` those an executor took ahead of a free
 * thread (the store calls both running).
 */
export type ChunkCounts = Counts;

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
  /** Chunks on a worker thread, oldest first (of this instance's, those its threads run now: DataState.threadsNow). */
  readonly running: readonly ChunkRecord[];
  /** Of the chunks sent to threads in batches, how many wait to begin (counted as claimed) and how many ended, their results on the way. */
  readonly inBatches: { readonly waiting: number; readonly ended: number };
  readonly failures: readonly FailureRow[];
  readonly failureCounts: FailureCounts;
  readonly counts: ChunkCounts;
}

const same = (a: DataState, b: DataState, keys: readonly (keyof DataState)[]) => keys.every((k) => a[k] === b[k]);

/** Views for `data`, reusing every list of `prev` whose inputs did not change. */
export function deriveViews(data: DataState, prev?: { readonly data: DataState; readonly views: Views }): Views {
  const was = prev?.data.activity;
  const now = data.activity;
  const reuse = (keys: readonly (keyof DataState)[], parts: readonly (keyof Activity)[]) => prev !== undefined && same(prev.data, data, keys) && parts.every((k) => was![k] === now[k]);
  const failures = reuse(["jobs", "runs"], ["failed"]) ? prev!.views.failures : failureRows(data);
  // What the threads do now moves chunks between Running's rows and the counts' running and claimed.
  const threadsSame = reuse(["threadsNow", "instance"], ["onThread"]);
  const batches = threadsSame ? prev!.views.inBatches : inBatches(data);
  return {
    jobs: reuse(["jobs", "runs", "nextFires", "lastSuccess"], ["perJob"]) ? prev!.views.jobs : jobRows(data),
    // A summarized run's row shows its counts, which change with every batch.
    queue: reuse(["runs", "waitingOn", "summarized"], data.summarized.size > 0 ? ["claimed", "queued", "perRun"] : ["claimed", "queued"]) ? prev!.views.queue : queueRows(data),
    running: threadsSame ? prev!.views.running : runningRows(data),
    inBatches: batches,
    failures,
    failureCounts: prev && failures === prev.views.failures ? prev.views.failureCounts : failureCounts(failures),
    counts: threadsSame && reuse(["runs"], ["perRun"]) ? prev!.views.counts : counts(data, batches),
  };
}

function jobRows(data: DataState): JobRow[] {
  // Runs add to what their job's chunks say: a waiting run waits, a run can fail before it has chunks (a cycle, a throwing selectWork).
  const fromRuns = new Map<string, { queued: number; failedAt: number | null }>();
  for (const run of data.runs.values()) {
    const waiting = run.status === "waiting";
    const failedAt = run.status === "failed" && run.error ? run.finishedAt : null;
    if (!waiting && failedAt === null) continue;
    const known = fromRuns.get(run.job) ?? { queued: 0, failedAt: null };
    fromRuns.set(run.job, { queued: known.queued + (waiting ? 1 : 0), failedAt: failedAt !== null && (known.failedAt === null || failedAt > known.failedAt) ? failedAt : known.failedAt });
  }
  return data.jobs.map((job) => {
    const chunks = data.activity.perJob.get(job.name);
    const runs = fromRuns.get(job.name);
    const running = chunks?.running ?? 0;
    const queued = (chunks?.queued ?? 0) + (runs?.queued ?? 0);
    const last = chunks?.last;
    let lastRun: JobRow["lastRun"] = last ? { at: last.at, state: last.state } : null;
    if (runs?.failedAt != null && (!lastRun || runs.failedAt >= lastRun.at)) lastRun = { at: runs.failedAt, state: "failed" };
    const state: JobState = job.broken ? "broken" : running ? "running" : queued ? "queued" : lastRun?.state === "failed" ? "failed" : "idle";
    return { name: job.name, state, broken: job.broken, lastRun, nextFire: data.nextFires[job.name] ?? null, lastSuccess: data.lastSuccess[job.name] ?? null };
  });
}

function queueRows(data: DataState): readonly QueueRow[] {
  const { claimed, queued } = data.activity;
  const waiting = [...data.runs.values()].filter((r) => r.status === "waiting").sort((a, b) => a.createdAt - b.createdAt);
  const summaries = summaryRows(data);
  // The common case, one long list of queued chunks, is that list itself: no copy per batch.
  if (waiting.length === 0 && summaries.length === 0 && claimed.length === 0) return queued;
  const runs: QueueRow[] = waiting.map((run) => ({ kind: "run", run, on: data.waitingOn.get(run.id) ?? [] }));
  // Claimed chunks start next, so they lead; the Queue pane names them "claimed".
  return runs.concat(summaries, claimed, queued);
}

/** A row for each summarized run with chunks still to run, oldest run first. */
function summaryRows(data: DataState): QueueRow[] {
  const rows: { kind: "summary"; run: RunRecord; counts: Counts }[] = [];
  for (const id of data.summarized) {
    const run = data.runs.get(id);
    const counts = data.activity.perRun.get(id);
    if (run && counts && counts.claimed + counts.pending + counts.queued > 0) rows.push({ kind: "summary", run, counts });
  }
  return rows.sort((a, b) => a.run.createdAt - b.run.createdAt);
}

function runningRows(data: DataState): ChunkRecord[] {
  const rows = [...data.activity.onThread.values()];
  return (data.threadsNow ? rows.filter((chunk) => onThreadNow(data, chunk)) : rows).sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
}

/**
 * Whether a chunk sent to a thread is on it now: this instance's threads say
 * (threadsNow); another instance's chunk, and one started after the reading, is taken
 * as on its thread.
 */
function onThreadNow(data: DataState, chunk: ChunkRecord): boolean {
  const threads = data.threadsNow!;
  return chunk.owner !== data.instance || threads.running.has(chunk.id) || (threads.at !== null && (chunk.startedAt ?? 0) > threads.at);
}

/**
 * Of the chunks sent to this instance's threads (chunk:started is said when a batch goes),
 * how many wait in their batch and how many ended, their results on the way (README:
 * short chunks travel in batches).
 */
function inBatches(data: DataState): Views["inBatches"] {
  const result = { waiting: 0, ended: 0 };
  if (!data.threadsNow) return result;
  for (const chunk of data.activity.onThread.values()) {
    if (onThreadNow(data, chunk)) continue;
    if (data.threadsNow.waiting.has(chunk.id)) result.waiting++;
    else result.ended++;
  }
  return result;
}

function failureRows(data: DataState): FailureRow[] {
  const dated: { at: number; row: FailureRow }[] = [];
  for (const chunk of data.activity.failed.values()) dated.push({ at: chunk.finishedAt ?? 0, row: { kind: "chunk", chunk } });
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

/** Chunks per category over runs not finished (a chunk's run may not be known yet: it counts). */
function counts(data: DataState, batches: Views["inBatches"]): ChunkCounts {
  const result: Record<Category, number> = { queued: 0, pending: 0, claimed: 0, running: 0, done: 0, failed: 0, upstream_failed: 0, cancelled: 0 };
  for (const [runId, perRun] of data.activity.perRun) {
    const run = data.runs.get(runId);
    if (run && FINISHED_RUN_STATES.has(run.status)) continue;
    for (const key of Object.keys(result) as Category[]) result[key] += perRun[key];
  }
  // A chunk waiting in its thread's batch is claimed by this instance, not yet running.
  result.running -= batches.waiting;
  result.claimed += batches.waiting;
  return result;
}
