import type { ChunkRecord, Success } from "../store/records.js";
import { blocksDependents, earned } from "./transitions.js";

/**
 * What a chunk's new state asks of the orchestrator, whoever made the change (an
 * executor's result, an instance giving a chunk back, a restart finding it so):
 * - `done`: record the freshness it earned and release what waited for it;
 * - `retry`: it failed with attempts left: release it when its backoff is over;
 * - `blocked`: it will never be done: what depends on it will not run;
 * - `none`: pending or running, it is an executor's to take or finish.
 */
export type Outcome =
  | { readonly kind: "done"; readonly success: Success }
  | { readonly kind: "retry"; readonly at: number }
  | { readonly kind: "blocked" }
  | { readonly kind: "none" };

export function outcomeOf(chunk: ChunkRecord): Outcome {
  const success = earned(chunk);
  if (success) return { kind: "done", success };
  if (chunk.state === "queued") return { kind: "retry", at: chunk.notBefore ?? 0 };
  if (blocksDependents(chunk.state)) return { kind: "blocked" };
  return { kind: "none" };
}
