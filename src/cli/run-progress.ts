import type { WorkId } from "../config/types.js";
import type { StauEvents } from "../events.js";

// What `stau run` shows live on a terminal, as plain data folded from the instance's
// events: one pure function per event, so the display is tested without a terminal and
// a redraw is only ever a rendering of this state (run-progress-view.ts).

/** One job of the run: its chunks so far, and what they took on their worker threads. */
export interface JobProgress {
  readonly job: string;
  /** Chunks of the job in the run; null while unknown (another instance resolved the run). */
  readonly total: number | null;
  readonly done: number;
  /** Failed for good (a chunk that will retry is not counted). */
  readonly failed: number;
  /** Never ran: upstream_failed or cancelled. */
  readonly skipped: number;
  /** Sum of `durationMs` of the done chunks: their mean is the ETA's estimate per chunk. */
  readonly doneMs: number;
  readonly firstStartedAt: number | null;
  readonly lastFinishedAt: number | null;
}

export interface RunningChunk {
  readonly id: string;
  readonly job: string;
  readonly workIds: readonly WorkId[];
  readonly attempt: number;
  readonly startedAt: number;
  /** The last `progress(done, total)` the chunk reported, if any. */
  readonly progress: { readonly done: number; readonly total: number } | null;
}

export interface ProgressState {
  /** The job `stau run` was asked for, until the run's id is known. */
  readonly job: string;
  readonly runId: string | null;
  readonly phase: "resolving" | "waiting" | "running" | "finished";
  /** While waiting: the jobs other runs must finish first. */
  readonly waitingOn: readonly string[];
  readonly since: number;
  /** Worker threads of this process: how many chunks can run at once, for the ETA. */
  readonly workers: number;
  /** In the order they run: dependencies first, the asked-for job last. */
  readonly jobs: readonly JobProgress[];
  /** In the order they started. */
  readonly running: readonly RunningChunk[];
}

/** An event as the display receives it: its name and payload, as the bus delivers them. */
export type ProgressEvent = { [E in keyof StauEvents]: { readonly name: E; readonly payload: StauEvents[E] } }[keyof StauEvents];

export function initialProgress(job: string, workers: number, now: number): ProgressState {
  return { job, runId: null, phase: "resolving", waitingOn: [], since: now, workers, jobs: [], running: [] };
}

const emptyJob = (job: string, total: number | null): JobProgress => ({ job, total, done: 0, failed: 0, skipped: 0, doneMs: 0, firstStartedAt: null, lastFinishedAt: null });

/** The state of `job`, changed by `change`; a job first heard of here is added at the end. */
function withJob(state: ProgressState, job: string, change: (progress: JobProgress) => JobProgress): ProgressState {
  const index = state.jobs.findIndex((j) => j.job === job);
  if (index < 0) return { ...state, jobs: [...state.jobs, change(emptyJob(job, null))] };
  return { ...state, jobs: state.jobs.map((j, i) => (i === index ? change(j) : j)) };
}

const withoutChunk = (state: ProgressState, id: string): ProgressState =>
  state.running.some((c) => c.id === id) ? { ...state, running: state.running.filter((c) => c.id !== id) } : state;

const finished = (at: number) => (job: JobProgress): JobProgress => ({ ...job, lastFinishedAt: at });

/** The state after one event at time `now`; events that change nothing shown return it as it was. */
export function foldProgress(state: ProgressState, event: ProgressEvent, now: number): ProgressState {
  switch (event.name) {
    case "instance:started":
      return { ...state, workers: event.payload.workers };
    case "run:queued":
      return { ...state, runId: event.payload.run.id, job: event.payload.run.job };
    case "run:waiting":
      return { ...state, phase: "waiting", waitingOn: event.payload.on };
    case "run:started": {
      // Records list the asked-for job first and its dependencies below it; shown the
      // other way round, the lines read in the order the jobs run.
      const totals = new Map<string, number>();
      for (const record of [...event.payload.records].reverse()) totals.set(record.job, (totals.get(record.job) ?? 0) + 1);
      const known = new Map(state.jobs.map((j) => [j.job, j]));
      const jobs = [...totals].map(([job, total]) => ({ ...(known.get(job) ?? emptyJob(job, null)), total }));
      return { ...state, runId: event.payload.run.id, phase: "running", waitingOn: [], jobs: [...jobs, ...state.jobs.filter((j) => !totals.has(j.job))] };
    }
    case "run:finished":
      return { ...state, phase: "finished", running: [] };
    case "chunk:started": {
      const { chunk } = event.payload;
      const startedAt = chunk.startedAt ?? now;
      const next = withJob(withoutChunk(state, chunk.id), chunk.job, (j) => ({ ...j, firstStartedAt: j.firstStartedAt ?? startedAt }));
      const running: RunningChunk = { id: chunk.id, job: chunk.job, workIds: chunk.workIds, attempt: chunk.attempts, startedAt, progress: null };
      // On a shared store another instance may resolve the run: its chunks starting here say it runs.
      return { ...next, phase: "running", running: [...next.running, running] };
    }
    case "chunk:progress": {
      const { chunkId, done, total } = event.payload;
      if (!state.running.some((c) => c.id === chunkId)) return state;
      return { ...state, running: state.running.map((c) => (c.id === chunkId ? { ...c, progress: { done, total } } : c)) };
    }
    case "chunk:done": {
      const { chunk, durationMs } = event.payload;
      return withJob(withoutChunk(state, chunk.id), chunk.job, (j) => finished(now)({ ...j, done: j.done + 1, doneMs: j.doneMs + durationMs }));
    }
    case "chunk:failed": {
      const { chunk, willRetry } = event.payload;
      const next = withoutChunk(state, chunk.id);
      if (willRetry) return next;
      const cancelled = chunk.state === "cancelled";
      return withJob(next, chunk.job, (j) => finished(now)(cancelled ? { ...j, skipped: j.skipped + 1 } : { ...j, failed: j.failed + 1 }));
    }
    case "chunk:interrupted":
      return withoutChunk(state, event.payload.chunk.id);
    case "chunk:upstream_failed":
    case "chunk:cancelled": {
      const { chunk } = event.payload;
      return withJob(withoutChunk(state, chunk.id), chunk.job, (j) => finished(now)({ ...j, skipped: j.skipped + 1 }));
    }
    default:
      return state;
  }
}

/** Whether every chunk of the job has finished, one way or another. */
export function jobFinished(job: JobProgress): boolean {
  return job.total !== null && job.done + job.failed + job.skipped >= job.total;
}

/**
 * Milliseconds until the job's chunks are likely all finished, or null while none of its
 * chunks of this run has finished (there is nothing to estimate from). The estimate is
 * the mean time of its done chunks for each chunk not started yet, plus what the mean
 * leaves of each running one, spread over the workers it can use.
 */
export function jobEta(state: ProgressState, job: JobProgress, now: number): number | null {
  if (job.done === 0 || job.total === null) return null;
  const mean = job.doneMs / job.done;
  const running = state.running.filter((c) => c.job === job.job);
  const waiting = Math.max(0, job.total - job.done - job.failed - job.skipped - running.length);
  const work = waiting * mean + running.reduce((sum, c) => sum + Math.max(0, mean - (now - c.startedAt)), 0);
  const slots = Math.max(1, Math.min(state.workers, waiting + running.length));
  return work / slots;
}
