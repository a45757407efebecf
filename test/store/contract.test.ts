import { afterAll, afterEach, describe, expect, it } from "vitest";
import * as T from "../../src/engine/transitions.js";
import type { ChunkRecord } from "../../src/store/records.js";
import type { Store } from "../../src/store/store.js";
import { describePg } from "../helpers/pg.js";
import { chunkNow, chunkRecord, fileBackend, nextNotice, ORCHESTRATOR, pgBackend, runRecord, seed, type Backend } from "./helpers.js";

// The rules both stores keep, written once and run against each: a caller never asks
// which store it has. Every patch given to a store comes from engine/transitions.ts, as
// in the engine; what differs in setting a case up lives in helpers.ts (Backend).

const claimAs = (store: Store, owner: string, limit: number, skipJobs: string[] = [], at = 5) => store.queue.claim(owner, limit, { skipJobs, suspects: false }, T.claim(owner, at));
const spec = { retries: 0, retryDelayMs: 1_000 };
const succeeded = (chunk: ChunkRecord, at: number, durationMs: number) => T.settleAttempt(chunk, spec, { ok: true }, false, at, durationMs).patch;
const threw = (chunk: ChunkRecord, at: number) =>
  T.settleAttempt(chunk, spec, { ok: false, kind: "error", error: { name: "Error", message: "boom", stack: null, nonRetryable: false } }, false, at, 3).patch;
const gone = (_chunk: ChunkRecord, owner: string) => T.interrupted(`instance ${owner} went silent`);
const ids = (chunks: readonly { id: string }[]) => chunks.map((c) => c.id);
const HOUR = 3_600_000;

const suites: [string, (name: string, body: () => void) => void, () => Backend][] = [
  ["file store", describe, fileBackend],
  ["PostgreSQL store", describePg, pgBackend],
];
for (const [name, describeOn, backend] of suites) describeOn(`store contract on the ${name}`, () => contract(backend()));

function contract(backend: Backend): void {
  afterEach(() => backend.afterEach());
  afterAll(() => backend.afterAll());

  describe("the work queue", () => {
    it("hands each pending chunk to one claimer: running for its owner, one more attempt, a token of its own", async () => {
      const store = await backend.fresh();
      await seed(store, "r1", 40);
      const other = await backend.claimer(store);
      const [mine, theirs] = await Promise.all([claimAs(store, "A", 25), claimAs(other, "B", 25)]);
      expect(new Set(ids([...mine, ...theirs])).size).toBe(40);
      expect(mine.length + theirs.length).toBe(40);
      for (const [owner, chunks] of [["A", mine], ["B", theirs]] as const) {
        for (const chunk of chunks) expect(chunk).toMatchObject({ state: "running", owner, attempts: 1, startedAt: 5, token: expect.any(String) });
      }
      expect(new Set([...mine, ...theirs].map((c) => c.token)).size).toBe(40);
      expect(await claimAs(store, "A", 10)).toEqual([]);
      expect(await claimAs(other, "B", 10)).toEqual([]);
    });

    it("takes the oldest pending chunks, and leaves queued ones and the jobs the claimer skips", async () => {
      const store = await backend.fresh();
      await seed(store, "r1", [chunkRecord("r1", 0), chunkRecord("r1", 1), chunkRecord("r1", 2, { state: "queued" }), chunkRecord("r1", 0, { job: "b" })]);
      expect(ids(await claimAs(store, "A", 5, ["a"]))).toEqual(["r1.b.0"]);
      expect(ids(await claimAs(store, "A", 1))).toEqual(["r1.a.0"]);
      expect(ids(await claimAs(store, "A", 5))).toEqual(["r1.a.1"]);
    });

    it("keeps at most a job's concurrency of its chunks running, whoever claims, and lets other jobs' chunks by", async () => {
      const store = await backend.fresh();
      const chunks = await seed(store, "r1", [...Array.from({ length: 8 }, (_, i) => chunkRecord("r1", i)), chunkRecord("r1", 0, { job: "b" })]);
      const other = await backend.claimer(store);
      const limited = (on: Store, owner: string, limit: number) => on.queue.claim(owner, limit, { skipJobs: [], suspects: false, limits: { a: 2 } }, T.claim(owner, 5));
      // Claims racing from two claimers (two instances on PostgreSQL) share the two places.
      const [mine, theirs] = await Promise.all([limited(store, "A", 5), limited(other, "B", 5)]);
      const running = [...mine, ...theirs];
      expect(running.filter((c) => c.job === "a")).toHaveLength(2);
      expect(ids(running.filter((c) => c.job === "b"))).toEqual(["r1.b.0"]);
      expect(await limited(store, "A", 5)).toEqual([]);
      // A finished chunk frees its place, for the oldest pending chunk of the job.
      const done = running.find((c) => c.job === "a")!;
      await store.queue.complete([{ id: done.id, token: done.token!, patch: succeeded(done, 9, 1) }]);
      expect(ids(await limited(other, "B", 5))).toEqual([chunks[2]!.id]);
      expect(await limited(store, "A", 5)).toEqual([]);
      // Without the limit (another job's claimer, an older config) nothing holds them.
      expect(await claimAs(store, "A", 10)).toHaveLength(5);
    });

    it("lets active runs take turns: a run triggered behind a big one is in the next claim, each run oldest first", async () => {
      const store = await backend.fresh();
      await seed(store, "big", 300);
      expect(ids(await claimAs(store, "A", 4))).toEqual(["big.a.0", "big.a.1", "big.a.2", "big.a.3"]);
      await seed(store, "small", 2);
      await seed(store, "late", 1);
      const next = ids(await claimAs(store, "A", 6));
      expect(next).toHaveLength(6);
      expect(next.filter((id) => id.startsWith("small."))).toEqual(["small.a.0", "small.a.1"]);
      expect(next.filter((id) => id.startsWith("late."))).toEqual(["late.a.0"]);
      expect(next.filter((id) => id.startsWith("big."))).toEqual(["big.a.4", "big.a.5", "big.a.6"]);
      // Alone again, the big run is claimed as before, oldest first.
      expect(ids(await claimAs(store, "A", 3))).toEqual(["big.a.7", "big.a.8", "big.a.9"]);
    });

    it("claims a chunk once even when it went pending again before any claim looked", async () => {
      // An operator cancels a pending chunk, then retries it: the retry releases it again.
      const store = await backend.fresh();
      const [chunk] = await seed(store, "r1", 1);
      store.patchChunks([[chunk!.id, T.cancel(10), "pending"]]);
      store.patchChunks([[chunk!.id, T.requeue(chunk!), "cancelled"]]);
      store.patchChunks([[chunk!.id, T.release(), "queued"]]);
      await store.commit();
      const claimed = await claimAs(store, "A", 5);
      expect(ids(claimed)).toEqual([chunk!.id]);
      expect(claimed[0]!.attempts).toBe(1);
    });

    it("makes a claim durable before it resolves", async () => {
      const store = await backend.fresh();
      await seed(store, "r1", 2);
      const [claimed] = await claimAs(store, "A", 1);
      // Another process's view, with nothing committed or closed since the claim.
      const look = await backend.peek(store);
      expect(await chunkNow(look, claimed!.id)).toMatchObject({ state: "running", owner: "A", attempts: 1, token: claimed!.token });
    });

    it("refuses results with a stale token: a chunk released from a silent owner takes only its new owner's", async () => {
      const store = await backend.fresh();
      const [chunk] = await seed(store, "r1", 1);
      const [first] = await claimAs(store, "A", 1);
      expect(await store.queue.complete([{ id: chunk!.id, token: "not-a-token", patch: succeeded(first!, 20, 1) }])).toEqual(new Set());
      expect(await chunkNow(store, chunk!.id)).toMatchObject({ state: "running", owner: "A" });

      const released = await store.queue.releaseSilent(0, gone);
      expect(released.map((r) => [r.owner, r.chunk.id, r.chunk.state])).toEqual([["A", chunk!.id, "pending"]]);
      const [second] = await claimAs(store, "B", 1);
      expect(second).toMatchObject({ owner: "B", attempts: 2 });
      expect(await store.queue.complete([{ id: chunk!.id, token: first!.token!, patch: succeeded(first!, 30, 1) }])).toEqual(new Set());
      expect(await store.queue.complete([{ id: chunk!.id, token: second!.token!, patch: succeeded(second!, 31, 2) }])).toEqual(new Set([chunk!.id]));
      expect(await chunkNow(store, chunk!.id)).toMatchObject({ state: "done", owner: null, token: null, attempts: 2, finishedAt: 31 });
    });

    it.each([
      // handBack answers the ids; releaseSilent each chunk as it is now, with the owner it was taken from.
      ["handed back by its owner", async (store: Store, claimed: ChunkRecord[]) => (await store.queue.handBack("A", ids(claimed), T.interrupted("its instance stopped"))).sort(), ["r1.a.0", "r1.a.1"]],
      ["released from a silent owner", async (store: Store) => (await store.queue.releaseSilent(0, gone)).map((r) => `${r.owner} ${r.chunk.id} ${r.chunk.state}`).sort(), ["A r1.a.0 pending", "A r1.a.1 pending"]],
    ] as const)("puts an interrupted chunk back to pending, its attempt counted, when %s", async (_, interrupt, answer) => {
      const store = await backend.fresh();
      await seed(store, "r1", 2);
      const claimed = await claimAs(store, "A", 2);
      expect(await interrupt(store, claimed)).toEqual(answer);
      for (const chunk of claimed) {
        expect(await chunkNow(store, chunk.id)).toMatchObject({ state: "pending", owner: null, token: null, attempts: 1, error: { kind: "cancelled" } });
      }
      expect((await claimAs(store, "B", 5)).map((c) => [c.id, c.attempts])).toEqual([["r1.a.0", 2], ["r1.a.1", 2]]);
    });

    it("leaves what it released from a silent owner to the caller: takeChanges does not report it again", async () => {
      const store = await backend.fresh();
      await seed(store, "r1", 2);
      await claimAs(store, "A", 2);
      await store.queue.takeChanges(100);
      expect((await store.queue.releaseSilent(0, gone)).map((r) => r.chunk.id).sort()).toEqual(["r1.a.0", "r1.a.1"]);
      expect(await store.queue.takeChanges(100)).toEqual([]);
    });

    it("gives back only the owner's own running chunks", async () => {
      const store = await backend.fresh();
      await seed(store, "r1", 3);
      const [a] = await claimAs(store, "A", 1);
      const [b] = await claimAs(store, "B", 1);
      expect(await store.queue.handBack("A", [a!.id, b!.id, "r1.a.2"], T.interrupted("stopping"))).toEqual([a!.id]);
      expect(await chunkNow(store, b!.id)).toMatchObject({ state: "running", owner: "B", token: b!.token });
      expect(await chunkNow(store, "r1.a.2")).toMatchObject({ state: "pending", attempts: 0 });
    });

    it("records final states as settleAttempt computed them, and never completes a chunk twice", async () => {
      const store = await backend.fresh();
      await seed(store, "r1", 2);
      const [ok, bad] = await claimAs(store, "A", 2);
      const completions = [
        { id: ok!.id, token: ok!.token!, patch: succeeded(ok!, 50, 40) },
        { id: bad!.id, token: bad!.token!, patch: threw(bad!, 60) },
      ];
      expect(await store.queue.complete(completions)).toEqual(new Set([ok!.id, bad!.id]));
      // Durable before it resolved, as a claim is.
      expect((await chunkNow(await backend.peek(store), ok!.id))?.state).toBe("done");
      expect(await chunkNow(store, ok!.id)).toMatchObject({ state: "done", owner: null, token: null, finishedAt: 50, durationMs: 40, error: null, attempts: 1 });
      expect(await chunkNow(store, bad!.id)).toMatchObject({ state: "failed", owner: null, token: null, finishedAt: 60, error: { kind: "error", message: "boom" } });
      expect(await store.queue.complete(completions)).toEqual(new Set());
      expect(await claimAs(store, "A", 5)).toEqual([]);
    });

    it("tells the orchestrator what executors finished or gave back, oldest first, each once", async () => {
      const store = await backend.fresh();
      await seed(store, "r1", 3);
      const [c0, c1] = await claimAs(store, "A", 3);
      // Claims are the executors' own business.
      expect(await store.queue.takeChanges(10)).toEqual([]);
      await store.queue.complete([{ id: c0!.id, token: c0!.token!, patch: succeeded(c0!, 50, 1) }]);
      await store.queue.handBack("A", [c1!.id], T.interrupted("stopping"));
      expect((await store.queue.takeChanges(1)).map((c) => [c.id, c.state])).toEqual([[c0!.id, "done"]]);
      expect((await store.queue.takeChanges(10)).map((c) => [c.id, c.state])).toEqual([[c1!.id, "pending"]]);
      expect(await store.queue.takeChanges(10)).toEqual([]);
      // Changed twice since the last take (given back, claimed again, done): one change, as it is now.
      const [again] = await claimAs(store, "A", 1);
      await store.queue.handBack("A", [again!.id], T.interrupted("stopping"));
      const [last] = await claimAs(store, "A", 1);
      await store.queue.complete([{ id: last!.id, token: last!.token!, patch: succeeded(last!, 70, 1) }]);
      expect((await store.queue.takeChanges(10)).map((c) => [c.id, c.state, c.attempts])).toEqual([[c1!.id, "done", 3]]);
    });

    it("wakes executors on new work and the orchestrator on changes", async () => {
      const store = await backend.fresh();
      const work = await nextNotice(store, "work");
      await seed(store, "r1", 1);
      await work.heard;
      work.stop();
      const changes = await nextNotice(store, "changes");
      const [claimed] = await claimAs(store, "A", 1);
      await store.queue.complete([{ id: claimed!.id, token: claimed!.token!, patch: succeeded(claimed!, 9, 1) }]);
      await changes.heard;
      changes.stop();
    });

    it("reports cancelled runs, and tells listeners of a cancel", async () => {
      const store = await backend.fresh();
      await seed(store, "r1", 1);
      await seed(store, "r2", 1);
      store.patchRun("r1", { cancelRequested: true });
      await store.commit();
      expect(await store.queue.cancelledRuns(["r1", "r2"])).toEqual(["r1"]);
      const cancel = await nextNotice(store, "cancel");
      await store.queue.requestCancel("r1");
      expect(await cancel.heard).toBe("r1");
      cancel.stop();
      // A retry clears it.
      store.patchRun("r1", { cancelRequested: false });
      await store.commit();
      expect(await store.queue.cancelledRuns(["r1", "r2"])).toEqual([]);
    });
  });

  describe("the orchestrator's records", () => {
    it("applies a guarded patch only while its chunk is in the state the orchestrator saw, and reports the others once", async () => {
      const store = await backend.fresh();
      await seed(store, "r1", 2);
      const [claimed] = await claimAs(store, "A", 1);
      // The orchestrator still believes both pending, and cancels them.
      store.patchChunks([[claimed!.id, T.cancel(60), "pending"], ["r1.a.1", T.cancel(60), "pending"]]);
      const { conflicts } = await store.commit();
      expect(conflicts.map((c) => [c.id, c.state, c.owner])).toEqual([[claimed!.id, "running", "A"]]);
      expect(await chunkNow(store, claimed!.id)).toMatchObject({ state: "running", token: claimed!.token });
      expect(await chunkNow(store, "r1.a.1")).toMatchObject({ state: "cancelled", finishedAt: 60 });
      expect((await store.commit()).conflicts).toEqual([]);
    });

    it("keeps the freshness chunks earned, per work ID and for the job as a whole, and a reader sees it", async () => {
      const store = await backend.fresh();
      const [chunk] = await seed(store, "r1", [chunkRecord("r1", 0, { workIds: [1, 2] })]);
      const [claimed] = await claimAs(store, "A", 1);
      await store.queue.complete([{ id: chunk!.id, token: claimed!.token!, patch: succeeded(claimed!, 100, 1) }]);
      const [done] = await store.queue.takeChanges(10);
      store.recordSuccesses([T.earned(done!)!]);
      store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [2, "x"], at: 200 }]);
      await store.commit();
      for (const view of [store, await backend.reopen(store)]) {
        const fresh = view.freshness();
        expect([fresh.lastSuccess("a", "{}", 1), fresh.lastSuccess("a", "{}", 2), fresh.lastSuccess("a", "{}", "x"), fresh.lastSuccess("a", "{}", null)]).toEqual([100, 200, 200, 200]);
        expect([fresh.lastSuccess("a", "{}", 3), fresh.lastSuccess("a", "{}", "1"), fresh.lastSuccess("a", '{"k":1}', null), fresh.lastSuccess("b", "{}", null)]).toEqual([undefined, undefined, undefined, undefined]);
      }
    });

    it("keeps every success of one batch, as the engine records the chunks one change brought", async () => {
      const store = await backend.fresh();
      store.recordSuccesses([
        { job: "a", kwargsKey: "{}", workIds: [1], at: 100 },
        { job: "a", kwargsKey: "{}", workIds: [2], at: 101 },
        { job: "b", kwargsKey: "{}", workIds: [3], at: 102 },
      ]);
      await store.commit();
      for (const view of [store, await backend.reopen(store)]) {
        const fresh = view.freshness();
        expect([fresh.lastSuccess("a", "{}", 1), fresh.lastSuccess("a", "{}", 2), fresh.lastSuccess("b", "{}", 3), fresh.lastSuccess("a", "{}", null)]).toEqual([100, 101, 102, 101]);
      }
    });

    it("keeps the code hash each newest success ran, and the kwargs a job succeeded under", async () => {
      const store = await backend.fresh();
      store.recordSuccesses([{ job: "a", kwargsKey: '{"d":1}', workIds: [1, 2], at: 100, codeHash: "old" }]);
      store.recordSuccesses([{ job: "a", kwargsKey: '{"d":1}', workIds: [2], at: 200, codeHash: "new" }]);
      // An older success arriving late leaves the newer one's code.
      store.recordSuccesses([{ job: "a", kwargsKey: '{"d":1}', workIds: [2], at: 150, codeHash: "late" }]);
      store.recordSuccesses([{ job: "b", kwargsKey: "{}", workIds: [1], at: 100 }]);
      await store.commit();
      for (const view of [store, await backend.reopen(store)]) {
        const fresh = view.freshness();
        const code = (job: string, key: string, id: number | null) => fresh.codeHash(job, key, id);
        expect([code("a", '{"d":1}', 1), code("a", '{"d":1}', 2), code("a", '{"d":1}', null), code("a", '{"d":1}', 3)]).toEqual(["old", "new", "new", undefined]);
        expect([code("b", "{}", 1), code("b", "{}", null), code("a", "{}", null)]).toEqual([undefined, undefined, undefined]);
        expect(fresh.kwargsKeys("a")).toEqual(['{"d":1}']);
        expect(fresh.kwargsKeys("nobody")).toEqual([]);
      }
    });

    it("never moves freshness back when an older success is recorded after a newer one", async () => {
      const store = await backend.fresh();
      store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [1], at: 200 }]);
      store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [1], at: 100 }]);
      await store.commit();
      expect([store.freshness().lastSuccess("a", "{}", 1), store.freshness().lastSuccess("a", "{}", null)]).toEqual([200, 200]);
    });

    it("records a fired tick with its run, and schedule marks", async () => {
      const store = await backend.fresh();
      store.insertRun(runRecord("r1", { trigger: "schedule", scheduleEntry: "hourly", scheduleTick: HOUR }));
      store.setScheduleMark("hourly", { lastTickAt: HOUR, lastSkip: null });
      await store.commit();
      expect(await store.tickFired("hourly", HOUR)).toBe(true);
      expect(await store.tickFired("hourly", 2 * HOUR)).toBe(false);
      expect(await store.tickFired("daily", HOUR)).toBe(false);
      expect(await store.scheduleMarks()).toEqual(new Map([["hourly", { lastTickAt: HOUR, lastSkip: null }]]));
      expect(await (await backend.reopen(store)).scheduleMarks()).toEqual(new Map([["hourly", { lastTickAt: HOUR, lastSkip: null }]]));
    });

    it("counts a tick as fired once its run is committed, before the scheduler's mark is", async () => {
      // The scheduler writes its mark in a later commit than the run: an instance that
      // dies between the two must not fire that tick again when it (or another) starts.
      const store = await backend.fresh();
      store.insertRun(runRecord("r1", { trigger: "schedule", scheduleEntry: "hourly", scheduleTick: HOUR }));
      await store.commit();
      expect(await store.tickFired("hourly", HOUR)).toBe(true);
    });

    /** Three runs created in order; r1, the first started, still runs; r3 finished before r2, as a short run started later does. */
    async function threeRuns(): Promise<Store> {
      const store = await backend.fresh();
      for (const [id, createdAt] of [["r1", 1], ["r2", 2], ["r3", 3]] as const) await seed(store, id, 1, { createdAt });
      for (const id of ["r3", "r2"]) {
        store.patchChunks([[`${id}.a.0`, T.cancel(10), "pending"]]);
        store.patchRun(id, { status: "cancelled", finishedAt: 10 });
        store.archiveRun(id);
      }
      await store.commit();
      return store;
    }

    /** r4, newest: a run of 150 chunks (kept apart in the file store), cancelled after 50 of them were. */
    async function withBigRun(store: Store): Promise<Store> {
      await seed(store, "r4", 150, { createdAt: 4 });
      store.patchChunks(Array.from({ length: 50 }, (_, i) => [`r4.a.${i}`, T.cancel(10), "pending"] as const));
      store.patchRun("r4", { status: "cancelled", finishedAt: 10 });
      store.archiveRun("r4");
      await store.commit();
      return store;
    }

    it("lists runs newest first, active ones included, whatever order they finished in", async () => {
      const store = await threeRuns();
      expect((await store.listRuns(10)).map((r) => [r.run.id, r.run.status, r.chunks.map((c) => c.state)])).toEqual([
        ["r3", "cancelled", ["cancelled"]],
        ["r2", "cancelled", ["cancelled"]],
        ["r1", "running", ["pending"]],
      ]);
      expect((await store.listRuns(2)).map((r) => r.run.id)).toEqual(["r3", "r2"]);
      expect((await store.listRuns(1)).map((r) => r.run.id)).toEqual(["r3"]);
    });

    it("lists the same runs summed up, each chunk counted by state, a run of many chunks included", async () => {
      const store = await withBigRun(await threeRuns());
      expect((await store.listRunSummaries(10)).map((r) => [r.run.id, r.run.status, r.states])).toEqual([
        ["r4", "cancelled", { cancelled: 50, pending: 100 }],
        ["r3", "cancelled", { cancelled: 1 }],
        ["r2", "cancelled", { cancelled: 1 }],
        ["r1", "running", { pending: 1 }],
      ]);
      expect((await store.listRunSummaries(2)).map((r) => r.run.id)).toEqual(["r4", "r3"]);
    });

    it("lists only the runs a reader holds, asking newest first with each run's chunk count, a run of many chunks included", async () => {
      const store = await withBigRun(await threeRuns());
      const asked: [string, number][] = [];
      const listed = await store.listRuns(3, (run, chunks) => (asked.push([run.id, chunks]), run.id !== "r4"));
      expect(asked).toEqual([["r4", 150], ["r3", 1], ["r2", 1]]);
      expect(listed.map((r) => [r.run.id, r.chunks.length])).toEqual([["r3", 1], ["r2", 1]]);
      expect((await store.listRuns(10, () => true)).map((r) => [r.run.id, r.chunks.length])).toEqual([["r4", 150], ["r3", 1], ["r2", 1], ["r1", 1]]);
    });

    it("finds a job's newest run by creation, active or however old, with its chunks", async () => {
      const store = await threeRuns();
      await seed(store, "r0", [chunkRecord("r0", 0, { job: "old" })], { createdAt: 0 });
      store.patchChunks([["r0.old.0", T.cancel(10), "pending"]]);
      store.patchRun("r0", { status: "cancelled", finishedAt: 10 });
      store.archiveRun("r0");
      for (let i = 5; i < 260; i++) {
        store.insertRun(runRecord(`r${i}`, { createdAt: i, status: "cancelled", finishedAt: 20 }));
        store.addChunks([chunkRecord(`r${i}`, 0, { state: "cancelled" })]);
        store.archiveRun(`r${i}`);
      }
      await store.commit();
      expect(await store.latestRunOf("old")).toMatchObject({ run: { id: "r0" }, chunks: [{ id: "r0.old.0", job: "old" }] });
      expect((await store.latestRunOf("a"))?.run.id).toBe("r259");
      expect(await store.latestRunOf("nobody")).toBeNull();
    });

    it("finds a run active or finished, and revives a finished one", async () => {
      const store = await threeRuns();
      expect((await store.active()).runs.map((r) => r.id)).toEqual(["r1"]);
      expect(await store.getRun("r1")).toMatchObject({ run: { status: "running" }, chunks: [{ id: "r1.a.0", state: "pending" }] });
      expect(await store.getRun("r2")).toMatchObject({ run: { status: "cancelled", finishedAt: 10 }, chunks: [{ state: "cancelled" }] });
      expect(await store.getRun("nope")).toBeNull();

      expect(await store.reviveRun("nope")).toBeNull();
      expect(await store.reviveRun("r1")).toBeNull();
      const revived = await store.reviveRun("r2");
      expect(revived).toMatchObject({ run: { id: "r2", status: "cancelled" }, chunks: [{ id: "r2.a.0", state: "cancelled" }] });
      // What the engine's retry does next: the run and its chunk are active again.
      store.patchRun("r2", { status: "running", finishedAt: null });
      store.patchChunks([["r2.a.0", T.requeue(revived!.chunks[0]!), "cancelled"]]);
      await store.commit();
      const active = await store.active();
      expect(active.runs.map((r) => r.id).sort()).toEqual(["r1", "r2"]);
      expect(active.chunks.find((c) => c.id === "r2.a.0")).toMatchObject({ state: "queued", retryFrom: 0 });
      expect((await (await backend.reopen(store)).getRun("r2"))?.run.status).toBe("running");
    });

    it("prunes finished runs older than a cutoff with their chunks and logs, never an active run or freshness", async () => {
      const store = await threeRuns();
      // r3 and r2 finished at 10; r4 finishes later, at 50.
      await seed(store, "r4", 2, { createdAt: 4 });
      store.patchChunks([["r4.a.0", T.cancel(50), "pending"], ["r4.a.1", T.cancel(50), "pending"]]);
      store.patchRun("r4", { status: "cancelled", finishedAt: 50 });
      store.archiveRun("r4");
      store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [1], at: 10 }]);
      await store.commit();
      for (const chunkId of ["r1.a.0", "r2.a.0", "r3.a.0", "r4.a.0"]) await backend.writeLog(store, { job: "a", chunkId, attempt: 1, text: `${chunkId} ran\n` });

      expect(await store.prune(20, { dryRun: true })).toEqual({ runs: 2, chunks: 2, logs: 2 });
      expect((await store.listRuns(10)).map((r) => r.run.id)).toEqual(["r4", "r3", "r2", "r1"]);
      expect(await store.prune(20, { dryRun: false })).toEqual({ runs: 2, chunks: 2, logs: 2 });
      expect((await store.listRuns(10)).map((r) => r.run.id)).toEqual(["r4", "r1"]);
      expect(await store.getRun("r2")).toBeNull();
      expect((await store.logs.find({ job: "a", limit: 10 })).map((l) => l.chunkId).sort()).toEqual(["r1.a.0", "r4.a.0"]);
      expect(store.freshness().lastSuccess("a", "{}", 1)).toBe(10);
      // Again: nothing left to prune; and what stays reads the same after a reopen.
      expect(await store.prune(20, { dryRun: false })).toEqual({ runs: 0, chunks: 0, logs: 0 });
      expect((await (await backend.reopen(store)).listRuns(10)).map((r) => r.run.id)).toEqual(["r4", "r1"]);
    });

    it("names the instance that took the leadership", async () => {
      const store = await backend.fresh();
      expect(await store.leadership.acquire(ORCHESTRATOR)).toEqual({ ok: true });
      expect(await store.leadership.holder()).toEqual(ORCHESTRATOR);
      expect((await store.leadership.instances()).map((i) => [i.info.id, i.leading])).toEqual([[ORCHESTRATOR.id, true]]);
    });
  });

  it("finds attempts' logs by job, run and chunk, newest first, since an instant, cut at a line start", async () => {
    const store = await backend.fresh();
    await backend.writeLog(store, { job: "a", chunkId: "r1.a.0", attempt: 1, text: "first\n" });
    await backend.writeLog(store, { job: "b", chunkId: "r1.b.0", attempt: 1, text: "other job\n" });
    await backend.writeLog(store, { job: "a", chunkId: "r2.a.0", attempt: 1, text: "other run\n" });
    await backend.writeLog(store, { job: "a", chunkId: "r1.a.0", attempt: 2, text: "line one\nline two\nline three\n" });
    const all = await store.logs.find({ job: null, limit: 10 });
    expect(all.map((l) => [l.job, l.runId, l.chunkId, l.attempt])).toEqual([
      ["a", "r1", "r1.a.0", 2],
      ["a", "r2", "r2.a.0", 1],
      ["b", "r1", "r1.b.0", 1],
      ["a", "r1", "r1.a.0", 1],
    ]);
    expect(all[0]!.text).toBe("line one\nline two\nline three\n");
    const find = async (query: { job: string | null; runId?: string; chunkId?: string; since?: number; limit?: number; maxBytes?: number }) =>
      (await store.logs.find({ limit: 10, ...query })).map((l) => `${l.chunkId}#${l.attempt}`);
    expect(await find({ job: "a", runId: "r1" })).toEqual(["r1.a.0#2", "r1.a.0#1"]);
    expect(await find({ job: "a", chunkId: "r2.a.0" })).toEqual(["r2.a.0#1"]);
    expect(await find({ job: null, runId: "r1" })).toEqual(["r1.a.0#2", "r1.b.0#1", "r1.a.0#1"]);
    expect(await find({ job: "a", limit: 1 })).toEqual(["r1.a.0#2"]);
    expect(await find({ job: null, since: all[2]!.writtenAt + 1 })).toEqual(["r1.a.0#2", "r2.a.0#1"]);
    expect((await store.logs.find({ job: "a", runId: "r1", limit: 1, maxBytes: 15 }))[0]!.text).toBe("line three\n");
  });
}
