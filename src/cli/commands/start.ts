import { parseDuration } from "../../config/duration.js";
import { EventBus } from "../../engine/events.js";
import { UsageError } from "../../errors.js";
import { attachLogLines, type LogFormat } from "../../headless/log-lines.js";
import { parsePositiveInt } from "../args.js";
import { startCopy } from "../../cluster/copy.js";
import { createCopyConsoleController } from "../../cluster/copy-console.js";
import { databaseConfig } from "../../store/pg/config.js";
import { startInstance } from "../instance.js";
import { createConsoleController } from "../console-controller.js";
import { showConsole } from "../console-session.js";
import { untilSignal } from "../signals.js";
import type { RuntimeFlags } from "../runtime.js";

export interface StartFlags extends RuntimeFlags {
  ui?: boolean;
  logFormat?: string;
  healthPort?: string;
  drainTimeout?: string;
}

/**
 * `stau start`: the production process. Fires the schedule, runs what it resolves,
 * takes orders on its control socket, and on SIGTERM/SIGINT drains before it exits.
 */
export async function startCommand(flags: StartFlags): Promise<number> {
  const format = (flags.logFormat ?? (process.stdout.isTTY ? "pretty" : "json")) as LogFormat;
  if (format !== "json" && format !== "pretty") throw new UsageError(`--log-format must be json or pretty, received ${JSON.stringify(flags.logFormat)}`);
  const drainMs = flags.drainTimeout === undefined ? 30_000 : parseDuration(flags.drainTimeout);
  if (drainMs === undefined) throw new UsageError(`--drain-timeout must be a duration like 30s or 2m, received ${JSON.stringify(flags.drainTimeout)}`);
  const healthPort = flags.healthPort === undefined ? undefined : parsePositiveInt("--health-port", flags.healthPort);

  // Production is headless unless the console is asked for, on a terminal.
  const interactive = flags.ui === true && process.stdout.isTTY && process.stdin.isTTY;
  const events = new EventBus();
  if (!interactive) attachLogLines(events, format);
  if (flags.ui === true && !interactive) process.stderr.write("stau start: --ui needs an interactive terminal; running headless\n");
  const db = databaseConfig(flags);
  if (db) {
    const copy = await startCopy(db, { ...flags, healthPort }, "start", events);
    if (interactive) return showConsole((quit) => createCopyConsoleController(copy, quit), (timeoutMs) => copy.stop(timeoutMs).then(() => undefined), drainMs);
    return untilSignal(() => copy.stop(drainMs));
  }
  const instance = await startInstance({ ...flags, healthPort }, "start", events);
  if (interactive) return showConsole((quit) => createConsoleController(instance, quit), (timeoutMs) => instance.stop(timeoutMs).then(() => undefined), drainMs);

  return untilSignal(() => instance.stop(drainMs));
}
