import { projectPaths } from "../../config/project.js";
import { parseDuration } from "../../config/duration.js";
import { EventBus } from "../../engine/events.js";
import { UsageError, errorMessage } from "../../errors.js";
import { attachLogLines, type LogFormat } from "../../headless/log-lines.js";
import { loadRegistry, SpareLoader } from "../../jobs/load.js";
import { watchProject } from "../../jobs/watch.js";
import { createConsoleController } from "../console-controller.js";
import { showConsole } from "../console-session.js";
import { startCopy } from "../../cluster/copy.js";
import { databaseConfig } from "../../store/pg/config.js";
import { createCopyConsoleController } from "../../cluster/copy-console.js";
import type { ConsoleController } from "../../ui/controller.js";
import { startInstance, type Stau } from "../instance.js";
import type { RuntimeFlags } from "../runtime.js";
import { untilSignal } from "../signals.js";

export interface DevFlags extends RuntimeFlags {
  ui?: boolean;
  logFormat?: string;
  drainTimeout?: string;
}

/**
 * `stau dev`: the console, the scheduler and the pool in one process, watching jobs/
 * and the schedule file and reloading what changes. Without a terminal (or with CI set)
 * it runs headless, as `--no-ui` does, and says so.
 */
export async function devCommand(flags: DevFlags): Promise<number> {
  const drainMs = flags.drainTimeout === undefined ? 30_000 : parseDuration(flags.drainTimeout);
  if (drainMs === undefined) throw new UsageError(`--drain-timeout must be a duration like 30s, received ${JSON.stringify(flags.drainTimeout)}`);
  const db = databaseConfig(flags);
  const interactive = flags.ui !== false && process.stdout.isTTY && process.stdin.isTTY && !inCi();
  const events = new EventBus();
  if (!interactive) {
    const format = (flags.logFormat ?? (process.stdout.isTTY ? "pretty" : "json")) as LogFormat;
    attachLogLines(events, format);
    if (flags.ui !== false) process.stderr.write("stau dev: no interactive terminal (or CI is set), running headless as with --no-ui\n");
  }
  // Watch before starting, so nothing saved while stau starts goes unseen.
  let instance: Stau | null = null;
  let controllerFor: ((quit: (force: boolean) => Promise<void>) => Promise<ConsoleController>) | null = null;
  const watcher = startReloading(() => instance, flags, events);
  await watcher.ready;
  try {
    if (db) {
      const copy = await startCopy(db, flags, "dev", events);
      instance = copy;
      controllerFor = (quit) => createCopyConsoleController(copy, quit);
    } else {
      const local = await startInstance(flags, "dev", events);
      instance = local;
      controllerFor = (quit) => createConsoleController(local, quit);
    }
  } catch (error) {
    await watcher.close();
    throw error;
  }
  watcher.flush();
  const stop = async (timeoutMs: number) => {
    await watcher.close();
    await instance!.stop(timeoutMs);
  };
  if (!interactive) return untilSignal(() => stop(drainMs));

  return showConsole(controllerFor, stop, drainMs);
}

/**
 * Reloads changed files one batch at a time; changes during a reload (or before the
 * instance is up) wait for the next batch.
 */
function startReloading(current: () => Stau | null, flags: RuntimeFlags, events: EventBus) {
  let queued: Set<string> | "all" | null = null;
  let running = false;
  const spare = new SpareLoader();
  const run = async () => {
    const instance = current();
    if (!instance || running) return;
    running = true;
    while (queued) {
      const changed = queued;
      queued = null;
      try {
        const paths = projectPaths(instance.paths.root, flags.data);
        const next = await loadRegistry(paths, { previous: instance.currentRegistry(), changed, spare });
        await instance.applyRegistry(next, changed === "all" ? ["(all jobs: a helper changed)"] : [...changed]);
      } catch (error) {
        events.emit("warning", { message: `reload failed: ${errorMessage(error)}` });
      }
    }
    running = false;
  };
  const watcher = watchProject(projectPaths(process.cwd(), flags.data), (changed) => {
    queued = changed === "all" || queued === "all" ? "all" : new Set([...(queued ?? []), ...changed]);
    void run();
  });
  // Start the first spare now, so the first save is fast too.
  spare.warm();
  return {
    ready: watcher.ready,
    close: async () => {
      await watcher.close();
      await spare.close();
    },
    flush: () => void run(),
  };
}

/** CI=1 or CI=true (any value but "0" and "false"), as Ink and most tools read it. */
function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "0" && ci !== "false";
}
