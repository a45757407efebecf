import { render } from "ink";
import { App } from "./App.js";
import { createConsoleStore } from "./console-store.js";
import { shareInkCaches } from "./ink-caches.js";
import type { ConsoleController } from "../console/contract.js";

export interface RunConsoleOptions {
  readonly stdin?: NodeJS.ReadStream;
  readonly stdout?: NodeJS.WriteStream;
  /** Ends the console from outside (stau stopped for another reason than a key). */
  readonly until?: Promise<void>;
}

/** How the console ended. */
export interface ConsoleEnd {
  /** Ctrl+C (pressed in the console, where it is a key) asked for it: the caller exits 130. */
  readonly interrupted: boolean;
}

/**
 * Shows the console until the user quits (q, or Ctrl+C which drains and, pressed again,
 * forces) and controller.quit has resolved — or until stau reports it stopped. The
 * caller owns the terminal: alternate screen, signals and restoring it on any exit.
 * Rejects with controller.quit's error if stopping failed.
 */
export async function runConsole(controller: ConsoleController, options: RunConsoleOptions = {}): Promise<ConsoleEnd> {
  const stdout = options.stdout ?? process.stdout;
  // Unchanged lines are not tokenized again each frame (ink-caches.ts); Ink works as it comes if that cannot be done.
  await shareInkCaches();
  const store = createConsoleStore(controller, { size: { rows: stdout.rows || 24, columns: stdout.columns || 80 }, snapshot: await controller.snapshot() });
  // The loading line (console/session.ts) goes as the first frame comes, whatever its width.
  stdout.write("\x1b[H\x1b[2J");
  // Ctrl+C is a key here (exitOnCtrlC off): the console drains first and forces on the second.
  // Raw before the first frame: Ink turns it on only after that frame is written, and a
  // key pressed in between would reach the terminal (Ctrl+C as SIGINT, killing stau).
  const stdin = options.stdin ?? process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  const app = render(<App store={store} />, { stdout, stdin, exitOnCtrlC: false, patchConsole: false });
  store.start();
  try {
    await Promise.race([store.exited, options.until ?? new Promise<never>(() => undefined)]);
  } finally {
    store.close();
    app.unmount();
    await app.waitUntilExit().catch(() => undefined);
  }
  return { interrupted: store.getState().interrupted };
}
