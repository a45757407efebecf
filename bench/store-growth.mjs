// Costs that must not grow with the store: a one-chunk `stau run`, `stau plan` and `stau
// runs` (whole processes, medians of alternating rounds) on a data directory holding
// 1,000,000 work IDs of freshness over 50 jobs and 100,000 finished runs, one of them of
// 100,000 chunks among the newest 20, against the same commands on an empty store (it holds
// only the one success the run's dependency needs, so both runs are one chunk). Target:
// ≤ 1.2 each. The loaded store is written through the store's own modules (dist/), as a
// long-lived data directory would hold it, without running a million chunks.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { benchProject, median, REPO } from "./project.mjs";

const BIN = join(REPO, "bin", "stau.js");
const JOBS = 50;
const IDS = 1_000_000;
/** The run's job and its dependency hold most of the IDs, as after a backfill of both; the other 48 share the rest. */
const BIG_JOB_IDS = 450_000;
const RUNS = 100_000;
const BIG_RUN_CHUNKS = 100_000;
const DAY = 86_400_000;

const jobName = (i) => `job_${String(i).padStart(2, "0")}`;

function jobs() {
  const files = {};
  for (let i = 0; i < JOBS; i++) {
    const deps = i === 0 ? `[{ job: "job_01", maxLag: "30d" }]` : "[]";
    files[jobName(i)] = `import { defineJob } from "stau";\nexport default defineJob({ chunkSize: 1000, dependencies: ${deps}, async selectWork() { return [7]; }, async run() {} });\n`;
  }
  return files;
}

async function storeModules() {
  const { FreshnessFiles } = await import(join(REPO, "dist", "store", "file", "freshness.js"));
  const { History } = await import(join(REPO, "dist", "store", "file", "history.js"));
  return { FreshnessFiles, History };
}

/** Freshness: `count` IDs of `job`, recorded and persisted as compaction does. */
function recordIds(fresh, job, count, at) {
  for (let start = 0; start < count; start += 10_000) {
    const workIds = Array.from({ length: Math.min(10_000, count - start) }, (_, k) => start + k);
    fresh.record({ job, kwargsKey: "{}", workIds, at, codeHash: null }, 1);
  }
}

function archived(i, now, chunks = 1) {
  const id = `r${String(i).padStart(8, "0")}`;
  const job = jobName(i % JOBS);
  const createdAt = now - Math.round(((RUNS - i) / RUNS) * 90 * DAY);
  const run = { id, job, kwargs: {}, requestedWorkIds: null, workIds: null, status: "done", trigger: "schedule", scheduleEntry: "hourly", origin: null, createdAt, startedAt: createdAt, finishedAt: createdAt + 1_000, gitCommit: null, error: null };
  const list = [];
  for (let c = 0; c < chunks; c++) {
    list.push({ id: `${id}.${job}.${c}`, runId: id, job, kwargs: {}, kwargsKey: "{}", workIds: [c], dependsOn: [], state: "done", attempts: 1, error: null, startedAt: createdAt, finishedAt: createdAt + 1_000, durationMs: 900, notBefore: null, owner: null, token: null });
  }
  return { run, chunks: list };
}

export async function loadedProject() {
  const { FreshnessFiles, History } = await storeModules();
  const project = benchProject(jobs());
  const data = join(project.dir, "data");
  const now = Date.now();
  const fresh = new FreshnessFiles(join(data, "freshness"));
  let left = IDS - 2 * BIG_JOB_IDS;
  recordIds(fresh, "job_00", BIG_JOB_IDS, now - 2 * DAY);
  recordIds(fresh, "job_01", BIG_JOB_IDS, now - DAY);
  for (let i = 2; i < JOBS; i++) {
    const count = Math.round(left / (JOBS - i));
    recordIds(fresh, jobName(i), count, now - DAY);
    left -= count;
  }
  fresh.persist();
  const history = new History(join(data, "history", "runs.jsonl"));
  // The big run is the fifth newest: `stau runs` lists it.
  const bigAt = RUNS - 5;
  for (let start = 0; start < RUNS; start += 10_000) {
    const batch = [];
    for (let i = start; i < Math.min(RUNS, start + 10_000); i++) batch.push(archived(i, now, i === bigAt ? BIG_RUN_CHUNKS : 1));
    history.append(batch);
  }
  return project;
}

export async function emptyProject() {
  const { FreshnessFiles } = await storeModules();
  const project = benchProject(jobs());
  const fresh = new FreshnessFiles(join(project.dir, "data", "freshness"));
  fresh.record({ job: "job_01", kwargsKey: "{}", workIds: [7], at: Date.now() - DAY, codeHash: null }, 1);
  fresh.persist();
  return project;
}

function once(args, cwd) {
  const start = performance.now();
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8" });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`stau ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return ms;
}

export async function storeGrowth(rounds = 7) {
  const empty = await emptyProject();
  const loaded = await loadedProject();
  try {
    const commands = [
      ["run", ["run", "job_00", "--work", "7", "--json"]],
      ["plan", ["plan", "job_00", "--work", "7", "--json"]],
      ["runs", ["runs", "--json"]],
    ];
    const results = [];
    for (const [name, args] of commands) {
      const baseline = [];
      const value = [];
      // Alternating rounds: the machine's noise falls on both sides alike.
      for (let i = 0; i < rounds; i++) {
        baseline.push(once(args, empty.dir));
        value.push(once(args, loaded.dir));
      }
      const [b, v] = [median(baseline), median(value)];
      results.push({ name: `store_growth_${name}`, value: v, unit: "ms", baseline: b, ratio: v / b, detail: `stau ${name} after 1M IDs of freshness over ${JOBS} jobs and ${RUNS.toLocaleString("en")} runs (one of ${BIG_RUN_CHUNKS.toLocaleString("en")} chunks) vs empty; target ≤ 1.2` });
    }
    return results;
  } finally {
    empty.remove();
    loaded.remove();
  }
}
