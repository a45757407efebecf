// What one persisted chunk state change costs, with and without a large history.
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { FileStore } from "../dist/store/file/file-store.js";
import { median } from "./project.mjs";

const instance = { id: "bench", pid: process.pid, hostname: hostname(), startedAt: 0, command: "bench" };
const runRecord = (id) => ({ id, job: "a", kwargs: {}, requestedWorkIds: null, workIds: null, status: "running", trigger: "cli", scheduleEntry: null, origin: null, createdAt: 0, startedAt: 0, finishedAt: null, gitCommit: null, error: null });
const chunkRecord = (runId, job, i, workIds) => ({ id: `${runId}.${job}.${i}`, runId, job, kwargs: {}, kwargsKey: "{}", workIds, dependsOn: [], state: "pending", attempts: 0, error: null, startedAt: null, finishedAt: null, notBefore: null, owner: null, token: null });

const claimPatch = (at) => ({ state: "running", owner: "bench", startedAt: at, finishedAt: null, notBefore: null });
const donePatch = (at) => ({ state: "done", finishedAt: at, error: null, owner: null, token: null, durationMs: 0 });

/** Claims and completes chunks one by one through the work queue, each durable before the next: ms per change. */
async function transitionCost(store, runId, count) {
  store.insertRun(runRecord(runId));
  store.addChunks(Array.from({ length: count }, (_, i) => chunkRecord(runId, "measured", i, [i])));
  await store.commit();
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const [chunk] = await store.queue.claim("bench", 1, { skipJobs: [], suspects: false }, claimPatch(i));
    await store.queue.complete([{ id: chunk.id, token: chunk.token, patch: donePatch(i) }]);
    store.recordSuccesses([{ job: "measured", kwargsKey: "{}", workIds: chunk.workIds, at: i }]);
    await store.commit();
  }
  return (performance.now() - start) / (count * 2);
}

async function fill(store) {
  // 100,000 finished chunks in history: 1,000 runs of 100.
  for (let r = 0; r < 1_000; r++) {
    const id = `h${r}`;
    store.insertRun(runRecord(id));
    store.addChunks(Array.from({ length: 100 }, (_, i) => ({ ...chunkRecord(id, "a", i, [i]), state: "done" })));
    store.patchRun(id, { status: "done", finishedAt: 1 });
    store.archiveRun(id);
  }
  // 50 jobs × 10,000 work IDs of freshness.
  const ids = Array.from({ length: 10_000 }, (_, i) => i);
  for (let j = 0; j < 50; j++) {
    const id = `f${j}`;
    store.insertRun(runRecord(id));
    store.addChunks([{ ...chunkRecord(id, `job${j}`, 0, ids), state: "done", finishedAt: 1 }]);
    store.recordSuccesses([{ job: `job${j}`, kwargsKey: "{}", workIds: ids, at: 1 }]);
    store.patchRun(id, { status: "done", finishedAt: 1 });
    store.archiveRun(id);
  }
  await store.commit();
}

/** A store on a directory of its own, empty or holding a large history, opened as a restarted instance would. */
async function openStore(populate) {
  const dir = mkdtempSync(join(tmpdir(), "stau-bench-store-"));
  let store = FileStore.open(dir);
  await store.leadership.acquire(instance);
  if (populate) {
    await fill(store);
    await store.close(); // reopen as a restarted instance would: snapshots, not a long journal
    store = FileStore.open(dir);
    await store.leadership.acquire(instance);
    // Freshness of every job is loaded, as a run touching them would.
    for (let j = 0; j < 50; j++) store.freshness().lastSuccess(`job${j}`, "{}", 0);
  }
  return {
    store,
    /** One measured loop; its run is archived after it, so the next loop starts from the same hot state. */
    async loop(runId, count) {
      // Whether V8's major collection of the loaded heap falls inside the loop moved the
      // figure by ±15 %: every loop starts from a collected heap (`npm run bench` exposes gc).
      globalThis.gc?.();
      const cost = await transitionCost(store, runId, count);
      store.patchRun(runId, { status: "done", finishedAt: 1 });
      store.archiveRun(runId);
      await store.commit();
      return cost;
    },
    async remove() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A change on the loaded store against one on the empty store, in alternating rounds
 * (medians): a change costs an fsync, and this machine's disk drifts by ±15 % within
 * seconds, which one loop of each, minutes apart, took for the store's growth.
 */
export async function transitionCostGrowth(count = 1_000, rounds = 7) {
  const empty = await openStore(false);
  const loaded = await openStore(true);
  try {
    await empty.loop("warm", 200);
    await loaded.loop("warm", 200);
    const emptyCosts = [];
    const loadedCosts = [];
    for (let round = 0; round < rounds; round++) {
      emptyCosts.push(await empty.loop(`measured${round}`, count));
      loadedCosts.push(await loaded.loop(`measured${round}`, count));
    }
    const e = median(emptyCosts);
    const l = median(loadedCosts);
    return { name: "transition_cost_growth", value: l / e, unit: "ratio", baseline: e, ratio: l / e, detail: `${(l * 1000).toFixed(0)} µs vs ${(e * 1000).toFixed(0)} µs per durable change, medians of ${rounds} alternating rounds of ${count} chunks` };
  } finally {
    await empty.remove();
    await loaded.remove();
  }
}
