import type { WorkId } from "../config/types.js";
import type { FreshnessView } from "../graph/types.js";
import type { ArchivedRun, ChunkPatch, ChunkRecord, ChunkState, RunPatch, RunRecord } from "./records.js";

export type ChunkPatchOp = readonly [id: string, patch: ChunkPatch, from?: ChunkState];

/** Who holds a store open for writing. */
export interface InstanceInfo {
  readonly id: string;
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: number;
  readonly command: string;
}

/** What the store remembers of a schedule entry, so restarts neither skip nor double-fire. */
export interface ScheduleMark {
  /** The tick (epoch ms) the entry last fired for. */
  readonly lastTickAt: number | null;
  /** The last tick skipped, and why (overlap policy, broken job…). */
  readonly lastSkip: { readonly tickAt: number; readonly reason: string } | null;
}

export interface Success {
  readonly job: string;
  readonly kwargsKey: string;
  /** Empty for a job without work IDs. */
  readonly workIds: readonly WorkId[];
  readonly at: number;
}

/**
 * Everything stau remembers. The engine talks only to this interface: the embedded
 * lowdb store fills it now, a PostgreSQL store shared by several instances later.
 *
 * Writes may be grouped: they are applied at once and become durable together at the
 * next commit; `commit()` resolves when everything written before it is durable.
 * Callers await it before anything depends on a write having survived a crash
 * (releasing dependents of a finished chunk, reporting a run as finished).
 */
export interface Store {
  /** Where the data lives, for messages: a directory or a database URL without password. */
  readonly location: string;

  /** Takes the right to orchestrate (file: the data directory lock). False if another instance has it. */
  acquireLeadership(instance: InstanceInfo): Promise<{ ok: true } | { ok: false; holder: InstanceInfo | null }>;

  /** Runs not yet finished, with their chunks, as left by the last instance. */
  active(): Promise<{ runs: RunRecord[]; chunks: ChunkRecord[] }>;

  insertRun(run: RunRecord, chunks: readonly ChunkRecord[]): void;
  patchRun(id: string, patch: RunPatch): void;
  /**
   * `from` is the state the orchestrator believes the chunk is in: a shared store
   * skips the patch when a worker has moved the chunk meanwhile (claimed a pending
   * chunk the orchestrator is cancelling, say); the orchestrator then hears of that move.
   */
  patchChunks(patches: readonly ChunkPatchOp[]): void;
  /** Adds chunks to an existing run (a retry re-queues, a resolution fills a waiting run). */
  addChunks(chunks: readonly ChunkRecord[]): void;

  /** A finished run leaves hot state for history. */
  archiveRun(id: string): void;

  /** Brings a finished run back into hot state (retry). */
  reviveRun(id: string): Promise<ArchivedRun | null>;

  freshness(): FreshnessView;

  /** What each schedule entry last did. */
  scheduleMarks(): Promise<ReadonlyMap<string, ScheduleMark>>;
  setScheduleMark(entryId: string, mark: ScheduleMark): void;
  /** Whether a run was already created for this tick of this entry (by any instance). */
  tickFired(entryId: string, tickAt: number): Promise<boolean>;

  /** Newest first, active runs included. */
  listRuns(limit: number): Promise<ArchivedRun[]>;
  getRun(id: string): Promise<ArchivedRun | null>;

  commit(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Claims for an engine that runs its own chunks on its own pool (the embedded store):
 * synchronous, because one process owns the data directory.
 */
export interface LocalQueue {
  /**
   * Marks pending chunks running for `owner`, each with a fresh attempt token.
   * Returns those it could claim (another instance may have been faster).
   */
  claimChunks(ids: readonly string[], owner: string, at: number): ChunkRecord[];

  /** Records a chunk's result if `token` still owns it; false means it was released meanwhile. */
  completeChunk(id: string, token: string, patch: ChunkPatch, success: Success | null): boolean;
}
