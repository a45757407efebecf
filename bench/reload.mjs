// Hot reload measured from outside, as a user feels it: a `stau dev --no-ui` process on
// a project of 500 job files; time from writing a job file to its reload being logged,
// the main process's memory after many reloads, and the zombies it has left.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { benchProject, median, REPO } from "./project.mjs";

const job = (i, version) => `import { defineJob } from "stau";
export default defineJob({
  chunkSize: ${10 + (i % 7)},
  dependencies: ${i > 0 ? `[{ job: "job_${i - 1}", maxLag: "1h" }]` : "[]"},
  async run() { return ${version}; },
});
`;

/** Children of `pid` that have exited and were never reaped (state Z). */
function zombieChildren(pid) {
  try {
    return execFileSync("ps", ["-o", "stat=", "--ppid", String(pid)], { encoding: "utf8" }).split("\n").filter((state) => state.startsWith("Z")).length;
  } catch {
    return 0; // ps exits 1 when there is no child at all
  }
}

const rssKb = (pid) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]);

export async function reload({ files = 500, samples = 20, reloads = 500 } = {}) {
  const project = benchProject(Object.fromEntries(Array.from({ length: files }, (_, i) => [`job_${i}`, job(i, 0)])));
  const child = spawn(process.execPath, [join(REPO, "bin", "stau.js"), "dev", "--no-ui", "--log-format", "json", "--workers", "2"], { cwd: project.dir, stdio: ["ignore", "pipe", "inherit"] });
  let partial = "";
  let waiter = null;
  child.stdout.on("data", (data) => {
    const lines = (partial + data).split("\n");
    partial = lines.pop();
    for (const line of lines) {
      const event = JSON.parse(line).event;
      if (waiter && event === waiter.event) {
        const w = waiter;
        waiter = null;
        w.resolve(performance.now());
      }
    }
  });
  const next = (event) => new Promise((resolve) => (waiter = { event, resolve }));
  await next("instance:started");
  let version = 0;
  const once = async () => {
    const file = join(project.dir, "jobs", `job_${version % files}.ts`);
    const seen = next("registry:reloaded");
    const start = performance.now();
    writeFileSync(file, job(version % files, ++version));
    return (await seen) - start;
  };
  // A person saves, looks, saves again: latency samples are spaced out. The memory loop
  // below reloads back to back.
  const latencies = [];
  for (let i = 0; i < samples; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    latencies.push(await once());
  }
  // RSS follows the main thread's garbage collection up and down by tens of MB, so one
  // reading after the 5th reload against one after the last was mostly noise: the
  // median over 20 reloads from the 5th is compared with the median over the last 20.
  const rss = [];
  for (let i = 0; i < reloads; i++) {
    await once();
    rss.push(rssKb(child.pid));
  }
  const rssAt5 = median(rss.slice(4, 24));
  const rssAtEnd = median(rss.slice(-20));
  // An esbuild process ends shortly after the thread that used it; a zombie stays.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const zombies = zombieChildren(child.pid);
  child.kill("SIGKILL");
  project.remove();
  return [
    { name: "reload_latency_ms", value: median(latencies), unit: "ms", baseline: null, ratio: null, detail: `${files} job files, median of ${samples}` },
    { name: "reload_zombies", value: zombies, unit: "processes", baseline: null, ratio: null, detail: `zombie children of stau dev after ${samples + reloads} reloads that changed a job file; target 0` },
    { name: "reload_rss_growth", value: rssAtEnd / rssAt5, unit: "ratio", baseline: rssAt5 / 1024, ratio: rssAtEnd / rssAt5, detail: `RSS ${(rssAtEnd / 1024).toFixed(0)} MB over the last 20 of ${reloads} reloads vs ${(rssAt5 / 1024).toFixed(0)} MB over reloads 5-24 (medians)` },
  ];
}
