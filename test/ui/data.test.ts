import { describe, expect, test } from "vitest";
import type { EngineEventEntry } from "../../src/ui/actions.js";
import { MAX_FINISHED_CHUNKS, MAX_FINISHED_RUNS } from "../../src/console/held-runs.js";
import { applyEvents, dataFromSnapshot } from "../../src/ui/data-reducer.js";
import { reduce } from "../../src/ui/reducer.js";
import { deriveViews } from "../../src/ui/views.js";
import { chunk, job, NOW, run, snapshot } from "./fixtures.js";
import { start } from "./helpers.js";

const events = (...list: EngineEventEntry[]) => ({ type: "events" as const, events: list, at: NOW });

describe("engine events → data and views", () => {
  const s = snapshot({ jobs: [job("a"), job("b"), job("c", { broken: "jobs/c.ts:1 SyntaxError: x" })], runs: [{ run: run("r1", "a"), chunks: [chunk("r1", "a", 0), chunk("r1", "b", 0)] }] });

  test("job states follow their chunks: queued → running → idle with a last run, failed, broken", () => {
    let state = start(s);
    const states = () => Object.fromEntries(state.views.jobs.map((j) => [j.name, j.state]));
    expect(states()).toEqual({ a: "queued", b: "queued", c: "broken" });
    state = reduce(state, events({ name: "chunk:started", payload: { chunk: chunk("r1", "a", 0, "running") } }));
    expect(states().a).toBe("running");
    state = reduce(state, events({ name: "chunk:done", payload: { chunk: chunk("r1", "a", 0, "done"), durationMs: 5 } }), );
    expect(states().a).toBe("idle");
    expect(state.views.jobs[0].lastRun?.state).toBe("done");
    expect(state.data.lastSuccess.a).toBe(NOW - 5000);
    const failed = chunk("r1", "b", 0, "failed", { error: { message: "boom", kind: "error" } });
    state = reduce(state, events({ name: "chunk:failed", payload: { chunk: failed, error: failed.error!, willRetry: false, durationMs: 1 } }));
    expect(states().b).toBe("failed");
    expect(state.views.failures.map((f) => f.kind)).toEqual(["broken", "chunk"]);
  });

  test("header counts are per chunk state over runs in flight", () => {
    let state = start(s);
    expect(state.views.counts).toMatchObject({ queued: 2, running: 0 });
    state = reduce(state, events({ name: "chunk:started", payload: { chunk: chunk("r1", "a", 0, "running") } }));
    expect(state.views.counts).toMatchObject({ queued: 1, running: 1 });
    state = reduce(state, events({ name: "run:finished", payload: { run: run("r1", "a", "done") } }));
    expect(state.views.counts).toMatchObject({ queued: 0, running: 0 });
  });

  test("a chunk claimed ahead of a thread is claimed, not running, until chunk:started names its worker", () => {
    const claimed = chunk("r1", "a", 0, "running", { worker: null, owner: "me" });
    const other = chunk("r1", "b", 0, "running", { worker: null, owner: "them" });
    let state = start({ ...s, instance: "me", runs: [{ run: run("r1", "a"), chunks: [claimed, other] }] });
    // Another instance's chunk has no worker in the store either: it counts as running.
    expect(state.views.counts).toMatchObject({ running: 1, claimed: 1 });
    expect(state.views.running.map((c) => c.id)).toEqual(["r1.b.0"]);
    expect(state.views.queue.map((r) => (r.kind === "chunk" ? r.chunk.id : r.run.id))).toEqual(["r1.a.0"]);
    expect(Object.fromEntries(state.views.jobs.map((j) => [j.name, j.state]))).toMatchObject({ a: "queued", b: "running" });
    state = reduce(state, events({ name: "chunk:started", payload: { chunk: { ...claimed, worker: 2 } } }));
    expect(state.views.counts).toMatchObject({ running: 2, claimed: 0 });
    expect(state.views.queue).toEqual([]);
    // A later record of the same attempt without the worker (a snapshot, a shared store's echo) keeps it running.
    state = reduce(state, events({ name: "chunk:started", payload: { chunk: claimed } }));
    expect(state.data.chunks.get("r1.a.0")?.worker).toBe(2);
    state = reduce(state, { type: "snapshot", snapshot: { ...s, instance: "me", runs: [{ run: run("r1", "a"), chunks: [claimed, other] }] } });
    expect(state.views.counts).toMatchObject({ running: 2, claimed: 0 });
  });

  test("a chunk sent to its thread in a batch that has not begun is claimed, not running, until the thread begins it", () => {
    // chunk:started is said when a batch goes to its thread (README: short chunks travel in batches).
    const batch = [0, 1, 2].map((i) => chunk("r1", "a", i, "running", { worker: 1, owner: "me", startedAt: NOW }));
    let state = start({ ...s, instance: "me", runs: [{ run: run("r1", "a"), chunks: batch }] });
    expect(state.views.counts).toMatchObject({ running: 3, claimed: 0 });
    // The controller says two of them wait in their batch: read with the workers at each batch and tick.
    state = reduce(state, { type: "tick", now: NOW + 1000, busy: 1, threads: { running: ["r1.a.0"], waiting: ["r1.a.1", "r1.a.2"] } });
    expect(state.views.counts).toMatchObject({ running: 1, claimed: 2 });
    expect(state.views.running.map((c) => c.id)).toEqual(["r1.a.0"]);
    expect(state.views.inBatches).toEqual({ waiting: 2, ended: 0 });
    expect(state.views.jobs[0].state).toBe("running");
    const first = state;
    // The first ended; its result comes back with the batch's: running still, as the store has it, but not listed as on the thread.
    state = reduce(state, { type: "tick", now: NOW + 1000, busy: 1, threads: { running: ["r1.a.1"], waiting: ["r1.a.2"] } });
    expect(state.views.counts).toMatchObject({ running: 2, claimed: 1 });
    expect(state.views.running.map((c) => c.id)).toEqual(["r1.a.1"]);
    expect(state.views.inBatches).toEqual({ waiting: 1, ended: 1 });
    state = reduce(state, { type: "events", events: [{ name: "chunk:done", payload: { chunk: chunk("r1", "a", 0, "done"), durationMs: 1 } }], at: NOW + 1000, busy: 1, threads: { running: ["r1.a.1"], waiting: ["r1.a.2"] } });
    expect(state.views.counts).toMatchObject({ running: 1, claimed: 1, done: 1 });
    expect(state.views.running.map((c) => c.id)).toEqual(["r1.a.1"]);
    // The same lists again change nothing.
    expect(reduce(first, { type: "tick", now: NOW + 1000, busy: 1, threads: { running: ["r1.a.0"], waiting: ["r1.a.2", "r1.a.1"] } }).data).toBe(first.data);
  });

  test("a reading older than the events (an attached console's) judges only the chunks started before it", () => {
    const sent = (i: number, startedAt: number) => chunk("r1", "a", i, "running", { worker: 1, owner: "me", startedAt });
    let state = start({ ...s, instance: "me", runs: [{ run: run("r1", "a"), chunks: [sent(0, NOW), sent(1, NOW), sent(2, NOW + 900), sent(3, NOW + 900)] }] });
    // Read at NOW + 500: chunk 1 ran then, chunk 0 had ended; 2 and 3 were sent after it.
    state = reduce(state, { type: "tick", now: NOW + 1000, busy: 2, threads: { running: ["r1.a.1"], waiting: [], at: NOW + 500 } });
    expect(state.views.running.map((c) => c.id)).toEqual(["r1.a.1", "r1.a.2", "r1.a.3"]);
    expect(state.views.inBatches).toEqual({ waiting: 0, ended: 1 });
    // A newer reading with the same lists judges them too.
    state = reduce(state, { type: "tick", now: NOW + 1000, busy: 2, threads: { running: ["r1.a.1"], waiting: [], at: NOW + 950 } });
    expect(state.views.running.map((c) => c.id)).toEqual(["r1.a.1"]);
    expect(state.views.inBatches).toEqual({ waiting: 0, ended: 3 });
  });

  test("a console attached from outside (no instance of its own) counts every running chunk as running", () => {
    // It attached after chunk:started named the workers: the store's records have none.
    const state = start({ ...s, runs: [{ run: run("r1", "a"), chunks: [chunk("r1", "a", 0, "running", { worker: null, owner: "x" })] }] });
    expect(state.views.counts).toMatchObject({ running: 1, claimed: 0 });
    expect(state.views.running.map((c) => c.id)).toEqual(["r1.a.0"]);
  });

  test("progress is kept only while a chunk runs", () => {
    let state = start(s);
    state = reduce(state, events({ name: "chunk:started", payload: { chunk: chunk("r1", "a", 0, "running") } }, { name: "chunk:progress", payload: { chunkId: "r1.a.0", done: 3, total: 9 } }));
    expect(state.data.progress.get("r1.a.0")).toEqual({ done: 3, total: 9 });
    state = reduce(state, events({ name: "chunk:done", payload: { chunk: chunk("r1", "a", 0, "done"), durationMs: 1 } }));
    expect(state.data.progress.size).toBe(0);
  });

  test("a waiting run is queued with what it waits for", () => {
    const state = reduce(start(snapshot({ jobs: [job("a")] })), events({ name: "run:waiting", payload: { run: run("r9", "a", "waiting"), on: ["b"] } }));
    expect(state.views.queue[0]).toMatchObject({ kind: "run", on: ["b"] });
    expect(state.views.jobs[0].state).toBe("queued");
  });

  test("run and chunk events carry their change: none asks for a snapshot; a registry reload does", () => {
    const data = dataFromSnapshot(s);
    const failed = chunk("r1", "b", 0, "failed", { error: { message: "boom", kind: "error" } });
    const noSnapshot: EngineEventEntry[] = [
      { name: "run:started", payload: { run: run("r1", "a"), chunks: 2, records: [chunk("r1", "a", 0), chunk("r1", "b", 0)] } },
      { name: "run:finished", payload: { run: run("r1", "a", "failed") } },
      { name: "chunk:failed", payload: { chunk: failed, error: failed.error!, willRetry: false, durationMs: 3 } },
      { name: "chunk:pending", payload: { chunk: chunk("r1", "a", 0, "pending") } },
      { name: "chunk:interrupted", payload: { chunk: chunk("r1", "a", 0, "pending"), reason: "its instance stopped" } },
      { name: "chunk:cancelled", payload: { chunk: chunk("r1", "a", 0, "cancelled") } },
      { name: "chunk:upstream_failed", payload: { chunk: chunk("r1", "a", 0, "upstream_failed") } },
    ];
    for (const event of noSnapshot) expect(applyEvents(data, [event], NOW).refresh, event.name).toBe(false);
    expect(applyEvents(data, noSnapshot, NOW).refresh).toBe(false);
    // Job files changed: no event carries the new jobs, so they are read again.
    expect(applyEvents(data, [{ name: "registry:reloaded", payload: { files: ["jobs/a.ts"], broken: [] } }], NOW).refresh).toBe(true);
    // A schedule entry fired or skipped a tick: its next fire moved, and no event says when to.
    expect(applyEvents(data, [{ name: "schedule:fired", payload: { entryId: "e", job: "a", tickAt: NOW, catchUp: false, runId: "r9" } }], NOW).refresh).toBe(true);
    expect(applyEvents(data, [{ name: "schedule:skipped", payload: { entryId: "e", job: "a", tickAt: NOW, reason: "paused", kind: "paused" } }], NOW).refresh).toBe(true);
    const logOnly = applyEvents(data, [{ name: "chunk:log", payload: { chunkId: "x", attempt: 1, level: "info", text: "t" } }], NOW);
    expect(logOnly).toEqual({ data, refresh: false });
  });

  test("run:started brings the chunks it starts with: a new run fills the queue, a retry requeues failed chunks", () => {
    let state = start(snapshot({ jobs: [job("a")] }));
    const records = [chunk("r2", "a", 0), chunk("r2", "a", 1)];
    state = reduce(state, events({ name: "run:started", payload: { run: run("r2", "a"), chunks: 2, records } }));
    expect(state.views.queue.map((row) => (row.kind === "chunk" ? row.chunk.id : row.run.id))).toEqual(["r2.a.0", "r2.a.1"]);
    expect(state.views.jobs[0].state).toBe("queued");
    expect(state.effects).toEqual([]);

    const failed = chunk("r3", "a", 0, "failed", { error: { message: "boom", kind: "error" } });
    state = start(snapshot({ jobs: [job("a")], runs: [{ run: run("r3", "a", "failed"), chunks: [failed, chunk("r3", "a", 1, "done")] }] }));
    expect(state.views.failures).toHaveLength(1);
    // An operator's retry restarts the run with only its failed chunk, queued again.
    state = reduce(state, events({ name: "run:started", payload: { run: run("r3", "a"), chunks: 1, records: [chunk("r3", "a", 0, "queued", { attempts: 1 })] } }));
    expect(state.views.failures).toHaveLength(0);
    expect(state.views.counts).toMatchObject({ queued: 1, done: 1, failed: 0 });
    expect(state.data.chunks.get("r3.a.1")?.state).toBe("done");
  });

  test("pending, interrupted, cancelled and upstream_failed chunks follow their events", () => {
    const two = snapshot({ jobs: [job("a"), job("b")], runs: [{ run: run("r1", "a"), chunks: [chunk("r1", "a", 0, "running"), chunk("r1", "b", 0, "queued"), chunk("r1", "b", 1, "queued")] }] });
    let state = reduce(start(two), events({ name: "chunk:progress", payload: { chunkId: "r1.a.0", done: 2, total: 5 } }));
    const stateOf = (id: string) => state.data.chunks.get(id)?.state;

    // queued → pending: its dependencies are done; it is still waiting for a worker.
    state = reduce(state, events({ name: "chunk:pending", payload: { chunk: chunk("r1", "b", 0, "pending") } }));
    expect(stateOf("r1.b.0")).toBe("pending");
    expect(state.views.counts).toMatchObject({ queued: 1, pending: 1, running: 1 });

    // running → pending: its instance went away; its progress is no longer true.
    state = reduce(state, events({ name: "chunk:interrupted", payload: { chunk: chunk("r1", "a", 0, "pending", { attempts: 1 }), reason: "instance stopped" } }));
    expect(stateOf("r1.a.0")).toBe("pending");
    expect(state.views.running).toHaveLength(0);
    expect(state.data.progress.has("r1.a.0")).toBe(false);
    expect(state.views.jobs[0].state).toBe("queued");

    state = reduce(state, events({ name: "chunk:cancelled", payload: { chunk: chunk("r1", "b", 1, "cancelled") } }));
    state = reduce(state, events({ name: "chunk:upstream_failed", payload: { chunk: chunk("r1", "b", 0, "upstream_failed") } }));
    expect([stateOf("r1.b.1"), stateOf("r1.b.0")]).toEqual(["cancelled", "upstream_failed"]);
    expect(state.views.queue.map((row) => (row.kind === "chunk" ? row.chunk.id : ""))).toEqual(["r1.a.0"]);
    expect(state.views.counts).toMatchObject({ pending: 1, queued: 0, cancelled: 1, upstream_failed: 1 });
    // Neither is a failure of its own: the chunk that failed upstream is the one listed.
    expect(state.views.failures).toHaveLength(0);
    expect(state.effects).toEqual([]);
  });

  test("views are rebuilt only when their inputs change", () => {
    const state = start(s);
    const next = reduce(state, events({ name: "chunk:progress", payload: { chunkId: "r1.a.0", done: 1, total: 2 } }));
    expect(next.views.jobs).toBe(state.views.jobs);
    expect(next.views.queue).toBe(state.views.queue);
    const started = reduce(state, events({ name: "chunk:started", payload: { chunk: chunk("r1", "a", 0, "running") } }));
    expect(started.views.running).not.toBe(state.views.running);
  });

  test("finished runs are capped, oldest first, with their chunks", () => {
    const runs = Array.from({ length: MAX_FINISHED_RUNS + 20 }, (_, i) => ({ run: run(`f${i}`, "a", "done", { finishedAt: NOW - i }), chunks: [chunk(`f${i}`, "a", 0, "done")] }));
    const data = dataFromSnapshot(snapshot({ jobs: [job("a")], runs }));
    expect(data.runs.size).toBe(MAX_FINISHED_RUNS);
    expect(data.chunks.size).toBe(MAX_FINISHED_RUNS);
    const newer = applyEvents(data, [{ name: "run:finished", payload: { run: run("new", "a", "done", { finishedAt: NOW + 1 }) } }], NOW).data;
    expect(newer.runs.size).toBe(MAX_FINISHED_RUNS);
    expect(newer.runs.has("new")).toBe(true);
    expect(newer.runs.has(`f${MAX_FINISHED_RUNS - 1}`)).toBe(false);
    expect(newer.chunks.has(`f${MAX_FINISHED_RUNS - 1}.a.0`)).toBe(false);
    // What the console keeps about chunks does not grow with every chunk ever seen.
    expect(newer.activity.order.positions.size).toBe(newer.chunks.size);
  });

  test("finished runs are kept newest first within a budget of chunks: the newest whatever its size, a big one past it dropped, a small older one kept", () => {
    const big = MAX_FINISHED_CHUNKS * 0.6;
    const done = (id: string, name: string, n: number, finishedAt: number) => ({
      run: run(id, name, "done", { finishedAt }),
      chunks: Array.from({ length: n }, (_, i) => chunk(id, name, i, "done", { finishedAt })),
    });
    // Newest first: f0 is kept, f1 would pass the budget beside it, f2 is small.
    const data = dataFromSnapshot(snapshot({ jobs: [job("a"), job("b"), job("c")], runs: [done("f0", "a", big, NOW - 1), done("f1", "b", big, NOW - 2), done("f2", "c", 10, NOW - 3)] }));
    expect([...data.runs.keys()]).toEqual(["f0", "f2"]);
    // f0 is held in sums (summarized-runs.ts): its chunks are the tally's, one shared record for all.
    expect(data.chunks.size).toBe(10);
    expect([data.tally.chunks, data.tally.recordsOf("f0").size]).toEqual([big, 1]);
    // A new big run starts and ends: it is the newest, and f0 no longer fits beside it.
    const chunks = Array.from({ length: big }, (_, i) => chunk("n", "a", i, "running"));
    let next = applyEvents(data, [{ name: "run:started", payload: { run: run("n", "a"), records: chunks, chunks: big } } as EngineEventEntry], NOW).data;
    next = applyEvents(next, chunks.map((c): EngineEventEntry => ({ name: "chunk:done", payload: { chunk: { ...c, state: "done", finishedAt: NOW + 1 }, durationMs: 1 } })), NOW).data;
    next = applyEvents(next, [{ name: "run:finished", payload: { run: run("n", "a", "done", { finishedAt: NOW + 2 }) } }], NOW).data;
    expect([...next.runs.keys()].sort()).toEqual(["f2", "n"]);
    expect(next.chunks.size).toBe(10);
    expect([next.tally.chunks, next.tally.recordsOf("f0").size, next.tally.recordsOf("n").size]).toEqual([big, 0, 1]);
    // Only queue rows have a place in the order: the big run is held in sums (summarized-runs.ts).
    expect(next.summarized).toEqual(new Set(["n"]));
    expect(next.activity.order.positions.size).toBe(10);
  });

  test("a job whose runs left the console's window keeps its last run, through events and snapshots", () => {
    const finished = Array.from({ length: MAX_FINISHED_RUNS }, (_, i) => ({ run: run(`f${i}`, "a", "done", { finishedAt: NOW - i }), chunks: [chunk(`f${i}`, "a", 0, "done")] }));
    const old = { run: run("old", "b", "failed", { finishedAt: NOW - 1000 }), chunks: [chunk("old", "b", 0, "failed", { finishedAt: NOW - 1000 })] };
    let state = start(snapshot({ jobs: [job("a"), job("b")], runs: [...finished.slice(0, -1), old] }));
    const lastOfB = () => state.views.jobs.find((j) => j.name === "b")!.lastRun;
    expect(lastOfB()).toEqual({ at: NOW - 1000, state: "failed" });
    // One more finished run of a: b's run leaves the window, its last run stays.
    state = reduce(state, events({ name: "run:finished", payload: { run: run("new", "a", "done", { finishedAt: NOW + 1 }) } }));
    expect(state.data.runs.has("old")).toBe(false);
    expect(lastOfB()).toEqual({ at: NOW - 1000, state: "failed" });
    // A snapshot read again (after a reload) does not hold it either.
    state = reduce(state, { type: "snapshot", snapshot: snapshot({ jobs: [job("a"), job("b")], runs: finished }) });
    expect(lastOfB()).toEqual({ at: NOW - 1000, state: "failed" });
    expect(state.views.jobs.find((j) => j.name === "b")!.state).toBe("failed");
  });

  test("derives views for 2,000 jobs and 20,000 chunks (speed: npm run bench)", () => {
    const runs = Array.from({ length: 100 }, (_, r) => ({ run: run(`r${r}`, `j${r}`), chunks: Array.from({ length: 200 }, (_, i) => chunk(`r${r}`, `j${r}`, i)) }));
    const data = dataFromSnapshot(snapshot({ jobs: Array.from({ length: 2000 }, (_, i) => job(`j${i}`)), runs }));
    const views = deriveViews(data);
    expect(views.queue).toHaveLength(20_000);
    expect(views.jobs).toHaveLength(2000);
  });
});
