import { createServer, type Server as HttpServer } from "node:http";
import type { Server } from "node:net";
import { UsageError, errorMessage } from "../errors.js";
import type { ControlRequest } from "../control/protocol.js";
import { closeControl, listenControl } from "../control/server.js";
import { controlSocketPath } from "../control/socket-path.js";
import { formatProblem } from "../config/problem.js";
import type { ScheduleEntrySpec } from "../config/spec.js";
import type { EventBus } from "../engine/events.js";
import type { Registry } from "../jobs/load.js";
import { Scheduler, type ScheduleHost } from "../schedule/scheduler.js";
import { systemClock } from "../clock.js";
import { runsJson } from "./json.js";
import { openRuntime, type Runtime, type RuntimeFlags } from "./runtime.js";

/** A long-running stau: engine, scheduler, control socket and optional health endpoint. */
export interface Instance {
  readonly runtime: Runtime;
  readonly scheduler: Scheduler;
  /**
   * Hot reload: new chunks run the new code (pool threads are recycled; running chunks
   * finish on the old ones), the graph and the schedule follow the new files.
   */
  applyRegistry(registry: Registry, files: string[]): Promise<void>;
  /** Stops firing, drains running chunks up to `timeoutMs`, closes everything. */
  stop(timeoutMs: number): Promise<{ aborted: number }>;
}

export async function startInstance(flags: RuntimeFlags & { healthPort?: number }, command: string, events: EventBus): Promise<Instance> {
  const runtime = await openRuntime(flags, command, events);
  const { engine, store, registry, paths } = runtime;
  let draining = false;

  for (const problem of registry.schedule.problems) events.emit("warning", { message: `schedule not loaded: ${formatProblem(problem)}` });
  for (const [job, problems] of registry.broken) events.emit("warning", { message: `job ${job} is broken: ${problems.map(formatProblem).join("; ")}` });

  const host: ScheduleHost = {
    async fire(entry, tickAt, catchUp) {
      const run = await engine.trigger({ job: entry.job, kwargs: entry.kwargs, workIds: entry.workIds, source: "schedule", scheduleEntry: entry.id });
      events.emit("schedule:fired", { entryId: entry.id, job: entry.job, tickAt, catchUp, runId: run.id });
    },
    skipReason: (entry) => skipReason(runtime, entry),
    mark(entryId, mark) {
      store.setScheduleMark(entryId, mark);
      store.commit().catch((error) => events.emit("warning", { message: `recording schedule entry ${entryId} failed: ${errorMessage(error)}` }));
    },
    skipped(entry, tickAt, reason) {
      events.emit("schedule:skipped", { entryId: entry.id, job: entry.job, tickAt, reason });
    },
  };
  const scheduler = new Scheduler({ entries: registry.schedule.entries, marks: await store.scheduleMarks(), clock: systemClock, host });

  const socketPath = controlSocketPath(paths.dataDir);
  const control: Server = await listenControl(socketPath, (request) => handleControl(runtime, scheduler, request, () => draining));
  const health = flags.healthPort === undefined ? null : await listenHealth(flags.healthPort, runtime, () => draining);
  scheduler.start();
  events.emit("instance:started", { pid: process.pid, workers: runtime.pool.size, dataDir: paths.dataDir, socket: socketPath });

  return {
    runtime,
    scheduler,
    async applyRegistry(next, files) {
      // Idle threads go at once (busy ones after their chunk), so no new chunk meets old code.
      const recycled = runtime.pool.recycle();
      engine.setRegistry(next);
      scheduler.setEntries(next.schedule.entries);
      for (const problem of next.schedule.problems) events.emit("warning", { message: `schedule not loaded: ${formatProblem(problem)}` });
      events.emit("registry:reloaded", { files, broken: [...next.broken.keys()] });
      await recycled;
    },
    async stop(timeoutMs) {
      draining = true;
      scheduler.stop();
      await scheduler.settled();
      events.emit("instance:draining", { running: runtime.pool.busy, timeoutMs });
      const result = await engine.drain(timeoutMs);
      await closeControl(control, socketPath);
      if (health) await new Promise<void>((resolve) => health.close(() => resolve()));
      await runtime[Symbol.asyncDispose]();
      events.emit("instance:stopped", result);
      return result;
    },
  };
}

function skipReason(runtime: Runtime, entry: ScheduleEntrySpec): string | null {
  const registry = runtime.engine.currentRegistry;
  const spec = registry.jobs.get(entry.job);
  if (!spec) return `job ${entry.job} is broken: ${(registry.broken.get(entry.job) ?? []).map(formatProblem).join("; ") || "it does not load"}`;
  if (spec.allowConcurrentRuns) return null;
  const active = runtime.engine.activeRuns.find((run) => run.run.job === entry.job);
  return active ? `run ${active.run.id} of ${entry.job} is still ${active.run.status} (allowConcurrentRuns is false)` : null;
}

async function handleControl(runtime: Runtime, scheduler: Scheduler, request: ControlRequest, draining: () => boolean): Promise<unknown> {
  const { engine } = runtime;
  const summary = (run: { id: string; job: string; status: string }) => ({ run: { id: run.id, job: run.job, status: run.status } });
  switch (request.cmd) {
    case "trigger":
      return summary(await engine.trigger({ job: request.job, kwargs: request.kwargs, workIds: request.workIds ?? null, source: "trigger" }));
    case "retry": {
      const run = await engine.retry(request.run);
      if (!run) throw new UsageError(`no run ${request.run}`, "list runs with stau runs");
      return summary(run);
    }
    case "rerun": {
      const run = await engine.rerun(request.run);
      if (!run) throw new UsageError(`no run ${request.run}`, "list runs with stau runs");
      return summary(run);
    }
    case "cancel": {
      if (await engine.cancel(request.run)) return { run: { id: request.run, cancelled: true } };
      const old = await runtime.store.getRun(request.run);
      if (!old) throw new UsageError(`no run ${request.run}`, "list runs with stau runs");
      throw new UsageError(`run ${request.run} has already finished (${old.run.status})`);
    }
    case "status":
      return {
        instance: { pid: process.pid, dataDir: runtime.paths.dataDir, startedAt: new Date(runtime.instance.startedAt).toISOString(), workers: runtime.pool.size, busy: runtime.pool.busy, draining: draining() },
        runs: runsJson(engine.activeRuns.map((run) => ({ run: run.run, chunks: [...run.chunks.values()] }))),
        schedule: { paused: scheduler.paused, next: Object.fromEntries([...scheduler.nextFires()].map(([id, at]) => [id, at === null ? null : new Date(at).toISOString()])) },
      };
  }
}

function listenHealth(port: number, runtime: Runtime, draining: () => boolean): Promise<HttpServer> {
  const server = createServer((request, response) => {
    if (request.method !== "GET" || request.url !== "/healthz") {
      response.writeHead(404).end();
      return;
    }
    const body = { status: draining() ? "draining" : "ok", pid: process.pid, uptimeSeconds: Math.round(process.uptime()), workers: runtime.pool.size, busy: runtime.pool.busy, activeRuns: runtime.engine.activeRuns.length };
    response.writeHead(draining() ? 503 : 200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
