// `stau dev` from a shell to its first frame on a real pseudo-terminal (node-pty): what a
// person waits before the console shows anything, the loading line counting; and until
// the console lists every job. Baseline: bare `node` started the same way. Target: the
// first frame under 1 s.
import { spawn } from "node-pty";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { benchProject, median, REPO, typedJobFile } from "./project.mjs";

const BIN = join(REPO, "bin", "stau.js");

// Styles split words on screen ("\x1b[1mstau\x1b[22m"): marks are looked for in the text alone.
const plain = (text) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

/**
 * ms from spawn until the output holds each of `marks`, in order. The process is then
 * stopped as a user would (SIGTERM) and awaited, so the next round finds the data
 * directory free.
 */
function timeToOutput(args, cwd, marks) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const { CI: _ci, ...env } = process.env;
    const pty = spawn(process.execPath, args, { cwd, cols: 120, rows: 36, name: "xterm-256color", env });
    const times = [];
    let out = "";
    const timer = setTimeout(() => (pty.kill("SIGKILL"), reject(new Error(`no "${marks[times.length]}" within 20 s: ${out.slice(-300)}`))), 20_000);
    pty.onData((data) => {
      out += data;
      while (times.length < marks.length && plain(out).includes(marks[times.length])) times.push(performance.now() - start);
      if (times.length < marks.length) return;
      clearTimeout(timer);
      pty.onExit(() => resolve(times));
      pty.kill("SIGTERM");
    });
  });
}

export async function consoleFirstFrame(rounds = 5) {
  const project = benchProject(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`job_${i}`, typedJobFile(i)])));
  try {
    const bare = [];
    const first = [];
    const full = [];
    for (let i = 0; i < rounds; i++) {
      bare.push((await timeToOutput(["-e", "process.stdout.write('ready'); setInterval(() => {}, 1000)"], project.dir, ["ready"]))[0]);
      // The first frame says stau is starting, before the jobs are read; "Jobs 10" is the console with every job in it.
      const [loading, listed] = await timeToOutput([BIN, "dev", "--workers", "1"], project.dir, ["stau ", "Jobs 10"]);
      first.push(loading);
      full.push(listed);
    }
    const baseline = median(bare);
    const value = median(first);
    return [
      { name: "console_first_frame_ms", value, unit: "ms", baseline, ratio: value / baseline, detail: `10 jobs, real pty; target: under 1000 ms (${value < 1000 ? "met" : "missed"})` },
      { name: "console_jobs_listed_ms", value: median(full), unit: "ms", baseline, ratio: median(full) / baseline, detail: "until the console lists every job" },
    ];
  } finally {
    project.remove();
  }
}
