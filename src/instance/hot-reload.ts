import { projectPaths, type ProjectPaths } from "../config/project.js";
import { errorMessage } from "../errors.js";
import type { EventBus } from "../events.js";
import { loadRegistry } from "../jobs/load.js";
import { SpareLoader } from "../jobs/spare-loader.js";
import { watchProject } from "../jobs/watch.js";
import type { Instance } from "./instance.js";

export interface HotReload {
  /** Resolves once the initial scan is done: changes from then on are seen. */
  readonly ready: Promise<void>;
  /** The instance is up: reload what changed since the watch began. */
  attach(instance: Instance): void;
  close(): Promise<void>;
}

/**
 * Watches jobs/ and the schedule file and reloads what changes into the instance, one
 * batch at a time; changes during a reload (or before the instance is up) wait for the
 * next batch. Start it before the instance, so nothing saved while stau starts goes unseen.
 */
export function hotReload(paths: ProjectPaths, events: EventBus): HotReload {
  let instance: Instance | null = null;
  let queued: Set<string> | "all" | null = null;
  let running = false;
  const spare = new SpareLoader(paths.jobsDir);
  const run = async () => {
    if (!instance || running) return;
    running = true;
    while (queued) {
      const changed = queued;
      queued = null;
      try {
        const next = await loadRegistry(projectPaths(paths.root, paths.dataDir), { previous: instance.currentRegistry(), changed, spare });
        await instance.applyRegistry(next, changed === "all" ? ["(all jobs: a helper changed)"] : [...changed]);
      } catch (error) {
        events.emit("warning", { message: `reload failed: ${errorMessage(error)}` });
      }
    }
    running = false;
  };
  const watcher = watchProject(paths, (changed) => {
    queued = changed === "all" || queued === "all" ? "all" : new Set([...(queued ?? []), ...changed]);
    void run();
  });
  // Start the first spare now, so the first save is fast too.
  spare.warm();
  return {
    ready: watcher.ready,
    attach(started) {
      instance = started;
      void run();
    },
    close: async () => {
      await watcher.close();
      await spare.close();
    },
  };
}
