import { describe, expect, it } from "vitest";
import type { ChunkRecord, RunRecord } from "../../src/store/records.js";
import { T0, settle, spec, startEngine } from "../helpers/engine-harness.js";
import { MemoryStore } from "../helpers/memory-store.js";

// An orchestrator can stop between an executor's change and acting on it: the change
// was taken from the queue, or never taken. Engine.start derives from the chunks' states
// what was left undone, whatever the last orchestrator managed.

const jobs = [spec("A"), spec("B", { deps: ["A"] })];
const RUN = "r1";
const EARLIER = T0 - 60_000;

function runRecord(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: RUN, job: "B", kwargs: {}, requestedWorkIds: [1], workIds: [1], status: "running", trigger: "cli", scheduleEntry: null, scheduleTick: null,
    origin: null, createdAt: EARLIER, startedAt: EARLIER, finishedAt: null, gitCommit: null, error: null, ...over,
  };
}

function chunkRecord(plan: string, over: Partial<ChunkRecord> = {}): ChunkRecord {
  return {
    id: `${RUN}.${plan}`, runId: RUN, job: plan.split(".")[0]!, kwargs: {}, kwargsKey: "{}", workIds: [1], dependsOn: [], state: "queued", attempts: 0,
    error: null, startedAt: null, finishedAt: null, durationMs: null, notBefore: null, owner: null, token: null, ...over,
  };
}

const done = (plan: string, finishedAt: number, over: Partial<ChunkRecord> = {}) =>
  chunkRecord(plan, { state: "done", attempts: 1, startedAt: finishedAt - 1_000, finishedAt, durationMs: 1_000, ...over });
const bNeedsA = { dependsOn: [`${RUN}.A.0`] };

function storeWith(run: RunRecord, chunks: ChunkRecord[]): MemoryStore {
  const store = new MemoryStore();
  store.seed([run], chunks);
  return store;
}

describe("Engine.start on a store an earlier orchestrator left", () => {
  it("releases the dependents of a done chunk and records the freshness it earned", async () => {
    const store = storeWith(runRecord(), [done("A.0", T0 - 30_000), chunkRecord("B.0", bNeedsA)]);
    const h = await startEngine(jobs, { store });

    expect(await h.states(RUN)).toEqual({ "A.0": "done", "B.0": "pending" });
    expect(h.events.chunks("chunk:pending")).toEqual(["B.0"]);
    expect(store.freshness().lastSuccess("A", "{}", 1)).toBe(T0 - 30_000);
    expect(h.engine.activeRuns.map((r) => r.run.id)).toEqual([RUN]);

    await h.executor.pump(h.engine);
    expect((await h.engine.waitForRun(RUN)).run.status).toBe("done");
  });

  it("cascades a failed chunk whose dependents are still queued, and ends the run failed", async () => {
    const failed = chunkRecord("A.0", { state: "failed", attempts: 1, finishedAt: T0 - 30_000, error: { kind: "error", message: "boom" } });
    const store = storeWith(runRecord(), [failed, chunkRecord("B.0", bNeedsA)]);
    const h = await startEngine(jobs, { store });

    expect(await h.states(RUN)).toEqual({ "A.0": "failed", "B.0": "upstream_failed" });
    expect(h.events.chunks("chunk:upstream_failed")).toEqual(["B.0"]);
    expect(store.history.get(RUN)?.run).toMatchObject({ status: "failed", finishedAt: T0 });
    expect(h.events.of("run:finished").map((p) => p.run.status)).toEqual(["failed"]);
  });

  it("finishes a run whose chunks were all finished, recording what they earned", async () => {
    const store = storeWith(runRecord(), [done("A.0", T0 - 30_000), done("B.0", T0 - 20_000, bNeedsA)]);
    const h = await startEngine(jobs, { store });

    expect(store.runs.size).toBe(0);
    expect((await h.engine.waitForRun(RUN)).run).toMatchObject({ status: "done", finishedAt: T0 });
    expect(store.freshness().lastSuccess("B", "{}", 1)).toBe(T0 - 20_000);
    expect(store.freshness().lastSuccess("A", "{}", 1)).toBe(T0 - 30_000);
  });

  it("resolves again a run stopped while it was being resolved", async () => {
    const store = storeWith(runRecord(), []);
    const h = await startEngine(jobs, { store });
    expect(await h.states(RUN)).toEqual({ "A.0": "pending", "B.0": "queued" });
    expect((await store.getRun(RUN))?.run.status).toBe("running");
  });

  it("releases a queued retry when its backoff is over, not before", async () => {
    const retry = chunkRecord("A.0", { attempts: 1, notBefore: T0 + 2_000, error: { kind: "error", message: "boom" } });
    const store = storeWith(runRecord(), [retry, chunkRecord("B.0", bNeedsA)]);
    const h = await startEngine(jobs, { store });
    expect(await h.states(RUN)).toEqual({ "A.0": "queued", "B.0": "queued" });
    await h.clock.advance(1_999);
    expect((await h.chunk(RUN, "A.0")).state).toBe("queued");
    await h.clock.advance(1);
    expect((await h.chunk(RUN, "A.0")).state).toBe("pending");
  });
});

describe("Engine.start on a cancelled run", () => {
  // The rule observe() applies (a cancelled run's chunks that came back do not run again)
  // holds after a restart too: here an instance gave a chunk back, and the orchestrator
  // stopped before it took that change from the queue.
  it("cancels a chunk given back to pending instead of letting an executor run it again", async () => {
    const given = chunkRecord("A.0", { state: "pending", attempts: 1, error: { kind: "cancelled", message: "interrupted: its stau instance was stopping" } });
    const cancelled = chunkRecord("B.0", { ...bNeedsA, state: "cancelled", finishedAt: EARLIER, error: { kind: "cancelled", message: "cancelled by an operator" } });
    const store = storeWith(runRecord({ cancelRequested: true }), [given, cancelled]);
    const h = await startEngine(jobs, { store });

    expect(await h.executor.claim()).toEqual([]);
    expect(await h.states(RUN)).toEqual({ "A.0": "cancelled", "B.0": "cancelled" });
    expect((await store.getRun(RUN))?.run.status).toBe("cancelled");
  });
});

describe("freshness", () => {
  const chunked = [spec("A", { chunkSize: 1 }), spec("B", { deps: [{ job: "A", maxLagMs: 60 * 60_000 }] })];

  it("records a done chunk's success per work ID, and a later run prunes what is still within maxLag", async () => {
    const h = await startEngine(chunked);
    const first = await h.run("B", { workIds: [1, 2] });
    expect(await h.states(first.id)).toEqual({ "B.0": "queued", "A.0": "pending", "A.1": "pending" });
    await h.executor.pump(h.engine);
    const fresh = h.store.freshness();
    expect([1, 2].map((id) => fresh.lastSuccess("A", "{}", id))).toEqual([T0, T0]);
    expect([1, 2].map((id) => fresh.lastSuccess("B", "{}", id))).toEqual([T0, T0]);

    await h.clock.advance(30 * 60_000);
    const second = await h.run("B", { workIds: [1, 2] });
    expect(await h.states(second.id)).toEqual({ "B.0": "pending" });
    await h.executor.pump(h.engine);

    // Past maxLag A is stale again; B's own success does not matter: the triggered job always runs.
    await h.clock.advance(31 * 60_000);
    const third = await h.run("B", { workIds: [1, 2] });
    expect(await h.states(third.id)).toEqual({ "B.0": "queued", "A.0": "pending", "A.1": "pending" });
  });
});

describe("events after durability", () => {
  it("announces a release only once the commit that makes it durable resolves", async () => {
    const h = await startEngine(jobs);
    const run = await h.run("B");
    const [a] = await h.executor.claim();
    await h.executor.complete(a!);

    const open = h.store.hold();
    const observing = h.engine.observe(await h.store.queue.takeChanges(100));
    await settle();
    expect(h.events.of("chunk:pending")).toEqual([]);
    expect((await h.chunk(run.id, "B.0")).state).toBe("queued");
    expect(await h.executor.claim()).toEqual([]);
    expect(h.store.freshness().lastSuccess("A", "{}", null)).toBeUndefined();

    open();
    await observing;
    expect(h.events.chunks("chunk:pending")).toEqual(["B.0"]);
    expect((await h.chunk(run.id, "B.0")).state).toBe("pending");
    expect(h.store.freshness().lastSuccess("A", "{}", null)).toBe(T0);
  });

  it("hands back a trigger, and announces its run, once the run's record is durable", async () => {
    const h = await startEngine(jobs);
    const open = h.store.hold();
    let triggered = false;
    const trigger = h.engine.trigger({ job: "A", source: "cli" }).then((run) => ((triggered = true), run));
    await settle();
    expect(triggered).toBe(false);
    expect(h.events.of("run:queued")).toEqual([]);
    expect(h.store.runs.size).toBe(0);

    open();
    const run = await trigger;
    expect(h.events.of("run:queued").map((p) => p.run.id)).toEqual([run.id]);
    expect(h.store.runs.has(run.id)).toBe(true);
  });

  it("announces a run's end, and lets waitForRun resolve, only once the end is durable", async () => {
    const h = await startEngine(jobs);
    const run = await h.run("A");
    let ended = false;
    void h.engine.waitForRun(run.id).then(() => (ended = true));
    const [a] = await h.executor.claim();
    await h.executor.complete(a!);

    const open = h.store.hold();
    const observing = h.engine.observe(await h.store.queue.takeChanges(100));
    await settle();
    expect(h.events.of("run:finished")).toEqual([]);
    expect(ended).toBe(false);

    open();
    await observing;
    expect(h.events.of("run:finished").map((p) => p.run.status)).toEqual(["done"]);
    expect(ended).toBe(true);
    expect(h.store.history.has(run.id)).toBe(true);
  });
});
