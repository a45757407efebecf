import type { Kwargs, WorkId } from "../config/types.js";
import { parseDuration } from "../config/duration.js";
import { UsageError } from "../errors.js";

/** `--kwargs '{"window":"1d"}'` → an object, or a usage error naming the flag and value. */
export function parseKwargs(text: string | undefined): Kwargs {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--kwargs must be a JSON object, received ${JSON.stringify(text)} (${(error as Error).message})`, `for example --kwargs '{"window":"1d"}'`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`--kwargs must be a JSON object, received ${text}`, `for example --kwargs '{"window":"1d"}'`);
  }
  return value as Kwargs;
}

/**
 * `--work 1,2,3` or `--work '["a","b"]'` → work IDs. In the comma form, IDs that look
 * like numbers are numbers, as they would be in a job's selectWork.
 */
export function parseWorkIds(text: string | undefined): WorkId[] | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new UsageError(`--work is not a valid JSON array: ${(error as Error).message}`, "use --work 1,2,3 or --work '[\"a\",\"b\"]'");
    }
    if (!Array.isArray(value) || !value.every((id) => typeof id === "string" || (typeof id === "number" && Number.isFinite(id)))) {
      throw new UsageError(`--work must list strings or numbers, received ${trimmed}`, "use --work 1,2,3 or --work '[\"a\",\"b\"]'");
    }
    return value as WorkId[];
  }
  if (trimmed === "") throw new UsageError("--work is empty", "use --work 1,2,3");
  const ids = trimmed.split(",").map((s) => s.trim());
  // An empty item is a typo (`1,,2`, a trailing comma, an unset shell variable), not an ID to drop quietly.
  const empty = ids.indexOf("");
  if (empty >= 0) {
    throw new UsageError(`--work has an empty item (item ${empty + 1} of ${ids.length}) in ${JSON.stringify(text)}`, "list IDs separated by single commas: --work 1,2,3");
  }
  return ids.map((id) => (/^-?\d+(\.\d+)?$/.test(id) ? Number(id) : id));
}

export function parsePositiveInt(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${name} must be a whole number of at least 1, received ${JSON.stringify(text)}`);
  return value;
}

/** `--drain-timeout`: how long running chunks may finish when stau stops (default 30s). */
export function parseDrainTimeout(value: string | undefined): number {
  if (value === undefined) return 30_000;
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`--drain-timeout must be a duration like 30s or 2m, received ${JSON.stringify(value)}`);
  return ms;
}
