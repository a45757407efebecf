// End-to-end engine measurements: throughput, trigger latency, per-run overhead vs Bree.
import { performance } from "node:perf_hooks";
import { join } from "node:path";
import { Tinypool } from "tinypool";
import { openRuntime } from "../dist/cli/runtime.js";
import { benchProject, median, REPO } from "./project.mjs";

const NOOP_TASK = join(REPO, "bench", "fixtures", "noop-task.mjs");

const JOBS = {
  many: `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  async selectWork(kwargs) { return Array.from({ length: kwargs.n }, (_, i) => i); },
  run() {},
});`,
  noop: `import { defineJob } from "stau";
export default defineJob({ run() {} });`,
  stamp: `import { defineJob } from "stau";
// Says when its code started, in the shared epoch-ms time base of all threads.
export default defineJob({ run() { console.log(String(performance.timeOrigin + performance.now())); } });`,
};

async function withRuntime(workers, fn) {
  const project = benchProject(JOBS);
  const cwd = process.cwd();
  process.chdir(project.dir);
  try {
    const runtime = await openRuntime({ workers: String(workers) }, "bench");
    try {
      return await fn(runtime);
    } finally {
      await runtime[Symbol.asyncDispose]();
    }
  } finally {
    process.chdir(cwd);
    project.remove();
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

export async function chunkThroughput(n = 20_000, workers = 2, rounds = 3) {
  // Alternating rounds, medians of each: on a 2-core machine one noisy moment must not
  // decide the ratio.
  const raw = [];
  const stau = [];
  for (let round = 0; round < rounds; round++) {
    raw.push(await rawThroughput(n, workers));
    stau.push(await stauThroughput(n, workers));
  }
  return { name: "chunk_throughput", value: median(stau), unit: "chunks/s", baseline: median(raw), ratio: median(stau) / median(raw) };
}

/** Chunks per second from trigger to the run's end, every state change persisted. */
export async function stauThroughput(n, workers) {
  return withRuntime(workers, async ({ engine }) => {
    await engine.waitForRun((await engine.trigger({ job: "many", kwargs: { n: 100 }, source: "cli" })).id); // warm up
    const start = performance.now();
    const run = await engine.trigger({ job: "many", kwargs: { n }, source: "cli" });
    const result = await engine.waitForRun(run.id);
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
  const stau = await withRuntime(2, async ({ engine }) => {
    const latencies = [];
    for (let i = 0; i < samples + 5; i++) {
      let started;
      const off = engine.events.on("chunk:log", ({ text }) => (started = Number(text)));
      const before = performance.timeOrigin + performance.now();
      const run = await engine.trigger({ job: "stamp", source: "cli" });
      await engine.waitForRun(run.id);
      off();
      if (i >= 5) latencies.push(started - before); // the first runs warm the worker up
    }
    return median(latencies);
  });
  const rawMedian = median(raw);
  return { name: "chunk_latency_ms", value: stau, unit: "ms", baseline: rawMedian, ratio: rawMedian / stau };
}

async function breeOverhead(runs) {
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
  const start = performance.now();
  for (let i = 0; i < runs; i++) await once();
  const perRun = (performance.now() - start) / runs;
  await bree.stop();
  project.remove();
  return perRun;
}

export async function runOverheadVsBree(runs = 200) {
  const bree = await breeOverhead(runs);
  const stau = await withRuntime(2, async ({ engine }) => {
    await engine.waitForRun((await engine.trigger({ job: "noop", source: "cli" })).id);
    const start = performance.now();
    for (let i = 0; i < runs; i++) await engine.waitForRun((await engine.trigger({ job: "noop", source: "cli" })).id);
    return (performance.now() - start) / runs;
  });
  return { name: "run_overhead_vs_bree", value: stau, unit: "ms/run", baseline: bree, ratio: bree / stau };
}
