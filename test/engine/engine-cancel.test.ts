import { describe, expect, it } from "vitest";
import * as T from "../../src/engine/transitions.js";
import { HOUR } from "../graph/helpers.js";
import { settle, spec, startEngine } from "../helpers/engine-harness.js";

// Cancel races executors: the engine's index says "pending" for a chunk an executor may
// already hold, and only the store's guarded patch can tell.

// B needs A on both IDs; A is split in two chunks, so one can run while the other waits.
const jobs = [spec("A", { chunkSize: 1, retries: 2 }), spec("B", { deps: [{ job: "A", maxLagMs: HOUR }] })];

describe("cancel", () => {
  it("cancels what has not started, leaves a chunk an executor claimed meanwhile to it, and ends the run cancelled once that chunk is back", async () => {
    const h = await startEngine(jobs);
    const run = await h.run("B", { workIds: [1, 2] });
    expect(await h.states(run.id)).toEqual({ "B.0": "queued", "A.0": "pending", "A.1": "pending" });
    const [claimed] = await h.executor.claim(1);
    expect(claimed?.id).toBe(`${run.id}.A.0`);

    expect(await h.engine.cancel(run.id)).toBe(true);
    await settle();

    expect(await h.states(run.id)).toEqual({ "B.0": "cancelled", "A.0": "running", "A.1": "cancelled" });
    expect(h.events.chunks("chunk:cancelled").sort()).toEqual(["A.1", "B.0"]);
    expect(h.store.queue.cancelRequests).toEqual([run.id]);
    expect(await h.store.queue.cancelledRuns([run.id])).toEqual([run.id]);
    expect(h.engine.activeRuns.map((r) => r.run.id)).toEqual([run.id]);
    expect(h.events.of("run:finished")).toEqual([]);

    // The executor hears of the cancel and stops its attempt: never retried, whatever the retries.
    await h.executor.complete(claimed!, "cancelled");
    await h.executor.deliver(h.engine);
    expect(await h.chunk(run.id, "A.0")).toMatchObject({ state: "cancelled", attempts: 1 });
    const finished = await h.engine.waitForRun(run.id);
    expect(finished.run).toMatchObject({ status: "cancelled", cancelRequested: true });
    expect(h.events.of("run:finished").map((p) => p.run.status)).toEqual(["cancelled"]);
  });

  it("does not finish a run with its last result while a cancel's patch of it may still find a chunk claimed", async () => {
    const h = await startEngine([spec("A", { chunkSize: 1 })]);
    const run = await h.run("A", { workIds: [1, 2] });
    const [first] = await h.executor.claim(1);
    // The cancel's patch of A.1 (pending → cancelled) is written, its commit not yet through…
    const open = h.store.hold();
    const cancelling = h.engine.cancel(run.id);
    // …when an executor claims A.1, and A.0's result comes in: the index counts both ended.
    const [second] = await h.executor.claim(1);
    expect(second?.id).toBe(`${run.id}.A.1`);
    await h.executor.complete(first!, "ok");
    const delivering = h.executor.deliver(h.engine);
    open();
    await Promise.all([cancelling, delivering]);
    await settle();

    expect(await h.states(run.id)).toEqual({ "A.0": "done", "A.1": "running" });
    expect(h.events.of("run:finished")).toEqual([]);
    expect(h.engine.activeRuns.map((r) => r.run.id)).toEqual([run.id]);
    await h.executor.complete(second!, "cancelled");
    await h.executor.deliver(h.engine);
    expect((await h.engine.waitForRun(run.id)).run).toMatchObject({ status: "cancelled" });
    expect(h.events.of("run:finished")).toHaveLength(1);
  });

  it("does not retry an attempt that failed while its run was being cancelled", async () => {
    const h = await startEngine(jobs);
    const run = await h.run("B", { workIds: [1, 2] });
    const [claimed] = await h.executor.claim(1);
    await h.engine.cancel(run.id);

    await h.executor.complete(claimed!, "error");
    await h.executor.deliver(h.engine);
    expect(await h.chunk(run.id, "A.0")).toMatchObject({ state: "failed", notBefore: null });
    expect((await h.store.getRun(run.id))?.run.status).toBe("cancelled");
    expect(h.clock.armed()).toEqual([]);
  });

  it("cancels a chunk waiting out a retry's backoff, and its timer", async () => {
    const h = await startEngine(jobs);
    const run = await h.run("B", { workIds: [1, 2] });
    for (const chunk of await h.executor.claim()) await h.executor.complete(chunk, "error");
    await h.executor.deliver(h.engine);
    expect(h.clock.armed()).toHaveLength(2);

    await h.engine.cancel(run.id);
    await settle();
    expect(await h.states(run.id)).toEqual({ "B.0": "cancelled", "A.0": "cancelled", "A.1": "cancelled" });
    expect(h.clock.armed()).toEqual([]);
    expect((await h.store.getRun(run.id))?.run.status).toBe("cancelled");
  });

  it("ends a waiting run cancelled at once, and answers false for a run it does not have", async () => {
    const h = await startEngine(jobs);
    await h.run("A", { workIds: [1] });
    const waiting = await h.run("B", { workIds: [1] });
    expect((await h.store.getRun(waiting.id))?.run.status).toBe("waiting");

    expect(await h.engine.cancel(waiting.id)).toBe(true);
    expect(await h.engine.waitForRun(waiting.id)).toMatchObject({ run: { status: "cancelled" }, chunks: [] });
    expect(await h.engine.cancel("r-nope")).toBe(false);
  });

  it("cancels a run whose selectWork is still running once it has its chunks", async () => {
    let selected!: (ids: number[]) => void;
    const h = await startEngine([spec("A", { chunkSize: 1, hasSelectWork: true })], { selectWork: () => new Promise((resolve) => (selected = resolve)) });
    const run = await h.run("A");
    expect((await h.store.getRun(run.id))?.run.status).toBe("waiting");

    await h.engine.cancel(run.id);
    expect(h.events.of("run:finished")).toEqual([]);
    selected([1, 2]);
    const finished = await h.engine.waitForRun(run.id);
    expect(finished.run.status).toBe("cancelled");
    expect(finished.chunks.map((c) => c.state)).toEqual(["cancelled", "cancelled"]);
    expect(await h.executor.claim()).toEqual([]);
  });

  it("cancels a cancelled run's chunk that an instance gave back instead of running it again", async () => {
    const h = await startEngine(jobs);
    const run = await h.run("B", { workIds: [1, 2] });
    const [claimed] = await h.executor.claim(1);
    await h.engine.cancel(run.id);

    await h.store.queue.handBack(h.executor.owner, [claimed!.id], T.interrupted("its stau instance was stopping"));
    await h.executor.deliver(h.engine);
    expect(await h.chunk(run.id, "A.0")).toMatchObject({ state: "cancelled" });
    expect((await h.store.getRun(run.id))?.run.status).toBe("cancelled");
  });

  // README "Failures": freshness is recorded when a chunk is done. Here the chunk finished
  // between the executor's claim and the cancel's commit: the commit's conflict moves the
  // engine's index to "done" without acting on it, so when the change arrives from the
  // queue it reads as no change (or the run has already finished) and its success is lost.
  it("records the freshness of a chunk that finished done while its run was being cancelled", async () => {
    const h = await startEngine(jobs);
    const run = await h.run("B", { workIds: [1, 2] });
    const [claimed] = await h.executor.claim(1);
    await h.executor.complete(claimed!);
    const doneAt = h.clock.now();

    await h.engine.cancel(run.id);
    await h.executor.deliver(h.engine);

    expect(await h.states(run.id)).toEqual({ "B.0": "cancelled", "A.0": "done", "A.1": "cancelled" });
    expect((await h.store.getRun(run.id))?.run.status).toBe("cancelled");
    expect(h.store.freshness().lastSuccess("A", "{}", 1)).toBe(doneAt);
  });
});
