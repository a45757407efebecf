import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { formatDuration } from "../config/duration.js";
import { displayPath, type ProjectPaths } from "../config/project.js";
import { formatProblem } from "../config/problem.js";
import { kwargsKey } from "../graph/kwargs-key.js";
import { resolve } from "../graph/resolve.js";
import { logDir } from "../store/log-files.js";
import type { ArchivedRun } from "../store/records.js";
import type { ConsoleController, ConsoleSnapshot, JobView, LogLine, PlanPreview } from "../ui/controller.js";
import type { ExecPool } from "../exec/pool.js";
import type { FreshnessView } from "../graph/types.js";
import type { Registry } from "../jobs/load.js";
import type { Instance } from "./instance.js";

const RECENT_RUNS = 100;

/** The console's view of a running instance (see src/ui/controller.ts for the contract). */
export async function createConsoleController(instance: Instance, quit: (force: boolean) => Promise<void>): Promise<ConsoleController> {
  const { runtime, scheduler } = instance;
  const { engine, store, paths, pool } = runtime;
  // Finished runs from before this start: history is read once, then the console follows events.
  const recent = await store.listRuns(RECENT_RUNS);
  // Runs that finish while the console is open join them (finished runs leave the engine).
  engine.events.on("run:finished", ({ run }) => {
    void store.getRun(run.id).then((archived) => {
      if (!archived) return;
      const at = recent.findIndex((r) => r.run.id === run.id);
      if (at >= 0) recent.splice(at, 1);
      recent.unshift(archived);
      recent.length = Math.min(recent.length, RECENT_RUNS);
    });
  });
  const startedAt = Date.now();
  const freshness = () => store.freshness();

  const snapshot = (): ConsoleSnapshot => {
    const active: ArchivedRun[] = engine.activeRuns.map((run) => ({ run: run.run, chunks: [...run.chunks.values()] }));
    const activeIds = new Set(active.map((a) => a.run.id));
    const next: Record<string, number | null> = {};
    const fires = scheduler.nextFires();
    for (const entry of engine.currentRegistry.schedule.entries) {
      // A broken job's ticks are skipped: it has no next fire until its file is fixed.
      if (!engine.currentRegistry.jobs.has(entry.job)) continue;
      const at = fires.get(entry.id) ?? null;
      const known = next[entry.job];
      next[entry.job] = known == null ? at : at == null ? known : Math.min(known, at);
    }
    const views = jobViews(engine.currentRegistry, paths);
    return {
      project: basename(paths.root),
      store: displayPath(paths, paths.dataDir),
      workers: pool.size,
      startedAt,
      paused: scheduler.paused,
      jobs: views,
      runs: [...active, ...recent.filter((r) => !activeIds.has(r.run.id))],
      nextFires: next,
      lastSuccess: Object.fromEntries(views.map((j) => [j.name, freshness().lastSuccess(j.name, kwargsKey({}), null) ?? null])),
    };
  };

  return {
    events: engine.events,
    snapshot,
    busyWorkers: () => pool.busy,
    plan: (job) => planPreview({ registry: engine.currentRegistry, pool, freshness: store.freshness(), recent }, job),
    trigger: async (job) => (await engine.trigger({ job, source: "console" })).id,
    async retry(runId) {
      await engine.retry(runId);
    },
    async retryAllFailed() {
      const failed = (await store.listRuns(RECENT_RUNS)).filter((r) => r.run.status === "failed");
      for (const run of failed) await engine.retry(run.run.id);
      return failed.length;
    },
    async cancel(runId) {
      await engine.cancel(runId);
    },
    setPaused(paused) {
      if (paused) scheduler.pause();
      else scheduler.resume();
    },
    logTail: async (job, lines) => readLogTail(paths.dataDir, job === null ? engine.currentRegistry.jobs.keys() : [job], lines),
    graph: (job) => graphLines(engine.currentRegistry, store.freshness(), job),
    quit,
  };
}

/** What a plan preview reads: the jobs, a pool for selectWork, freshness and past runs (for durations). */
export interface PlanSources {
  readonly registry: Registry;
  readonly pool: ExecPool;
  readonly freshness: FreshnessView;
  readonly recent: readonly ArchivedRun[];
}

export async function planPreview({ registry, pool, freshness, recent }: PlanSources, job: string): Promise<PlanPreview> {
  const spec = registry.jobs.get(job);
  if (!spec) throw new Error(`job ${job} does not load: ${(registry.broken.get(job) ?? []).map(formatProblem).join("; ")}`);
  const workIds = spec.hasSelectWork ? await pool.selectWork(spec, {}) : null;
  const now = Date.now();
  const plan = resolve({ jobs: registry.jobs, job, kwargs: {}, workIds, now, freshness });
  // Past durations per job, from the runs the console knows.
  const durations = new Map<string, number[]>();
  for (const { chunks } of recent) {
    for (const c of chunks) {
      if (c.state !== "done" || c.startedAt === null || c.finishedAt === null) continue;
      const list = durations.get(c.job);
      if (list) list.push(c.finishedAt - c.startedAt);
      else durations.set(c.job, [c.finishedAt - c.startedAt]);
    }
  }
  let total = 0;
  let known = false;
  const jobs = plan.jobs.map((node) => {
    const chunks = plan.chunks.filter((c) => c.job === node.job).length;
    const past = durations.get(node.job);
    if (past?.length) {
      known = true;
      total += (past.reduce((a, b) => a + b, 0) / past.length) * chunks;
    }
    // Fresh until the tightest maxLag of the edges that lead to it runs out.
    const lags = [...registry.jobs.values()].flatMap((s) => s.dependencies.filter((d) => d.job === node.job).map((d) => d.maxLagMs));
    const freshUntil = node.status === "fresh" && node.freshSince && lags.length ? node.freshSince + Math.min(...lags) : null;
    return { job: node.job, status: node.status, chunks, freshUntil };
  });
  return { job, workIds: workIds?.length ?? 0, jobs, chunks: plan.chunks.length, etaMs: known ? total / Math.max(1, pool.size) : null };
}

export function graphLines(registry: Registry, freshness: FreshnessView, root: string): string[] {
  const now = Date.now();
  const lines: string[] = [];
  const walk = (job: string, prefix: string, lag: number | null, seen: Set<string>) => {
    const last = freshness.lastSuccess(job, kwargsKey({}), null);
    const state = registry.broken.has(job)
      ? "broken"
      : last === undefined
        ? "never ran"
        : lag === null
          ? `last success ${formatDuration(now - last)} ago`
          : last + lag >= now
            ? `fresh for ${formatDuration(last + lag - now)}`
            : `stale by ${formatDuration(now - last - lag)}`;
    lines.push(`${prefix}${job}${lag === null ? "" : ` (maxLag ${formatDuration(lag)})`} — ${state}`);
    if (seen.has(job)) return;
    const deps = registry.jobs.get(job)?.dependencies ?? [];
    deps.forEach((dep, i) => walk(dep.job, `${prefix.replace(/[├└]─ $/, (m) => (m.startsWith("├") ? "│  " : "   "))}${i === deps.length - 1 ? "└─ " : "├─ "}`, dep.maxLagMs, new Set([...seen, job])));
  };
  walk(root, "", null, new Set());
  return lines;
}

/** The newest `count` lines over the jobs' log files, reading each file from its end. */
function readLogTail(dataDir: string, jobs: Iterable<string>, count: number): LogLine[] {
  const files: { job: string; file: string; mtime: number }[] = [];
  for (const job of jobs) {
    const dir = logDir(dataDir, job);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      files.push({ job, file, mtime: statSync(file).mtimeMs });
    }
  }
  files.sort((a, b) => b.mtime - a.mtime);
  const lines: LogLine[] = [];
  for (const { job, file } of files.slice(0, 50)) {
    const match = basename(file).match(/^(.*)\.(\d+)\.log$/);
    if (!match) continue;
    const fd = openSync(file, "r");
    try {
      const size = statSync(file).size;
      const start = Math.max(0, size - count * 300);
      const buffer = Buffer.alloc(size - start);
      readSync(fd, buffer, 0, buffer.length, start);
      const text = buffer.toString("utf8").split("\n").filter(Boolean).slice(start > 0 ? 1 : 0).slice(-count);
      for (const raw of text) lines.push(logLine(job, match[1]!, Number(match[2]), raw));
    } finally {
      closeSync(fd);
    }
    if (lines.length >= count * 4) break;
  }
  return lines.sort((a, b) => a.at - b.at).slice(-count);
}

/** One line of a chunk attempt's log ("<ISO time> <level> <text>") as the console shows it. */
export function logLine(job: string, chunkId: string, attempt: number, raw: string): LogLine {
  const parsed = raw.match(/^(\S+) (\S+)\s+(.*)$/);
  return { job, chunkId, attempt, at: parsed ? Date.parse(parsed[1]!) : 0, level: parsed?.[2] ?? "log", text: parsed?.[3] ?? raw };
}

/** Every job as the console lists it: loaded ones, and broken ones with their problems. */
export function jobViews(registry: Registry, paths: ProjectPaths): JobView[] {
  const views: JobView[] = [...registry.jobs.values()].map((spec) => ({
    name: spec.name,
    file: displayPath(paths, spec.file),
    broken: null,
    problems: [],
    dependencies: spec.dependencies.map((d) => ({ job: d.job, maxLagMs: d.maxLagMs })),
    chunkSize: spec.chunkSize,
  }));
  for (const [name, problems] of registry.broken) {
    const lines = problems.map(formatProblem);
    views.push({ name, file: problems[0]?.file ?? name, broken: lines[0] ?? "does not load", problems: lines, dependencies: [], chunkSize: null });
  }
  return views.sort((a, b) => a.name.localeCompare(b.name));
}
