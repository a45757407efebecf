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

  it("keeps the attempt counted when an interrupted chunk is queued again", () => {
    const patch = T.interrupted();
    expect(patch.state).toBe("queued");
    expect(patch).not.toHaveProperty("attempts");
    expect(patch.token).toBeNull();
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
