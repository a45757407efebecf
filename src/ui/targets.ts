import type { ChunkRecord, RunRecord } from "../store/records.js";
import type { ConsoleState } from "./state.js";

// What the selected row means for a command: which job `t` triggers, which run `r` and
// `c` act on. Every pane answers in its own terms, so keys work wherever it makes sense.

/** The job of the selected row in the focused pane (in Logs: the job shown, else Jobs' selection). */
export function selectedJob(state: ConsoleState): string | null {
  const { views, selected } = state;
  switch (state.focus) {
    case "jobs":
      return views.jobs[selected.jobs]?.name ?? null;
    case "queue": {
      const row = views.queue[selected.queue];
      return row ? (row.kind === "chunk" ? row.chunk.job : row.run.job) : null;
    }
    case "running":
      return views.running[selected.running]?.job ?? null;
    case "failures": {
      const row = views.failures[selected.failures];
      return row ? (row.kind === "broken" ? row.job.name : row.kind === "run" ? row.run.job : row.chunk.job) : null;
    }
    case "logs":
      return state.logs.scope ?? views.jobs[selected.jobs]?.name ?? null;
  }
}

/** The selected chunk, where the focused pane lists chunks. */
export function selectedChunk(state: ConsoleState): ChunkRecord | null {
  const { views, selected } = state;
  if (state.focus === "running") return views.running[selected.running] ?? null;
  if (state.focus === "queue") {
    const row = views.queue[selected.queue];
    return row?.kind === "chunk" ? row.chunk : null;
  }
  if (state.focus === "failures") {
    const row = views.failures[selected.failures];
    return row?.kind === "chunk" ? row.chunk : null;
  }
  return null;
}

/** A run by id; a chunk's run may not be known yet (its event came before the snapshot). */
function runOf(state: ConsoleState, runId: string, job: string): Pick<RunRecord, "id" | "job"> & Partial<RunRecord> {
  return state.data.runs.get(runId) ?? { id: runId, job };
}

/**
 * The run the selected row belongs to. In Jobs it is that job's newest run that is
 * active (`active`, for cancel) or that failed (for retry).
 */
export function selectedRun(state: ConsoleState, want: "active" | "failed"): (Pick<RunRecord, "id" | "job"> & Partial<RunRecord>) | null {
  const { views, selected } = state;
  if (state.focus === "queue") {
    const row = views.queue[selected.queue];
    if (row && row.kind !== "chunk") return row.run;
  }
  if (state.focus === "failures") {
    const row = views.failures[selected.failures];
    if (row?.kind === "run") return row.run;
  }
  const chunk = selectedChunk(state);
  if (chunk) return runOf(state, chunk.runId, chunk.job);
  const job = selectedJob(state);
  if (job === null || state.focus === "failures") return null;
  let newest: RunRecord | null = null;
  for (const run of state.data.runs.values()) {
    const fits = want === "active" ? run.status === "waiting" || run.status === "running" : run.status === "failed";
    if (run.job === job && fits && (!newest || run.createdAt > newest.createdAt)) newest = run;
  }
  return newest;
}
