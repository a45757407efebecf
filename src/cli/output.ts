import { styleText } from "node:util";
import { StauError, fileSystemError } from "../errors.js";

type Style = Parameters<typeof styleText>[0];

/** Colour only for terminals, and never when NO_COLOR is set. */
export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return text;
  if (!stream.isTTY && !process.env.FORCE_COLOR) return text;
  return styleText(style, text);
}

/**
 * CI=1 or CI=true (any value but "0" and "false"), as Ink and most tools read it: a CI log
 * keeps every byte, so neither the console nor `stau run`'s redrawn progress belongs there.
 */
export function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "0" && ci !== "false";
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/**
 * Prints an error the way every stau command does: what went wrong, then what to do.
 * Stack traces only for bugs in stau itself: errors that are not StauErrors, and not a
 * file-system condition the user can fix (a read-only data directory, an unreadable
 * folder, a full disk) that reached here without being named where it happened.
 */
export function reportError(error: unknown): number {
  const out = process.stderr;
  error = fileSystemError(error) ?? error;
  if (error instanceof StauError) {
    out.write(`${paint("red", "error:", out)} ${error.message}\n`);
    if (error.hint) out.write(`${paint("dim", "hint:", out)} ${error.hint}\n`);
    return error.exitCode;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  out.write(`${paint("red", "error:", out)} ${err.message}\n`);
  out.write(`${paint("dim", "This looks like a bug in stau. Please report it with the trace below.", out)}\n${err.stack ?? ""}\n`);
  return 1;
}

/** A warning on stderr: something was skipped or is off, and the command went on. */
export function printWarning(message: string): void {
  const out = process.stderr;
  out.write(`${paint("yellow", "warning:", out)} ${message}\n`);
}

/**
 * Warns of each record the store skipped because it could not be read (a damaged line
 * of history), naming file and line; a command calls it once, after its reads. A store
 * without `skipped()` skipped nothing.
 */
export function warnSkipped(store: object): void {
  const skipped = (store as { skipped?: () => readonly string[] }).skipped?.() ?? [];
  for (const message of skipped) printWarning(message);
}
