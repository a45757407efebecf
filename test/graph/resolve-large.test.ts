import { describe, expect, it } from "vitest";
import { resolve } from "../../src/graph/resolve.js";
import { freshness, job, registry } from "./helpers.js";

// How fast is measured in bench/; this is about size: a chunk per work ID, a million of
// them, must not overflow the call stack anywhere in resolution (it did past ~150,000).
describe("resolve at a million chunks", () => {
  it("resolves 1,000,000 work IDs with chunkSize 1, and a dependency below them", () => {
    const n = 1_000_000;
    const workIds = Array.from({ length: n }, (_, i) => i);
    const jobs = registry(job("top", { chunkSize: 1, deps: ["below"] }), job("below", { chunkSize: 1 }));
    const plan = resolve({ jobs, job: "top", kwargs: {}, workIds, now: Date.UTC(2024, 0, 15), freshness: freshness([]) });

    expect(plan.workIds).toHaveLength(n);
    expect(plan.chunks).toHaveLength(2 * n);
    expect(plan.jobs.map((j) => `${j.job}:${j.status}`)).toEqual(["top:run", "below:run"]);
    // Spot checks at both ends: each top chunk holds one ID and needs the below chunk of that ID.
    expect(plan.chunks[0]).toMatchObject({ id: "top.0", workIds: [0], dependsOn: ["below.0"] });
    expect(plan.chunks[n - 1]).toMatchObject({ id: `top.${n - 1}`, workIds: [n - 1], dependsOn: [`below.${n - 1}`] });
    expect(plan.chunks[2 * n - 1]).toMatchObject({ id: `below.${n - 1}`, workIds: [n - 1], dependsOn: [] });
  });
});
