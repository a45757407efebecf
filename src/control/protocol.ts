import type { Kwargs, WorkId } from "../config/types.js";
import { StauError, errorMessage } from "../errors.js";

// One request and one response per connection, each a line of JSON.

export type ControlRequest =
  | { readonly cmd: "trigger"; readonly job: string; readonly kwargs?: Kwargs; readonly workIds?: WorkId[] | null; readonly source?: "cli" | "console" | "trigger" }
  | { readonly cmd: "retry"; readonly run: string }
  | { readonly cmd: "cancel"; readonly run: string }
  | { readonly cmd: "rerun"; readonly run: string }
  | { readonly cmd: "pause" }
  | { readonly cmd: "resume" }
  | { readonly cmd: "status" };

export type ControlResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { readonly message: string; readonly hint?: string; readonly exitCode: number } };

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
