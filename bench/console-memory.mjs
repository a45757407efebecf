// What the console holds while a very big run executes: `stau dev` on a real
// pseudo-terminal (160×40) running 1,000,000 no-op chunks (chunkSize 1), against the same
// command headless. console_memory_bytes is the peak RSS growth per chunk from the
// trigger to the run's end (the kernel's high-water mark, reset at the trigger); the
// baseline is the headless process's. The console holds a run this big in sums
// (src/ui/summarized-runs.ts), so it should cost little beside what the engine holds.
import { readFileSync, writeFileSync } from "node:fs";
import { JOBS, startDev } from "./console-busy.mjs";
import { benchProject } from "./project.mjs";

const kb = (pid, field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;

/** Peak RSS growth per chunk of one process running one run of `n` chunks. */
async function peakPerChunk(headless, n) {
  const project = benchProject(JOBS);
  try {
    const dev = await startDev(project.dir, headless);
    try {
      await dev.warmUp(200);
      const before = kb(dev.pid, "VmRSS");
      // 5 resets the high-water mark to the current RSS (proc(5), clear_refs).
      writeFileSync(`/proc/${dev.pid}/clear_refs`, "5");
      const { wall } = await dev.run(n);
      return { perChunk: (kb(dev.pid, "VmHWM") - before) / n, before, peak: kb(dev.pid, "VmHWM"), wall };
    } finally {
      await dev.stop();
    }
  } finally {
    project.remove();
  }
}

export async function consoleMemory({ n = 1_000_000 } = {}) {
  const headless = await peakPerChunk(true, n);
  const console = await peakPerChunk(false, n);
  const mb = (bytes) => Math.round(bytes / 1e6);
  return {
    name: "console_memory_bytes",
    value: console.perChunk,
    unit: "B/chunk",
    baseline: headless.perChunk,
    ratio: console.perChunk / headless.perChunk,
    detail: `${n} no-op chunks (chunkSize 1), 160×40 pty; peak RSS growth from the trigger: console ${mb(console.before)} → ${mb(console.peak)} MB in ${console.wall.toFixed(1)} s; baseline: headless ${mb(headless.before)} → ${mb(headless.peak)} MB in ${headless.wall.toFixed(1)} s`,
  };
}
