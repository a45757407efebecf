import type { ConsoleController } from "./contract.js";
import { enterAlternateScreen, restoreTerminal } from "./terminal.js";

/**
 * Shows the console over a running instance until the user quits, and owns the
 * terminal meanwhile: the alternate screen, and getting it back on quit, crash, SIGTERM,
 * the terminal closing (SIGHUP) or the instance failing. Resolves with the exit code:
 * 0 after a quit or SIGTERM, 130 after a forced stop, 1 when the instance failed.
 */
export async function showConsole(
  controllerFor: (quit: (force: boolean) => Promise<void>) => Promise<ConsoleController>,
  stop: (timeoutMs: number) => Promise<void>,
  drainMs: number,
  failed: Promise<Error>,
): Promise<number> {
  let stopping: Promise<void> | null = null;
  let forced = false;
  let failure: Error | null = null;
  const quit = (force: boolean) => {
    forced ||= force;
    return stopping && !force ? stopping : (stopping = stop(force ? 0 : drainMs));
  };
  // SIGTERM, the terminal closing or the instance failing end the console as a quit does.
  let ended!: () => void;
  const until = new Promise<void>((resolve) => (ended = resolve));
  const end = () => void quit(false).then(ended, ended);
  process.once("SIGTERM", end);
  process.once("SIGHUP", end);
  void failed.then((error) => {
    failure = error;
    end();
  });
  const crash = (error: unknown) => {
    restoreTerminal();
    process.stderr.write(`stau crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
  const controller = await controllerFor(quit);
  const { runConsole } = await importConsole();
  enterAlternateScreen();
  try {
    await runConsole(controller, { until });
  } finally {
    restoreTerminal();
  }
  await quit(false);
  if (failure) {
    process.stderr.write(`stau stopped: ${(failure as Error).message}\n`);
    return 1;
  }
  // A forced stop (a second Ctrl+C) interrupted running chunks: exit as interrupted.
  return forced ? 130 : 0;
}

/**
 * React picks its build from NODE_ENV when it is first imported, and the development
 * build makes every frame several times slower. The console gets the production build;
 * NODE_ENV is put back at once, so job code (in workers started later) sees the user's.
 */
async function importConsole(): Promise<typeof import("../ui/run-console.js")> {
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    return await import("../ui/run-console.js");
  } finally {
    if (previous === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = previous;
  }
}
