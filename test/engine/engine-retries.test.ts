import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { settle, spec, startEngine } from "../helpers/engine-harness.js";

// Backoff, the failure cascade and an operator's retry (README "Failures"), with time
// moved by hand: the engine releases a retry on its clock, never on the wall's.

describe("retry backoff", () => {
  it("releases a failed chunk at exactly notBefore, doubles the delay, and fails it when retries run out", async () => {
    const h = await startEngine([spec("A", { retries: 2, retryDelayMs: 5_000 })]);
    const run = await h.run("A");
    const t0 = h.clock.now();

    const [first] = await h.executor.claim();
    await h.executor.complete(first!, "error");
    await h.executor.deliver(h.engine);
    expect(await h.chunk(run.id, "A.0")).toMatchObject({ state: "queued", attempts: 1, notBefore: t0 + 5_000, error: { kind: "error" } });

    await h.clock.advance(4_999);
    expect(await h.executor.claim()).toEqual([]);
    expect(h.events.chunks("chunk:pending")).toEqual([]);

    await h.clock.advance(1);
    expect((await h.chunk(run.id, "A.0")).state).toBe("pending");
    expect(h.events.seen.filter((e) => e.name === "chunk:pending").map((e) => e.at)).toEqual([t0 + 5_000]);

    // The second failure backs off twice as long, from the instant it failed.
    const [second] = await h.executor.claim();
    expect(second).toMatchObject({ attempts: 2, startedAt: t0 + 5_000 });
    await h.executor.complete(second!, "timeout");
    await h.executor.deliver(h.engine);
    expect(await h.chunk(run.id, "A.0")).toMatchObject({ state: "queued", notBefore: t0 + 15_000 });
    await h.clock.advance(9_999);
    expect((await h.chunk(run.id, "A.0")).state).toBe("queued");
    await h.clock.advance(1);
    expect(h.events.seen.filter((e) => e.name === "chunk:pending").map((e) => e.at)).toEqual([t0 + 5_000, t0 + 15_000]);

    const [third] = await h.executor.claim();
    await h.executor.complete(third!, "error");
    await h.executor.deliver(h.engine);
    expect(await h.chunk(run.id, "A.0")).toMatchObject({ state: "failed", attempts: 3, notBefore: null });
    expect((await h.store.getRun(run.id))?.run.status).toBe("failed");
    expect(h.clock.armed()).toEqual([]);
  });

  it("fails a NonRetryableError at once, whatever the retries", async () => {
    const h = await startEngine([spec("A", { retries: 3 })]);
    const run = await h.run("A");
    await h.executor.pump(h.engine, () => ({ kind: "error", nonRetryable: true }));
    expect(await h.chunk(run.id, "A.0")).toMatchObject({ state: "failed", attempts: 1 });
    expect(h.clock.armed()).toEqual([]);
  });
});

// R needs B and X; B needs A. A failing for good dooms B and R, not X.
const jobs = [spec("A", { retries: 1 }), spec("B", { deps: ["A"] }), spec("X"), spec("R", { deps: ["B", "X"] })];

describe("the failure cascade", () => {
  it("makes every chunk below a failed one upstream_failed, lets unrelated chunks run, and fails the run", async () => {
    const h = await startEngine(jobs.map((j) => (j.name === "A" ? { ...j, retries: 0 } : j)));
    const run = await h.run("R");
    expect(await h.states(run.id)).toEqual({ "R.0": "queued", "B.0": "queued", "X.0": "pending", "A.0": "pending" });

    const claimed = await h.executor.claim();
    const a = claimed.find((c) => c.job === "A")!;
    const x = claimed.find((c) => c.job === "X")!;
    await h.executor.complete(a, "error");
    await h.executor.deliver(h.engine);

    expect(await h.states(run.id)).toEqual({ "R.0": "upstream_failed", "B.0": "upstream_failed", "X.0": "running", "A.0": "failed" });
    expect(h.events.chunks("chunk:upstream_failed").sort()).toEqual(["B.0", "R.0"]);
    expect(h.events.of("chunk:upstream_failed").every((p) => p.chunk.error?.message === `upstream chunk ${a.id} failed`)).toBe(true);
    expect(h.events.of("run:finished")).toEqual([]);

    await h.executor.complete(x);
    await h.executor.deliver(h.engine);
    expect(await h.states(run.id)).toMatchObject({ "X.0": "done" });
    expect((await h.store.getRun(run.id))?.run.status).toBe("failed");
    expect(h.events.of("run:finished").map((p) => p.run.status)).toEqual(["failed"]);
    expect(h.store.freshness().lastSuccess("X", "{}", null)).toBe(h.clock.now());
  });
});

describe("an operator's retry", () => {
  it("runs only the failed, upstream_failed and cancelled chunks again, in the same run, with fresh retries", async () => {
    const h = await startEngine(jobs);
    const run = await h.run("R");
    await h.executor.pump(h.engine, (c) => (c.job === "A" ? "error" : "ok"));
    // A used its retry on the way: the backoff is released on the clock.
    await h.clock.advance(5_000);
    await h.executor.pump(h.engine, (c) => (c.job === "A" ? "error" : "ok"));
    expect(await h.states(run.id)).toEqual({ "R.0": "upstream_failed", "B.0": "upstream_failed", "X.0": "done", "A.0": "failed" });
    const x = await h.chunk(run.id, "X.0");
    expect((await h.chunk(run.id, "A.0")).attempts).toBe(2);

    const retried = await h.engine.retry(run.id);
    expect(retried).toMatchObject({ id: run.id, status: "running", finishedAt: null, error: null });
    await settle();
    expect(await h.states(run.id)).toEqual({ "R.0": "queued", "B.0": "queued", "X.0": "done", "A.0": "pending" });
    expect(await h.chunk(run.id, "A.0")).toMatchObject({ retryFrom: 2, error: null, attempts: 2 });
    expect(await h.chunk(run.id, "X.0")).toEqual(x);
    expect(h.events.of("run:started").at(-1)?.records.map((c) => c.job).sort()).toEqual(["A", "B", "R"]);
    expect(h.events.chunks("chunk:pending").at(-1)).toBe("A.0");

    // Attempt 3 fails, and A has one retry again: it is queued, not failed.
    const retryAt = h.clock.now();
    const [a] = await h.executor.claim();
    await h.executor.complete(a!, "error");
    await h.executor.deliver(h.engine);
    expect(await h.chunk(run.id, "A.0")).toMatchObject({ state: "queued", attempts: 3, notBefore: retryAt + 5_000 });

    await h.clock.advance(5_000);
    await h.executor.pump(h.engine);
    const done = await h.engine.waitForRun(run.id);
    expect(done.run.status).toBe("done");
    expect(Object.fromEntries(done.chunks.map((c) => [c.job, c.attempts]))).toEqual({ A: 4, B: 1, R: 1, X: 1 });
    expect(await h.store.listRuns(10)).toHaveLength(1);
  });

  it("refuses to retry a run that has not finished, and answers null for an unknown run", async () => {
    const h = await startEngine(jobs);
    const run = await h.run("R");
    await expect(h.engine.retry(run.id)).rejects.toBeInstanceOf(UsageError);
    expect(await h.engine.retry("r-nope")).toBeNull();
    expect(await h.states(run.id)).toEqual({ "R.0": "queued", "B.0": "queued", "X.0": "pending", "A.0": "pending" });
  });

  // retry() looks for the run among active ones before it awaits the store: a second
  // order for the same run arriving meanwhile (two `stau retry`, a double key press)
  // finds it in neither place yet and reopens it again.
  it("reopens a run once when two retries of it arrive together", async () => {
    const h = await startEngine([spec("A")]);
    const run = await h.run("A");
    await h.executor.pump(h.engine, () => "error");
    const startsBefore = h.events.of("run:started").length;

    const answers = await Promise.allSettled([h.engine.retry(run.id), h.engine.retry(run.id)]);
    await settle();
    expect(answers.filter((a) => a.status === "fulfilled" && a.value !== null).length).toBeGreaterThanOrEqual(1);
    expect(h.events.of("run:started").length - startsBefore).toBe(1);
  });
});
