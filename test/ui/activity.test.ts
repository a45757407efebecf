import { describe, expect, test } from "vitest";
import type { ChunkRecord, ChunkState } from "../../src/store/records.js";
import type { EngineEventEntry } from "../../src/ui/actions.js";
import type { ConsoleState } from "../../src/ui/state.js";
import { dataFromSnapshot } from "../../src/ui/data-reducer.js";
import { PersistentMap } from "../../src/ui/persistent-map.js";
import { reduce } from "../../src/ui/reducer.js";
import { deriveViews, type Views } from "../../src/ui/views.js";
import { chunk, job, NOW, run, snapshot } from "./fixtures.js";
import { start } from "./helpers.js";

describe("a persistent map: each version keeps its entries whichever is read", () => {
  test("older versions read as they were, after newer ones and in any order", () => {
    const v0 = PersistentMap.of([["a", 1], ["b", 2]]);
    const v1 = v0.with([["a", 10], ["c", 3]]);
    const v2 = v1.with([["b", undefined]]);
    expect([...v2]).toEqual([["a", 10], ["c", 3]]);
    expect([...v0]).toEqual([["a", 1], ["b", 2]]);
    expect(v1.get("a")).toBe(10);
    expect(v1.has("b")).toBe(true);
    expect(v2.size).toBe(2);
    expect(v0.get("c")).toBeUndefined();
  });

  test("a branch from an older version leaves the other branch as it was", () => {
    const v0 = PersistentMap.of([["a", 1]]);
    const left = v0.with([["a", 2]]);
    const right = v0.with([["b", 5]]);
    expect([...left]).toEqual([["a", 2]]);
    expect([...right]).toEqual([["a", 1], ["b", 5]]);
    expect(left.with([["c", 1]]).size).toBe(2);
    expect(right.get("a")).toBe(1);
  });

  test("no change is the same version", () => {
    const v0 = PersistentMap.of([["a", 1]]);
    expect(v0.with([])).toBe(v0);
  });
});

/** What the views say, in plain terms, to compare two ways of getting them. */
function described(views: Views) {
  return {
    jobs: views.jobs.map((j) => [j.name, j.state, j.lastRun?.state ?? null, j.lastRun?.at ?? null]),
    queue: views.queue.map((row) => (row.kind === "chunk" ? `${row.chunk.id}:${row.chunk.state}` : `run ${row.run.id}`)),
    running: views.running.map((c) => c.id),
    failures: views.failures.map((row) => (row.kind === "chunk" ? row.chunk.id : row.kind === "run" ? row.run.id : row.job.name)),
    counts: views.counts,
  };
}

/** The views a fresh console would derive from the same data: what the change-by-change ones must equal. */
function fromScratch(state: ConsoleState): Views {
  const { data } = state;
  const runs = [...data.runs.values()].map((r) => ({ run: r, chunks: [...data.chunks.values()].filter((c) => c.runId === r.id) }));
  return deriveViews(dataFromSnapshot(snapshot({ jobs: data.jobs, runs, instance: data.instance ?? undefined })));
}

describe("views kept up to date change by change equal views derived from scratch", () => {
  test("over random batches of chunk events: claims, starts, ends, failures, retries, interruptions", () => {
    // A fixed generator: the same sequence every run.
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
    const ids = (runId: string, name: string, n: number) => Array.from({ length: n }, (_, i) => chunk(runId, name, i));
    let state = start({ ...snapshot({ jobs: [job("a"), job("b")], runs: [{ run: run("r1", "a"), chunks: ids("r1", "a", 40) }, { run: run("r2", "b"), chunks: ids("r2", "b", 40) }] }), instance: "me" });
    const states: ChunkState[] = ["queued", "pending", "running", "running", "done", "failed", "cancelled", "upstream_failed"];
    for (let batch = 0; batch < 60; batch++) {
      const events = [];
      for (let i = 0; i < 1 + Math.floor(random() * 12); i++) {
        const known = pick([...state.data.chunks.values()]);
        const to = pick(states);
        const at = NOW + batch * 100 + i;
        const record: ChunkRecord = {
          ...known,
          state: to,
          // Claimed ahead (no worker yet), on a thread, or another instance's.
          ...(to === "running" ? { worker: pick([null, 1, 2]), owner: pick(["me", "other"]), startedAt: at } : { worker: null }),
          finishedAt: to === "done" || to === "failed" || to === "cancelled" || to === "upstream_failed" ? at : null,
        };
        events.push(to === "failed" ? { name: "chunk:failed" as const, payload: { chunk: record, error: { message: "x", kind: "error" as const }, willRetry: false, durationMs: 1 } } : { name: "chunk:started" as const, payload: { chunk: record } });
      }
      if (batch === 30) events.push({ name: "run:finished" as const, payload: { run: run("r2", "b", "failed") } });
      state = reduce(state, { type: "events", events, at: NOW });
      expect(described(state.views)).toEqual(described(fromScratch(state)));
    }
  });

  test("a chunk that leaves the queue and comes back takes its old place", () => {
    const chunks = [0, 1, 2, 3].map((i) => chunk("r1", "a", i));
    let state = start(snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks }] }));
    const queue = () => state.views.queue.map((row) => (row.kind === "chunk" ? row.chunk.id : ""));
    state = reduce(state, { type: "events", at: NOW, events: [{ name: "chunk:started", payload: { chunk: chunk("r1", "a", 1, "running") } }] });
    expect(queue()).toEqual(["r1.a.0", "r1.a.2", "r1.a.3"]);
    state = reduce(state, { type: "events", at: NOW, events: [{ name: "chunk:interrupted", payload: { chunk: chunk("r1", "a", 1, "pending", { attempts: 1 }), reason: "stopped" } }] });
    expect(queue()).toEqual(["r1.a.0", "r1.a.1", "r1.a.2", "r1.a.3"]);
  });

  test("a job's newest outcome taken back (its chunk runs again) falls back to the one before", () => {
    const older = chunk("r1", "a", 0, "failed", { finishedAt: NOW - 9000 });
    const newer = chunk("r1", "a", 1, "done", { finishedAt: NOW - 1000 });
    let state = start(snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks: [older, newer] }] }));
    // The run's newest outcome, and a failure in it makes it failed.
    expect(state.views.jobs[0].lastRun).toEqual({ at: NOW - 1000, state: "failed" });
    state = reduce(state, { type: "events", at: NOW, events: [{ name: "chunk:started", payload: { chunk: { ...newer, state: "running", finishedAt: null } } }] });
    expect(state.views.jobs[0]).toMatchObject({ state: "running", lastRun: { at: NOW - 9000, state: "failed" } });
  });

  test("a job whose run had a failed chunk is failed, however many of that run's chunks end after it, until it is retried or a newer run ends", () => {
    const ev = (...events: EngineEventEntry[]) => ({ type: "events" as const, at: NOW, events });
    const failure = chunk("r1", "a", 0, "failed", { finishedAt: NOW - 9000, error: { message: "boom", kind: "error" } });
    let state = start(snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks: [chunk("r1", "a", 0, "running"), chunk("r1", "a", 1, "running")] }] }));
    state = reduce(state, ev({ name: "chunk:failed", payload: { chunk: failure, error: failure.error!, willRetry: false, durationMs: 1 } }));
    state = reduce(state, ev({ name: "chunk:done", payload: { chunk: chunk("r1", "a", 1, "done", { finishedAt: NOW - 1000 }), durationMs: 1 } }));
    expect(state.views.jobs[0]).toMatchObject({ state: "failed", lastRun: { at: NOW - 1000, state: "failed" } });

    // Retried: its failure is taken back; once it is done, the run went well.
    state = reduce(state, ev({ name: "run:started", payload: { run: run("r1", "a"), chunks: 1, records: [chunk("r1", "a", 0, "queued", { attempts: 1 })] } }));
    expect(state.views.jobs[0]).toMatchObject({ state: "queued", lastRun: { at: NOW - 1000, state: "done" } });
    state = reduce(state, ev({ name: "chunk:done", payload: { chunk: chunk("r1", "a", 0, "done", { attempts: 2, finishedAt: NOW }), durationMs: 1 } }));
    expect(state.views.jobs[0]).toMatchObject({ state: "idle", lastRun: { at: NOW, state: "done" } });

    // A newer run that fails, then one that goes well.
    state = reduce(state, ev({ name: "run:started", payload: { run: run("r2", "a"), chunks: 1, records: [chunk("r2", "a", 0, "queued")] } }));
    state = reduce(state, ev({ name: "chunk:failed", payload: { chunk: { ...failure, id: "r2.a.0", runId: "r2", finishedAt: NOW + 1 }, error: failure.error!, willRetry: false, durationMs: 1 } }));
    expect(state.views.jobs[0]).toMatchObject({ state: "failed", lastRun: { at: NOW + 1, state: "failed" } });
    state = reduce(state, ev({ name: "run:started", payload: { run: run("r3", "a"), chunks: 1, records: [chunk("r3", "a", 0, "queued")] } }));
    state = reduce(state, ev({ name: "chunk:done", payload: { chunk: chunk("r3", "a", 0, "done", { finishedAt: NOW + 2 }), durationMs: 1 } }));
    expect(state.views.jobs[0]).toMatchObject({ state: "idle", lastRun: { at: NOW + 2, state: "done" } });
  });
});
