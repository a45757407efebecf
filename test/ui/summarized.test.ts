import { describe, expect, test } from "vitest";
import type { EngineEventEntry } from "../../src/ui/actions.js";
import { MAX_FINISHED_RUNS } from "../../src/console/held-runs.js";
import { reduce } from "../../src/ui/reducer.js";
import type { ConsoleState } from "../../src/ui/state.js";
import { DETAILED_CHUNKS } from "../../src/ui/summarized-runs.js";
import { selectedJob, selectedRun } from "../../src/ui/targets.js";
import { chunk, job, NOW, run, snapshot } from "./fixtures.js";
import { apply, cmd, start } from "./helpers.js";

// A run too big to hold chunk by chunk is held in sums (src/ui/summarized-runs.ts): the
// panes show the same counts, its chunks on threads and its failures, and the console
// keeps a record per chunk only for those.

const events = (...list: EngineEventEntry[]) => ({ type: "events" as const, events: list, at: NOW });
const BIG = DETAILED_CHUNKS + 1;

/** The distinct record objects the console holds for `runId`'s chunks (its own map's and the tally's). */
function recordsHeld(state: ConsoleState, runId: string): number {
  const records: Set<object> = state.data.tally.recordsOf(runId);
  for (const record of state.data.chunks.values()) if (record.runId === runId) records.add(record);
  return records.size;
}

/** A console that saw run `big` of job a start with BIG queued chunks (two of them of job b). */
function bigRunStarted(): ConsoleState {
  const records = Array.from({ length: BIG }, (_, i) => (i < 2 ? chunk("big", "b", i) : chunk("big", "a", i)));
  return reduce(start(snapshot({ jobs: [job("a"), job("b")] })), events({ name: "run:started", payload: { run: run("big", "a"), chunks: BIG, records } }));
}

describe("a run of more than DETAILED_CHUNKS chunks is held in sums", () => {
  test("the header, jobs and queue count its chunks; the queue shows it as one row of counts", () => {
    const state = bigRunStarted();
    expect(state.data.summarized).toEqual(new Set(["big"]));
    expect(state.views.counts).toMatchObject({ queued: BIG, running: 0, done: 0 });
    expect(state.views.jobs.map((j) => [j.name, j.state])).toEqual([["a", "queued"], ["b", "queued"]]);
    expect(state.views.queue).toHaveLength(1);
    expect(state.views.queue[0]).toMatchObject({ kind: "summary", run: { id: "big" }, counts: { queued: BIG } });
    // One shared record per job and state, not one per chunk; the console's own map holds none of them.
    expect(state.data.tally.chunks).toBe(BIG);
    expect(state.data.chunks.size).toBe(0);
    expect(recordsHeld(state, "big")).toBe(2);
  });

  test("chunks on threads and failures are listed with their own records; done ones are counted", () => {
    let state = bigRunStarted();
    const started = [chunk("big", "a", 10, "running", { worker: 1 }), chunk("big", "a", 11, "running", { worker: 2 })];
    state = reduce(state, events(...started.map((c): EngineEventEntry => ({ name: "chunk:started", payload: { chunk: c } }))));
    expect(state.views.running.map((c) => c.id)).toEqual(["big.a.10", "big.a.11"]);
    expect(state.views.jobs[0].state).toBe("running");
    expect(state.views.counts).toMatchObject({ queued: BIG - 2, running: 2 });

    const failure = chunk("big", "a", 11, "failed", { error: { message: "boom", kind: "error" }, finishedAt: NOW });
    state = reduce(
      state,
      events(
        { name: "chunk:done", payload: { chunk: chunk("big", "a", 10, "done", { finishedAt: NOW }), durationMs: 5 } },
        { name: "chunk:failed", payload: { chunk: failure, error: failure.error!, willRetry: false, durationMs: 5 } },
        { name: "chunk:log", payload: { chunkId: "big.a.10", attempt: 1, level: "info", text: "hello" } },
      ),
    );
    expect(state.views.running).toEqual([]);
    expect(state.views.counts).toMatchObject({ queued: BIG - 2, running: 0, done: 1, failed: 1 });
    expect(state.views.failures.map((row) => (row.kind === "chunk" ? row.chunk : null))).toEqual([failure]);
    expect(state.views.jobs[0].lastRun).toEqual({ at: NOW, state: "failed" });
    expect(state.data.lastSuccess.a).toBe(NOW);
    // A log line of a chunk held in sums still names its job.
    expect(state.logs.lines.at(-1)).toMatchObject({ job: "a", chunkId: "big.a.10", text: "hello" });
    // queued a, queued b, done a, and the failed chunk's own record.
    expect(recordsHeld(state, "big")).toBe(4);

    // A retry queues the failed chunk again: it leaves the Failures pane, the counts follow,
    // and the job's last run is the run's newest outcome again (its ended chunks hold no times).
    state = reduce(state, events({ name: "run:started", payload: { run: run("big", "a"), chunks: 1, records: [chunk("big", "a", 11, "queued", { attempts: 1 })] } }));
    expect(state.views.failures).toEqual([]);
    expect(state.views.jobs[0].lastRun).toEqual({ at: NOW, state: "done" });
    expect(state.views.counts).toMatchObject({ queued: BIG - 1, done: 1, failed: 0 });
    expect(state.data.summarized).toEqual(new Set(["big"]));
  });

  test("a chunk that starts and ends between two batches is one move from queued to done: never listed, its progress gone with it", () => {
    let state = bigRunStarted();
    const a10 = (state: "running" | "done", extra = {}) => chunk("big", "a", 10, state, { worker: 1, ...extra });
    state = reduce(
      state,
      events(
        { name: "chunk:started", payload: { chunk: a10("running") } },
        { name: "chunk:progress", payload: { chunkId: "big.a.10", done: 1, total: 2 } },
        { name: "chunk:done", payload: { chunk: a10("done", { finishedAt: NOW }), durationMs: 1 } },
      ),
    );
    expect(state.views.running).toEqual([]);
    expect(state.views.counts).toMatchObject({ queued: BIG - 1, running: 0, done: 1 });
    expect(state.data.chunks.size).toBe(0);
    expect(state.data.progress.size).toBe(0);
    expect(state.views.jobs[0].lastRun).toEqual({ at: NOW, state: "done" });

    // One that is still running when the batch is taken is listed, with its progress, until it ends.
    state = reduce(state, events({ name: "chunk:started", payload: { chunk: chunk("big", "a", 11, "running", { worker: 2 }) } }, { name: "chunk:progress", payload: { chunkId: "big.a.11", done: 1, total: 4 } }));
    expect(state.views.running.map((c) => c.id)).toEqual(["big.a.11"]);
    expect(state.data.progress.get("big.a.11")).toEqual({ done: 1, total: 4 });
    const failure = chunk("big", "a", 11, "failed", { error: { message: "boom", kind: "error" }, finishedAt: NOW + 1 });
    state = reduce(state, events({ name: "chunk:failed", payload: { chunk: failure, error: failure.error!, willRetry: false, durationMs: 1 } }));
    expect(state.views.running).toEqual([]);
    expect(state.data.progress.size).toBe(0);
    expect(state.views.failures.map((row) => (row.kind === "chunk" ? row.chunk.id : null))).toEqual(["big.a.11"]);
    expect(state.views.counts).toMatchObject({ queued: BIG - 2, running: 0, done: 1, failed: 1 });
  });

  test("chunks this console held before it followed their run go to the tally (a shared store: own chunks' events come before another copy's run:started)", () => {
    let state = start(snapshot({ jobs: [job("a")], instance: "me" }));
    const own = (i: number, st: "running" | "done", extra = {}) => chunk("big", "a", i, st, { owner: "me", worker: 1, ...extra });
    state = reduce(state, events({ name: "chunk:started", payload: { chunk: own(0, "running") } }, { name: "chunk:done", payload: { chunk: own(1, "done", { finishedAt: NOW }), durationMs: 1 } }));
    expect(state.data.chunks.size).toBe(2);
    // The look at the store announces the run with the chunks this console did not know in that state.
    const records = Array.from({ length: BIG }, (_, i) => chunk("big", "a", i)).slice(2);
    state = reduce(state, events({ name: "run:started", payload: { run: run("big", "a"), chunks: BIG, records } }));
    expect(state.data.summarized).toEqual(new Set(["big"]));
    expect(state.views.counts).toMatchObject({ queued: BIG - 2, running: 1, done: 1 });
    expect(state.views.running.map((c) => c.id)).toEqual(["big.a.0"]);
    state = reduce(state, events({ name: "chunk:done", payload: { chunk: own(0, "done", { finishedAt: NOW }), durationMs: 1 } }));
    expect(state.views.counts).toMatchObject({ queued: BIG - 2, running: 0, done: 2 });
    expect(state.views.running).toEqual([]);
    expect(state.data.chunks.size).toBe(0);
    expect(state.data.tally.chunks).toBe(BIG);
  });

  test("the summary row is the run for r and c, and its job for t", () => {
    let state = bigRunStarted();
    state = apply(state, cmd("next-pane"));
    expect(state.focus).toBe("queue");
    expect(selectedRun(state, "active")?.id).toBe("big");
    expect(selectedJob(state)).toBe("a");
  });

  test("a snapshot with such a run holds it the same way, and the same counts", () => {
    const records = Array.from({ length: BIG }, (_, i) => chunk("big", "a", i, i < 3 ? "done" : i === 3 ? "running" : "queued"));
    const state = start(snapshot({ jobs: [job("a")], runs: [{ run: run("big", "a"), chunks: records }] }));
    expect(state.data.summarized).toEqual(new Set(["big"]));
    expect(state.views.counts).toMatchObject({ done: 3, running: 1, queued: BIG - 4 });
    expect(state.views.running.map((c) => c.id)).toEqual(["big.a.3"]);
    expect(state.views.queue).toHaveLength(1);
    expect(state.views.jobs[0].lastRun).toEqual({ at: NOW - 5000, state: "done" });
    expect(recordsHeld(state, "big")).toBe(3);
  });

  test("a run of DETAILED_CHUNKS chunks is still held chunk by chunk", () => {
    const records = Array.from({ length: DETAILED_CHUNKS }, (_, i) => chunk("r", "a", i));
    const state = reduce(start(snapshot({ jobs: [job("a")] })), events({ name: "run:started", payload: { run: run("r", "a"), chunks: DETAILED_CHUNKS, records } }));
    expect(state.data.summarized.size).toBe(0);
    expect(state.views.queue).toHaveLength(DETAILED_CHUNKS);
    expect(recordsHeld(state, "r")).toBe(DETAILED_CHUNKS);
  });

  test("its heatmap is read from the store each second while it runs", () => {
    let state = bigRunStarted();
    state = apply(state, cmd("heatmap"));
    const overlay = state.overlay as Extract<ConsoleState["overlay"], { kind: "heatmap" }>;
    const cells = [{ id: 0, chunkId: "big.a.0", state: "queued" as const, attempts: 0, durationMs: null, finishedAt: null }];
    state = apply({ ...state, effects: [] }, { type: "heatmap", request: overlay.request, data: { job: "a", runId: "big", runJob: "a", status: "running", cells } });
    state = apply(state, { type: "tick", now: NOW + 1_000 });
    expect(state.effects).toEqual([{ type: "heatmap", job: "a", request: overlay.request + 1 }]);
  });

  test("once another run finishes and it leaves the console's window, nothing of it stays", () => {
    let state = bigRunStarted();
    const done = Array.from({ length: BIG }, (_, i): EngineEventEntry => ({ name: "chunk:done", payload: { chunk: chunk("big", i < 2 ? "b" : "a", i, "done", { finishedAt: NOW }), durationMs: 1 } }));
    state = reduce(state, events(...done, { name: "run:finished", payload: { run: run("big", "a", "done", { finishedAt: NOW }) } }));
    expect(state.views.queue).toEqual([]);
    // Done: one shared record for each of its two jobs.
    expect(recordsHeld(state, "big")).toBe(2);
    // MAX_FINISHED_RUNS newer finished runs push it out of the window.
    const newer = Array.from({ length: MAX_FINISHED_RUNS }, (_, i): EngineEventEntry => ({ name: "run:finished", payload: { run: run(`n${i}`, "b", "done", { finishedAt: NOW + 1 + i }) } }));
    state = reduce(state, events(...newer));
    expect(state.data.runs.has("big")).toBe(false);
    expect(state.data.summarized.has("big")).toBe(false);
    expect(recordsHeld(state, "big")).toBe(0);
    expect(state.data.activity.perRun.has("big")).toBe(false);
  });
});
