import type { Kwargs, WorkId } from "../config/types.js";

// One request and one response per connection, each a line of JSON.

export type ControlRequest =
  | { readonly cmd: "trigger"; readonly job: string; readonly kwargs?: Kwargs; readonly workIds?: WorkId[] | null }
  | { readonly cmd: "retry"; readonly run: string }
  | { readonly cmd: "cancel"; readonly run: string }
  | { readonly cmd: "rerun"; readonly run: string }
  | { readonly cmd: "status" };

export type ControlResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { readonly message: string; readonly hint?: string; readonly exitCode: number } };
