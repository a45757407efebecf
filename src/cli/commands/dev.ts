import { basename } from "node:path";
import type { ProjectPaths } from "../../config/project.js";
import { attachConsole } from "../../console/attach.js";
import { createConsoleController } from "../../console/controller.js";
import { showConsole, whileLoading } from "../../console/session.js";
import { StauError } from "../../errors.js";
import { EventBus } from "../../events.js";
import { attachLogLines, stoppedText, type LogFormat } from "../../headless/log-lines.js";
import { hotReload } from "../../instance/hot-reload.js";
import { startInstance } from "../../instance/instance.js";
import { parseDrainTimeout } from "../args.js";
import { inCi } from "../output.js";
import { currentProject, poolSize, storeConfig, type RuntimeFlags } from "../runtime.js";
import { untilStopped } from "../signals.js";

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
  const drainMs = parseDrainTimeout(flags.drainTimeout);
  const pool = poolSize(flags);
  const paths = currentProject(flags);
  const interactive = flags.ui !== false && process.stdout.isTTY && process.stdin.isTTY && !inCi();
  const events = new EventBus();
  if (!interactive) {
    const format = (flags.logFormat ?? (process.stdout.isTTY ? "pretty" : "json")) as LogFormat;
    attachLogLines(events, format);
    if (flags.ui !== false) process.stderr.write("stau dev: no interactive terminal (or CI is set), running headless as with --no-ui\n");
  }
  const starting = async () => {
    const reload = hotReload(paths, events);
    await reload.ready;
    try {
      return { reload, instance: await startInstance({ paths, store: storeConfig(flags), pool, command: "dev", events, schedule: true }) };
    } catch (error) {
      await reload.close();
      // A `stau start` holds the data directory: the console attaches to it instead.
      if (interactive && error instanceof StauError && error.code === "store_locked") return null;
      throw error;
    }
  };
  const started = interactive ? await whileLoading(basename(paths.root), starting) : await starting();
  if (!started) return attach(paths, flags);
  const { reload, instance } = started;
  reload.attach(instance);
  // What the stop drained and left is said after the console (and its screen) is gone.
  const stop = async (timeoutMs: number) => {
    await reload.close();
    return `stau dev: ${stoppedText(await instance.stop(timeoutMs))}`;
  };
  if (!interactive) return untilStopped(() => stop(drainMs), instance.failed);
  return showConsole((quit) => createConsoleController(instance, quit), stop, drainMs, instance.failed);
}

/** The console on the instance that holds the data directory; quitting detaches and leaves it running. */
async function attach(paths: ProjectPaths, flags: DevFlags): Promise<number> {
  const attached = await attachConsole(paths, storeConfig(flags));
  // Quitting (q, Ctrl+C, SIGTERM) detaches: nothing to drain here, the instance goes on.
  let gone = false;
  const ended = attached.ended.then((why) => ((gone = true), why));
  const code = await showConsole(async () => attached.controller, attached.detach, 0, ended);
  if (!gone) process.stderr.write("stau dev: detached; the instance goes on running (stau status shows it)\n");
  return code;
}
