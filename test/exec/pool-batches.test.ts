import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { JobSpec } from "../../src/config/spec.js";
import { ExecPool, type AttemptEnd } from "../../src/exec/pool.js";
import { logFile } from "../../src/store/logs.js";
import { projectFactory, until } from "../helpers/cli.js";

// Real worker threads running batches of chunks on a one-thread pool: every chunk of a
// batch ends on its own (result, failure, timeout, cancel), and a chunk that never began
// comes back as such, whatever ended its batch early — even a thread that died. Log
// lines travel apart from results: the tests wait for the lines they expect.

const project = projectFactory();
const pools: ExecPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close();
});

const jobs: Record<string, string> = {
  says: `import { defineJob } from "stau";\nexport default defineJob({ async run({ chunkId }) { console.log("ran", chunkId); } });\n`,
  throws: `import { defineJob } from "stau";\nexport default defineJob({ async run() { throw new Error("broken on purpose"); } });\n`,
  spins: `import { defineJob } from "stau";\nexport default defineJob({ run() { for (;;); } });\n`,
  exits: `import { defineJob } from "stau";\nexport default defineJob({ run() { process.exit(3); } });\n`,
  // Waits until the file named by its work ID exists: a barrier the test opens.
  gate: `import { existsSync } from "node:fs";\nimport { defineJob } from "stau";
export default defineJob({ async run({ workIds, chunkId }) {
  console.log("ran", chunkId);
  while (!existsSync(String(workIds[0]))) await new Promise((r) => setTimeout(r, 5));
} });\n`,
};

function harness() {
  const p = project(Object.fromEntries(Object.entries(jobs).map(([name, text]) => [`jobs/${name}.ts`, text])));
  const dataDir = join(p.dir, "data");
  const ran: string[] = [];
  const pool = new ExecPool({ workers: 1, dataDir, onLog: (_chunkId, _attempt, _level, text) => void (text.startsWith("ran ") && ran.push(text.slice(4))) });
  pools.push(pool);
  const spec = (name: string, timeoutMs: number | null = null): JobSpec => ({
    name,
    file: join(p.dir, "jobs", `${name}.ts`),
    chunkSize: null,
    dependencies: [],
    retries: 0,
    retryDelayMs: 0,
    timeoutMs,
    allowConcurrentRuns: false,
    reads: [],
    writes: [],
    hasSelectWork: false,
  });
  let n = 0;
  /** One batch of [job, timeoutMs?, workIds?] chunks; chunk ids are `<job>.<n>`. */
  const batch = (...chunks: [string, number?, string[]?][]) =>
    pool.runChunks(chunks.map(([job, timeoutMs, workIds]) => ({ spec: spec(job, timeoutMs ?? null), task: { runId: "r1", chunkId: `${job}.${++n}`, attempt: 1, workIds: workIds ?? [], kwargs: {} } })));
  return { p, pool, dataDir, ran, batch, spec };
}

const kinds = (ends: readonly (AttemptEnd | null)[]) => ends.map((end) => (end === null ? null : end.outcome.ok ? "ok" : end.outcome.kind));

describe("exec pool: chunks in batches", () => {
  it("is ready once each of its threads has started with the TypeScript loader set up", async () => {
    const p = project({});
    const pool = new ExecPool({ workers: 2, dataDir: join(p.dir, "data") });
    pools.push(pool);
    // Without the threads' word, ready waits ten seconds: longer than this test may take.
    await pool.ready;
  }, 5_000);

  it("runs a batch's chunks in order on one thread, each with its own end and duration", async () => {
    const h = harness();
    const ends = await h.batch(["says"], ["says"], ["says"]);
    expect(kinds(ends)).toEqual(["ok", "ok", "ok"]);
    await until(() => h.ran.length === 3, "the chunks' log lines");
    expect(h.ran).toEqual(["says.1", "says.2", "says.3"]);
    for (const end of ends) expect(end!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("ends a batch at its first failure: the chunks after it never began and come back to be run again", async () => {
    const h = harness();
    const ends = await h.batch(["says"], ["throws"], ["says"], ["says"]);
    expect(kinds(ends)).toEqual(["ok", "error", null, null]);
    expect(ends[1]!.outcome).toMatchObject({ ok: false, error: { message: "broken on purpose" } });
    // The same thread takes the next batch; what came before it was all the first one said.
    expect(kinds(await h.batch(["says"]))).toEqual(["ok"]);
    await until(() => h.ran.includes("says.5"), "the chunks' log lines");
    expect(h.ran).toEqual(["says.1", "says.5"]);
  });

  it("times out a chunk that blocks its thread mid-batch: the ones before stand, its thread is replaced, the rest come back", async () => {
    const h = harness();
    const ends = await h.batch(["says"], ["says"], ["spins", 200], ["says"]);
    expect(kinds(ends)).toEqual(["ok", "ok", "timeout", null]);
    expect(ends[2]!.outcome).toMatchObject({ ok: false, error: { message: "timed out after 200ms" } });
    expect(kinds(await h.batch(["says"]))).toEqual(["ok"]);
    await until(() => h.ran.includes("says.5"), "the chunks' log lines");
    expect(h.ran).toEqual(["says.1", "says.2", "says.5"]);
  });

  it("tells from shared memory which chunks had succeeded when a chunk's process.exit ended the thread", async () => {
    const h = harness();
    const ends = await h.batch(["says"], ["exits"], ["says"]);
    expect(kinds(ends)).toEqual(["ok", "error", null]);
    expect(ends[1]!.outcome).toMatchObject({ ok: false, error: { message: expect.stringContaining("process.exit(3)") } });
    expect(kinds(await h.batch(["says"]))).toEqual(["ok"]);
  });

  it("says which chunk of a batch its thread runs now and which wait for it; none once the batch is over", async () => {
    const h = harness();
    const first = join(h.p.dir, "first");
    const second = join(h.p.dir, "second");
    const running = h.batch(["gate", undefined, [first]], ["gate", undefined, [second]], ["says"]);
    await until(() => h.ran.includes("gate.1"), "the first chunk to begin");
    expect(h.pool.threadsNow()).toEqual({ running: ["gate.1"], waiting: ["gate.2", "says.3"] });
    writeFileSync(first, "");
    await until(() => h.ran.includes("gate.2"), "the second chunk to begin");
    expect(h.pool.threadsNow()).toEqual({ running: ["gate.2"], waiting: ["says.3"] });
    writeFileSync(second, "");
    expect(kinds(await running)).toEqual(["ok", "ok", "ok"]);
    expect(h.pool.threadsNow()).toEqual({ running: [], waiting: [] });
  });

  it("cancels a chunk that has not begun: it never runs, and the batch goes on past it", async () => {
    const h = harness();
    const barrier = join(h.p.dir, "open");
    const running = h.batch(["gate", undefined, [barrier]], ["says"], ["says"]);
    expect(h.pool.cancel("says.2")).toBe(true);
    writeFileSync(barrier, "");
    const ends = await running;
    expect(kinds(ends)).toEqual(["ok", "cancelled", "ok"]);
    await until(() => h.ran.includes("says.3"), "the chunks' log lines");
    expect(h.ran).toEqual(["gate.1", "says.3"]);
    // Its log says it was cancelled; the chunks that ran and said something have theirs.
    expect(h.pool.cancel("says.2")).toBe(false);
    await h.pool.close();
    expect(readFileSync(logFile(h.dataDir, "says", "says.2", 1), "utf8")).toContain("attempt 1 cancelled");
    expect(existsSync(logFile(h.dataDir, "says", "says.3", 1))).toBe(true);
  });

  it("gives back the chunks a straggling batch has not begun, so a chunk that hangs holds up no other", async () => {
    const h = harness();
    const barrier = join(h.p.dir, "open");
    const givenBack: number[][] = [];
    const running = h.pool.runChunks(
      [["gate", [barrier]], ["says", []], ["says", []]].map(([job, workIds], i) => ({ spec: h.spec(job as string), task: { runId: "r1", chunkId: `${job}.${i + 1}`, attempt: 1, workIds: workIds as string[], kwargs: {} } })),
      (indexes) => givenBack.push(indexes),
    );
    await until(() => givenBack.length > 0, "the batch to give back what it had not begun");
    expect(givenBack).toEqual([[1, 2]]);
    // Given back, they are no longer the batch's: a cancel does not reach them there.
    expect(h.pool.cancel("says.2")).toBe(false);
    writeFileSync(barrier, "");
    expect(kinds(await running)).toEqual(["ok", null, null]);
    expect(h.ran).toEqual(["gate.1"]);
  });

  it("stops everything at a drain: the running chunk is cancelled, the chunks not begun come back", async () => {
    const h = harness();
    const running = h.batch(["gate", undefined, [join(h.p.dir, "never")]], ["says"]);
    await until(() => h.ran.includes("gate.1"), "the chunks' log lines");
    h.pool.abortAll("stau is shutting down");
    expect(kinds(await running)).toEqual(["cancelled", null]);
    expect(h.ran).toEqual(["gate.1"]);
  });
});

describe("exec pool: recycled for new code (hot reload)", () => {
  const threads = () => Number(readFileSync("/proc/self/status", "utf8").match(/Threads:\s+(\d+)/)![1]);

  it("ends its idle threads and starts new ones only with the next task, which runs the new code", async () => {
    const p = project({ "jobs/says.ts": jobs.says! });
    const before = threads();
    const ran: string[] = [];
    const pool = new ExecPool({ workers: 2, dataDir: join(p.dir, "data"), onLog: (_chunkId, _attempt, _level, text) => void ran.push(text) });
    pools.push(pool);
    const spec = { name: "says", file: join(p.dir, "jobs", "says.ts"), chunkSize: null, dependencies: [], retries: 0, retryDelayMs: 0, timeoutMs: null, allowConcurrentRuns: false, reads: [], writes: [], hasSelectWork: false } satisfies JobSpec;
    const run = (chunkId: string) => pool.runChunks([{ spec, task: { runId: "r1", chunkId, attempt: 1, workIds: [], kwargs: {} } }]);
    await pool.ready;
    expect((await run("c1"))[0]!.outcome.ok).toBe(true);
    expect(threads()).toBeGreaterThan(before);
    p.write("jobs/says.ts", jobs.says!.replace(`"ran"`, `"new code ran"`));
    await pool.recycle();
    // Saves while nothing runs start no thread (threads of this process's earlier tests may still be ending).
    expect(threads()).toBeLessThanOrEqual(before);
    expect((await run("c2"))[0]!.outcome.ok).toBe(true);
    await until(() => ran.includes("new code ran c2"), "the new code's log line");
    expect(threads()).toBeGreaterThan(before);
  });
});
