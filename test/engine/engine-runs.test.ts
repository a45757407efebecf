import { describe, expect, it } from "vitest";
import { StauError, UsageError } from "../../src/errors.js";
import * as T from "../../src/engine/transitions.js";
import { spec, startEngine } from "../helpers/engine-harness.js";

// A run's life around its chunks: how it is resolved, what fails it as a whole, a
// rerun, chunks whose instance went away, and an engine that stops taking work.

describe("resolving a run", () => {
  it("asks selectWork for the work IDs of a run triggered without them, and splits them by chunkSize", async () => {
    const asked: unknown[] = [];
    const h = await startEngine([spec("A", { chunkSize: 2, hasSelectWork: true })], {
      selectWork: async (s, kwargs) => (asked.push([s.name, kwargs]), [1, 2, 3]),
    });
    const run = await h.run("A", { kwargs: { day: "mon" } });
    expect(asked).toEqual([["A", { day: "mon" }]]);
    expect(await h.store.getRun(run.id)).toMatchObject({ run: { status: "running", workIds: [1, 2, 3], startedAt: h.clock.now() } });
    expect((await h.store.getRun(run.id))?.chunks.map((c) => c.workIds)).toEqual([[1, 2], [3]]);
    expect(h.events.of("run:started").map((p) => p.chunks)).toEqual([2]);
  });

  it("starts a run of 200,000 one-ID chunks, every one a whole record, and releases a chunk once the one it needs is done", async () => {
    const n = 200_000;
    const h = await startEngine([spec("A", { chunkSize: 1, deps: ["B"] }), spec("B", { chunkSize: 1 })]);
    const run = await h.run("A", { kwargs: { day: "mon" }, workIds: Array.from({ length: n }, (_, i) => i) });
    expect(h.events.of("run:started").map((p) => p.chunks)).toEqual([2 * n]);
    const { chunks } = (await h.store.getRun(run.id))!;
    const last = chunks.find((c) => c.id === `${run.id}.B.${n - 1}`);
    expect(last).toEqual({
      id: `${run.id}.B.${n - 1}`, runId: run.id, job: "B", kwargs: {}, kwargsKey: "{}", codeHash: null, workIds: [n - 1], dependsOn: [], state: "pending",
      attempts: 0, error: null, startedAt: null, finishedAt: null, durationMs: null, notBefore: null, owner: null, token: null, worker: null, ranOn: null,
    });
    expect(chunks.find((c) => c.id === `${run.id}.A.7`)).toMatchObject({ kwargs: { day: "mon" }, kwargsKey: '{"day":"mon"}', dependsOn: [`${run.id}.B.7`], state: "queued" });
    // B.0–B.2 done release exactly A.0–A.2.
    for (const chunk of await h.executor.claim(3)) await h.executor.complete(chunk);
    await h.executor.deliver(h.engine);
    const moved = Object.entries(await h.states(run.id)).filter(([id, state]) => id.startsWith("A.") && state !== "queued");
    expect(moved).toEqual([["A.0", "pending"], ["A.1", "pending"], ["A.2", "pending"]]);
  });

  it("fails a run that cannot be resolved with one failed chunk saying why", async () => {
    const h = await startEngine([spec("B", { deps: ["nowhere"] })]);
    const run = await h.run("B");
    const ended = await h.engine.waitForRun(run.id);
    expect(ended.run).toMatchObject({ status: "failed", error: expect.stringContaining("nowhere") });
    expect(ended.chunks).toEqual([expect.objectContaining({ job: "B", state: "failed", error: expect.objectContaining({ kind: "load" }) })]);
    expect(h.events.of("chunk:failed").map((p) => p.willRetry)).toEqual([false]);
  });

  it("fails a run whose selectWork throws, and takes the next run as usual", async () => {
    let calls = 0;
    const h = await startEngine([spec("A", { hasSelectWork: true })], {
      selectWork: async () => {
        if (++calls === 1) throw new Error("the warehouse is down");
        return [7];
      },
    });
    const first = await h.run("A");
    expect((await h.engine.waitForRun(first.id)).run).toMatchObject({ status: "failed", error: "the warehouse is down" });
    const second = await h.run("A");
    expect(await h.states(second.id)).toEqual({ "A.0": "pending" });
  });

  it("refuses a trigger of a job it does not know", async () => {
    const h = await startEngine([spec("A")]);
    await expect(h.engine.trigger({ job: "nope", source: "cli" })).rejects.toBeInstanceOf(UsageError);
    expect(h.store.runs.size).toBe(0);
  });
});

describe("rerun", () => {
  it("starts a new run with the same job, kwargs and work IDs, naming the run it repeats", async () => {
    const h = await startEngine([spec("A", { chunkSize: 1 })]);
    const first = await h.run("A", { kwargs: { k: 1 }, workIds: [4, 5] });
    await h.executor.pump(h.engine);
    const again = await h.engine.rerun(first.id);
    expect(again).toMatchObject({ job: "A", kwargs: { k: 1 }, requestedWorkIds: [4, 5], trigger: "rerun", origin: first.id });
    expect(again!.id).not.toBe(first.id);
    expect(await h.engine.rerun("r-nope")).toBeNull();
  });
});

describe("chunks whose instance went away", () => {
  it("runs them again, their attempt counted, after announcing the interruption", async () => {
    const h = await startEngine([spec("A"), spec("B", { deps: ["A"] })]);
    const run = await h.run("B");
    const [a] = await h.executor.claim();
    h.store.queue.silent.add(h.executor.owner);

    // As the orchestrator does: the queue gives the chunks back, the engine hears of them.
    const reason = (owner: string) => `its stau instance ${owner} is gone (no heartbeat)`;
    const released = await h.store.queue.releaseSilent(5_000, (_c, owner) => T.interrupted(reason(owner)));
    await h.engine.released(released.map((r) => r.chunk), () => reason(h.executor.owner));
    expect(h.events.of("chunk:interrupted")).toEqual([{ chunk: expect.objectContaining({ id: a!.id, state: "pending" }), reason: reason("exec-1") }]);
    expect(await h.states(run.id)).toEqual({ "B.0": "queued", "A.0": "pending" });

    // The old owner's result is refused: its token no longer holds the chunk.
    expect(await h.executor.complete(a!)).toBe(false);
    h.store.queue.silent.clear();
    await h.executor.pump(h.engine);
    expect((await h.engine.waitForRun(run.id)).chunks.find((c) => c.job === "A")).toMatchObject({ state: "done", attempts: 2 });
  });
});

describe("an engine that stops taking work", () => {
  it("refuses triggers and releases no retry, but still applies results", async () => {
    const h = await startEngine([spec("A", { chunkSize: 1, retries: 1, retryDelayMs: 1_000 })]);
    const run = await h.run("A", { workIds: [1, 2] });
    const [one, two] = await h.executor.claim();
    h.engine.stopTaking();
    await expect(h.engine.trigger({ job: "A", source: "cli" })).rejects.toBeInstanceOf(StauError);

    const doneAt = h.clock.now();
    await h.executor.complete(one!, "error");
    await h.executor.complete(two!);
    await h.executor.deliver(h.engine);
    await h.clock.advance(60_000);
    expect(await h.states(run.id)).toEqual({ "A.0": "queued", "A.1": "done" });
    expect(h.store.freshness().lastSuccess("A", "{}", 2)).toBe(doneAt);

    await h.engine.stop();
    expect(h.clock.armed()).toEqual([]);
  });
});
