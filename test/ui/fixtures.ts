import { EventBus } from "../../src/events.js";
import type { ChunkRecord, ChunkState, RunRecord, RunStatus } from "../../src/store/records.js";
import type { ConsoleController, ConsoleSnapshot, HeatmapData, JobView, LogLine, PlanPreview } from "../../src/console/contract.js";

// Records and a fake controller for the console tests: plain data, every call recorded.

export const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

export function job(name: string, extra: Partial<JobView> = {}): JobView {
  return { name, file: `jobs/${name}.ts`, broken: null, problems: [], dependencies: [], chunkSize: null, ...extra };
}

export function run(id: string, jobName: string, status: RunStatus = "running", extra: Partial<RunRecord> = {}): RunRecord {
  return {
    id, job: jobName, kwargs: {}, requestedWorkIds: null, workIds: null, status, trigger: "console", scheduleEntry: null, origin: null,
    createdAt: NOW - 60_000, startedAt: NOW - 60_000, finishedAt: status === "running" || status === "waiting" ? null : NOW - 1000, gitCommit: null, error: null, ...extra,
  };
}

export function chunk(runId: string, jobName: string, index: number, state: ChunkState = "queued", extra: Partial<ChunkRecord> = {}): ChunkRecord {
  const finished = state === "done" || state === "failed" || state === "upstream_failed" || state === "cancelled";
  return {
    id: `${runId}.${jobName}.${index}`, runId, job: jobName, kwargs: {}, kwargsKey: "{}", workIds: [index], dependsOn: [], state,
    attempts: state === "queued" || state === "pending" ? 0 : 1, error: null,
    startedAt: state === "queued" || state === "pending" ? null : NOW - 30_000, finishedAt: finished ? NOW - 5000 : null, notBefore: null, owner: null, token: null,
    // A running chunk here is on a worker thread (chunk:started named it); pass worker: null for one claimed ahead.
    ...(state === "running" ? { worker: 1 } : {}),
    ...extra,
  };
}

export function snapshot(extra: Partial<ConsoleSnapshot> = {}): ConsoleSnapshot {
  return { project: "demo", store: "data/", workers: 4, startedAt: NOW - 3_600_000, paused: false, jobs: [], runs: [], nextFires: {}, lastSuccess: {}, ...extra };
}

/** A snapshot with `jobs` jobs and `chunks` queued chunks spread over one run per job (up to 100 runs). */
export function bigSnapshot(jobs: number, chunks: number): ConsoleSnapshot {
  const names = Array.from({ length: jobs }, (_, i) => `job_${String(i).padStart(4, "0")}`);
  const runCount = Math.min(100, jobs);
  const runs = Array.from({ length: runCount }, (_, r) => ({
    run: run(`r${r}`, names[r]),
    chunks: Array.from({ length: Math.ceil(chunks / runCount) }, (_, i) => chunk(`r${r}`, names[r], i, i === 0 && r < 4 ? "running" : "queued")),
  }));
  return snapshot({ jobs: names.map((n) => job(n)), runs });
}

export const plan: PlanPreview = {
  job: "daily_stats", workIds: 6, chunks: 4, etaMs: 120_000,
  jobs: [
    { job: "daily_stats", status: "run", chunks: 3, freshUntil: null },
    { job: "clean_measurements", status: "fresh", chunks: 0, freshUntil: NOW + 23 * 60_000 },
    { job: "unit_registry", status: "run", chunks: 1, freshUntil: null },
    { job: "unit_registry", kwargs: { region: "eu" }, status: "run", chunks: 2, freshUntil: NOW + 5 * 60_000, reason: "stale on 4 of 6 IDs" },
  ],
};

export interface FakeController extends ConsoleController {
  readonly calls: { name: string; args: unknown[] }[];
  current: ConsoleSnapshot;
  busy: number;
}

/** A controller that answers from `current` and records every call. */
export function fakeController(initial: ConsoleSnapshot, overrides: Partial<ConsoleController> = {}): FakeController {
  const calls: { name: string; args: unknown[] }[] = [];
  const record = <T>(name: string, value: (...args: any[]) => T) => (...args: any[]) => (calls.push({ name, args }), value(...args));
  const fake: FakeController = {
    calls,
    current: initial,
    busy: 0,
    events: new EventBus(),
    // Not recorded: the store reads it on its own schedule; tests that count reads spy on it.
    snapshot: async () => fake.current,
    busyWorkers: () => fake.busy,
    plan: record("plan", async () => plan),
    trigger: record("trigger", async () => "r-new"),
    retry: record("retry", async () => undefined),
    retryAllFailed: record("retryAllFailed", async () => 2),
    cancel: record("cancel", async () => undefined),
    setPaused: record("setPaused", async () => undefined),
    logTail: record("logTail", async (): Promise<LogLine[]> => []),
    graph: record("graph", () => ["daily_stats", "└─ clean_measurements (fresh, 5m ago)"]),
    heatmap: record("heatmap", async (): Promise<HeatmapData | null> => null),
    quit: record("quit", async () => undefined),
    ...overrides,
  };
  return fake;
}

/** A promise settled from outside: a controller answer the test holds until it lets it go. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
