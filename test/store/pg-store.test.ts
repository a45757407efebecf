import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, expect, it } from "vitest";
import { databaseOrders } from "../../src/control/database-orders.js";
import type { ControlRequest } from "../../src/control/protocol.js";
import * as T from "../../src/engine/transitions.js";
import { StauError, StoreError } from "../../src/errors.js";
import { openOrders } from "../../src/store/open.js";
import { PgCommands } from "../../src/store/pg/commands.js";
import { PgConnection } from "../../src/store/pg/connection.js";
import { PgStore } from "../../src/store/pg/pg-store.js";
import { describePg, dropSchema, query, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";
import { instance, runRecord, seed, until, within } from "./helpers.js";

// What only the shared store does: migrations, connecting, orders through the commands
// table, the orchestrator lock, heartbeats and transactional commits. The rules it
// shares with the embedded store are in contract.test.ts.

const schemas: string[] = [];
const closers: (() => Promise<unknown>)[] = [];
let schema: string;

beforeEach(() => {
  schema = testSchema("store");
  schemas.push(schema);
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});
afterAll(async () => {
  if (TEST_DATABASE_URL) for (const s of schemas) await dropSchema(s);
});

async function open(): Promise<PgStore> {
  const store = await PgStore.open({ url: TEST_DATABASE_URL!, schema });
  closers.push(() => store.close());
  return store;
}

async function connect(): Promise<PgConnection> {
  const connection = await PgConnection.open({ url: TEST_DATABASE_URL!, schema });
  closers.push(() => connection.close());
  return connection;
}

describePg("the PostgreSQL store", () => {
  it("migrates once when instances start together, and then finds nothing to do", async () => {
    await Promise.all([open(), open(), open()]);
    await open();
    expect(await query(`SELECT version FROM "${schema}".migrations ORDER BY version`)).toEqual([1, 2, 3, 4, 5, 6].map((version) => ({ version })));
  });

  it("refuses a schema migrated by a newer stau", async () => {
    await open();
    await query(`INSERT INTO "${schema}".migrations (version) VALUES (99)`);
    await expect(open()).rejects.toThrow(/schema t_store_\w+ is at migration 99, newer than this stau knows \(6\): upgrade stau/);
  });

  it("keeps the changes a schema of migration 3 had not delivered yet when it moves them to their own table, and drops what later migrations drop", async () => {
    const store = await open();
    await seed(store, "r1", 2);
    const [first] = await store.queue.claim("A", 1, { skipJobs: [], suspects: false }, T.claim("A", 1));
    await store.queue.complete([{ id: first!.id, token: first!.token!, patch: { state: "done", owner: null, token: null } }]);
    // As migration 3 left it: the change is a flag on the chunk's row.
    await query(`DROP TABLE "${schema}".chunk_changes`);
    await query(`ALTER TABLE "${schema}".chunks ADD COLUMN unseen boolean NOT NULL DEFAULT false`);
    await query(`CREATE INDEX chunks_unseen ON "${schema}".chunks (seq) WHERE unseen`);
    await query(`UPDATE "${schema}".chunks SET unseen = true WHERE id = $1`, [first!.id]);
    await query(`ALTER TABLE "${schema}".chunks ADD CONSTRAINT chunks_seq_key UNIQUE (seq)`);
    await query(`ALTER TABLE "${schema}".chunks ADD CONSTRAINT chunks_run_id_fkey FOREIGN KEY (run_id) REFERENCES "${schema}".runs (id) ON DELETE CASCADE`);
    await query(`DELETE FROM "${schema}".migrations WHERE version >= 4`);
    const upgraded = await open();
    expect((await upgraded.queue.takeChanges(10)).map((c) => [c.id, c.state])).toEqual([[first!.id, "done"]]);
    expect(await upgraded.queue.takeChanges(10)).toEqual([]);
    expect(await query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'chunks' ORDER BY indexname`, [schema])).toEqual(
      ["chunks_pending", "chunks_pending_run", "chunks_pkey", "chunks_run", "chunks_running"].map((indexname) => ({ indexname })),
    );
    expect(await query(`SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY conname`, [`"${schema}".chunks`])).toEqual([{ conname: "chunks_pkey" }]);
  });

  it("says where and why when the database cannot be reached, without the password", async () => {
    const error = await PgStore.open({ url: "postgres://stau:secret@127.0.0.1:1/nowhere", schema }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "database", message: expect.stringMatching(/^cannot use the PostgreSQL store at postgres:\/\/stau:\*\*\*@127\.0\.0\.1:1\/nowhere \(schema t_store_\w+\): .*ECONNREFUSED/) });
    expect((error as Error).message).not.toContain("secret");
  });

  it("applies a commit's writes together: a failed one keeps none of them and says so, and the next commit is not hurt", async () => {
    const store = await open();
    await seed(store, "r1", 1);
    store.setScheduleMark("hourly", { lastTickAt: 1, lastSkip: null });
    store.insertRun(runRecord("r2"));
    store.insertRun(runRecord("r1")); // already there
    await expect(store.commit()).rejects.toMatchObject({ code: "database", message: expect.stringMatching(/^writing to .* failed: .*duplicate key/) });
    expect(await store.scheduleMarks()).toEqual(new Map());
    expect(await store.getRun("r2")).toBeNull();
    store.insertRun(runRecord("r3"));
    expect(await store.commit()).toEqual({ conflicts: [] });
    expect((await store.listRuns(10)).map((r) => r.run.id)).toEqual(["r3", "r1"]);
  });

  it("releases only chunks whose owner stopped heartbeating them", async () => {
    const store = await open();
    await seed(store, "r1", 2);
    const claimed = await store.queue.claim("A", 2, { skipJobs: [], suspects: false }, T.claim("A", 1));
    const silent = (_chunk: unknown, owner: string) => T.interrupted(`instance ${owner} went silent`);
    expect(await store.queue.releaseSilent(60_000, silent)).toEqual([]);
    // A heartbeat keeps the chunks it names; one the instance lost track of goes back once
    // it has been silent for longer than asked (polled, heartbeating the other each time).
    const released = await until(async () => {
      await store.queue.heartbeat(instance("A"), [claimed[0]!.id], 0);
      const out = await store.queue.releaseSilent(200, silent);
      return out.length ? out : null;
    }, "a release of the chunk nobody heartbeats");
    expect(released.map((r) => [r.owner, r.chunk.id, r.chunk.state])).toEqual([["A", claimed[1]!.id, "pending"]]);
    expect((await store.leadership.instances()).map((i) => [i.info.id, i.leading, i.stopped])).toEqual([["A", false, false]]);
  });

  it("renews a held chunk's heartbeat only once it is as old as asked", async () => {
    const store = await open();
    await seed(store, "r1", 1);
    const [chunk] = await store.queue.claim("A", 1, { skipJobs: [], suspects: false }, T.claim("A", 1));
    const silent = (_chunk: unknown, owner: string) => T.interrupted(`instance ${owner} went silent`);
    // Heartbeats younger than a minute are left alone, so the chunk falls silent after 200 ms all the same.
    const released = await until(async () => {
      await store.queue.heartbeat(instance("A"), [chunk!.id], 60_000);
      const out = await store.queue.releaseSilent(200, silent);
      return out.length ? out : null;
    }, "a release of the chunk whose heartbeat was young enough to keep");
    expect(released.map((r) => r.chunk.id)).toEqual([chunk!.id]);
  });

  it("keeps each log with the instance that ran it, for readers on any machine", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stau-store-logs-"));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "r1.a.0.1.log");
    writeFileSync(file, "hello\n");
    await (await open()).logs.keep({ job: "a", chunkId: "r1.a.0", attempt: 1, file, instance: "A" });
    rmSync(file);
    expect(await (await open()).logs.find({ job: null, limit: 10 })).toMatchObject([{ job: "a", runId: "r1", chunkId: "r1.a.0", attempt: 1, instance: "A", text: "hello\n" }]);
  });
});

describePg("orders through the commands table", () => {
  it("hands each order to one orchestrator, and lets its sender read the answer or withdraw it", async () => {
    const [a, b] = (await Promise.all([connect(), connect()])).map((c) => new PgCommands(c));
    const id = await a!.submit({ cmd: "status" });
    const [x, y] = await Promise.all([a!.take("A"), b!.take("B")]);
    expect([...x, ...y]).toEqual([{ id, request: { cmd: "status" } }]);
    await a!.answer(id, { ok: true, result: 1 });
    expect(await b!.answerOf(id)).toEqual({ taken: true, response: { ok: true, result: 1 } });
    const late = await a!.submit({ cmd: "pause" });
    expect(await a!.withdraw(late)).toBe(true);
    expect(await b!.take("B")).toEqual([]);
    expect(await a!.withdraw(id)).toBe(false);
  });

  it("carries out each order once, whichever orchestrator serves it, and brings its answer or error back", async () => {
    const store = await open();
    await store.queue.heartbeat(instance("A"), [], 0);
    const handled: string[] = [];
    const warnings: string[] = [];
    const serve = async (by: string) => {
      const stop = await databaseOrders(new PgCommands(await connect())).serve(
        async (request: ControlRequest) => {
          if (request.cmd === "cancel" && request.run === "nope") throw new StauError("usage", "no run nope", { exitCode: 2 });
          handled.push(request.cmd === "cancel" ? request.run : request.cmd);
          return { by, request };
        },
        { by, warn: (message) => warnings.push(message) },
      );
      closers.push(stop);
    };
    await Promise.all([serve("A"), serve("B")]);
    const caller = await openOrders({ dataDir: tmpdir(), database: { url: TEST_DATABASE_URL!, schema } });
    closers.push(() => caller.close());
    const runs = ["r1", "r2", "r3", "r4", "r5", "r6"];
    const answers = await Promise.all(runs.map((run) => caller.orders.call<{ by: string; request: ControlRequest }>({ cmd: "cancel", run }, 10_000)));
    expect(answers.map((a) => a.request)).toEqual(runs.map((run) => ({ cmd: "cancel", run })));
    expect(answers.every((a) => a.by === "A" || a.by === "B")).toBe(true);
    expect(handled.sort()).toEqual(runs);
    await expect(caller.orders.call({ cmd: "cancel", run: "nope" })).rejects.toMatchObject({ message: "no run nope", exitCode: 2 });
    expect(warnings).toEqual([]);
  });

  it("withdraws an order nobody takes, and says so soon when no instance is running", async () => {
    const caller = await openOrders({ dataDir: tmpdir(), database: { url: TEST_DATABASE_URL!, schema } });
    closers.push(() => caller.close());
    await expect(caller.orders.call({ cmd: "status" }, 500)).rejects.toMatchObject({
      code: "no_instance",
      message: expect.stringMatching(/^no stau instance orchestrates on .*: nobody took the order within 0\.5s, and it was withdrawn/),
    });
    expect(await query(`SELECT count(*)::int AS n FROM "${schema}".commands`)).toEqual([{ n: 0 }]);
  });
});

describePg("the orchestrator lock on PostgreSQL", () => {
  const A = instance("A");
  const B = instance("B");

  it("is held by one instance: refused to another, naming the holder, until released", async () => {
    const [a, b] = await Promise.all([open(), open()]);
    expect(await a.leadership.acquire(A)).toEqual({ ok: true });
    expect(await b.leadership.acquire(B)).toEqual({ ok: false, holder: A });
    expect(await b.leadership.holder()).toEqual(A);
    await a.leadership.release(A);
    expect(await b.leadership.acquire(B)).toEqual({ ok: true });
    expect(await a.leadership.holder()).toEqual(B);
    expect(await a.leadership.acquire(A)).toEqual({ ok: false, holder: B });
    const rows = await a.leadership.instances();
    expect(rows.map((r) => [r.info.id, r.leading]).sort()).toEqual([["A", false], ["B", true]]);
  });

  it("is lost when the connection holding it drops, and another instance takes it over", async () => {
    const [a, b] = await Promise.all([open(), open()]);
    await a.leadership.acquire(A);
    const lost = a.leadership.lost();
    // What a dead instance's connection looks like to PostgreSQL: gone, with its session lock.
    await query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = hashtext($1)::oid AND objid = 1 AND objsubid = 2`,
      [`stau.lead.${schema}`],
    );
    expect(await within(lost, "losing the lock")).toBeInstanceOf(Error);
    await until(async () => ((await b.leadership.acquire(B)).ok ? true : null), "B taking the lock over");
    expect(await b.leadership.holder()).toEqual(B);
  });

  it("names no holder once the holding instance stopped", async () => {
    const store = await open();
    await store.leadership.acquire(A);
    await store.leadership.stopped(A);
    expect(await store.leadership.holder()).toBeNull();
    expect((await store.leadership.instances()).map((r) => [r.info.id, r.leading, r.stopped])).toEqual([["A", false, true]]);
  });
});
