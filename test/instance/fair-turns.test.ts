import { describe, expect, it } from "vitest";
import { projectFactory } from "../helpers/cli.js";
import { instancesKilledAfterEach, startInstance } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";
import { CLAIM_AHEAD } from "../../src/executor/claim-ahead.js";

// Active runs share the workers (README, "Active runs take turns"): a one-chunk run
// triggered while a big run of short chunks executes starts within the next claims, not
// after the tens of thousands of the big run's chunks queued before it. End to end, this
// pins the store's turns between runs; the executor's own order of what it holds ahead
// (joinReady) moves the count below only within the bound asserted, so it is not told apart here.

const project = projectFactory();
const instances = instancesKilledAfterEach();

const BIG = `import { defineJob } from "stau";
export default defineJob({ chunkSize: 1, async selectWork() { return Array.from({ length: 40_000 }, (_, i) => i); }, run() {} });
`;
const SMALL = `import { defineJob } from "stau";
export default defineJob({ run() {} });
`;

describe("a small run behind a big one", () => {
  it("starts its chunk within the next claims, long before the big run ends", async () => {
    const p = project({ "jobs/big.ts": BIG, "jobs/small.ts": SMALL });
    const instance = startInstance(p.dir);
    instances.push(instance);
    await instance.waitFor((e) => e.event === "instance:started", "the instance to start");
    const big = json(await stau(p.dir, ["trigger", "big", "--json"])).run.id;
    let startedOfBig = 0;
    await instance.waitFor((e) => e.event === "chunk:started" && e.run === big && ++startedOfBig >= 2_000, "the big run to be well under way");
    const small = json(await stau(p.dir, ["trigger", "small", "--json"])).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === small, "the small run to end");
    const queuedAt = instance.events.findIndex((e) => e.event === "run:queued" && e.run === small);
    const startedAt = instance.events.findIndex((e) => e.event === "chunk:started" && e.run === small);
    const bigStartsBetween = instance.events.slice(queuedAt, startedAt).filter((e) => e.event === "chunk:started" && e.run === big).length;
    const bigDone = await instance.waitFor((e) => e.event === "run:finished" && e.run === big, "the big run to end", 120_000);
    expect(instance.events.indexOf(bigDone)).toBeGreaterThan(startedAt);
    // First come, first served, it would wait for the ~38,000 chunks of the big run left;
    // at its turn, for the chunks held ahead of the threads at most (CLAIM_AHEAD per thread).
    expect(bigStartsBetween).toBeLessThan(2 * CLAIM_AHEAD);
  });
});
