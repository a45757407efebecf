import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { JobSpec } from "../../src/config/spec.js";
import { ExecPool } from "../../src/exec/pool.js";
import { logFile } from "../../src/store/logs.js";
import type { AttemptOutcome } from "../../src/store/records.js";
import { projectFactory, until } from "../helpers/cli.js";
import type { TempProject } from "../helpers/project.js";

// Real worker threads on one-thread pools: what a job's code leaves running after its
// run() resolved must be charged to that job, never to whatever runs next on the thread.

const project = projectFactory();
const pools: ExecPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close();
});

/** Job files that print the thread they ran on, so a test sees when a thread was retired. */
const THREAD = `import { threadId } from "node:worker_threads";`;

const jobs: Record<string, string> = {
  // Rejects a promise, throws from a timer, or exits, 20 ms after its run() resolved.
  late_reject: `import { defineJob } from "stau";\n${THREAD}
export default defineJob({ async run() { console.log("thread", threadId); setTimeout(() => void Promise.reject(new Error("late rejection from late_reject")), 20); } });\n`,
  late_throw: `import { defineJob } from "stau";\n${THREAD}
export default defineJob({ async run() { console.log("thread", threadId); setTimeout(() => { throw new Error("late throw from late_throw"); }, 20); } });\n`,
  late_exit: `import { defineJob } from "stau";\n${THREAD}
export default defineJob({ async run() { console.log("thread", threadId); setTimeout(() => process.exit(0), 20); } });\n`,
  // Silent, so its log holds only what stau says about it.
  late_reject_silent: `import { defineJob } from "stau";
export default defineJob({ async run() { setTimeout(() => void Promise.reject(new Error("late rejection from a silent job")), 20); } });\n`,
  // Works long enough (on the clock, not on the test's) for an earlier job's timer to fire meanwhile.
  waits: `import { defineJob } from "stau";\n${THREAD}
export default defineJob({
  async selectWork() { await new Promise((r) => setTimeout(r, 200)); return [1, 2]; },
  async run() { await new Promise((r) => setTimeout(r, 200)); console.log("thread", threadId); },
});\n`,
  rejects_while_running: `import { defineJob } from "stau";\n${THREAD}
export default defineJob({ async run() {
  console.log("thread", threadId);
  setTimeout(() => void Promise.reject(new Error("late async boom")), 10);
  await new Promise((r) => setTimeout(r, 200));
} });\n`,
  says_thread: `import { defineJob } from "stau";\n${THREAD}\nexport default defineJob({ async run() { console.log("thread", threadId); } });\n`,
  silent: `import { defineJob } from "stau";\nexport default defineJob({ async run() {} });\n`,
  silent_throws: `import { defineJob } from "stau";\nexport default defineJob({ async run() { throw new Error("silent but broken"); } });\n`,
  hangs: `import { defineJob } from "stau";\nexport default defineJob({ async run() { console.log("hanging"); await new Promise(() => {}); } });\n`,
};

interface Harness {
  readonly p: TempProject;
  readonly pool: ExecPool;
  readonly dataDir: string;
  spec(name: string, timeoutMs?: number): JobSpec;
  /** Runs a chunk of `job` with chunk id `<job>.<n>`. */
  run(job: string, n?: number, timeoutMs?: number): Promise<AttemptOutcome>;
  /** Resolves with the file once the attempt's log is closed (written and complete). */
  closed(job: string, n?: number, attempt?: number): Promise<string>;
  /** The thread a chunk printed it ran on. */
  thread(chunkId: string): number;
  text(job: string, n?: number, attempt?: number): string;
}

function harness(): Harness {
  const p = project(Object.fromEntries(Object.entries(jobs).map(([name, text]) => [`jobs/${name}.ts`, text])));
  const dataDir = join(p.dir, "data");
  const closedLogs = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const threads = new Map<string, number>();
  const pool = new ExecPool({
    workers: 1,
    dataDir,
    onLog: (chunkId, _attempt, _level, text) => {
      const match = text.match(/^thread (\d+)$/);
      if (match) threads.set(chunkId, Number(match[1]));
    },
    onLogClosed: (_job, chunkId, attempt) => {
      const key = `${chunkId}#${attempt}`;
      closedLogs.set(key, (closedLogs.get(key) ?? 0) + 1);
      waiters.get(key)?.();
    },
  });
  pools.push(pool);
  const spec = (name: string, timeoutMs?: number): JobSpec => ({
    name,
    file: join(p.dir, "jobs", `${name}.ts`),
    chunkSize: null,
    dependencies: [],
    retries: 0,
    retryDelayMs: 0,
    timeoutMs: timeoutMs ?? null,
    allowConcurrentRuns: false,
    reads: [],
    writes: [],
    hasSelectWork: name === "waits",
  });
  return {
    p,
    pool,
    dataDir,
    spec,
    run: async (job, n = 0, timeoutMs) => (await pool.runChunks([{ spec: spec(job, timeoutMs), task: { runId: "r1", chunkId: `${job}.${n}`, attempt: 1, workIds: [], kwargs: {} } }]))[0]!.outcome,
    closed: (job, n = 0, attempt = 1) => {
      const key = `${job}.${n}#${attempt}`;
      const file = logFile(dataDir, job, `${job}.${n}`, attempt);
      return new Promise((resolve) => {
        const check = () => (closedLogs.has(key) && readFileSync(file, "utf8").includes("[stau]") ? resolve(file) : undefined);
        waiters.set(key, check);
        if (existsSync(file)) check();
      });
    },
    thread: (chunkId) => {
      expect(threads.has(chunkId), `chunk ${chunkId} printed its thread`).toBe(true);
      return threads.get(chunkId)!;
    },
    text: (job, n = 0, attempt = 1) => readFileSync(logFile(dataDir, job, `${job}.${n}`, attempt), "utf8"),
  };
}

describe("exec pool: errors that escape a chunk's run()", () => {
  it.each([
    ["late_reject", "unhandled promise rejection", "late rejection from late_reject"],
    ["late_throw", "uncaught exception", "late throw from late_throw"],
    ["late_exit", "process.exit(0)", "process.exit(0)"],
  ])("charges %s's stray to its own (done) chunk; the next chunk, of another job, finishes on the same thread, which is then retired", async (job, what, message) => {
    const h = harness();
    expect(await h.run(job)).toEqual({ ok: true });
    // The stray fires while `waits` runs (its timer is due first): `waits` must not fail for it.
    expect(await h.run("waits")).toEqual({ ok: true });
    expect(await h.run("says_thread")).toEqual({ ok: true });
    expect(h.thread(`waits.0`)).toBe(h.thread(`${job}.0`));
    expect(h.thread("says_thread.0"), "a thread that saw a stray error runs nobody's code again").not.toBe(h.thread(`${job}.0`));

    await h.closed(job);
    const text = h.text(job);
    expect(text).toContain(what);
    expect(text).toContain(message);
    expect(text).toMatch(/^\S+ warn .*after this attempt had finished/m);
    expect(h.text("waits")).not.toContain(message);
  });

  it("writes a silent chunk's stray into a log of its own, and says the log was closed again", async () => {
    const h = harness();
    expect(await h.run("late_reject_silent")).toEqual({ ok: true });
    expect(await h.run("waits")).toEqual({ ok: true });
    const text = readFileSync(await h.closed("late_reject_silent"), "utf8");
    expect(text).toContain("late rejection from a silent job");
    // A stack frame of the job's file, so the reader finds the line.
    expect(text).toMatch(/late_reject_silent\.ts:\d+/);
  });

  it("never fails another job's selectWork for a stray of a chunk that ran before on the thread", async () => {
    const h = harness();
    expect(await h.run("late_reject")).toEqual({ ok: true });
    await expect(h.pool.selectWork(h.spec("waits"), {})).resolves.toEqual([1, 2]);
    await h.closed("late_reject");
    expect(h.text("late_reject")).toContain("late rejection from late_reject");
    expect(await h.run("says_thread")).toEqual({ ok: true });
    expect(h.thread("says_thread.0")).not.toBe(h.thread("late_reject.0"));
  });

  it("fails the chunk whose own code rejects while it still runs, ends its log with the error and stack, and retires the thread", async () => {
    const h = harness();
    const outcome = await h.run("rejects_while_running");
    expect(outcome).toMatchObject({ ok: false, kind: "error" });
    if (outcome.ok) return;
    expect(outcome.error.message).toContain("late async boom");
    expect(outcome.error.message).toContain("unhandled promise rejection");
    expect(outcome.error.stack).toMatch(/rejects_while_running\.ts:\d+/);
    expect(await h.run("says_thread")).toEqual({ ok: true });
    expect(h.thread("says_thread.0")).not.toBe(h.thread("rejects_while_running.0"));

    const lines = readFileSync(await h.closed("rejects_while_running"), "utf8").trim().split("\n");
    const failed = lines.findIndex((l) => l.includes("[stau] attempt 1 failed (error)"));
    expect(failed, lines.join("\n")).toBeGreaterThan(0);
    expect(lines[failed]).toContain("late async boom");
    expect(lines.slice(failed + 1).every((l) => /^\S+ error /.test(l))).toBe(true);
    expect(lines.slice(failed + 1).some((l) => /rejects_while_running\.ts:\d+/.test(l))).toBe(true);
  });
});

describe("exec pool: a failed attempt's log ends with its error", () => {
  it("leaves no file for a silent chunk that succeeds, and one with the error for a silent chunk that fails", async () => {
    const h = harness();
    expect(await h.run("silent")).toEqual({ ok: true });
    expect(await h.run("silent_throws")).toMatchObject({ ok: false, kind: "error" });
    const text = readFileSync(await h.closed("silent_throws"), "utf8");
    expect(text).toMatch(/^\S+ error \[stau\] attempt 1 failed \(error\): silent but broken$/m);
    expect(text).toMatch(/silent_throws\.ts:\d+/);
    expect(existsSync(logFile(h.dataDir, "silent", "silent.0", 1))).toBe(false);
  });

  it("ends a timed-out chunk's log with the timeout, after what it printed", async () => {
    const h = harness();
    const outcome = await h.run("hangs", 0, 200);
    expect(outcome).toMatchObject({ ok: false, kind: "timeout" });
    const lines = readFileSync(await h.closed("hangs"), "utf8").trim().split("\n");
    expect(lines[0]).toContain("hanging");
    expect(lines.at(-1)).toMatch(/error \[stau\] attempt 1 failed \(timeout\): timed out after/);
  });

  it("writes a failed attempt's error before the pool closes, though its worker never said its log was over", async () => {
    const h = harness();
    const outcome = h.run("hangs");
    await until(() => existsSync(logFile(h.dataDir, "hangs", "hangs.0", 1)), "the hanging chunk's first line on disk");
    h.pool.abortAll("stau is shutting down");
    expect(await outcome).toMatchObject({ ok: false, kind: "cancelled" });
    await h.pool.close();
    expect(h.text("hangs").trim().split("\n").at(-1)).toContain("warn  [stau] attempt 1 cancelled: stau is shutting down");
  });
});
