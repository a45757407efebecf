import type { ScheduleMark } from "../../schedule/ticks.js";
import type { ArchivedRun, ChunkPatch, ChunkRecord, RunPatch, RunRecord, Success } from "../records.js";
import type { PackedChunks } from "./packed-chunks.js";

// Journal lines. Guards (a patch's `from` state, a result's token) are checked before a
// line is written, so replay applies every line as it stands. `chunks+` is journaled as
// `chunks*` (packed-chunks.ts) when its records share a shape. `run` with chunks, `ok`
// with one `success` and `complete` are read from journals older stau versions wrote.
export type Op =
  | { s: number; t: "run"; run: RunRecord; chunks?: readonly ChunkRecord[] }
  | { s: number; t: "run~"; id: string; patch: RunPatch }
  | { s: number; t: "chunks+"; chunks: readonly ChunkRecord[] }
  | ({ s: number; t: "chunks*" } & PackedChunks)
  | { s: number; t: "chunks~"; patches: readonly (readonly [string, ChunkPatch, ...unknown[]])[] }
  | { s: number; t: "claim"; patch: ChunkPatch; claims: readonly (readonly [id: string, attempts: number, token: string])[] }
  | { s: number; t: "ok"; successes?: readonly Success[]; success?: Success }
  | { s: number; t: "complete"; id: string; patch: ChunkPatch; success?: Success | null }
  | { s: number; t: "archive"; id: string }
  | { s: number; t: "revive"; archived: ArchivedRun }
  | { s: number; t: "mark"; entry: string; mark: ScheduleMark };

export type OpBody = Op extends infer O ? (O extends { s: number } ? Omit<O, "s"> : never) : never;

/** Journal lines past which the hot state is snapshotted and the journal emptied. */
export const COMPACT_AFTER_OPS = 50_000;

export const successesOf = (op: Op): readonly Success[] =>
  op.t === "ok" ? (op.successes ?? (op.success ? [op.success] : [])) : op.t === "complete" && op.success ? [op.success] : [];
