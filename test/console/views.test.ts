import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Problem } from "../../src/config/problem.js";
import type { ProjectPaths } from "../../src/config/project.js";
import type { JobSpec } from "../../src/config/spec.js";
import { parseControlRequest } from "../../src/control/protocol.js";
import { graphLines, jobViews, logLines, planPreview, triggerOrder, type PlanSources } from "../../src/console/views.js";
import type { Registry } from "../../src/jobs/load.js";
import { formatLogLines, type AttemptLog } from "../../src/store/logs.js";
import type { ArchivedRun, ChunkRecord } from "../../src/store/records.js";
import { freshness, HOUR, job, MINUTE, registry, type SuccessRow } from "../graph/helpers.js";
import { chunk, NOW, run } from "../ui/fixtures.js";

// What the console shows that is computed from stau's records, on plain data: no store,
// no instance, no threads.

const paths: ProjectPaths = { root: "/p", jobsDir: "/p/jobs", scheduleFile: null, dataDir: "/p/data" };

function registryOf(specs: JobSpec[], broken: Record<string, Problem[]> = {}): Registry {
  return { jobs: registry(...specs), broken: new Map(Object.entries(broken)), fileProblems: [], schedule: { entries: [], problems: [] }, loaded: new Map() };
}

/** A finished run of `jobName` holding `chunks`. */
const past = (id: string, jobName: string, chunks: ChunkRecord[]): ArchivedRun => ({ run: run(id, jobName, "done"), chunks });

function sources(specs: JobSpec[], extra: Partial<PlanSources> & { rows?: SuccessRow[] } = {}): PlanSources {
  return {
    registry: registryOf(specs),
    selectWork: async () => [],
    freshness: freshness(extra.rows ?? []),
    recent: [],
    workers: 1,
    ...extra,
  };
}

describe("planPreview", () => {
  // planPreview plans at Date.now(); only the clock is faked.
  beforeEach(() => void vi.useFakeTimers({ now: NOW, toFake: ["Date"] }));
  afterEach(() => void vi.useRealTimers());

  test("the ETA is each job's mean time on a worker thread, times its chunks, over the workers", async () => {
    const spec = { ...job("score", { chunkSize: 2 }), hasSelectWork: true };
    // Each chunk sat 25 s between its claim and its end (the fixture's startedAt..finishedAt),
    // but ran 4 s and 6 s on its thread: the queue's wait is not the job's cost.
    const recent = [past("r1", "score", [chunk("r1", "score", 0, "done", { durationMs: 4000 }), chunk("r1", "score", 1, "done", { durationMs: 6000 })])];
    const preview = await planPreview(sources([spec], { recent, workers: 2, selectWork: async () => [1, 2, 3, 4, 5, 6] }), "score");
    expect(preview).toMatchObject({ job: "score", workIds: 6, chunks: 3, jobs: [{ job: "score", status: "run", chunks: 3, freshUntil: null }] });
    expect(preview.etaMs).toBe((5000 * 3) / 2);
  });

  test("a record from before durations were kept counts finishedAt - startedAt; failed attempts do not count", async () => {
    const old = chunk("r0", "score", 0, "done", { startedAt: NOW - 30_000, finishedAt: NOW - 27_000 });
    expect(old.durationMs).toBeUndefined();
    const failed = chunk("r0", "score", 1, "failed", { durationMs: 90_000 });
    const preview = await planPreview(sources([job("score")], { recent: [past("r0", "score", [old, failed])] }), "score");
    expect(preview.etaMs).toBe(3000);
  });

  test("without history the ETA is null, not a guess, and the jobs without history are named", async () => {
    const failedOnly = [past("r0", "score", [chunk("r0", "score", 0, "failed", { durationMs: 500 })])];
    expect(await planPreview(sources([job("score")]), "score")).toMatchObject({ etaMs: null, noHistory: ["score"] });
    expect(await planPreview(sources([job("score")], { recent: failedOnly }), "score")).toMatchObject({ etaMs: null, noHistory: ["score"] });
  });

  test("one job without history leaves the whole plan without an ETA, even when the others have one", async () => {
    const specs = [job("report", { deps: ["clean"] }), job("clean")];
    const recent = [past("r1", "report", [chunk("r1", "report", 0, "done", { durationMs: 1000 })])];
    expect(await planPreview(sources(specs, { recent }), "report")).toMatchObject({ etaMs: null, noHistory: ["clean"] });
  });

  test("one chunk of 10 s on 2 idle workers takes 10 s, not 5: a chunk runs on one thread", async () => {
    const recent = [past("r1", "slow", [chunk("r1", "slow", 0, "done", { durationMs: 10_000 })])];
    expect(await planPreview(sources([job("slow")], { recent, workers: 2 }), "slow")).toMatchObject({ chunks: 1, etaMs: 10_000, noHistory: [] });
  });

  test("a chain of dependencies takes the sum along the path, however many workers wait", async () => {
    const specs = [job("report", { deps: ["stats"] }), job("stats", { deps: ["ingest"] }), job("ingest")];
    const recent = [past("r1", "report", [chunk("r1", "report", 0, "done", { durationMs: 1000 }), chunk("r1", "stats", 0, "done", { durationMs: 2000 }), chunk("r1", "ingest", 0, "done", { durationMs: 3000 })])];
    expect((await planPreview(sources(specs, { recent, workers: 8 }), "report")).etaMs).toBe(6000);
  });

  test("side branches run side by side: the longer of the critical path and the work over the workers", async () => {
    const specs = [job("report", { deps: ["x", "y"] }), job("x"), job("y")];
    const recent = [past("r1", "report", [chunk("r1", "report", 0, "done", { durationMs: 1000 }), chunk("r1", "x", 0, "done", { durationMs: 4000 }), chunk("r1", "y", 0, "done", { durationMs: 4000 })])];
    // Two workers: x and y at once, then report — the path, 5 s (the work spread is 4.5 s).
    expect((await planPreview(sources(specs, { recent, workers: 2 }), "report")).etaMs).toBe(5000);
    // One worker: every chunk in turn, 9 s.
    expect((await planPreview(sources(specs, { recent, workers: 1 }), "report")).etaMs).toBe(9000);
  });

  test("kwargs and work IDs typed in the console: typed IDs replace selectWork, kwargs reach it", async () => {
    const spec = { ...job("score", { chunkSize: 2 }), hasSelectWork: true };
    const asked: unknown[] = [];
    const selectWork = async (_: unknown, kwargs: unknown) => (asked.push(kwargs), [1, 2, 3, 4, 5, 6]);
    const typed = await planPreview(sources([spec], { selectWork }), "score", { kwargs: { days: 7 }, workIds: [1, 2, 3] });
    expect(typed).toMatchObject({ workIds: 3, chunks: 2 });
    expect(asked).toEqual([]);
    const selected = await planPreview(sources([spec], { selectWork }), "score", { kwargs: { days: 7 } });
    expect(selected).toMatchObject({ workIds: 6, chunks: 3 });
    expect(asked).toEqual([{ days: 7 }]);
  });

  test("a fresh dependency adds no chunks and says until when it stays fresh", async () => {
    const specs = [job("report", { deps: ["clean"] }), job("clean")];
    const recent = [past("r1", "report", [chunk("r1", "report", 0, "done", { durationMs: 1000 }), chunk("r1", "clean", 0, "done", { durationMs: 60_000 })])];
    const preview = await planPreview(sources(specs, { recent, rows: [{ job: "clean", workId: null, at: NOW - 10 * MINUTE }] }), "report");
    expect(preview.jobs).toEqual([
      { job: "report", kwargs: {}, status: "run", chunks: 1, freshUntil: null, reason: "the triggered job always runs" },
      { job: "clean", kwargs: {}, status: "fresh", chunks: 0, freshUntil: NOW - 10 * MINUTE + HOUR, reason: "fresh: succeeded within maxLag 1h" },
    ]);
    expect(preview.etaMs).toBe(1000);
  });

  test("fresh until by the maxLag of the edges this plan reaches, not the tightest anywhere", async () => {
    const specs = [job("report", { deps: ["clean"] }), job("clean"), job("elsewhere", { deps: [{ job: "clean", maxLagMs: MINUTE }] })];
    const preview = await planPreview(sources(specs, { rows: [{ job: "clean", workId: null, at: NOW - 10 * MINUTE }] }), "report");
    expect(preview.jobs[1]).toMatchObject({ job: "clean", status: "fresh", freshUntil: NOW - 10 * MINUTE + HOUR });
  });

  test("a job needed under two kwargs is two entries, each with its own chunks", async () => {
    const specs = [job("report", { chunkSize: 2, deps: ["part", { job: "part", kwargs: { v: 2 } }] }), job("part", { chunkSize: 1 })];
    const preview = await planPreview(sources(specs, { selectWork: async () => [], rows: [{ job: "part", workId: 1, at: NOW - MINUTE }] }), "report", { workIds: [1, 2, 3] });
    expect(preview.jobs.map((j) => [j.job, j.kwargs, j.status, j.chunks, j.reason])).toEqual([
      ["report", {}, "run", 2, "the triggered job always runs"],
      ["part", {}, "run", 2, "stale on 2 of 3 IDs"],
      ["part", { v: 2 }, "run", 3, "never succeeded"],
    ]);
    expect(preview.chunks).toBe(7);
  });

  test("a broken job has no plan: the error names its problems", async () => {
    const src = { ...sources([]), registry: registryOf([], { bad: [{ file: "jobs/bad.ts", field: "", message: "SyntaxError: Unexpected token", line: 3 }] }) };
    await expect(planPreview(src, "bad")).rejects.toThrow("job bad does not load: jobs/bad.ts:3: SyntaxError: Unexpected token");
  });
});

describe("triggerOrder", () => {
  test("carries the kwargs and work IDs typed in the console, as an order the protocol accepts", () => {
    const order = triggerOrder("score", { kwargs: { days: 7 }, workIds: [1, "b"] });
    expect(order).toEqual({ cmd: "trigger", job: "score", kwargs: { days: 7 }, workIds: [1, "b"], source: "console" });
    expect(parseControlRequest(JSON.parse(JSON.stringify(order)))).toEqual(order);
  });

  test("without work IDs the job's selectWork decides (null), and no kwargs is {}", () => {
    expect(triggerOrder("score")).toEqual({ cmd: "trigger", job: "score", kwargs: {}, workIds: null, source: "console" });
  });
});

describe("jobViews", () => {
  test("lists loaded and broken jobs by name; a broken one shows its first problem and keeps them all", () => {
    const problems: Problem[] = [
      { file: "jobs/b.ts", field: "", message: "SyntaxError: Unexpected token", line: 3, column: 7 },
      { file: "jobs/b.ts", field: "dependencies.0.maxLag", message: 'expected a duration like "1h", received "soon"' },
    ];
    const views = jobViews(registryOf([job("c", { chunkSize: 10, deps: ["a"] }), job("a")], { b: problems }), paths);
    expect(views.map((v) => v.name)).toEqual(["a", "b", "c"]);
    expect(views[1]).toEqual({
      name: "b",
      file: "jobs/b.ts",
      broken: "jobs/b.ts:3:7: SyntaxError: Unexpected token",
      problems: ["jobs/b.ts:3:7: SyntaxError: Unexpected token", 'jobs/b.ts: dependencies.0.maxLag: expected a duration like "1h", received "soon"'],
      dependencies: [],
      chunkSize: null,
    });
    // Loaded jobs: paths relative to the project, dependencies with their maxLag.
    expect(views[2]).toEqual({ name: "c", file: "jobs/c.ts", broken: null, problems: [], dependencies: [{ job: "a", maxLagMs: HOUR }], chunkSize: 10 });
  });

  test("lists a name two files share as broken, with the problem of each file, instead of leaving it out", () => {
    const message = 'job name "d" is used by jobs/d.py and jobs/d.ts; keep one';
    const views = jobViews({ ...registryOf([job("a")]), fileProblems: [{ file: "jobs/d.py", field: "", message }, { file: "jobs/d.ts", field: "", message }] }, paths);
    expect(views.map((v) => [v.name, v.broken])).toEqual([["a", null], ["d", `jobs/d.py: ${message}`]]);
    expect(views[1]!.problems).toEqual([`jobs/d.py: ${message}`, `jobs/d.ts: ${message}`]);
  });
});

describe("logLines", () => {
  const at = (s: number) => NOW + s * 1000;
  const attempt = (jobName: string, n: number, lines: [number, string][]): AttemptLog => ({
    job: jobName, chunkId: `r1.${jobName}.0`, attempt: n, runId: "r1", instance: null,
    text: lines.map(([s, text]) => formatLogLines(at(s), "info", text)).join(""), writtenAt: at(Math.max(...lines.map(([s]) => s))),
  });

  test("merges the lines of several attempts oldest first and keeps the newest", () => {
    const logs = [
      attempt("a", 1, [[1, "first try starts"], [3, "first try ends"]]),
      attempt("a", 2, [[2, "second try starts"], [4, "second try ends"]]),
      attempt("b", 1, [[5, "b says hi"]]),
    ];
    expect(logLines(logs, 10).map((l) => l.text)).toEqual(["first try starts", "second try starts", "first try ends", "second try ends", "b says hi"]);
    const newest = logLines(logs, 3);
    expect(newest).toEqual([
      { job: "a", chunkId: "r1.a.0", attempt: 1, at: at(3), level: "info", text: "first try ends" },
      { job: "a", chunkId: "r1.a.0", attempt: 2, at: at(4), level: "info", text: "second try ends" },
      { job: "b", chunkId: "r1.b.0", attempt: 1, at: at(5), level: "info", text: "b says hi" },
    ]);
  });

  test("a line without a timestamp is kept as written", () => {
    const log: AttemptLog = { job: "a", chunkId: "r1.a.0", attempt: 1, runId: "r1", instance: null, text: "plain output\n", writtenAt: NOW };
    expect(logLines([log], 5)).toEqual([{ job: "a", chunkId: "r1.a.0", attempt: 1, at: 0, level: "log", text: "plain output" }]);
  });
});

describe("graphLines", () => {
  beforeEach(() => void vi.useFakeTimers({ now: NOW, toFake: ["Date"] }));
  afterEach(() => void vi.useRealTimers());

  test("then the datasets its jobs write and read (lineage)", () => {
    const reg = registryOf([{ ...job("report", { deps: ["clean"] }), reads: ["clean_table"] }, { ...job("clean"), writes: ["clean_table"] }, { ...job("other"), writes: ["x"] }]);
    expect(graphLines(reg, freshness([]), "report").slice(-3)).toEqual(["", "datasets (written by → read by):", "  clean_table: clean → report"]);
  });

  test("each dependency with its maxLag and whether it is fresh, stale, broken or never ran", () => {
    const reg = { ...registryOf([job("report", { deps: ["clean", "raw", "gone"] }), job("clean"), job("raw")]), broken: new Map([["gone", []]]) };
    const fresh = freshness([
      { job: "report", workId: null, at: NOW - 2 * HOUR },
      { job: "clean", workId: null, at: NOW - 10 * MINUTE },
    ]);
    expect(graphLines(reg, fresh, "report")).toEqual([
      "report — last success 2h ago",
      "├─ clean (maxLag 1h) — fresh for 50m",
      "├─ raw (maxLag 1h) — never ran",
      "└─ gone (maxLag 1h) — broken",
    ]);
  });
});
