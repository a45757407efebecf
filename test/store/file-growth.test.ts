import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import * as T from "../../src/engine/transitions.js";
import { FileStore } from "../../src/store/file/file-store.js";
import { lockPath } from "../../src/store/file/lock.js";
import { shardOf } from "../../src/store/file/shard.js";
import type { ChunkRecord } from "../../src/store/records.js";
import { ORCHESTRATOR, seed } from "./helpers.js";

// The embedded store's files as they grow: freshness in shards read by the IDs asked
// about, a large run's chunks apart from its history line, and the shapes older versions
// wrote still opening. What each file holds is read back through the store.

const dirs: string[] = [];
const stores: FileStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "stau-growth-"));
  dirs.push(dir);
  return dir;
}

function open(dir: string, readOnly = false): FileStore {
  const store = FileStore.open(dir, { readOnly });
  stores.push(store);
  return store;
}

async function writer(dir: string): Promise<FileStore> {
  const store = open(dir);
  await store.leadership.acquire(ORCHESTRATOR);
  return store;
}

/** What a process killed with -9 leaves: no close, its lock file behind. */
const crash = (dir: string) => rmSync(lockPath(dir));

const claimAll = (store: FileStore, n: number) => store.queue.claim("A", n, { skipJobs: [], suspects: false }, T.claim("A", 5));
const succeeded = (chunk: ChunkRecord) => T.settleAttempt(chunk, { retries: 0, retryDelayMs: 0 }, { ok: true }, false, 2_000, 1).patch;

/** A run of `n` chunks, every one done, then archived; its history line is durable once it returns. */
async function finishedRun(store: FileStore, runId: string, n: number): Promise<void> {
  await seed(store, runId, n);
  const claimed = await claimAll(store, n);
  await store.queue.complete(claimed.map((chunk) => ({ id: chunk.id, token: chunk.token!, patch: succeeded(chunk) })));
  store.patchRun(runId, { status: "done", finishedAt: 3_000 });
  store.archiveRun(runId);
  await store.commit();
}

const historyLines = (dir: string) => readFileSync(join(dir, "history", "runs.jsonl"), "utf8").trim().split("\n");

describe("freshness shards", () => {
  it("reads back every ID after compaction, from a head and the shards of the IDs asked about", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    const ids = Array.from({ length: 5_000 }, (_, i) => i);
    store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: ids, at: 1_000, codeHash: "h1" }]);
    store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [7, "7"], at: 2_000, codeHash: "h2" }]);
    await store.close();

    const head = JSON.parse(readFileSync(join(dir, "freshness", "a.json"), "utf8"));
    expect(head).toMatchObject({ format: 2, nodes: { "{}": { any: 2_000, anyCode: "h2" } } });
    expect(readdirSync(join(dir, "freshness", "a")).length).toBeGreaterThan(1);
    const fresh = open(dir, true).freshness();
    expect(fresh.lastSuccess("a", "{}", 4_999)).toBe(1_000);
    expect(fresh.lastSuccess("a", "{}", 7)).toBe(2_000);
    expect(fresh.lastSuccess("a", "{}", "7")).toBe(2_000);
    expect(fresh.lastSuccess("a", "{}", 5_000)).toBeUndefined();
    expect(fresh.codeHash("a", "{}", 8)).toBe("h1");
    expect(fresh.codeHash("a", "{}", 7)).toBe("h2");
    expect(fresh.lastSuccess("a", "{}", null)).toBe(2_000);
    expect(fresh.kwargsKeys("a")).toEqual(["{}"]);
  });

  it("rewrites only the shards a success changed", async () => {
    const dir = tempDir();
    const first = await writer(dir);
    first.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: Array.from({ length: 2_000 }, (_, i) => i), at: 1_000 }]);
    await first.close();
    const shards = join(dir, "freshness", "a");
    const before = new Map(readdirSync(shards).map((name) => [name, readFileSync(join(shards, name), "utf8")]));

    const second = await writer(dir);
    second.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [42], at: 5_000 }]);
    await second.close();
    const changed = readdirSync(shards).filter((name) => readFileSync(join(shards, name), "utf8") !== before.get(name));
    expect(changed).toHaveLength(1);
    expect(open(dir, true).freshness().lastSuccess("a", "{}", 42)).toBe(5_000);
  });

  it("opens a freshness file older versions wrote whole, and the next compaction writes it as shards", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "freshness"), { recursive: true });
    const old = { format: 1, seq: 3, nodes: { "{}": { any: 900, ids: { "1": 800, '"x"': 900 }, anyCode: "c9", codes: { "1": "c8", '"x"': "c9" } } } };
    writeFileSync(join(dir, "freshness", "a.json"), JSON.stringify(old, null, 2));
    // Shards a compaction cut short left beside it: the whole file is still the truth.
    mkdirSync(join(dir, "freshness", "a"));
    for (let n = 0; n < 64; n++) writeFileSync(join(dir, "freshness", "a", `${n}.json`), JSON.stringify({ format: 2, seq: 99, nodes: { "{}": { ids: { "2": 9_999 } } } }));

    const reader = open(dir, true).freshness();
    expect([reader.lastSuccess("a", "{}", 1), reader.lastSuccess("a", "{}", "x"), reader.lastSuccess("a", "{}", 2)]).toEqual([800, 900, undefined]);
    expect(reader.codeHash("a", "{}", 1)).toBe("c8");

    const store = await writer(dir);
    store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [3], at: 1_000 }]);
    await store.close();
    expect(JSON.parse(readFileSync(join(dir, "freshness", "a.json"), "utf8")).format).toBe(2);
    const after = open(dir, true).freshness();
    expect([after.lastSuccess("a", "{}", 1), after.lastSuccess("a", "{}", "x"), after.lastSuccess("a", "{}", 2), after.lastSuccess("a", "{}", 3)]).toEqual([800, 900, undefined, 1_000]);
    expect(after.codeHash("a", "{}", "x")).toBe("c9");
  });

  it("names the code hash most IDs ran once per shard, and each other ID's own", async () => {
    const dir = tempDir();
    const shardNodes = () => readdirSync(join(dir, "freshness", "a")).map((name) => JSON.parse(readFileSync(join(dir, "freshness", "a", name), "utf8")).nodes["{}"]);
    const ids = Array.from({ length: 2_000 }, (_, i) => i);
    const first = await writer(dir);
    first.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: ids, at: 1_000, codeHash: "h1" }]);
    first.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [7], at: 2_000, codeHash: "h2" }]);
    first.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [8], at: 2_000 }]);
    await first.close();
    const named = (nodes: { codes?: Record<string, string | null> }[]) => Object.assign({}, ...nodes.map((node) => node.codes ?? {}));
    expect(shardNodes().every((node) => node.code === "h1")).toBe(true);
    expect(named(shardNodes())).toEqual({ "7": "h2", "8": null });
    const read = open(dir, true).freshness();
    expect([read.codeHash("a", "{}", 6), read.codeHash("a", "{}", 7), read.codeHash("a", "{}", 8)]).toEqual(["h1", "h2", undefined]);

    // An edit, and a run over most IDs: the new hash becomes the shards' own.
    const second = await writer(dir);
    second.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: ids.slice(0, 1_500), at: 3_000, codeHash: "h3" }]);
    await second.close();
    const nodes = shardNodes();
    expect(nodes.filter((node) => node.code === "h3").length).toBeGreaterThan(nodes.length / 2);
    const after = open(dir, true).freshness();
    expect([after.codeHash("a", "{}", 0), after.codeHash("a", "{}", 8), after.codeHash("a", "{}", 1_999)]).toEqual(["h3", "h3", "h1"]);
    expect(Object.keys(named(nodes)).length).toBeLessThan(600);
  });

  it("reads shards that name every ID's code hash, as versions before the shared hash wrote them", async () => {
    const dir = tempDir();
    const first = await writer(dir);
    first.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [1], at: 1_000 }]);
    await first.close();
    // The shards in the older shape: no `code`, a hash per ID (none for 2).
    const shards = join(dir, "freshness", "a");
    for (const name of readdirSync(shards)) unlinkSync(join(shards, name));
    const older = new Map<number, { ids: Record<string, number>; codes: Record<string, string> }>();
    for (const [id, code] of [[1, "c1"], [2, null], [3, "c3"]] as const) {
      const n = shardOf(JSON.stringify(id), 64);
      const node = older.get(n) ?? { ids: {}, codes: {} };
      node.ids[id] = 100;
      if (code) node.codes[id] = code;
      older.set(n, node);
    }
    for (const [n, node] of older) writeFileSync(join(shards, `${n}.json`), JSON.stringify({ format: 2, seq: 1, nodes: { "{}": node } }));
    const read = open(dir, true).freshness();
    expect([read.codeHash("a", "{}", 1), read.codeHash("a", "{}", 2), read.codeHash("a", "{}", 3)]).toEqual(["c1", undefined, "c3"]);

    // Written again after a success: the same answers, in the new shape.
    const store = await writer(dir);
    store.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [4], at: 2_000, codeHash: "c4" }]);
    await store.close();
    const after = open(dir, true).freshness();
    expect([1, 2, 3, 4].map((id) => after.codeHash("a", "{}", id))).toEqual(["c1", undefined, "c3", "c4"]);
  });

  it("keeps a success whose writer was killed after the journal took it, before any compaction", async () => {
    const dir = tempDir();
    const first = await writer(dir);
    first.recordSuccesses([{ job: "a", kwargsKey: "{}", workIds: [1, 2, 3], at: 1_000 }]);
    await first.commit();
    crash(dir);
    const second = await writer(dir);
    expect(second.freshness().lastSuccess("a", "{}", 2)).toBe(1_000);
    await second.close();
    expect(open(dir, true).freshness().lastSuccess("a", "{}", 3)).toBe(1_000);
  });
});

describe("a large run in history", () => {
  it("keeps its chunks apart: a short line, listed with its counts, shown with every chunk", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    await finishedRun(store, "rbig", 250);
    await finishedRun(store, "rsmall", 2);

    const [big, small] = historyLines(dir);
    expect(big!.length).toBeLessThan(2_000);
    expect(JSON.parse(small!).chunks).toHaveLength(2);
    expect(existsSync(join(dir, "history", "chunks", "rbig.json"))).toBe(true);

    const reader = open(dir, true);
    const summaries = await reader.listRunSummaries(10);
    expect(summaries.find((s) => s.run.id === "rbig")?.states).toEqual({ done: 250 });
    expect((await reader.getRun("rbig"))?.chunks).toHaveLength(250);
    expect((await reader.listRuns(10)).find((r) => r.run.id === "rbig")?.chunks).toHaveLength(250);
    expect((await reader.latestRunOf("a"))?.run.id).toBe("rsmall");
  });

  it("writes the chunk file of a run of many thousands of chunks a slice at a time, every chunk whole and in order", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    await finishedRun(store, "rhuge", 25_001);
    const chunks = (await open(dir, true).getRun("rhuge"))?.chunks ?? [];
    expect(chunks).toHaveLength(25_001);
    expect(chunks.map((c) => c.id)).toEqual(Array.from({ length: 25_001 }, (_, i) => chunks[0]!.id.replace(/\d+$/, String(i))));
    expect(chunks.every((c) => c.state === "done" && c.runId === "rhuge")).toBe(true);
  });

  it("is archived again whole when its writer was killed after its chunk file was written, before the archive was durable", async () => {
    const dir = tempDir();
    const first = await writer(dir);
    await seed(first, "rbig", 150);
    const claimed = await claimAll(first, 150);
    await first.queue.complete(claimed.map((chunk) => ({ id: chunk.id, token: chunk.token!, patch: succeeded(chunk) })));
    first.patchRun("rbig", { status: "done", finishedAt: 3_000 });
    await first.commit();
    // The chunk file is written and the line appended; the journal's archive line never reaches the disk.
    first.archiveRun("rbig");
    crash(dir);

    const second = await writer(dir);
    const again = await second.getRun("rbig");
    expect(again?.chunks.filter((c) => c.state === "done")).toHaveLength(150);
    second.archiveRun("rbig");
    await second.close();
    const reader = open(dir, true);
    expect((await reader.listRunSummaries(5)).filter((s) => s.run.id === "rbig")).toEqual([expect.objectContaining({ states: { done: 150 } })]);
    expect((await reader.getRun("rbig"))?.chunks).toHaveLength(150);
  });

  it("is listed without its chunks, and the missing file named, when its chunk file is gone", async () => {
    const dir = tempDir();
    await finishedRun(await writer(dir), "rbig", 150);
    unlinkSync(join(dir, "history", "chunks", "rbig.json"));
    const reader = open(dir, true);
    expect((await reader.listRunSummaries(5))[0]?.states).toEqual({ done: 150 });
    expect((await reader.getRun("rbig"))?.chunks).toEqual([]);
    expect(reader.skipped().join("\n")).toContain(join(dir, "history", "chunks", "rbig.json"));
  });

  it("leaves with its chunk file when pruned", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    await finishedRun(store, "rbig", 150);
    expect(await store.prune(10_000, { dryRun: true })).toMatchObject({ runs: 1, chunks: 150 });
    expect(await store.prune(10_000, { dryRun: false })).toMatchObject({ runs: 1, chunks: 150 });
    expect(existsSync(join(dir, "history", "chunks", "rbig.json"))).toBe(false);
    expect(await store.getRun("rbig")).toBeNull();
  });
});

describe("a job's latest run", () => {
  it("is found however many newer runs of other jobs came after it", async () => {
    const dir = tempDir();
    const store = await writer(dir);
    await finishedRun(store, "r0000", 1);
    for (let i = 1; i <= 300; i++) {
      store.insertRun({ ...(await store.getRun("r0000"))!.run, id: `r${String(i).padStart(4, "0")}`, job: "b", createdAt: 1_000 + i });
      store.addChunks([{ ...(await store.getRun("r0000"))!.chunks[0]!, id: `r${String(i).padStart(4, "0")}.b.0`, runId: `r${String(i).padStart(4, "0")}`, job: "b" }]);
      store.archiveRun(`r${String(i).padStart(4, "0")}`);
    }
    await store.commit();
    expect((await store.latestRunOf("a"))?.run.id).toBe("r0000");
    expect((await store.latestRunOf("b"))?.run.id).toBe("r0300");
    expect(await store.latestRunOf("nobody")).toBeNull();
  });
});
