import { describe, expect, it } from "vitest";
import type { WorkId } from "../../src/config/types.js";
import { planFacts } from "../../src/graph/plan-facts.js";
import { resolve } from "../../src/graph/resolve.js";
import { freshness, HOUR, job, MINUTE, registry, type SuccessRow } from "./helpers.js";

// codeAware edges (README "Code-aware freshness"): a success counts only if it ran the code there is now.

const NOW = Date.UTC(2024, 0, 15, 12);
const recent = (jobName: string, ids: (WorkId | null)[], code?: string): SuccessRow[] => ids.map((workId) => ({ job: jobName, workId, at: NOW - 10 * MINUTE, code }));

function plan(deps: Parameters<typeof job>[1]["deps"], rows: SuccessRow[], options: { workIds?: WorkId[] | null; hashes?: Record<string, string> | null } = {}) {
  const input = {
    jobs: registry(job("A", { chunkSize: 2, deps }), job("B")),
    job: "A",
    kwargs: {},
    workIds: options.workIds === undefined ? [1, 2, 3, 4] : options.workIds,
    now: NOW,
    freshness: freshness(rows),
    codeHashes: options.hashes === null ? undefined : new Map(Object.entries(options.hashes ?? { A: "a1", B: "b2" })),
  };
  const p = resolve(input);
  return { plan: p, facts: planFacts(p, input.freshness, NOW, input.codeHashes) };
}

const idsOf = (p: ReturnType<typeof plan>["plan"], name: string) => p.chunks.filter((c) => c.job === name).flatMap((c) => c.workIds);

describe("codeAware dependencies", () => {
  it("run again on the IDs whose last success ran other code, and count the rest fresh", () => {
    const rows = [...recent("B", [null, 1, 2], "b1"), ...recent("B", [null, 3, 4], "b2")];
    const { plan: p, facts } = plan([{ job: "B", codeAware: true }], rows);
    expect(idsOf(p, "B")).toEqual([1, 2]);
    expect(facts[1]).toMatchObject({ status: "run", staleIds: 2, freshIds: 2, freshUntil: NOW - 10 * MINUTE + HOUR });
  });

  it("say 'code changed since last success' when the newest success ran other code", () => {
    const { plan: p, facts } = plan([{ job: "B", codeAware: true }], recent("B", [null, 1, 2, 3, 4], "b1"));
    expect(idsOf(p, "B")).toEqual([1, 2, 3, 4]);
    expect(facts[1].reason).toBe("code changed since last success (stale on 4 of 4 IDs)");
  });

  it("are fresh when every success ran the current code", () => {
    const { plan: p, facts } = plan([{ job: "B", codeAware: true }], recent("B", [null, 1, 2, 3, 4], "b2"));
    expect(idsOf(p, "B")).toEqual([]);
    expect(facts[1]).toMatchObject({ status: "fresh", reason: "fresh on all 4 IDs" });
  });

  it("count a success with no recorded code (older than the feature) as other code", () => {
    expect(idsOf(plan([{ job: "B", codeAware: true }], recent("B", [null, 1, 2, 3, 4])).plan, "B")).toEqual([1, 2, 3, 4]);
  });

  it("leave edges without codeAware, and plans given no hashes, to time alone", () => {
    const rows = recent("B", [null, 1, 2, 3, 4], "b1");
    expect(idsOf(plan([{ job: "B" }], rows).plan, "B")).toEqual([]);
    expect(idsOf(plan([{ job: "B", codeAware: true }], rows, { hashes: null }).plan, "B")).toEqual([]);
  });

  it("check the newest success's code per job without work IDs, with allowMissingWorkIds, and on unique edges", () => {
    const stale = recent("B", [null, 1, 2, 3, 4], "b1");
    expect(plan([{ job: "B", codeAware: true }], stale, { workIds: null }).facts[1]).toMatchObject({ status: "run", reason: "code changed since last success" });
    expect(plan([{ job: "B", codeAware: true }], recent("B", [null], "b2"), { workIds: null }).facts[1].status).toBe("fresh");
    expect(idsOf(plan([{ job: "B", codeAware: true, allowMissingWorkIds: true }], stale).plan, "B")).toEqual([1, 2, 3, 4]);
    const mixed = [...recent("B", [null, 1, 3], "b1"), ...recent("B", [2, 4], "b2")];
    expect(idsOf(plan([{ job: "B", codeAware: true, unique: true }], mixed).plan, "B")).toEqual([1, 3]);
  });
});
