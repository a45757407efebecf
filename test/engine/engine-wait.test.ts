import { describe, expect, it } from "vitest";
import { HOUR } from "../graph/helpers.js";
import { spec, startEngine } from "../helpers/engine-harness.js";

// The wait rule (README "How a trigger becomes chunks", step 2): a run waits while
// another run has unfinished chunks of a job below it, so it sees their results.

const A = spec("A");
const B = spec("B", { deps: [{ job: "A", maxLagMs: HOUR }] });
const C = spec("C", { deps: [{ job: "A", maxLagMs: HOUR }] });
const Z = spec("Z");

describe("the wait rule", () => {
  it("keeps a run waiting while another run has unfinished chunks of a job it needs, then resolves it with their results", async () => {
    const h = await startEngine([A, B]);
    const first = await h.run("A");
    const second = await h.run("B");

    expect((await h.store.getRun(second.id))?.run.status).toBe("waiting");
    expect(await h.states(second.id)).toEqual({});
    expect(h.events.of("run:waiting")).toEqual([{ run: expect.objectContaining({ id: second.id }), on: [`${first.id} (A)`] }]);

    const [a] = await h.executor.claim();
    await h.executor.complete(a!);
    await h.executor.deliver(h.engine);

    // A succeeded in the first run just now, so the second sees it fresh and does not run it again.
    expect((await h.store.getRun(first.id))?.run.status).toBe("done");
    expect((await h.store.getRun(second.id))?.run.status).toBe("running");
    expect(await h.states(second.id)).toEqual({ "B.0": "pending" });
    expect(h.events.of("run:waiting")).toHaveLength(1);
  });

  it("says what a run waits for once per distinct wait, not at every check", async () => {
    const h = await startEngine([A, B, Z]);
    const a1 = await h.run("A");
    const a2 = await h.run("A");
    const b = await h.run("B");
    expect(h.events.of("run:waiting").map((w) => w.on)).toEqual([[`${a1.id} (A)`, `${a2.id} (A)`]]);

    // Another trigger makes the engine look at waiting runs again: same wait, no new event.
    await h.run("Z");
    expect(h.events.of("run:waiting")).toHaveLength(1);

    const [chunkOfA1] = await h.executor.claim(1);
    expect(chunkOfA1?.runId).toBe(a1.id);
    await h.executor.complete(chunkOfA1!);
    await h.executor.deliver(h.engine);
    expect(h.events.of("run:waiting").map((w) => w.on)).toEqual([[`${a1.id} (A)`, `${a2.id} (A)`], [`${a2.id} (A)`]]);
    expect(h.events.of("run:waiting").every((w) => w.run.id === b.id)).toBe(true);

    await h.executor.pump(h.engine);
    expect((await h.store.getRun(b.id))?.run.status).toBe("done");
    expect(h.events.of("run:waiting")).toHaveLength(2);
  });

  it("warns once a run has waited waitWarningMs on the engine's clock", async () => {
    const h = await startEngine([A, B], { waitWarningMs: 60_000 });
    const a = await h.run("A");
    const b = await h.run("B");

    await h.clock.advance(59_999);
    expect(h.events.warnings()).toEqual([]);
    await h.clock.advance(1);
    expect(h.events.warnings()).toEqual([`run ${b.id} of B has waited 60s for ${a.id} (A)`]);
    expect(h.events.seen.find((e) => e.name === "warning")?.at).toBe(h.clock.now());
  });

  it("does not warn about a run that started before waitWarningMs", async () => {
    const h = await startEngine([A, B], { waitWarningMs: 60_000 });
    await h.run("A");
    const b = await h.run("B");

    await h.clock.advance(30_000);
    await h.executor.pump(h.engine);
    expect((await h.store.getRun(b.id))?.run.status).toBe("done");
    await h.clock.advance(60_000);
    expect(h.events.warnings()).toEqual([]);
    expect(h.clock.armed()).toEqual([]);
  });

  it("does not make a run wait for runs that only share its own job, or for jobs it does not need", async () => {
    const h = await startEngine([A, B, Z]);
    await h.run("A");
    const again = await h.run("A");
    const z = await h.run("Z");
    expect((await h.store.getRun(again.id))?.run.status).toBe("running");
    expect((await h.store.getRun(z.id))?.run.status).toBe("running");
    expect(h.events.of("run:waiting")).toEqual([]);
  });

  // README step 2: the run waits "until they finish" — the other run's chunks of A, not
  // the whole other run. The engine looks at waiting runs again only when a run finishes
  // or is triggered, so B stays waiting while C1's own chunk still runs.
  it("starts a waiting run once the other run's chunks of the job it needs are finished, before that run ends", async () => {
    const h = await startEngine([A, B, C]);
    const c1 = await h.run("C");
    const b = await h.run("B");
    expect(h.events.of("run:waiting").map((w) => w.on)).toEqual([[`${c1.id} (A)`]]);

    const [a] = await h.executor.claim();
    await h.executor.complete(a!);
    await h.executor.deliver(h.engine);
    expect(await h.states(c1.id)).toEqual({ "A.0": "done", "C.0": "pending" });

    expect((await h.store.getRun(b.id))?.run.status).toBe("running");
    expect(await h.states(b.id)).toEqual({ "B.0": "pending" });
  });
});
