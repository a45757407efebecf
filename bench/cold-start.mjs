// Whole-process start-up of the CLI, against a bare `node` start measured the same way.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { benchProject, median, REPO, typedJobFile } from "./project.mjs";

const BIN = join(REPO, "bin", "stau.js");

function timeProcess(args, cwd, rounds) {
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, args, { cwd, encoding: "utf8" });
    times.push(performance.now() - start);
    if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  }
  return median(times);
}

export async function coldStart(rounds = 10) {
  const bare = timeProcess(["-e", "0"], REPO, rounds);
  const help = timeProcess([BIN, "--help"], REPO, rounds);
  const project = benchProject(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`job_${i}`, typedJobFile(i)])));
  const validate = timeProcess([BIN, "validate"], project.dir, rounds);
  project.remove();
  const run = coldRun(rounds, bare);
  return [
    run,
    { name: "cold_start_validate_ms", value: validate, unit: "ms", baseline: bare, ratio: validate / bare, detail: "200 jobs; baseline: bare node start" },
    { name: "cold_start_help_ms", value: help, unit: "ms", baseline: bare, ratio: help / bare, detail: "baseline: bare node start" },
  ];
}

/**
 * `stau run` of a one-chunk no-op job in a 10-job project, whole process: start, read the
 * configs, open the store, start a worker, run, record, exit. Target: under bare node + 1 s.
 */
function coldRun(rounds, bare) {
  const jobs = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`job_${i}`, typedJobFile(i)]));
  jobs.noop = `import { defineJob } from "stau";\nexport default defineJob({ async run() {} });\n`;
  const project = benchProject(jobs);
  try {
    const value = timeProcess([BIN, "run", "noop"], project.dir, rounds);
    return { name: "cold_start_run_ms", value, unit: "ms", baseline: bare, ratio: value / bare, detail: `10 jobs, one no-op chunk; target: under bare node + 1000 ms (${value - bare < 1000 ? "met" : "missed"})` };
  } finally {
    project.remove();
  }
}
