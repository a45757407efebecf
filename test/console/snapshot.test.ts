import { describe, expect, test } from "vitest";
import type { ProjectPaths } from "../../src/config/project.js";
import { readSnapshot } from "../../src/console/snapshot.js";
import type { Registry } from "../../src/jobs/load.js";
import { job, registry } from "../graph/helpers.js";
import { MemoryStore } from "../helpers/memory-store.js";

const paths: ProjectPaths = { root: "/p", jobsDir: "/p/jobs", scheduleFile: null, dataDir: "/p/data" };

describe("readSnapshot", () => {
  test("a job's last success is its newest under any kwargs, as chunk:done keeps it live", async () => {
    const store = new MemoryStore();
    store.recordSuccesses([
      { job: "daily", kwargsKey: '{"day":"2024-01-01"}', workIds: [], at: 1_000 },
      { job: "daily", kwargsKey: '{"day":"2024-01-02"}', workIds: [], at: 2_000 },
    ]);
    await store.commit();
    const reg: Registry = { jobs: registry(job("daily"), job("idle")), broken: new Map(), fileProblems: [], schedule: { entries: [], problems: [] }, loaded: new Map() };
    const { snapshot } = await readSnapshot(store, reg, paths, { workers: 1, startedAt: 0, paused: false, fires: null });
    expect(snapshot.lastSuccess).toEqual({ daily: 2_000, idle: null });
  });
});
