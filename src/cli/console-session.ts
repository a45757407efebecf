import type { ConsoleController } from "../ui/controller.js";
import { enterAlternateScreen, restoreTerminal } from "./terminal.js";

/**
 * Shows the console over a running instance until the user quits, and owns the
 * terminal meanwhile: the alternate screen, and getting it back on quit, crash, SIGTERM
 * or the terminal closing. Resolves with the exit code (130 after a forced stop).
 */
export async function showConsole(
  controllerFor: (quit: (force: boolean) => Promise<void>) => Promise<ConsoleController>,
  stop: (timeoutMs: number) => Promise<void>,
  drainMs: number,
): Promise<number> {
  let stopping: Promise<void> | null = null;
  let forced = false;
  const quit = (force: boolean) => {
    forced ||= force;
    return stopping && !force ? stopping : (stopping = stop(force ? 0 : drainMs));
  };
  // SIGTERM, or the terminal closing (SIGHUP): drain, give the terminal back, exit.
  for (const signal of ["SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () =>
      void quit(false).then(() => {
        restoreTerminal();
        process.exit(0);
      }),
    );
  }
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
    await runConsole(controller);
  } finally {
    restoreTerminal();
  }
  await quit(false);
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
