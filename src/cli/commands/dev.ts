import { createConsoleController } from "../../console/controller.js";
import { showConsole } from "../../console/session.js";
import { EventBus } from "../../events.js";
import { attachLogLines, type LogFormat } from "../../headless/log-lines.js";
import { hotReload } from "../../instance/hot-reload.js";
import { startInstance } from "../../instance/instance.js";
import { parseDrainTimeout } from "../args.js";
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
  const reload = hotReload(paths, events);
  await reload.ready;
  let instance;
  try {
    instance = await startInstance({ paths, store: storeConfig(flags), pool, command: "dev", events, schedule: true });
  } catch (error) {
    await reload.close();
    throw error;
  }
  reload.attach(instance);
  const stop = async (timeoutMs: number) => {
    await reload.close();
    await instance.stop(timeoutMs);
  };
  if (!interactive) return untilStopped(() => stop(drainMs), instance.failed);
  return showConsole((quit) => createConsoleController(instance, quit), stop, drainMs, instance.failed);
}

/** CI=1 or CI=true (any value but "0" and "false"), as Ink and most tools read it. */
function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "0" && ci !== "false";
}
