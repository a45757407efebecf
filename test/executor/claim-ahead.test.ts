import { describe, expect, it } from "vitest";
import { BATCH_MS, CLAIM_AHEAD, HOLD_AHEAD_MS, MAX_BATCH, SHORT_CHUNK_MS, batchSize, claimSize, holdTarget, joinReady, nextAverage, takeBatch } from "../../src/executor/claim-ahead.js";

const held = (over: Partial<Parameters<typeof claimSize>[0]> = {}) => ({ threads: 4, executing: 0, ready: 0, requested: 0, averageMs: null, ...over });

describe("how many chunks an executor holds", () => {
  it("holds one per thread until it knows chunks are short, and while they take SHORT_CHUNK_MS or more", () => {
    expect(holdTarget(4, null)).toBe(4);
    expect(holdTarget(4, SHORT_CHUNK_MS)).toBe(4);
    expect(holdTarget(4, 5_000)).toBe(4);
  });

  it("holds HOLD_AHEAD_MS of work per thread when chunks are shorter than SHORT_CHUNK_MS, at least two and at most CLAIM_AHEAD", () => {
    expect(holdTarget(4, 10)).toBe(4 * (HOLD_AHEAD_MS / 10));
    expect(holdTarget(2, 1)).toBe(2 * HOLD_AHEAD_MS); // 1 ms chunks: HOLD_AHEAD_MS of them, under CLAIM_AHEAD
    expect(holdTarget(4, SHORT_CHUNK_MS - 1)).toBe(4 * Math.max(2, Math.ceil(HOLD_AHEAD_MS / (SHORT_CHUNK_MS - 1))));
    expect(holdTarget(3, 0.001)).toBe(3 * CLAIM_AHEAD);
    expect(holdTarget(1, 0)).toBe(CLAIM_AHEAD);
  });
});

describe("how many to claim now", () => {
  it("fills free threads, and claims nothing ahead while chunks are long", () => {
    expect(claimSize(held())).toBe(4);
    expect(claimSize(held({ executing: 3 }))).toBe(1);
    expect(claimSize(held({ executing: 4 }))).toBe(0);
    // A claim under way or a chunk waiting for a thread already covers the free threads.
    expect(claimSize(held({ executing: 1, requested: 1 }))).toBe(0);
    expect(claimSize(held({ executing: 1, ready: 1, averageMs: 100 }))).toBe(0);
  });

  it("with short chunks, claims up to the target at first, then again only once a quarter of what is ahead has started", () => {
    const short = { threads: 2, averageMs: 0.01 };
    const target = 2 * CLAIM_AHEAD;
    expect(claimSize(held({ ...short }))).toBe(target);
    // Threshold: (target - threads) · 3/4 chunks ahead.
    const threshold = ((target - 2) * 3) / 4;
    const below = Math.floor(threshold);
    expect(claimSize(held({ ...short, executing: 2, ready: below + 1 }))).toBe(0);
    expect(claimSize(held({ ...short, executing: 2, ready: below }))).toBe(target - 2 - below);
    // Chunks asked for by claims under way count as held ahead.
    expect(claimSize(held({ ...short, executing: 2, ready: below - 10, requested: 11 }))).toBe(0);
    expect(claimSize(held({ ...short, executing: 2, ready: below - 10, requested: 10 }))).toBe(target - 2 - below);
  });

  it("never asks for a negative number", () => {
    expect(claimSize(held({ executing: 9 }))).toBe(0);
  });
});

describe("the average attempt duration", () => {
  it("starts at the first duration and then moves a fifth of the way to each new one", () => {
    expect(nextAverage(null, 300)).toBe(300);
    expect(nextAverage(100, 50)).toBe(90);
    let average: number | null = null;
    for (let i = 0; i < 40; i++) average = nextAverage(average, 10);
    expect(average).toBeCloseTo(10);
  });

  it("takes a few short attempts after a long one before the executor claims ahead", () => {
    let average = nextAverage(null, 1_000);
    let short = 0;
    while (holdTarget(1, average) === 1) {
      average = nextAverage(average, 1);
      short++;
    }
    // 1000 · 0.8^n + small < 20 from n = 18 on.
    expect(short).toBe(18);
  });
});

describe("how many chunks travel to a thread together", () => {
  it("sends a chunk alone until its job is known to be short, and while its chunks take SHORT_CHUNK_MS or more", () => {
    expect(batchSize(null, 50)).toBe(1);
    expect(batchSize(SHORT_CHUNK_MS, 50)).toBe(1);
  });

  it("sends short chunks together: no more than the thread's share of what is ready, MAX_BATCH, or BATCH_MS of work", () => {
    expect(batchSize(0, 1_000)).toBe(MAX_BATCH);
    expect(batchSize(0.1, 5)).toBe(5);
    expect(batchSize(10, 1_000)).toBe(Math.floor(BATCH_MS / 10));
    expect(batchSize(SHORT_CHUNK_MS - 1, 1_000)).toBe(Math.max(1, Math.floor(BATCH_MS / (SHORT_CHUNK_MS - 1))));
  });
});

describe("which ready chunks go to a free thread together", () => {
  const ready = (...jobs: string[]) => jobs.map((job) => ({ job }));
  const averages = (known: Record<string, number>) => (job: string) => known[job] ?? null;

  it("takes the first alone while its job is not known to be short", () => {
    expect(takeBatch(ready("new", "short", "short"), averages({ short: 1 }), 1)).toBe(1);
    expect(takeBatch(ready("long", "long"), averages({ long: 500 }), 1)).toBe(1);
    expect(takeBatch([], averages({}), 2)).toBe(0);
  });

  it("takes following short chunks in order, stopping at one that must go alone, and shares what is ready among the free threads", () => {
    expect(takeBatch(ready("short", "short", "new", "short"), averages({ short: 1 }), 1)).toBe(2);
    expect(takeBatch(ready(...Array(10).fill("short")), averages({ short: 1 }), 2)).toBe(5);
    expect(takeBatch(ready(...Array(100).fill("short")), averages({ short: 1 }), 1)).toBe(MAX_BATCH);
  });
});

describe("the order of chunks ready for a thread", () => {
  const chunk = (runId: string, n: number) => ({ runId, id: `${runId}.${n}` });
  const ids = (list: readonly { id: string }[]) => list.map((c) => c.id);

  it("puts a claim's chunks of a run with none ready first, so a small run does not wait behind what is held of a big one", () => {
    const ready = [chunk("big", 1), chunk("big", 2), chunk("big", 3)];
    expect(ids(joinReady(ready, [chunk("small", 1), chunk("big", 4)]))).toEqual(["small.1", "big.1", "big.2", "big.3", "big.4"]);
  });

  it("keeps the order claimed for runs that already have chunks ready", () => {
    const ready = [chunk("a", 1), chunk("b", 1)];
    expect(ids(joinReady(ready, [chunk("b", 2), chunk("a", 2)]))).toEqual(["a.1", "b.1", "b.2", "a.2"]);
    expect(ids(joinReady([], [chunk("a", 1), chunk("b", 1)]))).toEqual(["a.1", "b.1"]);
  });
});
