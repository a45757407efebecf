// What the console costs while stau works: `stau dev` on a real pseudo-terminal
// (node-pty, 160×40) running a 20,000-chunk run of no-op chunks, against the same
// command headless (`--no-ui --log-format json`). console_busy_cpu is the CPU the
// console process used beyond the headless one for the same run, as a share of one
// core over the console run's wall time (BENCHMARKS.md says why this definition). The
// first such run of a process also pays for V8 compiling the console's code (React,
// Ink, the views) on its background threads; console_busy_cpu_warm is the run after it.
import { spawn } from "node-pty";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { socketOrders } from "../dist/control/socket-orders.js";
import { benchProject, median, REPO } from "./project.mjs";

const BIN = join(REPO, "bin", "stau.js");
export const JOBS = {
  many: `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  async selectWork(kwargs) { return Array.from({ length: kwargs.n }, (_, i) => i); },
  run() {},
});`,
};

// Styles split words on screen: marks are looked for in the text alone.
const plain = (text) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
const TICKS_PER_SECOND = 100; // USER_HZ: /proc counts CPU time in these on Linux

/** CPU seconds of a process so far, every thread counted (user + system). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * One `stau dev` in a pty: resolves with { pid, trigger(n) → { cpu, wall } , stop }.
 * `ended(text, runId)` says from its output that the run is over.
 */
export async function startDev(dir, headless) {
  const args = [BIN, "dev", "--workers", "2", ...(headless ? ["--no-ui", "--log-format", "json"] : [])];
  const { CI: _ci, ...env } = process.env;
  const pty = spawn(process.execPath, args, { cwd: dir, cols: 160, rows: 40, name: "xterm-256color", env });
  let out = "";
  let waiter = null;
  pty.onData((data) => {
    // Only the recent output matters: a frame or a few lines.
    out = (out + data).slice(-40_000);
    if (waiter && waiter.check(plain(out))) {
      const { resolve } = waiter;
      waiter = null;
      resolve();
    }
  });
  const until = (check, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within 120 s: ${plain(out).slice(-400)}`)), 120_000);
      waiter = { check, resolve: () => (clearTimeout(timer), resolve()) };
      if (check(plain(out))) (waiter = null), clearTimeout(timer), resolve();
    });
  await until((text) => (headless ? text.includes('"instance:started"') || text.includes("stau started") : text.includes("Jobs 1")), "start");
  const orders = socketOrders(join(dir, "data"));
  return {
    pid: pty.pid,
    /** A small run, ended once the instance has no active run (a run that short may end between two frames). */
    async warmUp(n) {
      const { run } = await orders.call({ cmd: "trigger", job: "many", kwargs: { n } });
      for (;;) {
        const status = await orders.call({ cmd: "status" });
        if (!status.runs.some((r) => r.id === run.id)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async run(n) {
      out = "";
      const cpuBefore = cpuSeconds(pty.pid);
      const start = performance.now();
      const { run } = await orders.call({ cmd: "trigger", job: "many", kwargs: { n } });
      // The line that says this run finished (the warm-up's may still arrive after `out` was emptied).
      if (headless) await until((text) => text.split("\n").some((line) => line.includes(run.id) && line.includes("run:finished")), "run:finished");
      else {
        // The header counts the active runs' chunks and says "none" when no run is active:
        // before the run's chunks are drawn, and again once it is over. On a fast machine a
        // run may start and end between two frames, so a frame saying "none" is checked
        // against the instance (one status read each, not a poll: a read of every active
        // chunk costs the instance what it would not otherwise do).
        for (;;) {
          out = "";
          await until((text) => text.slice(text.lastIndexOf("chunks of active runs")).startsWith("chunks of active runs: none"), "the run's end");
          const status = await orders.call({ cmd: "status" });
          if (!status.runs.some((r) => r.id === run.id)) break;
        }
      }
      const wall = (performance.now() - start) / 1000;
      return { cpu: cpuSeconds(pty.pid) - cpuBefore, wall };
    },
    stop: () => new Promise((resolve) => (pty.onExit(() => resolve()), pty.kill("SIGTERM"))),
  };
}

/** The first run of `chunks` (`cold`) and the one after it (`warm`), on one process. */
async function oneRound(headless, chunks) {
  const project = benchProject(JOBS);
  try {
    const dev = await startDev(project.dir, headless);
    try {
      await dev.warmUp(200); // workers load the job, the store its files
      const cold = await dev.run(chunks);
      return { cold, warm: await dev.run(chunks) };
    } finally {
      await dev.stop();
    }
  } finally {
    project.remove();
  }
}

export async function consoleBusy({ chunks = 20_000, rounds = 5 } = {}) {
  const headlessRounds = [];
  const consoleRounds = [];
  for (let i = 0; i < rounds; i++) {
    headlessRounds.push(await oneRound(true, chunks));
    consoleRounds.push(await oneRound(false, chunks));
  }
  const rate = (r) => chunks / r.wall;
  const fmt = (rs) => rs.map((r) => `${r.cpu.toFixed(2)} s CPU / ${r.wall.toFixed(2)} s`).join(", ");
  const result = (name, which, what) => {
    const console = consoleRounds.map((r) => r[which]);
    const headless = headlessRounds.map((r) => r[which]);
    // Per round pair: the console's extra CPU over its own run's wall time.
    const shares = console.map((c, i) => (c.cpu - headless[i].cpu) / c.wall);
    return {
      name,
      value: median(shares) * 100,
      unit: "% of a core",
      baseline: median(headless.map((r) => (r.cpu / r.wall) * 100)),
      ratio: median(console.map(rate)) / median(headless.map(rate)),
      detail: `20,000 no-op chunks, 2 workers, 160×40 pty, ${what}; baseline: headless CPU % of a core; ratio: console run rate / headless (${Math.round(median(console.map(rate)))} vs ${Math.round(median(headless.map(rate)))} chunks/s); console ${fmt(console)}; headless ${fmt(headless)}`,
    };
  };
  return [result("console_busy_cpu", "cold", "the first such run of each process"), result("console_busy_cpu_warm", "warm", "the second such run of each process")];
}
