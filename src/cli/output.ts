import { styleText } from "node:util";
import { StauError } from "../errors.js";

type Style = Parameters<typeof styleText>[0];

/** Colour only for terminals, and never when NO_COLOR is set. */
export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return text;
  if (!stream.isTTY && !process.env.FORCE_COLOR) return text;
  return styleText(style, text);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/**
 * Prints an error the way every stau command does: what went wrong, then what to do.
 * Stack traces only for bugs in stau itself (errors that are not StauErrors).
 */
export function reportError(error: unknown): number {
  const out = process.stderr;
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
