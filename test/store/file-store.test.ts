import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import * as T from "../../src/engine/transitions.js";
import { StoreError } from "../../src/errors.js";
import { FileStore } from "../../src/store/file/file-store.js";
import { controlSocketPath } from "../../src/control/socket-orders.js";
import { lockPath } from "../../src/store/file/lock.js";
import type { ChunkRecord } from "../../src/store/records.js";
import { REPO } from "../helpers/project.js";
import { chunkNow, chunkRecord, instance, ORCHESTRATOR, runRecord, seed } from "./helpers.js";

// What only the embedded store does: its files (journal, snapshots, history), how they
// survive crashes and old versions, and the data directory's lock. The rules it shares
// with PostgreSQL are in contract.test.ts.

const dirs: string[] = [];
const stores: FileStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "stau-store-"));
  dirs.push(dir);
  return dir;
}

function open(dir: string, readOnly = false): FileStore {
  const store = FileStore.open(dir, { readOnly });
  stores.push(store);
  return store;
}

async function writer(dir: string, who = ORCHESTRATOR): Promise<FileStore> {
  const store = open(dir);
  await store.leadership.acquire(who);
  return store;
}

/** What a process killed with -9 leaves: no close, and its lock file behind, which the next writer may take (its pid is gone). */
function crash(dir: string): void {
  rmSync(lockPath(dir));
}

const journal = (dir: string) => join(dir, "journal.jsonl");
const claimAs = (store: FileStore, owner: string, limit: number) => store.queue.claim(owner, limit, { skipJobs: [], suspects: false }, T.claim(owner, 5));
const succeeded = (chunk: ChunkRecord, at: number) => T.settleAttempt(chunk, { retries: 0, retryDelayMs: 0 }, { ok: true }, false, at, 1).patch;

describe("the embedded store's journal", () => {
  it("replays what was committed when its writer died without closing, and the next writer releases what it left running", async () => {
    const dir = tempDir();
    const first = await writer(dir, instance("first"));
    await seed(first, "r1", 2);
    const [finished, left] = await claimAs(first, "first", 2);
    await first.queue.complete([{ id: finished!.id, token: finished!.token!, patch: succeeded(finished!, 6) }]);
    first.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [0], at: 6 }]);
    await first.commit();
    crash(dir);

    const reader = open(dir, true);
    expect((await reader.active()).runs.map((r) => r.id)).toEqual(["r1"]);
    expect(await chunkNow(reader, finished!.id)).toMatchObject({ state: "done", attempts: 1, token: null });
    expect([reader.freshness().lastSuccess("a", "{}", 0), reader.freshness().lastSuccess("a", "{}", 1)]).toEqual([6, undefined]);

    // Chunks running for anyone but the lock holder were left by an instance that is gone.
    const second = await writer(dir, instance("second"));
    const released = await second.queue.releaseSilent(30_000, (_c, owner) => T.interrupted(`${owner} stopped`));
    expect(released.map((r) => [r.owner, r.chunk.id, r.chunk.state])).toEqual([["first", left!.id, "pending"]]);
    expect(await second.queue.releaseSilent(30_000, (_c, owner) => T.interrupted(`${owner} stopped`))).toEqual([]);
  });

  it("hands a result to the orchestrator before it is durable, so the answer shares its write and is never on disk without it", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    await seed(store, "r1", 1);
    const [chunk] = await claimAs(store, ORCHESTRATOR.id, 1);
    const linesAt = () => readFileSync(journal(dir), "utf8").trim().split("\n").map((line) => (JSON.parse(line) as { t: string }).t);
    const before = linesAt().length;
    let answered: Promise<unknown> | null = null;
    let heardBeforeDurable = false;
    let completed = false;
    await store.queue.listen("changes", () => {
      heardBeforeDurable = !completed;
      // What the orchestrator writes in answer: the freshness earned and the run's end.
      answered = store.queue.takeChanges(10).then(async (changes) => {
        expect(changes.map((c) => [c.id, c.state])).toEqual([[chunk!.id, "done"]]);
        store.recordSuccesses([{ job: chunk!.job, kwargsKey: "{}", workIds: [0], at: 6 }]);
        store.patchRun("r1", { status: "done", finishedAt: 6 });
        await store.commit();
      });
    });
    await store.queue.complete([{ id: chunk!.id, token: chunk!.token!, patch: succeeded(chunk!, 6) }]);
    completed = true;
    // The result and its answer went to disk together, in this order.
    expect(heardBeforeDurable).toBe(true);
    expect(linesAt().slice(before)).toEqual(["chunks~", "ok", "run~"]);
    await answered;
  });

  it("drops a torn last line, and the next writer appends after it cleanly", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    await seed(store, "r1", 1);
    await seed(store, "r2", 1);
    crash(dir);
    appendFileSync(journal(dir), '{"s":99,"t":"run","run":{"id":"torn"'); // a write cut short by a crash

    const next = await writer(dir, instance("next"));
    expect((await next.active()).runs.map((r) => r.id).sort()).toEqual(["r1", "r2"]);
    await seed(next, "r3", 1);
    crash(dir);
    expect((await open(dir, true).active()).runs.map((r) => r.id).sort()).toEqual(["r1", "r2", "r3"]);
    expect(readFileSync(journal(dir), "utf8")).not.toContain("torn");
  });

  it("refuses a journal damaged before its last line, naming the file and line, and leaves it as it is", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    await seed(store, "r1", 1);
    await seed(store, "r2", 1);
    crash(dir);
    const lines = readFileSync(journal(dir), "utf8").split("\n");
    lines[1] = "not json";
    writeFileSync(journal(dir), lines.join("\n"));
    const damaged = readFileSync(journal(dir), "utf8");
    for (const readOnly of [true, false]) {
      const error = (() => {
        try {
          FileStore.open(dir, { readOnly });
        } catch (thrown) {
          return thrown;
        }
      })();
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ code: "store_corrupt", message: expect.stringContaining(`${journal(dir)} is damaged: line 2 is not valid JSON`) });
    }
    expect(readFileSync(journal(dir), "utf8")).toBe(damaged);
  });

  it("reports a corrupt state file with its path and never writes over it", () => {
    const dir = tempDir();
    const garbage = '{"format":1,"runs": {oops';
    writeFileSync(join(dir, "state.json"), garbage);
    expect(() => FileStore.open(dir)).toThrow(join(dir, "state.json"));
    expect(readFileSync(join(dir, "state.json"), "utf8")).toBe(garbage);
  });

  it("journals a run's new chunks packed, in slices, and replays them as they were", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    const kwargs = { day: "2024-01-15" };
    // 45,000 one-ID chunks sharing all but their id and work IDs, and a few that differ more.
    const many = Array.from({ length: 45_000 }, (_, i) => chunkRecord("r1", i, { kwargs, kwargsKey: '{"day":"2024-01-15"}', codeHash: "c0de" }));
    const odd = [chunkRecord("r1", 0, { job: "b", workIds: ["x", "y"], dependsOn: ["r1.a.0"], state: "queued", codeHash: null })];
    await seed(store, "r1", [...many, ...odd]);
    crash(dir);

    const lines = readFileSync(journal(dir), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { t: string; rows?: unknown[][] });
    const packed = lines.filter((line) => line.t === "chunks*");
    expect(packed.map((line) => line.rows!.length)).toEqual([20_000, 20_000, 5_001]);
    // A chunk costs its plan id and its work IDs; what all share is said once per line.
    expect(packed[0]!.rows![7]).toEqual(["a.7", [7]]);
    expect(packed[2]!.rows![5_000]).toEqual(["b.0", "b", {}, "{}", ["x", "y"], ["r1.a.0"], "queued", null]);
    expect(lines.some((line) => line.t === "chunks+")).toBe(false);

    const back = await open(dir, true).active();
    expect(back.chunks).toHaveLength(45_001);
    expect(await chunkNow(open(dir, true), "r1.a.44999")).toEqual(many[44_999]);
    expect(await chunkNow(open(dir, true), "r1.b.0")).toEqual(odd[0]);
    // The next writer claims them as any others, and a compaction keeps them.
    const next = await writer(dir, instance("next"));
    expect((await claimAs(next, "A", 2)).map((c) => c.id)).toEqual(["r1.a.0", "r1.a.1"]);
    await next.close();
    expect(await chunkNow(open(dir, true), "r1.a.2")).toEqual(many[2]);
  });

  it("journals chunks whose fields differ in kind as they are", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    // One has a field the other lacks: no shared shape to pack by.
    const chunks = [chunkRecord("r1", 0), chunkRecord("r1", 1, { retryFrom: 1 })];
    await seed(store, "r1", chunks);
    crash(dir);
    expect(readFileSync(journal(dir), "utf8")).toContain('"t":"chunks+"');
    expect((await open(dir, true).active()).chunks).toEqual(chunks);
  });

  it("replays journal lines older versions wrote", async () => {
    const dir = tempDir();
    const claimed = (token: string) => ({ state: "running", attempts: 1, owner: "old", token, startedAt: 5, finishedAt: null, notBefore: null });
    const lines = [
      { s: 1, t: "run", run: runRecord("r1"), chunks: [chunkRecord("r1", 0), chunkRecord("r1", 1), chunkRecord("r1", 2)] },
      // Claims were patches with their `from` state beside them.
      { s: 2, t: "chunks~", patches: [["r1.a.0", claimed("old:1"), "pending"], ["r1.a.1", claimed("old:2"), "pending"]] },
      { s: 3, t: "complete", id: "r1.a.0", patch: { state: "done", finishedAt: 7, owner: null, token: null }, success: { job: "a", kwargsKey: "{}", workIds: [0], at: 7 } },
      { s: 4, t: "complete", id: "r1.a.1", patch: { state: "failed", finishedAt: 8, owner: null, token: null }, success: null },
      { s: 5, t: "ok", success: { job: "b", kwargsKey: "{}", workIds: ["u1"], at: 9 } },
    ];
    writeFileSync(journal(dir), lines.map((l) => JSON.stringify(l) + "\n").join(""));

    const check = async (store: FileStore) => {
      expect((await store.active()).chunks.map((c) => [c.id, c.state, c.attempts])).toEqual([["r1.a.0", "done", 1], ["r1.a.1", "failed", 1], ["r1.a.2", "pending", 0]]);
      const fresh = store.freshness();
      expect([fresh.lastSuccess("a", "{}", 0), fresh.lastSuccess("a", "{}", 1), fresh.lastSuccess("b", "{}", "u1")]).toEqual([7, undefined, 9]);
    };
    await check(open(dir, true));
    // A writer carries on from them, and its compaction keeps them.
    const store = await writer(dir);
    await check(store);
    expect((await claimAs(store, "A", 5)).map((c) => [c.id, c.attempts])).toEqual([["r1.a.2", 1]]);
    await store.close();
    expect(readFileSync(journal(dir), "utf8")).toBe("");
    expect(await chunkNow(open(dir, true), "r1.a.2")).toMatchObject({ state: "running", owner: "A" });
  });
});

describe("the embedded store's snapshots", () => {
  it("compacts on close: the snapshot and the freshness files hold everything, the journal is empty", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    await seed(store, "r1", 100);
    for (const chunk of await claimAs(store, "A", 100)) {
      await store.queue.complete([{ id: chunk.id, token: chunk.token!, patch: succeeded(chunk, 1000) }]);
      store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: chunk.workIds, at: 1000 + Number(chunk.workIds[0]) }]);
    }
    await store.close();
    expect(readFileSync(journal(dir), "utf8")).toBe("");
    expect(existsSync(join(dir, "freshness", "a.json"))).toBe(true);
    const reader = open(dir, true);
    expect((await reader.active()).chunks.filter((c) => c.state === "done")).toHaveLength(100);
    expect(reader.freshness().lastSuccess("a", "{}", 42)).toBe(1042);
  });

  it("writes the chunks of a snapshot a slice at a time as one JSON object, which the next open reads whole", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    // Many writes of the snapshot's pieces (200 chunks each), the last one short.
    const seeded = await seed(store, "r1", 25_001);
    const claimed = await claimAs(store, "A", 3);
    await store.close();
    expect(readFileSync(journal(dir), "utf8")).toBe("");
    const file = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as { seq: number; runs: object; chunks: Record<string, ChunkRecord> };
    expect(Object.keys(file.runs)).toEqual(["r1"]);
    expect(Object.keys(file.chunks)).toEqual(seeded.map((c) => c.id));
    expect(file.chunks[claimed[2]!.id]).toEqual(claimed[2]);
    expect(file.chunks[seeded[25_000]!.id]).toEqual(seeded[25_000]);

    const reopened = await writer(dir);
    expect(reopened.chunk(claimed[0]!.id)).toEqual(claimed[0]);
    expect((await reopened.active()).chunks).toHaveLength(25_001);
    // What was pending is still claimable, oldest first, and the next seq follows the snapshot's.
    expect((await claimAs(reopened, "B", 1)).map((c) => c.id)).toEqual([seeded[3]!.id]);
    await reopened.commit();
    expect((JSON.parse(readFileSync(journal(dir), "utf8").trim()) as { s: number }).s).toBe(file.seq + 1);
  });

  it("compacts while it runs, past its journal's limit, and keeps what came before and after", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    await seed(store, "r1", 2);
    store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [1], at: 100 }]);
    // Enough lines to pass the journal's limit (50,000) in one commit.
    for (let i = 0; i < 50_000; i++) store.setScheduleMark("hourly", { lastTickAt: i, lastSkip: null });
    await store.commit();
    expect(readFileSync(journal(dir), "utf8")).toBe("");
    await seed(store, "r2", 1);
    store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [2], at: 200 }]);
    await store.commit();
    const [claimed] = await claimAs(store, "A", 1);
    crash(dir);

    const reader = open(dir, true);
    expect((await reader.active()).runs.map((r) => r.id).sort()).toEqual(["r1", "r2"]);
    expect(await chunkNow(reader, claimed!.id)).toMatchObject({ state: "running", attempts: 1 });
    expect((await reader.scheduleMarks()).get("hourly")).toEqual({ lastTickAt: 49_999, lastSkip: null });
    expect([reader.freshness().lastSuccess("a", "{}", 1), reader.freshness().lastSuccess("a", "{}", 2)]).toEqual([100, 200]);
  });
});

describe("readers and the data directory's lock", () => {
  it("lets a read-only open look beside a writer without writing or locking", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    await seed(store, "r1", 1);
    const reader = open(dir, true);
    expect((await reader.active()).runs.map((r) => r.id)).toEqual(["r1"]);
    expect(await reader.leadership.holder()).toEqual(ORCHESTRATOR);
    expect(() => reader.insertRun(runRecord("r9"))).toThrow(/not open for writing/);
    await expect(reader.leadership.acquire(instance("reader"))).rejects.toThrow(/read-only/);
    await reader.close();
    expect(JSON.parse(readFileSync(lockPath(dir), "utf8"))).toMatchObject(ORCHESTRATOR);
    await seed(store, "r2", 1);
    expect((await open(dir, true).active()).runs.map((r) => r.id).sort()).toEqual(["r1", "r2"]);
  });

  it("refuses the lock to a second writer, naming the holder", async () => {
    const dir = tempDir();
    const first = await writer(dir, instance("first", { command: "start" }));
    const second = open(dir);
    const refused = await second.leadership.acquire(instance("second")).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused).toMatchObject({ code: "store_locked", message: expect.stringContaining(`in use by stau start (pid ${process.pid} on `) });
    await first.close();
    expect(existsSync(lockPath(dir))).toBe(false);
    expect(await second.leadership.acquire(instance("second"))).toEqual({ ok: true });
  });

  it("gives a writer that takes the lock later what the holder wrote meanwhile", async () => {
    const dir = tempDir();
    const first = await writer(dir, instance("first"));
    await seed(first, "r1", 1);
    const second = open(dir);
    await expect(second.leadership.acquire(instance("second"))).rejects.toThrow(/in use/);
    await seed(first, "r2", 1);
    await first.close();
    await second.leadership.acquire(instance("second"));
    expect((await second.active()).runs.map((r) => r.id).sort()).toEqual(["r1", "r2"]);
    await seed(second, "r3", 1);
    await second.close();
    expect((await open(dir, true).active()).runs.map((r) => r.id).sort()).toEqual(["r1", "r2", "r3"]);
  });

  it("takes over a lock whose holder's control socket no longer answers, whatever its pid", async () => {
    const dir = tempDir();
    // The holder's pid lives (it is this process), but that proves nothing: pids are reused.
    writeFileSync(lockPath(dir), JSON.stringify({ ...instance("dead", { pid: process.pid }), serving: true }));
    const socket = controlSocketPath(dir);
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    const store = open(dir);
    // While its socket answers, the holder lives.
    await expect(store.leadership.acquire(instance("alive"))).rejects.toMatchObject({ code: "store_locked" });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await store.leadership.acquire(instance("alive"))).toEqual({ ok: true });
  });

  it("counts a holder that is starting as alive while it touches its lock, and gone once it stopped", async () => {
    const dir = tempDir();
    writeFileSync(lockPath(dir), JSON.stringify({ ...instance("starting"), serving: false }));
    const store = open(dir);
    await expect(store.leadership.acquire(instance("alive"))).rejects.toMatchObject({ code: "store_locked" });
    const long = new Date(Date.now() - 60_000);
    utimesSync(lockPath(dir), long, long);
    expect(await store.leadership.acquire(instance("alive"))).toEqual({ ok: true });
  });
});

describe("the embedded store's history", () => {
  it("only appends: a revived run finished again is a new line, and readers keep its newest", async () => {
    const dir = tempDir();
    const history = join(dir, "history", "runs.jsonl");
    const store = await writer(dir);
    await seed(store, "r1", [chunkRecord("r1", 0, { state: "failed" })]);
    store.patchRun("r1", { status: "failed", finishedAt: 2 });
    store.archiveRun("r1");
    await store.commit();
    const before = readFileSync(history, "utf8");
    expect((await store.reviveRun("r1"))?.run.status).toBe("failed");
    store.patchRun("r1", { status: "done", finishedAt: 3 });
    store.archiveRun("r1");
    await store.close();
    const after = readFileSync(history, "utf8");
    expect(after.startsWith(before)).toBe(true);
    expect(after.trim().split("\n")).toHaveLength(2);
    expect((await open(dir, true).listRuns(10)).map((r) => [r.run.id, r.run.status])).toEqual([["r1", "done"]]);
  });

  it("skips a line a crash cut short, and starts the next on a line of its own", async () => {
    const dir = tempDir();
    const first = await writer(dir);
    await seed(first, "r1", 0, { createdAt: 1 });
    first.patchRun("r1", { status: "done", finishedAt: 2 });
    first.archiveRun("r1");
    await first.close();
    appendFileSync(join(dir, "history", "runs.jsonl"), '{"run":{"id":"torn"');
    const second = await writer(dir);
    await seed(second, "r2", 0, { createdAt: 3 });
    second.patchRun("r2", { status: "done", finishedAt: 4 });
    second.archiveRun("r2");
    await second.close();
    const reader = open(dir, true);
    expect((await reader.listRuns(10)).map((r) => r.run.id)).toEqual(["r2", "r1"]);
    expect(await reader.getRun("torn")).toBeNull();
  });
});

describe("crash safety", () => {
  it("keeps every acknowledged result through kill -9 in the middle of writes and compactions", async () => {
    const dir = tempDir();
    const src = (path: string) => JSON.stringify(join(REPO, "src", path));
    // A writer that finishes chunks as fast as it can and prints each index once durable.
    const script = `
      import { FileStore } from ${src("store/file/file-store.ts")};
      import * as T from ${src("engine/transitions.ts")};
      import { hostname } from "node:os";
      const store = FileStore.open(${JSON.stringify(dir)});
      await store.leadership.acquire({ id: "w", pid: process.pid, hostname: hostname(), startedAt: 0, command: "t" });
      // Serving, as every instance does: once it dies, its socket answers no more and the lock is free.
      await store.orders.serve(async () => null, { by: "w", warn: () => undefined });
      const mk = (i) => ({ id: "r.a." + i, runId: "r", job: "a", kwargs: {}, kwargsKey: "{}", workIds: [i], dependsOn: [], state: "pending", attempts: 0, error: null, startedAt: null, finishedAt: null, notBefore: null, owner: null, token: null });
      store.insertRun({ id: "r", job: "a", kwargs: {}, requestedWorkIds: null, workIds: null, status: "running", trigger: "cli", scheduleEntry: null, origin: null, createdAt: 0, startedAt: 0, finishedAt: null, gitCommit: null, error: null });
      for (let i = 0; ; i++) {
        store.addChunks([mk(i)]);
        const [c] = await store.queue.claim("w", 1, { skipJobs: [], suspects: false }, T.claim("w", i));
        await store.queue.complete([{ id: c.id, token: c.token, patch: T.settleAttempt(c, { retries: 0, retryDelayMs: 0 }, { ok: true }, false, i, 1).patch }]);
        store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [i], at: i + 1 }]);
        // Padding, so the journal passes its limit (50,000 lines) and compacts every ~250 chunks.
        for (let k = 0; k < 200; k++) store.setScheduleMark("pad", { lastTickAt: i, lastSkip: null });
        await store.commit();
        process.stdout.write(i + "\\n");
      }`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    let acknowledged = -1;
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (data: Buffer) => {
        const lines = data.toString().trim().split("\n");
        acknowledged = Number(lines[lines.length - 1]);
        if (acknowledged > 800) {
          child.kill("SIGKILL");
          resolve();
        }
      });
      child.on("exit", () => resolve());
    });
    await exited;
    expect(acknowledged).toBeGreaterThan(800);
    const reader = open(dir, true);
    const finished = new Set((await reader.active()).chunks.filter((c) => c.state === "done").map((c) => c.id));
    const missing = Array.from({ length: acknowledged + 1 }, (_, i) => `r.a.${i}`).filter((id) => !finished.has(id));
    expect(missing).toEqual([]);
    expect(reader.freshness().lastSuccess("a", "{}", acknowledged)).toBe(acknowledged + 1);
    // And the next writer takes over the dead one's directory.
    expect(await (await writer(dir, instance("next"))).leadership.holder()).toEqual(instance("next"));
  });
});
