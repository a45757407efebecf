import { basename } from "node:path";
import { createConsoleController } from "../../console/controller.js";
import { showConsole, whileLoading } from "../../console/session.js";
import type { ProjectPaths } from "../../config/project.js";
import type { ProjectConfigSpec } from "../../config/project-config.js";
import { ConfigError, UsageError } from "../../errors.js";
import { configProblemText, loadProjectConfig } from "../../jobs/config-file.js";
import { EventBus } from "../../events.js";
import { attachLogLines, stoppedText, type LogFormat } from "../../headless/log-lines.js";
import { startInstance } from "../../instance/instance.js";
import { parseDrainTimeout, parsePositiveInt } from "../args.js";
import { currentProject, poolSize, storeConfig, type RuntimeFlags } from "../runtime.js";
import { untilStopped } from "../signals.js";

export interface StartFlags extends RuntimeFlags {
  ui?: boolean;
  logFormat?: string;
  healthPort?: string;
  drainTimeout?: string;
}

/**
 * `stau start`: the production process. Fires the schedule, runs what it resolves,
 * takes orders, and on SIGTERM/SIGINT drains before it exits.
 */
export async function startCommand(flags: StartFlags): Promise<number> {
  const format = (flags.logFormat ?? (process.stdout.isTTY ? "pretty" : "json")) as LogFormat;
  if (format !== "json" && format !== "pretty") throw new UsageError(`--log-format must be json or pretty, received ${JSON.stringify(flags.logFormat)}`);
  const drainMs = parseDrainTimeout(flags.drainTimeout);
  const healthPort = flags.healthPort === undefined ? undefined : parsePositiveInt("--health-port", flags.healthPort);
  if (healthPort !== undefined && healthPort > 65_535) throw new UsageError(`--health-port must be a TCP port (1–65535), received ${flags.healthPort}`);
  const pool = poolSize(flags);

  // Production is headless unless the console is asked for, on a terminal.
  const interactive = flags.ui === true && process.stdout.isTTY && process.stdin.isTTY;
  const events = new EventBus();
  if (!interactive) attachLogLines(events, format);
  if (flags.ui === true && !interactive) process.stderr.write("stau start: --ui needs an interactive terminal; running headless\n");
  const paths = currentProject(flags);
  const config = await projectConfig(paths);
  const starting = () => startInstance({ paths, store: storeConfig(flags), pool, command: "start", events, schedule: true, healthPort, config });
  const instance = interactive ? await whileLoading(basename(paths.root), starting) : await starting();
  if (!interactive) return untilStopped(() => instance.stop(drainMs), instance.failed);
  // What the stop drained and left is said after the console (and its screen) is gone.
  const stop = async (timeoutMs: number) => `stau start: ${stoppedText(await instance.stop(timeoutMs))}`;
  return showConsole((quit) => createConsoleController(instance, quit), stop, drainMs, instance.failed);
}

/** stau.config.ts, or exit 2 naming every problem of it: a production instance does not start without the notifications and retention it was given. */
async function projectConfig(paths: ProjectPaths): Promise<ProjectConfigSpec> {
  const loaded = await loadProjectConfig(paths);
  if (loaded.problems.length > 0) throw new ConfigError(`${loaded.file} has problems:\n${configProblemText(loaded)}`, "fix them (stau validate lists them too), then start again");
  return loaded.config;
}
