// A run of a million chunks (`chunkSize: 1`) through a whole instance on the embedded
// store, in a child process of its own so that its peak RSS is its own: what each
// active chunk costs in memory, and how long resolving it takes.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { EventBus } from "../dist/events.js";
import { projectPaths } from "../dist/config/project.js";
import { startInstance } from "../dist/instance/instance.js";
import { resolve } from "../dist/graph/resolve.js";
import { benchProject } from "./project.mjs";

const MANY = `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  async selectWork(kwargs) { return Array.from({ length: kwargs.n }, (_, i) => i); },
  run() {},
});`;

/** The pure resolver on a million IDs with chunkSize 1 (everything stale): median of `rounds`. */
function resolveMillion(n, rounds = 3) {
  const spec = { name: "many", file: "/bench/jobs/many.ts", chunkSize: 1, retries: 0, retryDelayMs: 0, timeoutMs: null, allowConcurrentRuns: false, reads: [], writes: [], hasSelectWork: true, dependencies: [] };
  const workIds = Array.from({ length: n }, (_, i) => i);
  const freshness = { lastSuccess: () => undefined, codeHash: () => undefined, kwargsKeys: () => [] };
  const times = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    const plan = resolve({ jobs: new Map([["many", spec]]), job: "many", kwargs: {}, workIds, now: Date.now(), freshness });
    times.push(performance.now() - start);
    if (plan.chunks.length !== n) throw new Error(`resolved ${plan.chunks.length} chunks, not ${n}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(rounds / 2)];
}

/**
 * In the child: an instance on a throw-away project, warmed up with a small run; the
 * baseline is RSS just before the trigger, the peak the kernel's high-water mark
 * (getrusage maxrss: exact, not sampled, threads included) at the run's end, or when
 * `limitMs` is up if it has not ended by then (then the chunks done so far are counted).
 */
async function child(n, workers, limitMs) {
  const project = benchProject({ many: MANY });
  process.chdir(project.dir);
  const paths = projectPaths(project.dir);
  const instance = await startInstance({ paths, store: { dataDir: paths.dataDir, database: null }, pool: { workers, workerMemoryMb: undefined }, command: "bench", events: new EventBus(), schedule: false });
  const trigger = async (request) => (await instance.order({ cmd: "trigger", ...request })).run;
  let done = 0;
  instance.events.on("chunk:done", () => done++);
  await instance.waitForRun((await trigger({ job: "many", kwargs: { n: 100 } })).id);
  globalThis.gc?.();
  done = 0;
  const before = process.memoryUsage().rss;
  const start = performance.now();
  const run = await trigger({ job: "many", kwargs: { n } });
  let timer;
  const limit = new Promise((resolve) => (timer = setTimeout(() => resolve(null), limitMs)));
  const result = await Promise.race([instance.waitForRun(run.id), limit]);
  clearTimeout(timer);
  const seconds = (performance.now() - start) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  if (result && (result.run.status !== "done" || result.chunks.length !== n)) throw new Error(`million run ended ${result.run.status} with ${result.chunks.length} chunks`);
  // A run cut short leaves its instance as it is: the process ends with the measurement.
  if (result) await instance.stop(0);
  process.chdir("/");
  project.remove();
  return { before, peak, seconds, completed: result !== null, done: result ? n : done };
}

/** `STAU_BENCH_MILLION_N` and `STAU_BENCH_MILLION_LIMIT_S` change the run's size and how long it may take. */
export async function millionChunks(n = Number(process.env.STAU_BENCH_MILLION_N ?? 1_000_000), workers = 2, limitS = Number(process.env.STAU_BENCH_MILLION_LIMIT_S ?? 100)) {
  const out = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), String(n), String(workers), String(limitS * 1000)], { encoding: "utf8", maxBuffer: 1 << 20, stdio: ["ignore", "pipe", "inherit"] });
  const { before, peak, seconds, completed, done } = JSON.parse(out.trim().split("\n").pop());
  const resolveMs = resolveMillion(n);
  const how = completed ? `completed in ${seconds.toFixed(1)} s` : `NOT completed: ${done} of ${n} chunks done when the ${limitS} s limit was up`;
  return [
    { name: "chunk_memory_bytes", value: (peak - before) / n, unit: "B/chunk", baseline: null, ratio: null, detail: `${n} chunks (chunkSize 1), RSS ${mb(before)} MB before the trigger, peak ${mb(peak)} MB; ${how}` },
    { name: "resolve_million_ms", value: resolveMs, unit: "ms", baseline: null, ratio: null, detail: `${n} IDs, chunkSize 1, the pure resolver, median of 3` },
  ];
}

const mb = (bytes) => Math.round(bytes / 1e6);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await child(Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4]));
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}
