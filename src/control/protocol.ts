import { describeValue } from "../config/schema.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { StauError, UsageError, errorMessage } from "../errors.js";

// One request and one response per connection, each a line of JSON.

export type ControlRequest =
  | { readonly cmd: "trigger"; readonly job: string; readonly kwargs?: Kwargs; readonly workIds?: WorkId[] | null; readonly source?: "cli" | "console" | "trigger" }
  | { readonly cmd: "retry"; readonly run: string }
  | { readonly cmd: "cancel"; readonly run: string }
  | { readonly cmd: "rerun"; readonly run: string }
  | { readonly cmd: "pause" }
  | { readonly cmd: "resume" }
  /** `runs: false`: without the active runs and their chunks (an attached console asks several times a second). */
  | { readonly cmd: "status"; readonly runs?: false }
  /** Removes finished runs that finished more than `olderThanMs` ago, with their chunks and logs (`dryRun`: only counts). */
  | { readonly cmd: "prune"; readonly olderThanMs: number; readonly dryRun: boolean }
  /** Every event of the instance from now on, one JSON line each, until the caller hangs up (a console attaching). */
  | { readonly cmd: "events" };

export type ControlResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { readonly message: string; readonly hint?: string; readonly exitCode: number } };

const SOURCES: readonly string[] = ["cli", "console", "trigger"];
const HINT = "send one JSON object per line, as `stau trigger|retry|cancel|rerun|status` do";

function refuse(field: string, expected: string, value: unknown): never {
  throw new UsageError(`control request: ${field} must be ${expected}, received ${describeValue(value)}`, HINT);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function runId(request: Record<string, unknown>): string {
  if (typeof request.run !== "string" || request.run === "") refuse("run", "a run id (a string)", request.run);
  return request.run;
}

/**
 * A request as it arrives (from the control socket or the commands table), checked
 * before anything acts on it: a field of the wrong type would otherwise be taken for
 * something else (`workIds: "abc"` as the IDs "a", "b" and "c"). Fields it does not
 * know are left out. Throws a UsageError naming the field and the value received.
 */
export function parseControlRequest(value: unknown): ControlRequest {
  if (!isObject(value)) refuse("the request", "a JSON object", value);
  switch (value.cmd) {
    case "trigger": {
      const { job, kwargs, workIds, source } = value;
      if (typeof job !== "string" || job === "") refuse("job", "a job name (a string)", job);
      if (kwargs !== undefined && !isObject(kwargs)) refuse("kwargs", "a JSON object", kwargs);
      if (workIds !== undefined && workIds !== null) {
        const valid = Array.isArray(workIds) && workIds.every((id) => typeof id === "string" || (typeof id === "number" && Number.isFinite(id)));
        if (!valid) refuse("workIds", "an array of strings and numbers, or null", workIds);
      }
      if (source !== undefined && !SOURCES.includes(source as string)) refuse("source", SOURCES.map((s) => JSON.stringify(s)).join(", "), source);
      return {
        cmd: "trigger",
        job,
        ...(kwargs === undefined ? {} : { kwargs: kwargs as Kwargs }),
        ...(workIds === undefined ? {} : { workIds: workIds as WorkId[] | null }),
        ...(source === undefined ? {} : { source: source as "cli" | "console" | "trigger" }),
      };
    }
    case "retry":
    case "cancel":
    case "rerun":
      return { cmd: value.cmd, run: runId(value) };
    case "status":
      if (value.runs !== undefined && value.runs !== false) refuse("runs", "false (or left out)", value.runs);
      return value.runs === false ? { cmd: "status", runs: false } : { cmd: "status" };
    case "pause":
    case "resume":
    case "events":
      return { cmd: value.cmd };
    case "prune": {
      const { olderThanMs, dryRun } = value;
      if (typeof olderThanMs !== "number" || !Number.isFinite(olderThanMs) || olderThanMs < 0) refuse("olderThanMs", "a number of milliseconds ≥ 0", olderThanMs);
      if (typeof dryRun !== "boolean") refuse("dryRun", "true or false", dryRun);
      return { cmd: "prune", olderThanMs, dryRun };
    }
    default:
      return refuse("cmd", `one of "trigger", "retry", "cancel", "rerun", "pause", "resume", "status", "events", "prune"`, value.cmd);
  }
}

/** How a request ended, as the line (or row) that carries it back: a StauError keeps its hint and exit code. */
export function controlResponse(outcome: { ok: true; result: unknown } | { ok: false; error: unknown }): ControlResponse {
  if (outcome.ok) return { ok: true, result: outcome.result ?? null };
  const { error } = outcome;
  return { ok: false, error: error instanceof StauError ? { message: error.message, hint: error.hint, exitCode: error.exitCode } : { message: errorMessage(error), exitCode: 1 } };
}

/** The caller's side: the result, or the instance's error thrown again here. */
export function controlResult<T>(response: ControlResponse): T {
  if (response.ok) return response.result as T;
  throw new StauError("remote", response.error.message, { hint: response.error.hint, exitCode: response.error.exitCode });
}
