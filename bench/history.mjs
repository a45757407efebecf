// A year of history: a million finished runs in the embedded store's history, as a team
// running a few thousand runs a day leaves it. `stau runs` (the newest 20) and `stau
// show` of the oldest run, whole processes, against the same commands on a store with
// one run. Target: ≤ 1.2 (they do not grow with the history).
import { spawnSync } from "node:child_process";
import { mkdirSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { benchProject, median, REPO } from "./project.mjs";

const BIN = join(REPO, "bin", "stau.js");
const DAY = 86_400_000;

function archived(i, count, now) {
  const id = `r${String(i).padStart(8, "0")}`;
  const createdAt = now - Math.round(((count - i) / count) * 365 * DAY);
  const run = { id, job: `job_${i % 50}`, kwargs: {}, requestedWorkIds: null, workIds: null, status: i % 97 === 0 ? "failed" : "done", trigger: "schedule", scheduleEntry: "hourly", origin: null, createdAt, startedAt: createdAt, finishedAt: createdAt + 1_000, gitCommit: null, error: null };
  const chunk = { id: `${id}.job_${i % 50}.0`, runId: id, job: run.job, kwargs: {}, kwargsKey: "{}", workIds: [i % 1000], dependsOn: [], state: run.status, attempts: 1, error: null, startedAt: createdAt, finishedAt: createdAt + 1_000, durationMs: 900, notBefore: null, owner: null, token: null };
  return { run, chunks: [chunk] };
}

/** A project whose store holds `count` finished runs; returns it and the oldest run's id. */
function projectWithHistory(count) {
  const project = benchProject({ job_0: `import { defineJob } from "stau";\nexport default defineJob({ async run() {} });\n` });
  const dir = join(project.dir, "data", "history");
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, "runs.jsonl"), "w");
  const now = Date.now();
  for (let start = 0; start < count; start += 10_000) {
    const lines = [];
    for (let i = start; i < Math.min(count, start + 10_000); i++) lines.push(JSON.stringify(archived(i, count, now)));
    writeSync(fd, lines.join("\n") + "\n");
  }
  closeSync(fd);
  // The first writer to open the store indexes a history that has no index (as after an upgrade); one run does.
  const opened = spawnSync(process.execPath, [BIN, "run", "job_0"], { cwd: project.dir, encoding: "utf8" });
  if (opened.status !== 0) throw new Error(`stau run job_0 exited ${opened.status}: ${opened.stderr}`);
  return { project, oldest: archived(0, count, now).run.id };
}

function time(args, cwd, rounds) {
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8" });
    times.push(performance.now() - start);
    if (result.status !== 0) throw new Error(`stau ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  }
  return median(times);
}

export async function historyQuery(count = 1_000_000, rounds = 5) {
  const small = projectWithHistory(1);
  const big = projectWithHistory(count);
  try {
    const results = [];
    for (const [name, args] of [["runs", (id) => ["runs", "--json"]], ["show", (id) => ["show", id, "--json"]]]) {
      const baseline = time(args(small.oldest), small.project.dir, rounds);
      const value = time(args(big.oldest), big.project.dir, rounds);
      results.push({ name: `history_query_ms_${name}`, value, unit: "ms", baseline, ratio: value / baseline, detail: `stau ${name} with ${count.toLocaleString("en")} runs in history vs 1; target ≤ 1.2` });
    }
    return results;
  } finally {
    small.project.remove();
    big.project.remove();
  }
}
