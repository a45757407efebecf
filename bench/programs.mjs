// Program jobs: what stau adds to each chunk of a program over starting the program
// yourself. A no-op bash job through a stau instance (claim, spawn in a process group of
// its own, output to the log, result recorded) against the same bash script spawned
// directly with its output piped, at the same concurrency, in alternating rounds.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { EventBus } from "../dist/events.js";
import { projectPaths } from "../dist/config/project.js";
import { startInstance } from "../dist/instance/instance.js";
import { benchProject, median } from "./project.mjs";

const NOOP_SH = "# /// stau\n# chunkSize = 1\n# ///\ntrue\n";

/** Spawns `bash file` n times, `concurrency` at a time, each awaited to its close; ms per chunk. */
async function direct(file, n, concurrency) {
  const once = () =>
    new Promise((resolve, reject) => {
      const child = spawn("bash", [file], { stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.resume();
      child.stderr.resume();
      child.on("error", reject).on("close", resolve);
    });
  const start = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) await once();
  }));
  return (performance.now() - start) / n;
}

/** One run of n one-ID chunks of the bash job on an instance with `workers` slots; ms per chunk, trigger to the run's end. */
async function throughStau(dir, n, workers) {
  const paths = projectPaths(dir);
  const instance = await startInstance({ paths, store: { dataDir: paths.dataDir, database: null }, pool: { workers, workerMemoryMb: undefined }, command: "bench", events: new EventBus(), schedule: false });
  try {
    const trigger = async (workIds) => (await instance.order({ cmd: "trigger", job: "noop", workIds })).run;
    await instance.waitForRun((await trigger([0, 1, 2, 3])).id); // warm up
    const start = performance.now();
    const result = await instance.waitForRun((await trigger(Array.from({ length: n }, (_, i) => i))).id);
    const perChunk = (performance.now() - start) / n;
    if (result.run.status !== "done" || result.chunks.length !== n) throw new Error(`program run ended ${result.run.status} with ${result.chunks.length} chunks`);
    return perChunk;
  } finally {
    await instance.stop(0);
  }
}

export async function programChunkOverhead(n = 400, workers = 2, rounds = 5) {
  const project = benchProject({});
  const file = join(project.dir, "jobs", "noop.sh");
  writeFileSync(file, NOOP_SH);
  const cwd = process.cwd();
  process.chdir(project.dir);
  try {
    const raw = [];
    const stau = [];
    for (let round = 0; round < rounds; round++) {
      raw.push(await direct(file, n, workers));
      stau.push(await throughStau(project.dir, n, workers));
    }
    const value = median(stau);
    const baseline = median(raw);
    return { name: "program_chunk_overhead", value, unit: "ms/chunk", baseline, ratio: value / baseline, detail: `no-op bash, ${n} chunks, ${workers} at a time; baseline: bash spawned directly` };
  } finally {
    process.chdir(cwd);
    project.remove();
  }
}
