import { describe, expect, it } from "vitest";
import * as T from "../../src/engine/transitions.js";
import type { ChunkRecord } from "../../src/store/records.js";

const chunk = (over: Partial<ChunkRecord> = {}): ChunkRecord => ({
  id: "r1.a.0", runId: "r1", job: "a", kwargs: {}, kwargsKey: "{}", workIds: [1], dependsOn: [],
  state: "running", attempts: 1, error: null, startedAt: 0, finishedAt: null, notBefore: null, owner: "me", token: "t",
  ...over,
});
const spec = { retries: 2, retryDelayMs: 1_000 };
const boom = { kind: "error" as const, message: "boom" };

describe("chunk transitions", () => {
  it("retries a retryable error with exponential backoff while attempts are left", () => {
    expect(T.fail(chunk({ attempts: 1 }), spec, boom, false, 10_000)).toMatchObject({ state: "queued", notBefore: 11_000 });
    expect(T.fail(chunk({ attempts: 2 }), spec, boom, false, 10_000)).toMatchObject({ state: "queued", notBefore: 12_000 });
    expect(T.fail(chunk({ attempts: 3 }), spec, boom, false, 10_000)).toMatchObject({ state: "failed", finishedAt: 10_000, error: boom });
  });

  it("fails at once on a NonRetryableError, whatever the retries", () => {
    expect(T.fail(chunk({ attempts: 1 }), spec, boom, true, 5)).toMatchObject({ state: "failed" });
  });

  it("retries timeouts like errors but never retries a cancel", () => {
    expect(T.fail(chunk(), spec, { kind: "timeout", message: "timed out" }, false, 0).state).toBe("queued");
    expect(T.fail(chunk(), spec, { kind: "cancelled", message: "stop" }, false, 0).state).toBe("cancelled");
  });

  it("fails without retries when the job has none", () => {
    expect(T.fail(chunk(), { retries: 0, retryDelayMs: 5 }, boom, false, 0).state).toBe("failed");
  });

  it("gives an interrupted chunk back to pending at once, its attempt counted and its claim gone", () => {
    const patch = T.interrupted("its stau instance was stopping");
    expect(patch).toEqual({
      state: "pending", owner: null, token: null, worker: null, notBefore: null, alone: false,
      error: { kind: "cancelled", message: "interrupted: its stau instance was stopping" },
    });
    expect(patch).not.toHaveProperty("attempts");
  });

  it("makes a chunk whose instance died a suspect, and fails a suspect that died alone once its attempts are used", () => {
    const reason = "its stau instance i1 stopped while it ran";
    // Running beside others when its instance died: back to pending, to run alone.
    expect(T.orphaned(chunk({ attempts: 1 }), { retries: 0 }, reason, 50)).toMatchObject({ state: "pending", suspect: true, alone: false });
    // Running alone: it did it. With an attempt left it runs again (alone); without, it fails.
    expect(T.orphaned(chunk({ attempts: 2, suspect: true, alone: true }), { retries: 2 }, reason, 50)).toMatchObject({ state: "pending", suspect: true });
    const failed = T.orphaned(chunk({ attempts: 2, suspect: true, alone: true }), { retries: 1 }, reason, 50);
    expect(failed).toMatchObject({ state: "failed", finishedAt: 50, owner: null, token: null, error: { kind: "error" } });
    expect(failed.error!.message).toMatch(/stopped while it ran again, running alone this time: the chunk is what stops stau/);
    // An operator retry gives it a fresh allowance.
    expect(T.orphaned(chunk({ attempts: 4, retryFrom: 3, suspect: true, alone: true }), { retries: 1 }, reason, 0).state).toBe("pending");
  });

  it("claims a suspect to run alone, and clears suspicion when an attempt gets to its end", () => {
    expect(T.claim("me", 5, true)).toMatchObject({ state: "running", alone: true });
    expect(T.claim("me", 5)).not.toHaveProperty("alone");
    const suspect = chunk({ suspect: true, alone: true });
    expect(T.settleAttempt(suspect, spec, { ok: true }, false, 9, 4).patch).toMatchObject({ state: "done", suspect: false, alone: false });
    expect(T.settleAttempt(chunk(), spec, { ok: true }, false, 9, 4).patch).not.toHaveProperty("suspect");
  });

  it("gives an operator retry a fresh set of retries while attempts keep counting", () => {
    const patch = T.requeue({ attempts: 3 });
    expect(patch).toMatchObject({ state: "queued", retryFrom: 3, error: null });
    expect(patch).not.toHaveProperty("attempts");
    const retried = chunk({ attempts: 4, retryFrom: 3 });
    expect(T.fail(retried, spec, boom, false, 0).state).toBe("queued");
    expect(T.fail(chunk({ attempts: 6, retryFrom: 3 }), spec, boom, false, 0).state).toBe("failed");
  });

  it("names the failed chunk in upstream_failed errors", () => {
    expect(T.upstreamFailed("r1.b.2", 7)).toEqual({ state: "upstream_failed", error: { kind: "upstream", message: "upstream chunk r1.b.2 failed" }, finishedAt: 7 });
  });

  it("doubles the backoff per failed attempt", () => {
    expect([1, 2, 3, 4].map((n) => T.backoffMs({ retryDelayMs: 500 }, n))).toEqual([500, 1000, 2000, 4000]);
  });
});

describe("claims and attempts", () => {
  it("releases a queued chunk to pending", () => {
    expect(T.release()).toEqual({ state: "pending" });
  });

  it("claims for an owner at an instant, clearing what the last attempt left; the store adds attempts and token", () => {
    expect(T.claim("copy-1", 42)).toEqual({ state: "running", owner: "copy-1", startedAt: 42, finishedAt: null, notBefore: null, durationMs: null, worker: null });
    expect(T.claim("copy-1", 42)).not.toHaveProperty("attempts");
    expect(T.claim("copy-1", 42)).not.toHaveProperty("token");
  });

  const failure = (kind: "error" | "timeout" | "cancelled", nonRetryable = false) =>
    ({ ok: false, kind, error: { name: "Error", message: "boom", stack: "at job.ts:3", nonRetryable } }) as const;

  it("settles a successful attempt as done, letting go of the claim and keeping where it ran", () => {
    const { patch, error } = T.settleAttempt(chunk(), spec, { ok: true }, false, 9_000, 250, 3);
    expect(error).toBeNull();
    expect(patch).toEqual({ state: "done", finishedAt: 9_000, error: null, owner: null, token: null, worker: null, ranOn: { instance: "me", worker: 3 }, durationMs: 250 });
  });

  it("settles a failed attempt through fail(): retried with a backoff while attempts are left", () => {
    const { patch, error } = T.settleAttempt(chunk({ attempts: 1 }), spec, failure("timeout"), false, 9_000, 250);
    expect(error).toEqual({ kind: "timeout", message: "boom", stack: "at job.ts:3" });
    expect(patch).toEqual({ state: "queued", error, notBefore: 10_000, finishedAt: null, owner: null, token: null, worker: null, ranOn: { instance: "me", worker: null }, durationMs: 250 });
  });

  it("never retries an attempt that was NonRetryable or whose run an operator cancelled", () => {
    expect(T.settleAttempt(chunk(), spec, failure("error", true), false, 0, 1).patch.state).toBe("failed");
    expect(T.settleAttempt(chunk(), spec, failure("error"), true, 0, 1).patch).toMatchObject({ state: "failed", notBefore: null });
    expect(T.settleAttempt(chunk(), spec, failure("cancelled", true), true, 0, 1).patch).toMatchObject({ state: "cancelled", finishedAt: 0 });
  });

  it("earns freshness for a done chunk only, on its job, kwargs and work IDs", () => {
    const done = chunk({ state: "done", kwargsKey: '{"d":1}', workIds: [1, "x"], startedAt: 5, finishedAt: 8 });
    expect(T.earned(done)).toEqual({ job: "a", kwargsKey: '{"d":1}', workIds: [1, "x"], at: 8, codeHash: null });
    expect(T.earned(chunk({ state: "done", finishedAt: null, startedAt: 5 }))?.at).toBe(5);
    for (const state of ["queued", "pending", "running", "failed", "upstream_failed", "cancelled"] as const) expect(T.earned(chunk({ state }))).toBeNull();
  });

  it("cancels a chunk that has not started", () => {
    expect(T.cancel(3)).toEqual({ state: "cancelled", error: { kind: "cancelled", message: "cancelled by an operator" }, finishedAt: 3, notBefore: null });
  });
});

describe("what a chunk's end means for others", () => {
  const all = ["queued", "pending", "running", "done", "failed", "upstream_failed", "cancelled"] as const;

  it("runs failed, upstream_failed and cancelled chunks again on an operator retry, nothing else", () => {
    expect(all.filter(T.retriable)).toEqual(["failed", "upstream_failed", "cancelled"]);
  });

  it("keeps dependents from running once a chunk failed, was cancelled or its upstream failed", () => {
    expect(all.filter(T.blocksDependents)).toEqual(["failed", "upstream_failed", "cancelled"]);
  });
});

describe("run status", () => {
  it("is done only when every chunk is done", () => {
    expect(T.finalStatus(["done", "done"], false)).toBe("done");
    expect(T.finalStatus(["done", "failed"], false)).toBe("failed");
    expect(T.finalStatus(["done", "upstream_failed"], false)).toBe("failed");
    expect(T.finalStatus([], false)).toBe("done");
  });

  it("is cancelled when an operator cancelled it or any chunk was cancelled", () => {
    expect(T.finalStatus(["done"], true)).toBe("cancelled");
    expect(T.finalStatus(["done", "cancelled", "failed"], false)).toBe("cancelled");
  });

  it("knows which chunk states are final", () => {
    expect(["queued", "pending", "running"].map((s) => T.isFinished(s as never))).toEqual([false, false, false]);
    expect(["done", "failed", "upstream_failed", "cancelled"].map((s) => T.isFinished(s as never))).toEqual([true, true, true, true]);
  });
});
