// The console under load: 2,000 jobs and 20,000 queued chunks, rendered by Ink into a
// terminal-sized fake stdout. Frame time: from a batch of engine events reaching the
// console's store to the frame being written; key latency: from a key press on stdin
// to the frame that shows it. Plus the console's CPU use while nothing happens.
import { EventEmitter } from "node:events";
import { performance } from "node:perf_hooks";
import { EventBus } from "../dist/events.js";
import { median } from "./project.mjs";

// As `stau dev` does: the console runs on React's production build. And as on a
// person's terminal: Ink draws only a final frame when it sees CI set.
export async function loadUi() {
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  if (process.env.CI) process.env.CI = "false";
  try {
    const [{ createElement }, { render }, { App }, { createConsoleStore }] = await Promise.all([import("react"), import("ink"), import("../dist/ui/App.js"), import("../dist/ui/console-store.js")]);
    await import("react/jsx-runtime");
    return { createElement, render, App, createConsoleStore };
  } finally {
    if (previous === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = previous;
  }
}

export class FakeStdout extends EventEmitter {
  rows = 40;
  columns = 160;
  onWrite = null;
  write = () => {
    const notify = this.onWrite;
    this.onWrite = null;
    notify?.(performance.now());
    return true;
  };
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  queue = [];
  setRawMode() {}
  setEncoding() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => this.queue.shift() ?? null;
  press(data) {
    this.queue.push(data);
    this.emit("readable");
  }
}

function bigSnapshot(jobs, chunks) {
  const now = Date.now();
  const names = Array.from({ length: jobs }, (_, i) => `job_${String(i).padStart(4, "0")}`);
  const runs = Array.from({ length: 100 }, (_, r) => {
    const id = `r${r}`;
    const run = { id, job: names[r], kwargs: {}, requestedWorkIds: null, workIds: null, status: "running", trigger: "schedule", scheduleEntry: null, origin: null, createdAt: now - 60_000, startedAt: now - 60_000, finishedAt: null, gitCommit: null, error: null };
    const list = Array.from({ length: chunks / 100 }, (_, i) => ({
      id: `${id}.${names[r]}.${i}`, runId: id, job: names[r], kwargs: {}, kwargsKey: "{}", workIds: [i], dependsOn: [],
      state: i === 0 && r < 2 ? "running" : "queued", attempts: i === 0 && r < 2 ? 1 : 0, error: null, startedAt: i === 0 ? now - 5_000 : null,
      finishedAt: null, notBefore: null, owner: null, token: null,
    }));
    return { run, chunks: list };
  });
  return {
    project: "bench", store: "data", workers: 2, startedAt: now, paused: false,
    jobs: names.map((name) => ({ name, file: `jobs/${name}.ts`, broken: null, problems: [], dependencies: [], chunkSize: 1 })),
    runs, nextFires: {}, lastSuccess: {},
  };
}

function controller(snapshot, busy = 2) {
  const events = new EventBus();
  return {
    events,
    snapshot: async () => snapshot,
    busyWorkers: () => busy,
    plan: async () => ({ job: "x", workIds: 0, jobs: [], chunks: 0, etaMs: null }),
    trigger: async () => "r",
    retry: async () => {},
    retryAllFailed: async () => 0,
    cancel: async () => {},
    setPaused: async () => {},
    logTail: async () => [],
    graph: () => [],
    quit: async () => {},
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function consoleFrames({ samples = 50, idleSeconds = 30 } = {}) {
  const { createElement, render, App, createConsoleStore } = await loadUi();
  // Ink as it comes first; then as `stau dev` runs it, its frames sharing their caches.
  const bare = await bareInkFrame(createElement, render, samples);
  const { shareInkCaches } = await import("../dist/ui/ink-caches.js");
  if (process.env.BENCH_NO_SHARE !== "1" && !(await shareInkCaches())) throw new Error("Ink's caches could not be shared: is Ink's output class still as stau expects?");
  const first = bigSnapshot(2000, 20_000);
  const ctl = controller(first);
  const stdout = new FakeStdout();
  const stdin = new FakeStdin();
  const store = createConsoleStore(ctl, { size: { rows: stdout.rows, columns: stdout.columns }, snapshot: first });
  const app = render(createElement(App, { store }), { stdout, stdin, exitOnCtrlC: false, patchConsole: false });
  store.start();
  await sleep(500);
  const nextWrite = () => new Promise((resolve) => (stdout.onWrite = resolve));

  const frames = [];
  for (let i = 0; i < samples; i++) {
    await sleep(60); // past Ink's frame throttle, so each sample is one frame
    const written = nextWrite();
    const start = performance.now();
    store.dispatch({
      type: "events",
      at: Date.now(),
      events: [
        { name: "chunk:progress", payload: { chunkId: "r0.job_0000.0", done: i, total: samples } },
        { name: "chunk:log", payload: { chunkId: "r0.job_0000.0", attempt: 1, level: "log", text: `line ${i}` } },
      ],
    });
    frames.push((await written) - start);
  }

  const keys = [];
  for (let i = 0; i < samples; i++) {
    await sleep(60);
    const written = nextWrite();
    const start = performance.now();
    stdin.press(i % 2 ? "k" : "j");
    keys.push((await written) - start);
  }

  store.close();
  app.unmount();

  const idle = await idleCpu({ createElement, render, App, createConsoleStore }, idleSeconds);
  return [
    { name: "console_frame_ms", value: median(frames), unit: "ms", baseline: bare, ratio: bare / median(frames), detail: `2,000 jobs, 20,000 queued chunks, 160×40; baseline: a bare Ink frame of the same size; idle: ${idle.percent.toFixed(2)} % CPU and ${idle.frames} frames over ${idleSeconds} s` },
    { name: "console_key_latency_ms", value: median(keys), unit: "ms", baseline: bare, ratio: bare / median(keys), detail: "key press on stdin to the frame showing it" },
  ];
}

/** CPU of a console on 2,000 idle jobs over `seconds` with nothing happening. */
async function idleCpu({ createElement, render, App, createConsoleStore }, seconds) {
  const snapshot = bigSnapshot(2000, 100);
  const idle = { ...snapshot, runs: [] };
  const store = createConsoleStore(controller(idle, 0), { size: { rows: 40, columns: 160 }, snapshot: idle });
  const stdout = new FakeStdout();
  let frames = 0;
  const write = stdout.write;
  stdout.write = () => (frames++, write());
  const app = render(createElement(App, { store }), { stdout, stdin: new FakeStdin(), exitOnCtrlC: false, patchConsole: false });
  store.start();
  await sleep(1000);
  frames = 0;
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpuBefore);
  store.close();
  app.unmount();
  return { percent: ((cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore)) * 100, frames };
}

/** What Ink alone costs for a full 160×40 frame: 39 rows of six styled cells. */
async function bareInkFrame(h, render, samples) {
  const { useState } = await import("react");
  const { Box, Text } = await import("ink");
  let set;
  const Bare = () => {
    const [n, setN] = useState(0);
    set = setN;
    return h(Box, { flexDirection: "column" }, Array.from({ length: 39 }, (_, r) => h(Text, { key: r }, [0, 1, 2, 3, 4, 5].map((c) => h(Text, { key: c, color: c % 2 ? "green" : undefined }, `cell ${r}-${c}-${n} `.padEnd(26))))));
  };
  const stdout = new FakeStdout();
  const app = render(h(Bare), { stdout, stdin: new FakeStdin(), exitOnCtrlC: false, patchConsole: false });
  await sleep(300);
  const times = [];
  for (let i = 1; i <= samples; i++) {
    await sleep(60);
    const written = new Promise((resolve) => (stdout.onWrite = resolve));
    const start = performance.now();
    set(i);
    times.push((await written) - start);
  }
  app.unmount();
  return median(times);
}
