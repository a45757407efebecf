// End-to-end engine measurements: throughput, trigger latency, per-run overhead vs Bree.
import { performance } from "node:perf_hooks";
import { join } from "node:path";
import { Tinypool } from "tinypool";
import { EventBus } from "../dist/events.js";
import { projectPaths } from "../dist/config/project.js";
import { startInstance } from "../dist/instance/instance.js";
import { benchProject, median, REPO } from "./project.mjs";

const NOOP_TASK = join(REPO, "bench", "fixtures", "noop-task.mjs");

export const JOBS = {
  many: `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  async selectWork(kwargs) { return Array.from({ length: kwargs.n }, (_, i) => i); },
  run() {},
});`,
  noop: `import { defineJob } from "stau";
export default defineJob({ run() {} });`,
  // Needs many: a run of it triggered while many runs waits for that run (the wait rule).
  waits: `import { defineJob } from "stau";
export default defineJob({ dependencies: [{ job: "many", maxLag: "1h" }], run() {} });`,
  stamp: `import { defineJob } from "stau";
// Says when its code started, in the shared epoch-ms time base of all threads.
export default defineJob({ run() { console.log(String(performance.timeOrigin + performance.now())); } });`,
};

/** A stau instance on the embedded store of a throw-away project, with `trigger` and `waitForRun` as `stau run` uses them. */
export async function withInstance(workers, fn, given = null) {
  const project = given ?? benchProject(JOBS);
  const cwd = process.cwd();
  process.chdir(project.dir);
  try {
    const paths = projectPaths(project.dir);
    const instance = await startInstance({ paths, store: { dataDir: paths.dataDir, database: null }, pool: { workers, workerMemoryMb: undefined }, command: "bench", events: new EventBus(), schedule: false });
    const trigger = async (request) => (await instance.order({ cmd: "trigger", ...request })).run;
    try {
      return await fn({ instance, trigger, events: instance.events });
    } finally {
      await instance.stop(0);
    }
  } finally {
    process.chdir(cwd);
    if (!given) project.remove();
  }
}

async function rawThroughput(n, workers) {
  const pool = new Tinypool({ filename: NOOP_TASK, minThreads: workers, maxThreads: workers });
  await Promise.all(Array.from({ length: workers * 4 }, () => pool.run(null))); // warm up
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, () => pool.run(null)));
  const seconds = (performance.now() - start) / 1000;
  await pool.destroy();
  return n / seconds;
}

export async function chunkThroughput(n = 20_000, workers = 2, rounds = 3, name = "chunk_throughput") {
  // Alternating rounds, medians of each: on a 2-core machine one noisy moment must not
  // decide the ratio.
  const raw = [];
  const stau = [];
  for (let round = 0; round < rounds; round++) {
    raw.push(await rawThroughput(n, workers));
    stau.push(await stauThroughput(n, workers));
  }
  return { name, value: median(stau), unit: "chunks/s", baseline: median(raw), ratio: median(stau) / median(raw), detail: `${n} no-op chunks, ${workers} workers; baseline: raw tinypool, one task per message` };
}

/** Chunks per second from trigger to the run's end, every state change persisted. */
export async function stauThroughput(n, workers) {
  return withInstance(workers, async ({ instance, trigger }) => {
    await instance.waitForRun((await trigger({ job: "many", kwargs: { n: 100 } })).id); // warm up
    const start = performance.now();
    const run = await trigger({ job: "many", kwargs: { n } });
    const result = await instance.waitForRun(run.id);
    const seconds = (performance.now() - start) / 1000;
    if (result.run.status !== "done" || result.chunks.length !== n) throw new Error(`throughput run ended ${result.run.status} with ${result.chunks.length} chunks`);
    return n / seconds;
  });
}

export async function chunkLatency(samples = 200) {
  const pool = new Tinypool({ filename: NOOP_TASK, minThreads: 1, maxThreads: 1 });
  await pool.run(null);
  const raw = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await pool.run(null);
    raw.push(performance.now() - start);
  }
  await pool.destroy();
  const stau = await withInstance(2, async ({ instance, trigger, events }) => {
    const latencies = [];
    for (let i = 0; i < samples + 5; i++) {
      let started;
      const off = events.on("chunk:log", ({ text }) => (started = Number(text)));
      const before = performance.timeOrigin + performance.now();
      const run = await trigger({ job: "stamp" });
      await instance.waitForRun(run.id);
      off();
      if (i >= 5) latencies.push(started - before); // the first runs warm the worker up
    }
    return median(latencies);
  });
  const rawMedian = median(raw);
  return { name: "chunk_latency_ms", value: stau, unit: "ms", baseline: rawMedian, ratio: rawMedian / stau };
}

/** Bree running a no-op job `runs` times, one after another: its ms per run, `rounds()` times, through `between` after each round. */
async function breeRounds(runs, rounds, between) {
  const { default: Bree } = await import("bree");
  const project = benchProject({});
  const path = join(project.dir, "noop-bree.mjs");
  (await import("node:fs")).writeFileSync(path, "// the same no-op as the stau job\n");
  const bree = new Bree({ root: false, logger: false, jobs: [{ name: "noop", path }], errorHandler: () => {} });
  await bree.init?.();
  const once = () => new Promise((resolve) => {
    bree.once("worker deleted", resolve);
    void bree.run("noop");
  });
  await once();
  const perRun = [];
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (let i = 0; i < runs; i++) await once();
    perRun.push((performance.now() - start) / runs);
    await between();
  }
  await bree.stop();
  project.remove();
  return perRun;
}

/**
 * Sequential one-chunk runs, stau against Bree, in alternating rounds (this machine's
 * speed drifts by the second: one long round of each measured 19 to 30 in two runs
 * minutes apart); medians of the rounds. Each stau round has an instance of its own
 * on one project, stopped before Bree's next round: Bree measured 10-30 % slower
 * beside a live instance's threads.
 */
export async function runOverheadVsBree({ rounds = 5, breeRuns = 100, stauRuns = 400 } = {}) {
  const project = benchProject(JOBS);
  const stauPerRun = [];
  const stauRound = () =>
    withInstance(
      2,
      async ({ instance, trigger }) => {
        for (let i = 0; i < 20; i++) await instance.waitForRun((await trigger({ job: "noop" })).id);
        const start = performance.now();
        for (let i = 0; i < stauRuns; i++) await instance.waitForRun((await trigger({ job: "noop" })).id);
        stauPerRun.push((performance.now() - start) / stauRuns);
      },
      project,
    );
  const bree = median(await breeRounds(breeRuns, rounds, stauRound));
  const stau = median(stauPerRun);
  project.remove();
  return { name: "run_overhead_vs_bree", value: stau, unit: "ms/run", baseline: bree, ratio: bree / stau, detail: `medians of ${rounds} alternating rounds: Bree ${breeRuns} runs, stau ${stauRuns} runs a round` };
}
