import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { MAX_FINISHED_CHUNKS, readHeldRuns, recentFailedRuns } from "../../src/console/held-runs.js";
import { FileStore } from "../../src/store/file/file-store.js";
import { chunkRecord, ORCHESTRATOR, seed } from "../store/helpers.js";
import type { ProjectPaths } from "../../src/config/project.js";
import { readSnapshot } from "../../src/console/snapshot.js";
import type { Registry } from "../../src/jobs/load.js";
import { job, registry } from "../graph/helpers.js";
import { MemoryStore } from "../helpers/memory-store.js";

const paths: ProjectPaths = { root: "/p", jobsDir: "/p/jobs", scheduleFile: null, dataDir: "/p/data" };
const emptyRegistry: Registry = { jobs: registry(job("a")), broken: new Map(), fileProblems: [], schedule: { entries: [], problems: [] }, loaded: new Map() };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A finished run of `chunks` chunks that ended as `status` says, archived. */
async function finished(store: FileStore, id: string, chunks: number, createdAt: number, status: "done" | "failed" = "done"): Promise<void> {
  await seed(store, id, Array.from({ length: chunks }, (_, i) => chunkRecord(id, i, { state: status, attempts: 1, startedAt: createdAt, finishedAt: createdAt })), { createdAt });
  store.patchRun(id, { status, finishedAt: createdAt });
  store.archiveRun(id);
  await store.commit();
}

describe("readSnapshot", () => {
  test("a job's last success is its newest under any kwargs, as chunk:done keeps it live", async () => {
    const store = new MemoryStore();
    store.recordSuccesses([
      { job: "daily", kwargsKey: '{"day":"2024-01-01"}', workIds: [], at: 1_000 },
      { job: "daily", kwargsKey: '{"day":"2024-01-02"}', workIds: [], at: 2_000 },
    ]);
    await store.commit();
    const reg: Registry = { jobs: registry(job("daily"), job("idle")), broken: new Map(), fileProblems: [], schedule: { entries: [], problems: [] }, loaded: new Map() };
    const snapshot = await readSnapshot(store, reg, paths, { workers: 1, startedAt: 0, paused: false, fires: null });
    expect(snapshot.lastSuccess).toEqual({ daily: 2_000, idle: null });
  });

  test("'retry all failed' finds the failed runs among the newest without reading a chunk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stau-snapshot-"));
    dirs.push(dir);
    const store = FileStore.open(dir);
    await store.leadership.acquire(ORCHESTRATOR);
    await finished(store, "small", 2, 1, "failed");
    await finished(store, "big", 500, 2, "failed");
    await finished(store, "fine", 3, 3);
    writeFileSync(join(dir, "history", "chunks", "big.json"), "not json");
    expect(await recentFailedRuns(store)).toEqual(["big", "small"]);
    expect(store.skipped()).toEqual([]);
    await store.close();
  });

  test("reads only the finished runs the console holds: the chunks of a big run past its budget are never read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stau-snapshot-"));
    dirs.push(dir);
    const store = FileStore.open(dir);
    await store.leadership.acquire(ORCHESTRATOR);
    const big = Math.ceil(MAX_FINISHED_CHUNKS / 2) + 1;
    await finished(store, "small", 2, 1);
    await finished(store, "older", big, 2);
    await finished(store, "newest", big, 3);
    await seed(store, "live", 1, { createdAt: 4 });
    // Were the older big run's chunks read, the store would report this file as damaged.
    writeFileSync(join(dir, "history", "chunks", "older.json"), "not json");
    const snapshot = await readSnapshot(store, emptyRegistry, { ...paths, dataDir: dir }, { workers: 1, startedAt: 0, paused: false, fires: null });
    expect(snapshot.runs.map((r) => [r.run.id, r.chunks.length])).toEqual([["live", 1], ["newest", big], ["small", 2]]);
    expect(store.skipped()).toEqual([]);
    // The held read leaves the active run to activeRuns: a big one's chunks are not read twice per snapshot.
    expect((await readHeldRuns(store)).map((r) => r.run.id)).toEqual(["newest", "small"]);
    await store.close();
  });
});
