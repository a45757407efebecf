import type { FreshnessView } from "../graph/types.js";
import type { ScheduleMark } from "../schedule/ticks.js";
import type { OrderChannel } from "../control/orders.js";
import type { ArchivedRun, ChunkPatch, ChunkRecord, ChunkState, InstanceInfo, RunPatch, RunRecord, Success } from "./records.js";
import type { LogStore } from "./logs.js";
import type { RunSummary } from "./run-summary.js";

// What stau keeps, as contracts both stores fill: the embedded store in a data
// directory (one instance at a time) and PostgreSQL (several instances sharing it).
// Nothing outside store/ knows which one it talks to.

/** A chunk patch with the state the orchestrator believes the chunk is in. */
export type ChunkPatchOp = readonly [id: string, patch: ChunkPatch, from: ChunkState];

/** What a commit found: chunks that had moved on before the orchestrator's guarded patch reached them. */
export interface CommitResult {
  /** Their records as they are now (a pending chunk an executor claimed meanwhile, say). */
  readonly conflicts: readonly ChunkRecord[];
}

/**
 * The orchestrator's records: runs, chunks, freshness and schedule marks.
 *
 * Writes are applied at once (in memory or in a buffer) and become durable together at
 * the next commit; `commit()` resolves when everything written before it is durable.
 * Callers await it before anything depends on a write having survived a crash.
 */
export interface Store {
  /** Where the data lives, for messages: a directory or a database URL without password. */
  readonly location: string;
  /** Whether other instances may change it (they run chunks, and one of them may orchestrate). */
  readonly shared: boolean;

  readonly queue: WorkQueue;
  readonly leadership: Leadership;
  readonly logs: LogStore;
  /** Orders for the orchestrating instance (trigger, retry, cancel, status…). */
  readonly orders: OrderChannel;

  /** Runs not yet finished, with their chunks, as they are now. */
  active(): Promise<{ runs: RunRecord[]; chunks: ChunkRecord[] }>;

  insertRun(run: RunRecord): void;
  patchRun(id: string, patch: RunPatch): void;
  /**
   * Each patch applies only while the chunk is still in its `from` state; one that
   * found it elsewhere (an executor claimed it meanwhile) is reported by the commit.
   */
  patchChunks(patches: readonly ChunkPatchOp[]): void;
  /** Adds chunks to an existing run (a resolution fills a waiting run). */
  addChunks(chunks: readonly ChunkRecord[]): void;
  /** Freshness earned by finished chunks (transitions.earned). */
  recordSuccesses(successes: readonly Success[]): void;

  /** A finished run leaves hot state for history. */
  archiveRun(id: string): void;
  /** Brings a finished run back into hot state (retry). */
  reviveRun(id: string): Promise<ArchivedRun | null>;

  freshness(): FreshnessView;
  /** Brings freshness() up to what other instances recorded (with `perWorkId`, every ID, as a plan needs). */
  syncFreshness(perWorkId: boolean): Promise<void>;

  /** What each schedule entry last did. */
  scheduleMarks(): Promise<ReadonlyMap<string, ScheduleMark>>;
  setScheduleMark(entryId: string, mark: ScheduleMark): void;
  /** Whether a run was already created for this tick of this entry (by any instance). */
  tickFired(entryId: string, tickAt: number): Promise<boolean>;

  /**
   * The `limit` newest runs by creation, active ones included, newest first. `holds`,
   * when given, is asked of each of them in that order with its number of chunks: the
   * runs it refuses are left out, and their chunks are never read.
   */
  listRuns(limit: number, holds?: (run: RunRecord, chunks: number) => boolean): Promise<ArchivedRun[]>;
  /** The same runs as listRuns, each with its chunks counted by state instead of listed (`stau runs`). */
  listRunSummaries(limit: number): Promise<RunSummary[]>;
  /** The newest run (by creation) with chunks of `job`, active or however old (`stau logs <job>`). */
  latestRunOf(job: string): Promise<ArchivedRun | null>;
  /**
   * Removes finished runs that finished before `before` (epoch ms), their chunks and
   * their logs — never an active run, never freshness. With `dryRun`, only counts.
   */
  prune(before: number, options: { readonly dryRun: boolean }): Promise<PruneResult>;
  getRun(id: string): Promise<ArchivedRun | null>;

  commit(): Promise<CommitResult>;
  close(): Promise<void>;

  /**
   * Why it cannot record changes now (a full disk, an unreachable database), naming
   * what and where, or null. Commits wait meanwhile and go through once it can again;
   * whoever takes on new work (a trigger, a claim) asks first.
   */
  problem(): string | null;
  /** Calls `listener` when a problem starts (with it) and ends (with null). */
  onProblem(listener: (problem: string | null) => void): () => void;
  /** The instance is stopping: commits waiting out a problem fail now, with `reason`, instead of waiting. */
  abandon(reason: string): void;
  /**
   * What reads so far met but could not read, and skipped (a damaged line of history),
   * each as a message naming file and line, for the CLI to warn of once per command.
   */
  skipped(): readonly string[];
}

/** One attempt's end, as an executor reports it: the patch transitions.settleAttempt computed. */
export interface Completion {
  readonly id: string;
  readonly token: string;
  readonly patch: ChunkPatch;
}

/** Which pending chunks a claim may take. */
export interface ClaimFilter {
  /** Jobs the claimer cannot run (broken or unknown here): left for others. */
  readonly skipJobs: readonly string[];
  /** Only suspects (chunks that were running when their instance died, to run alone), or none of them. */
  readonly suspects: boolean;
  /** Only chunks of these runs (`stau run` on the embedded store touches its own run only); absent: any. */
  readonly runs?: readonly string[];
  /**
   * Jobs' `concurrency`: a claim leaves a job's chunks pending while this many of them are
   * running (claimed ahead included), on any instance sharing the store.
   */
  readonly limits?: Readonly<Record<string, number>>;
}

export type QueueChannel = "work" | "changes" | "cancel";

/**
 * The work queue every executor claims chunks from, and through which the orchestrator
 * learns what became of them. Every patch it applies comes from transitions.ts; the
 * queue checks tokens and states, issues tokens and counts attempts.
 */
export interface WorkQueue {
  /**
   * Pending chunks → running for `owner` with `patch` (transitions.claim), oldest first,
   * each with its attempt count one higher and a fresh token. Durable before it
   * resolves, so an attempt is counted even if the process dies inside the chunk's code.
   */
  claim(owner: string, limit: number, filter: ClaimFilter, patch: ChunkPatch): Promise<ChunkRecord[]>;
  /** Records attempts' ends whose token still holds the chunk; durable before it resolves. Returns the ids recorded. */
  complete(completions: readonly Completion[]): Promise<Set<string>>;
  /** Gives running chunks of `owner` back (transitions.interrupted); returns the ids given back. */
  handBack(owner: string, ids: readonly string[], patch: ChunkPatch): Promise<string[]>;
  /** The owner is alive and still holds these chunks (each renewed once its heartbeat is `renewAfterMs` old). */
  heartbeat(instance: InstanceInfo, chunkIds: readonly string[], renewAfterMs: number): Promise<void>;
  /**
   * Running chunks whose owner is gone (no heartbeat for `silentMs`; on the embedded
   * store: any owner but the instance holding the data directory) are given
   * `patch(chunk, owner)` (transitions.orphaned). Returns what was released, as it is
   * now, with the owner it was taken from. The caller applies it (the orchestrator says
   * why, then acts on it): takeChanges does not report it again, so nothing acts on it
   * before it is said.
   */
  releaseSilent(silentMs: number, patch: (chunk: ChunkRecord, owner: string) => ChunkPatch): Promise<{ owner: string; chunk: ChunkRecord }[]>;
  /** Chunks executors completed or gave back since the orchestrator last took them, oldest first. */
  takeChanges(limit: number): Promise<ChunkRecord[]>;
  /** Tells every executor to stop the running chunks of a run. */
  requestCancel(runId: string): Promise<void>;
  /** Of these runs, those an operator cancelled (and nobody retried since). */
  cancelledRuns(runIds: readonly string[]): Promise<string[]>;
  /**
   * Calls `listener` when there is pending work ("work"), a change for the orchestrator
   * ("changes") or a cancelled run (payload: its id). Notifications may be lost or
   * merged; whoever listens also polls.
   */
  listen(channel: QueueChannel, listener: (payload: string) => void): Promise<() => void>;
}

/** How often an instance says it is alive, for itself and the chunks it holds. */
export const HEARTBEAT_MS = 1_000;
/** An instance that stopped heartbeating this long is taken for gone: its chunks run again elsewhere. */
export const SILENT_INSTANCE_MS = 5_000;
/**
 * A held chunk's heartbeat is renewed once it is this old: with a beat every HEARTBEAT_MS
 * it is at most about three seconds old, never SILENT_INSTANCE_MS while its instance
 * lives, and a chunk that ends sooner is never written for its heartbeat.
 */
export const HEARTBEAT_RENEW_MS = 2_000;

/** An instance as the store knows it (`stau status`). */
export interface InstanceRow {
  readonly info: InstanceInfo;
  readonly leading: boolean;
  /** Seconds since its last heartbeat. */
  readonly silentFor: number;
  readonly stopped: boolean;
}

/** Whether any instance is alive on this store (and so will finish its unfinished runs). */
export async function instancesAlive(store: Store): Promise<boolean> {
  return (await store.leadership.instances()).some((row) => !row.stopped && row.silentFor * 1000 < SILENT_INSTANCE_MS);
}

/** The right to orchestrate: held by one instance at a time. */
export interface Leadership {
  /**
   * Takes it if nobody holds it. The embedded store takes its data directory's lock,
   * or throws naming the holder; a shared store answers who holds it instead.
   */
  acquire(instance: InstanceInfo): Promise<{ ok: true } | { ok: false; holder: InstanceInfo | null }>;
  /** Resolves (with the reason) if a held leadership is lost; never for the embedded store. */
  lost(): Promise<Error>;
  /** Gives it up now, so another instance may take over. */
  release(instance: InstanceInfo): Promise<void>;
  /** The instance stopped (its chunks are handed back separately). */
  stopped(instance: InstanceInfo): Promise<void>;
  /** Who orchestrates now, if anyone alive does. */
  holder(): Promise<InstanceInfo | null>;
  /** Instances alive or stopped within the hour. */
  instances(): Promise<InstanceRow[]>;
}

/** What a prune removed (or, dry, would remove). */
export interface PruneResult {
  readonly runs: number;
  readonly chunks: number;
  readonly logs: number;
}
