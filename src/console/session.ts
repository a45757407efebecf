import type { ConsoleController } from "./contract.js";
import { enterAlternateScreen, restoreTerminal } from "./terminal.js";

/**
 * Shows the console over a running instance until the user quits, and owns the
 * terminal meanwhile: the alternate screen, and getting it back on quit, crash, SIGTERM,
 * the terminal closing (SIGHUP) or the instance ending. `ended` settles with an Error when
 * the instance failed, or with a note when it ended as it should (an attached console's
 * instance stopped). Resolves with the exit code: 0 after a quit, SIGTERM or a note, 130
 * after Ctrl+C in the console or a forced stop, 1 when the instance failed.
 */
export async function showConsole(
  controllerFor: (quit: (force: boolean) => Promise<void>) => Promise<ConsoleController>,
  /** Stops what the console shows; may say what it did, printed once the terminal is back. */
  stop: (timeoutMs: number) => Promise<string | void>,
  drainMs: number,
  ended: Promise<Error | string>,
): Promise<number> {
  let stopping: Promise<string | void> | null = null;
  let forced = false;
  let failure: Error | null = null;
  let note: string | null = null;
  const quit = (force: boolean) => {
    forced ||= force;
    return stopping && !force ? stopping : (stopping = stop(force ? 0 : drainMs));
  };
  // SIGTERM, the terminal closing or the instance failing end the console as a quit does.
  let finish!: () => void;
  const until = new Promise<void>((resolve) => (finish = resolve));
  const end = () => void quit(false).then(finish, finish);
  process.once("SIGTERM", end);
  process.once("SIGHUP", end);
  void ended.then((why) => {
    if (why instanceof Error) failure = why;
    else note = why;
    end();
  });
  const crash = (error: unknown) => {
    restoreTerminal();
    process.stderr.write(`stau crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
  const controller = await controllerFor(async (force) => void (await quit(force)));
  const { runConsole } = await prefetchConsole();
  enterAlternateScreen();
  let interrupted = false;
  try {
    ({ interrupted } = await runConsole(controller, { until }));
  } finally {
    restoreTerminal();
  }
  const said = await quit(false);
  if (said) process.stderr.write(`${said}\n`);
  if (failure) {
    process.stderr.write(`stau stopped: ${(failure as Error).message}\n`);
    return 1;
  }
  if (note) process.stderr.write(`stau: ${note}\n`);
  // Ctrl+C in the console is a key, not SIGINT, but it is still an interrupt; a forced
  // stop (a second Ctrl+C) interrupted running chunks besides.
  return forced || interrupted ? 130 : 0;
}

/**
 * A first frame at once, while jobs are read and the store opens (half a second or more):
 * the console's own first frame replaces it. The console's code starts loading meanwhile.
 * `starting` runs behind it; should it fail, the terminal is given back before the error
 * is printed, or the message would vanish with the alternate screen.
 */
export async function whileLoading<T>(project: string, starting: () => Promise<T>): Promise<T> {
  enterAlternateScreen();
  process.stdout.write(`stau ${project} · starting: reading jobs, opening the store…`);
  void prefetchConsole().catch(() => undefined);
  // Until the console takes the keys, Ctrl+C is a signal: stau stops as asked (nothing
  // runs yet), and the terminal comes back first (the exit hook of enterAlternateScreen).
  const stop = (signal: NodeJS.Signals) => {
    restoreTerminal();
    process.stderr.write(`stau: ${signal} while starting: stopped before anything ran\n`);
    process.exit(signal === "SIGINT" ? 130 : 0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    return await starting();
  } catch (error) {
    restoreTerminal();
    throw error;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

let consoleModule: ReturnType<typeof importConsole> | null = null;
/** Loads the console's code once; started early, it loads while stau starts. */
function prefetchConsole(): ReturnType<typeof importConsole> {
  return (consoleModule ??= importConsole());
}

/**
 * React picks its build from NODE_ENV when it is first imported, and the development
 * build makes every frame several times slower. The console gets the production build;
 * NODE_ENV is put back once it is loaded. Job code never sees the switch: worker threads
 * get the NODE_ENV stau started with (exec/job-env.ts), whenever they start.
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
