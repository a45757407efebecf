import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { LowSync } from "lowdb";
import type { FreshnessView } from "../../graph/types.js";
import type { ScheduleMark } from "../../schedule/ticks.js";
import type { OrderChannel } from "../../control/orders.js";
import { socketOrders } from "../../control/socket-orders.js";
import { StoreError, fileSystemError } from "../../errors.js";
import type { ArchivedRun, ChunkPatch, ChunkRecord, RunPatch, RunRecord, Success } from "../records.js";
import type { ChunkPatchOp, CommitResult, PruneResult, Store } from "../store.js";
import { summarize, type RunSummary } from "../run-summary.js";
import { FileLeadership } from "./file-leadership.js";
import { FileLogs } from "./file-logs.js";
import { FileQueue } from "./file-queue.js";
import { FreshnessFiles } from "./freshness.js";
import { History } from "./history.js";
import { pruneFileStore } from "./prune.js";
import { Journal } from "./journal.js";
import { PendingFifo } from "./pending.js";
import { COMPACT_AFTER_OPS, successesOf, type Op, type OpBody } from "./ops.js";
import { openHotState, type HotState } from "./hot-state.js";
import { packChunks, unpackChunks } from "./packed-chunks.js";

/** New chunks per journal line. */
const CHUNKS_PER_LINE = 20_000;

/**
 * The embedded store: snapshots of hot state (lowdb) and of freshness (freshness.ts), an append-only
 * journal of every change since the last snapshot, and append-only history. Opened
 * for writing by the one instance holding the data directory's lock; read-only opens
 * work beside it.
 */
export class FileStore implements Store {
  readonly location: string;
  readonly shared = false;
  readonly queue: FileQueue;
  readonly leadership: FileLeadership;
  readonly logs: FileLogs;
  readonly orders: OrderChannel;
  private hot!: LowSync<HotState>;
  private fresh!: FreshnessFiles;
  private readonly history: History;
  private journal: Journal<Op> | null = null;
  private seq = 0;
  private journalOnOpen = { lines: 0, validBytes: 0, tornTail: false };
  /** Chunk ids of each active run, so archiving and listing never scan every chunk. */
  private readonly chunksByRun = new Map<string, Set<string>>();
  readonly pending = new PendingFifo();
  /** Pending suspects, apart: they are claimed only to run alone. */
  readonly suspects = new PendingFifo();
  /** Chunks whose guarded patch found them elsewhere since the last commit. */
  private conflicts = new Set<string>();
  private gap = false;
  private readonly problemListeners = new Set<(problem: string | null) => void>();

  private constructor(private readonly dir: string, readOnly: boolean) {
    this.location = dir;
    if (!readOnly && !existsSync(dir)) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (error) {
        throw fileSystemError(error, { what: "the data directory" }) ?? error;
      }
    }
    this.history = new History(join(dir, "history", "runs.jsonl"));
    this.load();
    this.queue = new FileQueue(this);
    this.leadership = new FileLeadership(dir, readOnly, () => this.openForWriting());
    this.logs = new FileLogs(dir);
    const socket = socketOrders(dir);
    this.orders = {
      ...socket,
      // Once the socket is up, the lock's holder is known to live by it answering.
      serve: async (handle, options) => {
        const stop = await socket.serve(handle, options);
        this.leadership.serving();
        return stop;
      },
    };
  }

  /** Reads the snapshots and replays the journal: what the last writer left. */
  private load(): void {
    this.hot = openHotState(join(this.dir, "state.json"));
    this.fresh = new FreshnessFiles(join(this.dir, "freshness"));
    this.seq = this.hot.data.seq;
    this.chunksByRun.clear();
    this.pending.clear();
    this.suspects.clear();
    for (const chunk of this.hot.data.chunks.values()) this.index(chunk);
    const { ops, validBytes, tornTail } = Journal.read<Op>(this.journalFile);
    for (const op of ops) this.replay(op);
    this.journalOnOpen = { lines: ops.length, validBytes, tornTail };
    // A reader beside a running instance may have read the snapshot just before a
    // compaction and the journal just after: the journal then starts past the snapshot.
    this.gap = ops.length > 0 && ops[0]!.s > this.hot.data.seq + 1;
  }

  /** Opens the store in `dir`. Read-only opens never write and need no lock; a writer takes it through `leadership`. */
  static open(dir: string, options: { readOnly?: boolean } = {}): FileStore {
    const readOnly = options.readOnly ?? false;
    let store = new FileStore(dir, readOnly);
    // Such a torn read is retried; the writer compacts rarely, so once is nearly always enough.
    for (let tries = 0; store.gap && readOnly && tries < 5; tries++) store = new FileStore(dir, readOnly);
    return store;
  }

  private get journalFile(): string {
    return join(this.dir, "journal.jsonl");
  }

  /** The lock is ours: read again what the last writer left (it may have written since this store opened), then append. */
  private openForWriting(): void {
    if (this.journal) return;
    this.load();
    this.journal = Journal.open<Op>(this.journalFile, this.journalOnOpen, { lines: () => this.compactAfter(), compact: () => this.compact() }, (problem) => {
      for (const listener of this.problemListeners) listener(problem?.message ?? null);
    });
    this.history.ensureIndex();
  }

  /** Journal lines past which to compact: never fewer than the chunks hot state holds, so a snapshot costs a bounded share of each line whatever the run's size. */
  private compactAfter(): number {
    let chunks = 0;
    for (const ids of this.chunksByRun.values()) chunks += ids.size;
    return Math.max(COMPACT_AFTER_OPS, chunks);
  }

  private replay(op: Op): void {
    // Freshness files carry their own sequence number; hot state carries the snapshot's.
    for (const success of successesOf(op)) this.fresh.record(success, op.s);
    if (op.t !== "ok" && op.s > this.hot.data.seq) this.apply(op);
    this.seq = Math.max(this.seq, op.s);
  }

  private apply(op: OpBody): void {
    const state = this.hot.data;
    switch (op.t) {
      case "run": {
        state.runs[op.run.id] = op.run;
        for (const chunk of op.chunks ?? []) this.putChunk(chunk);
        // A tick has fired once its run is written, before its mark is.
        const { scheduleEntry, scheduleTick } = op.run;
        if (scheduleEntry && scheduleTick != null) (state.fired ??= {})[scheduleEntry] = Math.max(state.fired?.[scheduleEntry] ?? 0, scheduleTick);
        break;
      }
      case "run~":
        if (state.runs[op.id]) state.runs[op.id] = { ...state.runs[op.id]!, ...op.patch };
        break;
      case "chunks+":
        for (const chunk of op.chunks) this.putChunk(chunk);
        break;
      case "chunks*":
        for (const chunk of unpackChunks(op)) this.putChunk(chunk);
        break;
      case "chunks~":
        for (const [id, patch] of op.patches) this.patchChunk(id, patch);
        break;
      case "claim":
        // One patch for the batch; what differs per chunk (its attempt, its token) beside it.
        for (const [id, attempts, token] of op.claims) {
          const before = this.hot.data.chunks.get(id);
          // One copy with everything in it: a spread that adds fields to a copy costs several times its size.
          if (before) this.replaceChunk(before, { ...before, ...op.patch, attempts, token });
        }
        break;
      case "complete":
        this.patchChunk(op.id, op.patch);
        break;
      case "archive":
        for (const id of this.chunksByRun.get(op.id) ?? []) state.chunks.delete(id);
        this.chunksByRun.delete(op.id);
        delete state.runs[op.id];
        break;
      case "revive":
        state.runs[op.archived.run.id] = op.archived.run;
        for (const chunk of op.archived.chunks) this.putChunk(chunk);
        break;
      case "mark":
        state.marks[op.entry] = op.mark;
        break;
      case "ok":
        break;
    }
  }

  private patchChunk(id: string, patch: ChunkPatch): void {
    const before = this.hot.data.chunks.get(id);
    if (before) this.replaceChunk(before, { ...before, ...patch });
  }

  private replaceChunk(before: ChunkRecord, after: ChunkRecord): void {
    this.hot.data.chunks.set(after.id, after);
    if (after.state === "pending" && before.state !== "pending") (after.suspect ? this.suspects : this.pending).push(after.runId, after.id);
  }

  private putChunk(chunk: ChunkRecord): void {
    this.hot.data.chunks.set(chunk.id, chunk);
    this.index(chunk);
  }

  private index(chunk: ChunkRecord): void {
    let ids = this.chunksByRun.get(chunk.runId);
    if (!ids) this.chunksByRun.set(chunk.runId, (ids = new Set()));
    ids.add(chunk.id);
    if (chunk.state === "pending") (chunk.suspect ? this.suspects : this.pending).push(chunk.runId, chunk.id);
  }

  private chunksOf(runId: string): ChunkRecord[] {
    return [...(this.chunksByRun.get(runId) ?? [])].map((id) => this.hot.data.chunks.get(id)!);
  }

  /** Applies a change in memory and queues it for the next commit (store/ only). */
  write(op: OpBody): void {
    if (!this.journal) throw new Error("the store is not open for writing (no lock taken)");
    const full = { ...op, s: ++this.seq } as Op;
    for (const success of successesOf(full)) this.fresh.record(success, full.s);
    if (full.t !== "ok") this.apply(full);
    const packed = full.t === "chunks+" ? packChunks(full.chunks) : null;
    this.journal.append(packed ? { s: full.s, t: "chunks*", ...packed } : full);
  }

  /** Resolves when everything written so far is durable (store/ only). */
  async durable(): Promise<void> {
    if (this.journal) await this.journal.commit();
  }

  chunk(id: string): ChunkRecord | undefined {
    return this.hot.data.chunks.get(id);
  }

  run(id: string): RunRecord | undefined {
    return this.hot.data.runs[id];
  }

  chunks(): ChunkRecord[] {
    return [...this.hot.data.chunks.values()];
  }

  get holderId(): string | null {
    return this.leadership.holderId;
  }

  async active() {
    const state = this.hot.data;
    return { runs: Object.values(state.runs), chunks: [...state.chunks.values()] };
  }

  insertRun(run: RunRecord): void {
    this.write({ t: "run", run });
  }

  patchRun(id: string, patch: RunPatch): void {
    this.write({ t: "run~", id, patch });
  }

  addChunks(chunks: readonly ChunkRecord[]): void {
    // In slices: no journal line grows with the size of a run.
    for (let i = 0; i < chunks.length; i += CHUNKS_PER_LINE) this.write({ t: "chunks+", chunks: chunks.slice(i, i + CHUNKS_PER_LINE) });
  }

  patchChunks(ops: readonly ChunkPatchOp[]): void {
    const chunks = this.hot.data.chunks;
    const applied: [string, ChunkPatch][] = [];
    for (const [id, patch, from] of ops) {
      const chunk = chunks.get(id);
      if (!chunk) continue;
      if (chunk.state === from) applied.push([id, patch]);
      else this.conflicts.add(id);
    }
    if (applied.length) this.write({ t: "chunks~", patches: applied });
  }

  recordSuccesses(successes: readonly Success[]): void {
    // A job whose freshness file cannot be read keeps what it has: its successes are not
    // recorded (its next runs see it stale and run it again), and the caller hears why.
    const unreadable = new Map<string, string>();
    const readable = successes.filter((success) => {
      const problem = this.fresh.unreadable(success);
      if (problem) unreadable.set(success.job, problem);
      return !problem;
    });
    if (readable.length) this.write({ t: "ok", successes: readable });
    if (unreadable.size) throw new StoreError("store_corrupt", `freshness not recorded: ${[...unreadable.values()].join("; ")}`, "restore the file from a backup, or move it away (the job then counts as never run)");
  }

  archiveRun(id: string): void {
    const run = this.hot.data.runs[id];
    if (!run) return;
    this.history.append([{ run, chunks: this.chunksOf(id) }]);
    this.write({ t: "archive", id });
  }

  async reviveRun(id: string): Promise<ArchivedRun | null> {
    const archived = this.history.find(id);
    if (archived) this.write({ t: "revive", archived });
    return archived;
  }

  freshness(): FreshnessView {
    return this.fresh;
  }

  async syncFreshness(): Promise<void> {
    // Only this process writes the data directory: what it holds is current.
  }

  async scheduleMarks(): Promise<ReadonlyMap<string, ScheduleMark>> {
    return new Map(Object.entries(this.hot.data.marks));
  }

  setScheduleMark(entryId: string, mark: ScheduleMark): void {
    this.write({ t: "mark", entry: entryId, mark });
  }

  async tickFired(entryId: string, tickAt: number): Promise<boolean> {
    // One instance fires from this directory; its runs and marks say how far it got.
    const last = Math.max(this.hot.data.marks[entryId]?.lastTickAt ?? -Infinity, this.hot.data.fired?.[entryId] ?? -Infinity);
    return last >= tickAt;
  }

  async listRuns(limit: number, holds?: (run: RunRecord, chunks: number) => boolean): Promise<ArchivedRun[]> {
    return this.history.newest(Object.values(this.hot.data.runs).map((run) => ({ run, chunks: this.chunksOf(run.id) })), limit, holds);
  }

  async listRunSummaries(limit: number): Promise<RunSummary[]> {
    return this.history.newestSummaries(Object.values(this.hot.data.runs).map((run) => summarize({ run, chunks: this.chunksOf(run.id) })), limit);
  }

  async latestRunOf(job: string): Promise<ArchivedRun | null> {
    return this.history.latestOf(job, Object.values(this.hot.data.runs).map((run) => ({ run, chunks: this.chunksOf(run.id) })));
  }

  async prune(before: number, { dryRun }: { readonly dryRun: boolean }): Promise<PruneResult> {
    return pruneFileStore(this.history, this.dir, (id) => id in this.hot.data.runs, before, dryRun);
  }

  async getRun(id: string): Promise<ArchivedRun | null> {
    const run = this.hot.data.runs[id];
    return run ? { run, chunks: this.chunksOf(id) } : this.history.find(id);
  }

  async commit(): Promise<CommitResult> {
    const conflicts = [...this.conflicts].flatMap((id) => this.hot.data.chunks.get(id) ?? []);
    this.conflicts = new Set();
    await this.durable();
    return { conflicts };
  }

  /** Snapshots hot state and freshness, then empties the journal they now hold. */
  private compact(): void {
    this.journal!.flushNow();
    this.hot.data.seq = this.seq;
    this.hot.write();
    this.fresh.persist();
    this.journal!.truncate();
  }

  problem(): string | null {
    return this.journal?.writeProblem?.message ?? null;
  }

  onProblem(listener: (problem: string | null) => void): () => void {
    this.problemListeners.add(listener);
    return () => this.problemListeners.delete(listener);
  }

  skipped(): readonly string[] {
    return this.history.skipped();
  }

  abandon(reason: string): void {
    this.journal?.abandon(reason);
  }

  /** Snapshots and closes; the lock goes whatever happens. Throws, naming what is lost, if the last writes fail. */
  async close(): Promise<void> {
    let failure: unknown = null;
    if (this.journal) {
      await this.journal.settle();
      try {
        this.compact();
      } catch (error) {
        // The snapshots stay as they were and the journal keeps what they lack.
        failure = error;
      }
      try {
        this.journal.close();
      } catch (error) {
        failure = error;
      }
      this.journal = null;
    }
    this.history.close();
    this.leadership.close();
    if (failure) throw failure;
  }
}
