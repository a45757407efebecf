import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileStore } from "../../src/store/file-store.js";
import type { ChunkRecord, RunRecord } from "../../src/store/records.js";
import type { InstanceInfo } from "../../src/store/store.js";
import { REPO } from "../helpers/project.js";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "stau-store-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const me = (id = "test"): InstanceInfo => ({ id, pid: process.pid, hostname: hostname(), startedAt: 0, command: "test" });
const run = (id: string, over: Partial<RunRecord> = {}): RunRecord => ({
  id, job: "a", kwargs: {}, requestedWorkIds: null, workIds: null, status: "running", trigger: "cli", scheduleEntry: null,
  origin: null, createdAt: 1, startedAt: 1, finishedAt: null, gitCommit: null, error: null, ...over,
});
const chunk = (runId: string, n: number, over: Partial<ChunkRecord> = {}): ChunkRecord => ({
  id: `${runId}.a.${n}`, runId, job: "a", kwargs: {}, kwargsKey: "{}", workIds: [n], dependsOn: [], state: "pending",
  attempts: 0, error: null, startedAt: null, finishedAt: null, notBefore: null, owner: null, token: null, ...over,
});

async function openWritable(dir: string, id = "test") {
  const store = FileStore.open(dir);
  const lock = await store.acquireLeadership(me(id));
  expect(lock.ok).toBe(true);
  return store;
}

describe("FileStore", () => {
  it("replays committed changes after a crash without close()", async () => {
    const dir = tempDir();
    const store = await openWritable(dir);
    store.insertRun(run("r1"), [chunk("r1", 0), chunk("r1", 1)]);
    const [claimed] = store.claimChunks(["r1.a.0"], "test", 5);
    expect(claimed).toMatchObject({ state: "running", attempts: 1, owner: "test" });
    expect(store.completeChunk("r1.a.0", claimed!.token!, { state: "done", finishedAt: 6 }, { job: "a", kwargsKey: "{}", workIds: [0], at: 6 })).toBe(true);
    await store.commit();
    // No close(): what a kill -9 leaves behind. Drop the lock file as a dead process would leave it stale.
    rmSync(join(dir, "stau.lock"));

    const again = FileStore.open(dir, { readOnly: true });
    const { runs, chunks } = await again.active();
    expect(runs.map((r) => r.id)).toEqual(["r1"]);
    expect(chunks.find((c) => c.id === "r1.a.0")).toMatchObject({ state: "done", attempts: 1, token: null });
    expect(again.freshness().lastSuccess("a", "{}", 0)).toBe(6);
    expect(again.freshness().lastSuccess("a", "{}", 1)).toBeUndefined();
    expect(again.freshness().lastSuccess("a", "{}", null)).toBe(6);
  });

  it("refuses to complete a chunk with a stale token", async () => {
    const store = await openWritable(tempDir());
    store.insertRun(run("r1"), [chunk("r1", 0)]);
    store.claimChunks(["r1.a.0"], "test", 1);
    expect(store.completeChunk("r1.a.0", "someone-else:1", { state: "done" }, null)).toBe(false);
    await store.close();
  });

  it("claims only pending chunks", async () => {
    const store = await openWritable(tempDir());
    store.insertRun(run("r1"), [chunk("r1", 0), chunk("r1", 1, { state: "queued" })]);
    expect(store.claimChunks(["r1.a.0", "r1.a.1", "nope"], "test", 1).map((c) => c.id)).toEqual(["r1.a.0"]);
    expect(store.claimChunks(["r1.a.0"], "test", 1)).toEqual([]);
    await store.close();
  });

  it("moves finished runs to history and lists newest first", async () => {
    const dir = tempDir();
    const store = await openWritable(dir);
    for (let i = 1; i <= 3; i++) {
      store.insertRun(run(`r${i}`, { createdAt: i }), [chunk(`r${i}`, 0, { state: "done" })]);
      if (i < 3) {
        store.patchRun(`r${i}`, { status: "done", finishedAt: i + 0.5 });
        store.archiveRun(`r${i}`);
      }
    }
    await store.close();
    const reader = FileStore.open(dir, { readOnly: true });
    expect((await reader.active()).runs.map((r) => r.id)).toEqual(["r3"]);
    const listed = await reader.listRuns(10);
    expect(listed.map((r) => [r.run.id, r.run.status, r.chunks.length])).toEqual([["r3", "running", 1], ["r2", "done", 1], ["r1", "done", 1]]);
    expect((await reader.listRuns(2)).map((r) => r.run.id)).toEqual(["r3", "r2"]);
    expect((await reader.getRun("r1"))?.run.status).toBe("done");
  });

  it("revives an archived run and keeps its newest state in history", async () => {
    const dir = tempDir();
    const store = await openWritable(dir);
    store.insertRun(run("r1"), [chunk("r1", 0, { state: "failed" })]);
    store.patchRun("r1", { status: "failed" });
    store.archiveRun("r1");
    const revived = await store.reviveRun("r1");
    expect(revived?.run.status).toBe("failed");
    store.patchRun("r1", { status: "done" });
    store.archiveRun("r1");
    await store.close();
    const listed = await FileStore.open(dir, { readOnly: true }).listRuns(10);
    expect(listed.map((r) => [r.run.id, r.run.status])).toEqual([["r1", "done"]]);
  });

  it("reports a corrupt state file with its path and never writes over it", async () => {
    const dir = tempDir();
    const garbage = '{"format":1,"runs": {oops';
    writeFileSync(join(dir, "state.json"), garbage);
    expect(() => FileStore.open(dir)).toThrow(join(dir, "state.json"));
    expect(readFileSync(join(dir, "state.json"), "utf8")).toBe(garbage);
  });

  it("reports a journal damaged in the middle, and drops only a torn last line", async () => {
    const dir = tempDir();
    const store = await openWritable(dir);
    store.insertRun(run("r1"), []);
    store.insertRun(run("r2"), []);
    await store.commit();
    rmSync(join(dir, "stau.lock"));
    const journal = join(dir, "journal.jsonl");
    appendFileSync(journal, '{"s":99,"t":"run","run":{"id":"torn"'); // a write cut short by a crash
    const reopened = await openWritable(dir, "second");
    expect((await reopened.active()).runs.map((r) => r.id).sort()).toEqual(["r1", "r2"]);
    reopened.insertRun(run("r3"), []);
    await reopened.commit();
    rmSync(join(dir, "stau.lock"));
    expect((await FileStore.open(dir, { readOnly: true }).active()).runs.map((r) => r.id).sort()).toEqual(["r1", "r2", "r3"]);

    const lines = readFileSync(journal, "utf8").split("\n");
    lines[0] = "not json";
    writeFileSync(journal, lines.join("\n"));
    const damaged = readFileSync(journal, "utf8");
    expect(() => FileStore.open(dir)).toThrow(/journal\.jsonl is damaged: line 1/);
    expect(readFileSync(journal, "utf8")).toBe(damaged);
  });

  it("compacts into snapshots and keeps everything across the compaction", async () => {
    const dir = tempDir();
    const store = await openWritable(dir);
    store.insertRun(run("r1"), Array.from({ length: 100 }, (_, i) => chunk("r1", i)));
    for (let i = 0; i < 100; i++) {
      const [c] = store.claimChunks([`r1.a.${i}`], "test", i);
      store.completeChunk(c!.id, c!.token!, { state: "done", finishedAt: i }, { job: "a", kwargsKey: "{}", workIds: [i], at: 1000 + i });
    }
    await store.close();
    expect(readFileSync(join(dir, "journal.jsonl"), "utf8")).toBe("");
    const reader = FileStore.open(dir, { readOnly: true });
    expect((await reader.active()).chunks.filter((c) => c.state === "done")).toHaveLength(100);
    expect(reader.freshness().lastSuccess("a", "{}", 42)).toBe(1042);
    expect(existsSync(join(dir, "freshness", "a.json"))).toBe(true);
  });

  it("keeps schedule marks", async () => {
    const dir = tempDir();
    const store = await openWritable(dir);
    store.setScheduleMark("hourly", { lastTickAt: 123, lastSkip: null });
    await store.close();
    expect(await FileStore.open(dir, { readOnly: true }).scheduleMarks()).toEqual(new Map([["hourly", { lastTickAt: 123, lastSkip: null }]]));
  });
});

describe("data directory lock", () => {
  it("refuses a second writer and names the holder", async () => {
    const dir = tempDir();
    const first = await openWritable(dir, "first");
    const second = FileStore.open(dir);
    const result = await second.acquireLeadership(me("second"));
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.holder?.id).toBe("first");
    await first.close();
    expect((await second.acquireLeadership(me("second"))).ok).toBe(true);
    await second.close();
  });

  it("takes over the lock of a process that died", async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    const pid = child.pid!;
    writeFileSync(join(dir, "stau.lock"), JSON.stringify({ ...me("dead"), pid }));
    const store = FileStore.open(dir);
    expect((await store.acquireLeadership(me("alive"))).ok).toBe(false);
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    expect((await store.acquireLeadership(me("alive"))).ok).toBe(true);
    await store.close();
  });
});

describe("crash safety", () => {
  it("survives kill -9 in the middle of writes: every acknowledged chunk is still done", async () => {
    const dir = tempDir();
    // A writer that completes chunks as fast as it can and prints each id once committed.
    const script = `
      import { FileStore } from ${JSON.stringify(join(REPO, "dist/store/file-store.js"))};
      import { hostname } from "node:os";
      const store = FileStore.open(${JSON.stringify(dir)});
      await store.acquireLeadership({ id: "w", pid: process.pid, hostname: hostname(), startedAt: 0, command: "t" });
      const mk = (i) => ({ id: "c" + i, runId: "r", job: "a", kwargs: {}, kwargsKey: "{}", workIds: [i], dependsOn: [], state: "pending", attempts: 0, error: null, startedAt: null, finishedAt: null, notBefore: null, owner: null, token: null });
      store.insertRun({ id: "r", job: "a", kwargs: {}, requestedWorkIds: null, workIds: null, status: "running", trigger: "cli", scheduleEntry: null, origin: null, createdAt: 0, startedAt: 0, finishedAt: null, gitCommit: null, error: null }, []);
      for (let i = 0; ; i++) {
        store.addChunks([mk(i)]);
        const [c] = store.claimChunks(["c" + i], "w", i);
        store.completeChunk(c.id, c.token, { state: "done", finishedAt: i }, { job: "a", kwargsKey: "{}", workIds: [i], at: i + 1 });
        if (i % 7 === 0) { await store.commit(); process.stdout.write(i + "\\n"); }
      }`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let acknowledged = -1;
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (data: Buffer) => {
        const lines = data.toString().trim().split("\n");
        acknowledged = Number(lines[lines.length - 1]);
        // Four journal lines per chunk: past 6,000 chunks the store has compacted at least once.
        if (acknowledged > 6_000) {
          child.kill("SIGKILL");
          resolve();
        }
      });
    });
    await new Promise((r) => child.on("exit", r));
    const store = FileStore.open(dir, { readOnly: true });
    const done = new Set((await store.active()).chunks.filter((c) => c.state === "done").map((c) => c.id));
    for (let i = 0; i <= acknowledged; i++) expect(done.has(`c${i}`)).toBe(true);
    expect(store.freshness().lastSuccess("a", "{}", acknowledged)).toBe(acknowledged + 1);
    // And a new writer can take over the dead one's directory.
    const next = FileStore.open(dir);
    expect((await next.acquireLeadership(me("next"))).ok).toBe(true);
    await next.close();
  });
});
