import type { Server } from "node:net";
import { closeControl, listenControl } from "../control/server.js";
import { controlSocketPath } from "../control/socket-path.js";
import type { EventBus } from "../engine/events.js";
import type { Registry } from "../jobs/load.js";
import { Scheduler } from "../schedule/scheduler.js";
import { systemClock } from "../clock.js";
import type { ProjectPaths } from "../config/project.js";
import { listenHealth } from "./health.js";
import { handleControl, reportLoadProblems, scheduleHost } from "./orchestration.js";
import { openRuntime, type Runtime, type RuntimeFlags } from "./runtime.js";

/** A long-running stau: engine, scheduler, control socket and optional health endpoint. */
export interface Instance extends Stau {
  readonly runtime: Runtime;
  readonly scheduler: Scheduler;
}

/** What `stau dev` and `stau start` need of a running stau, on a data directory or a shared database. */
export interface Stau {
  readonly paths: ProjectPaths;
  currentRegistry(): Registry;
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

  reportLoadProblems(registry, events);

  const host = scheduleHost(engine, store, events);
  const scheduler = new Scheduler({ entries: registry.schedule.entries, marks: await store.scheduleMarks(), clock: systemClock, host });

  const socketPath = controlSocketPath(paths.dataDir);
  const control: Server = await listenControl(socketPath, (request) =>
    handleControl({ engine, store, scheduler, describe: async () => ({ instance: describeInstance(runtime, draining) }) }, request),
  );
  const health =
    flags.healthPort === undefined
      ? null
      : await listenHealth(flags.healthPort, () => ({ draining, workers: runtime.pool.size, busy: runtime.pool.busy, activeRuns: engine.activeRuns.length }));
  scheduler.start();
  events.emit("instance:started", { pid: process.pid, workers: runtime.pool.size, dataDir: paths.dataDir, socket: socketPath });

  return {
    runtime,
    scheduler,
    paths,
    currentRegistry: () => engine.currentRegistry,
    async applyRegistry(next, files) {
      // Idle threads go at once (busy ones after their chunk), so no new chunk meets old code.
      const recycled = runtime.pool.recycle();
      engine.setRegistry(next);
      scheduler.setEntries(next.schedule.entries);
      reportLoadProblems(next, events, false);
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

function describeInstance(runtime: Runtime, draining: boolean) {
  return { pid: process.pid, dataDir: runtime.paths.dataDir, startedAt: new Date(runtime.instance.startedAt).toISOString(), workers: runtime.pool.size, busy: runtime.pool.busy, draining };
}
