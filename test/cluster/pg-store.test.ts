import { afterAll, beforeEach, expect, it } from "vitest";
import { callOrchestrator } from "../../src/control/cluster-client.js";
import { PgStore } from "../../src/store/pg/pg-store.js";
import type { ChunkRecord, RunRecord } from "../../src/store/records.js";
import { describePg, dropSchema, query, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";

const schemas: string[] = [];
const stores: PgStore[] = [];

async function open(schema: string): Promise<PgStore> {
  const store = await PgStore.open({ url: TEST_DATABASE_URL!, schema });
  stores.push(store);
  return store;
}

function run(id: string, extra: Partial<RunRecord> = {}): RunRecord {
  return { id, job: "a", kwargs: {}, requestedWorkIds: null, workIds: null, status: "running", trigger: "cli", scheduleEntry: null, origin: null, createdAt: 1, startedAt: 1, finishedAt: null, gitCommit: null, error: null, ...extra };
}

function chunk(runId: string, n: number, state: ChunkRecord["state"] = "pending"): ChunkRecord {
  return { id: `${runId}.a.${n}`, runId, job: "a", kwargs: {}, kwargsKey: "{}", workIds: [n], dependsOn: [], state, attempts: 0, error: null, startedAt: null, finishedAt: null, notBefore: null, owner: null, token: null };
}

let schema: string;
beforeEach(() => {
  schema = testSchema("store");
  schemas.push(schema);
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  if (TEST_DATABASE_URL) for (const s of schemas) await dropSchema(s);
});

describePg("PgStore", () => {
  it("migrates once when copies start together, and again finds nothing to do", async () => {
    await Promise.all([open(schema), open(schema), open(schema)]);
    await open(schema);
    expect(await query(`SELECT version FROM "${schema}".migrations`)).toEqual([{ version: 1 }]);
  });

  it("hands each pending chunk to one claimer only", async () => {
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    a.insertRun(run("r1"), Array.from({ length: 40 }, (_, i) => chunk("r1", i)));
    await a.commit();
    const [mine, theirs] = await Promise.all([a.claim("A", 25, [], 5), b.claim("B", 25, [], 5)]);
    const ids = [...mine, ...theirs].map((c) => c.id);
    expect(new Set(ids).size).toBe(40);
    expect(mine.length + theirs.length).toBe(40);
    expect(mine.every((c) => c.owner === "A" && c.state === "running" && c.attempts === 1 && c.token)).toBe(true);
    expect(await a.claim("A", 10, [], 6)).toEqual([]);
  });

  it("skips jobs the claimer cannot run", async () => {
    const store = await open(schema);
    store.insertRun(run("r1"), [chunk("r1", 0)]);
    await store.commit();
    expect(await store.claim("A", 5, ["a"], 1)).toEqual([]);
    expect(await store.claim("A", 5, ["b"], 1)).toHaveLength(1);
  });

  it("refuses a result from a copy whose chunk was released meanwhile, and records the new owner's", async () => {
    const store = await open(schema);
    store.insertRun(run("r1"), [chunk("r1", 7)]);
    await store.commit();
    const [first] = await store.claim("A", 1, [], 10);
    // A goes silent: everything running is older than 0 ms.
    expect(await store.releaseSilent(0)).toEqual(new Map([["A", 1]]));
    const [second] = await store.claim("B", 1, [], 20);
    expect(second!.attempts).toBe(2);
    expect(second!.error?.message).toMatch(/stopped heartbeating/);
    expect(await store.complete([{ id: first!.id, token: first!.token!, patch: { state: "done", finishedAt: 30 } }])).toEqual(new Set());
    expect(await store.complete([{ id: second!.id, token: second!.token!, patch: { state: "done", finishedAt: 31 } }])).toEqual(new Set([second!.id]));
    const [done] = (await store.getRun("r1"))!.chunks;
    expect(done).toMatchObject({ state: "done", owner: null, token: null, attempts: 2, finishedAt: 31 });
    // The orchestrator records the freshness as it takes the change.
    expect((await store.takeChanges(10)).map((c) => c.state)).toEqual(["done"]);
    expect(await query(`SELECT work_id, at FROM "${schema}".freshness ORDER BY work_id`)).toEqual([
      { work_id: "", at: "31" },
      { work_id: "7", at: "31" },
    ]);
  });

  it("tells the orchestrator each change once, and keeps its freshness current", async () => {
    const store = await open(schema);
    store.insertRun(run("r1"), [chunk("r1", 1), chunk("r1", 2)]);
    await store.commit();
    const claimed = await store.claim("A", 2, [], 1);
    // Claims are the workers' own business.
    expect(await store.takeChanges(10)).toEqual([]);
    await store.complete([{ id: claimed[0]!.id, token: claimed[0]!.token!, patch: { state: "done", finishedAt: 9 } }]);
    const changes = await store.takeChanges(10);
    expect(changes.map((c) => [c.id, c.state])).toEqual([[claimed[0]!.id, "done"]]);
    expect(await store.takeChanges(10)).toEqual([]);
    expect(store.freshness().lastSuccess("a", "{}", 1)).toBe(9);
  });

  it("does not let an orchestrator patch overwrite a chunk a worker claimed meanwhile", async () => {
    const store = await open(schema);
    store.insertRun(run("r1"), [chunk("r1", 1)]);
    await store.commit();
    await store.claim("A", 1, [], 1);
    store.patchChunks([["r1.a.1", { state: "cancelled" }, "pending"]]);
    await store.commit();
    expect((await store.getRun("r1"))!.chunks[0]!.state).toBe("running");
  });

  it("gives running chunks back at once when a copy stops", async () => {
    const store = await open(schema);
    store.insertRun(run("r1"), [chunk("r1", 1), chunk("r1", 2)]);
    await store.commit();
    const claimed = await store.claim("A", 2, [], 1);
    expect(await store.handBack("A", claimed.map((c) => c.id), "its copy stopped")).toBe(2);
    const again = await store.claim("B", 5, [], 2);
    expect(again.map((c) => c.attempts)).toEqual([2, 2]);
  });

  it("records one row per schedule tick, in the transaction of its run", async () => {
    const store = await open(schema);
    store.insertRun(run("r1", { trigger: "schedule", scheduleEntry: "hourly", scheduleTick: 3_600_000 }), []);
    await store.commit();
    expect(await store.tickFired("hourly", 3_600_000)).toBe(true);
    expect(await store.tickFired("hourly", 7_200_000)).toBe(false);
    expect(await query(`SELECT entry_id, run_id FROM "${schema}".schedule_ticks`)).toEqual([{ entry_id: "hourly", run_id: "r1" }]);
  });

  it("carries each order out once, whichever orchestrator takes it", async () => {
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    const id = await a.submitCommand({ cmd: "status" });
    const [x, y] = await Promise.all([a.takeCommands("A"), b.takeCommands("B")]);
    expect([...x, ...y]).toEqual([{ id, request: { cmd: "status" } }]);
    await a.answerCommand(id, { ok: true, result: 1 });
    expect(await b.commandAnswer(id)).toEqual({ taken: true, response: { ok: true, result: 1 } });
    const late = await a.submitCommand({ cmd: "status" });
    expect(await a.withdrawCommand(late)).toBe(true);
    expect(await b.takeCommands("B")).toEqual([]);
  });

  it("withdraws an order nobody takes, and says so within seconds when no copy is running", async () => {
    const store = await open(schema);
    await expect(callOrchestrator(store, { cmd: "status" })).rejects.toThrow(/no stau copy orchestrates .*nobody took the order within 3s, and it was withdrawn/);
    expect(await query(`SELECT count(*)::int AS n FROM "${schema}".commands`)).toEqual([{ n: 0 }]);
  });

  it("says where and why when the database cannot be reached, without the password", async () => {
    await expect(PgStore.open({ url: "postgres://stau:secret@127.0.0.1:1/nowhere", schema })).rejects.toThrow(/cannot use the PostgreSQL store at postgres:\/\/stau:\*\*\*@127\.0\.0\.1:1\/nowhere \(schema t_store_\w+\): .*ECONNREFUSED/);
  });
});
