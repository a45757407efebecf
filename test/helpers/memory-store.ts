import type { WorkId } from "../../src/config/types.js";
import type { FreshnessView } from "../../src/graph/types.js";
import type { ScheduleMark } from "../../src/schedule/ticks.js";
import type { ArchivedRun, ChunkPatch, ChunkRecord, RunPatch, RunRecord, Success } from "../../src/store/records.js";
import type { ChunkPatchOp, ClaimFilter, CommitResult, Completion, QueueChannel, Store, WorkQueue } from "../../src/store/store.js";
import { summarize, type RunSummary } from "../../src/store/run-summary.js";

// A test double of the Store and WorkQueue contracts, small enough to read in one go.
// Like the PostgreSQL store, the orchestrator's writes are buffered and applied at
// commit, where guarded chunk patches are checked; the queue's claims and results are
// "durable" at once. Nothing is visible to readers before its commit has applied, so a
// test that holds commits (hold()) sees exactly what a crash at that instant would keep.

type Op =
  | { t: "run+"; run: RunRecord }
  | { t: "run~"; id: string; patch: RunPatch }
  | { t: "chunks+"; chunks: readonly ChunkRecord[] }
  | { t: "chunks~"; patches: readonly ChunkPatchOp[] }
  | { t: "ok"; successes: readonly Success[] }
  | { t: "archive"; id: string }
  | { t: "revive"; id: string }
  | { t: "mark"; entry: string; mark: ScheduleMark };

/** Whatever the engine must not touch: calling it fails the test with a clear message. */
function notUsed<T>(what: string): T {
  return new Proxy({}, {
    get: (_, prop) => (typeof prop === "symbol" || prop === "then" ? undefined : () => {
      throw new Error(`${what}.${String(prop)} is not used by the engine (memory store)`);
    }),
  }) as T;
}

export class MemoryStore implements Store {
  readonly location = "memory";
  readonly shared = false;
  readonly queue: MemoryQueue;
  readonly leadership = notUsed<Store["leadership"]>("leadership");
  readonly logs = notUsed<Store["logs"]>("logs");
  readonly orders = notUsed<Store["orders"]>("orders");

  /** Hot state as committed: active runs and their chunks. */
  readonly runs = new Map<string, RunRecord>();
  readonly chunks = new Map<string, ChunkRecord>();
  readonly history = new Map<string, ArchivedRun>();
  readonly marks = new Map<string, ScheduleMark>();
  /** job \0 kwargsKey → newest success on any IDs and per work ID. */
  private readonly fresh = new Map<string, { any: number; ids: Map<WorkId, number> }>();
  private ops: Op[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private gate: Promise<void> | null = null;

  constructor() {
    this.queue = new MemoryQueue(this);
  }

  /** Seeds committed state, as a store left by an earlier orchestrator would hold it. */
  seed(runs: readonly RunRecord[], chunks: readonly ChunkRecord[]): void {
    for (const run of runs) this.runs.set(run.id, run);
    for (const chunk of chunks) this.chunks.set(chunk.id, chunk);
  }

  /** Commits asked for from now on wait until the returned function is called. */
  hold(): () => void {
    let open!: () => void;
    this.gate = new Promise((resolve) => (open = resolve));
    return () => {
      this.gate = null;
      open();
    };
  }

  chunksOf(runId: string): ChunkRecord[] {
    return [...this.chunks.values()].filter((c) => c.runId === runId);
  }

  async active() {
    return { runs: [...this.runs.values()], chunks: [...this.chunks.values()] };
  }

  insertRun(run: RunRecord): void {
    this.ops.push({ t: "run+", run });
  }
  patchRun(id: string, patch: RunPatch): void {
    this.ops.push({ t: "run~", id, patch });
  }
  patchChunks(patches: readonly ChunkPatchOp[]): void {
    if (patches.length) this.ops.push({ t: "chunks~", patches });
  }
  addChunks(chunks: readonly ChunkRecord[]): void {
    if (chunks.length) this.ops.push({ t: "chunks+", chunks });
  }
  recordSuccesses(successes: readonly Success[]): void {
    if (successes.length) this.ops.push({ t: "ok", successes });
  }
  archiveRun(id: string): void {
    this.ops.push({ t: "archive", id });
  }
  async reviveRun(id: string): Promise<ArchivedRun | null> {
    const archived = this.history.get(id) ?? null;
    if (archived) this.ops.push({ t: "revive", id });
    return archived;
  }

  freshness(): FreshnessView {
    return {
      lastSuccess: (job, key, workId) => {
        const node = this.fresh.get(`${job}\0${key}`);
        return workId === null ? node?.any : node?.ids.get(workId);
      },
      codeHash: () => undefined,
      kwargsKeys: (job) => [...this.fresh.keys()].filter((k) => k.startsWith(`${job}\0`)).map((k) => k.slice(job.length + 1)),
    };
  }
  async syncFreshness(): Promise<void> {}

  async scheduleMarks(): Promise<ReadonlyMap<string, ScheduleMark>> {
    return new Map(this.marks);
  }
  setScheduleMark(entryId: string, mark: ScheduleMark): void {
    this.ops.push({ t: "mark", entry: entryId, mark });
  }
  async tickFired(entryId: string, tickAt: number): Promise<boolean> {
    const last = this.marks.get(entryId)?.lastTickAt;
    return last != null && last >= tickAt;
  }

  async listRuns(limit: number, holds: (run: RunRecord, chunks: number) => boolean = () => true): Promise<ArchivedRun[]> {
    const active = [...this.runs.values()].map((run) => ({ run, chunks: this.chunksOf(run.id) }));
    const newest = [...active, ...this.history.values()].sort((a, b) => b.run.createdAt - a.run.createdAt).slice(0, limit);
    return newest.filter((r) => holds(r.run, r.chunks.length));
  }
  async listRunSummaries(limit: number): Promise<RunSummary[]> {
    return (await this.listRuns(limit)).map(summarize);
  }
  async latestRunOf(job: string): Promise<ArchivedRun | null> {
    return (await this.listRuns(Infinity)).find((r) => r.chunks.some((c) => c.job === job)) ?? null;
  }
  async getRun(id: string): Promise<ArchivedRun | null> {
    const run = this.runs.get(id);
    return run ? { run, chunks: this.chunksOf(id) } : (this.history.get(id) ?? null);
  }

  /** Applies what was written before it, in order, once the gate (if any) is open. */
  commit(): Promise<CommitResult> {
    const ops = this.ops;
    this.ops = [];
    const next = this.chain.then(async () => {
      while (this.gate) await this.gate;
      const conflicts = new Set<string>();
      for (const op of ops) this.apply(op, conflicts);
      return { conflicts: [...conflicts].flatMap((id) => this.chunks.get(id) ?? []) };
    });
    this.chain = next;
    return next;
  }

  async close(): Promise<void> {}

  /** A test sets this to play a store that cannot write. */
  storeProblem: string | null = null;

  problem(): string | null {
    return this.storeProblem;
  }

  onProblem(): () => void {
    return () => undefined;
  }

  abandon(): void {}

  skipped(): readonly string[] {
    return [];
  }

  private apply(op: Op, conflicts: Set<string>): void {
    switch (op.t) {
      case "run+":
        this.runs.set(op.run.id, op.run);
        break;
      case "run~": {
        const run = this.runs.get(op.id);
        if (run) this.runs.set(op.id, { ...run, ...op.patch });
        break;
      }
      case "chunks+":
        for (const chunk of op.chunks) this.chunks.set(chunk.id, chunk);
        if (op.chunks.some((c) => c.state === "pending")) this.queue.notify("work");
        break;
      case "chunks~":
        for (const [id, patch, from] of op.patches) {
          const chunk = this.chunks.get(id);
          if (!chunk) continue;
          if (chunk.state !== from) conflicts.add(id);
          else this.put({ ...chunk, ...patch });
        }
        break;
      case "ok":
        for (const s of op.successes) {
          const key = `${s.job}\0${s.kwargsKey}`;
          const node = this.fresh.get(key) ?? this.fresh.set(key, { any: 0, ids: new Map() }).get(key)!;
          node.any = Math.max(node.any, s.at);
          for (const id of s.workIds) node.ids.set(id, Math.max(node.ids.get(id) ?? 0, s.at));
        }
        break;
      case "archive": {
        const run = this.runs.get(op.id);
        if (!run) break;
        this.history.set(op.id, { run, chunks: this.chunksOf(op.id) });
        for (const chunk of this.chunksOf(op.id)) this.chunks.delete(chunk.id);
        this.runs.delete(op.id);
        break;
      }
      case "revive": {
        const archived = this.history.get(op.id);
        if (!archived) break;
        this.history.delete(op.id);
        this.runs.set(op.id, archived.run);
        for (const chunk of archived.chunks) this.chunks.set(chunk.id, chunk);
        break;
      }
      case "mark":
        this.marks.set(op.entry, op.mark);
        break;
    }
  }

  /** Replaces a committed chunk (store/ and its queue only). */
  put(chunk: ChunkRecord): void {
    const before = this.chunks.get(chunk.id);
    this.chunks.set(chunk.id, chunk);
    if (chunk.state === "pending" && before?.state !== "pending") this.queue.notify("work");
  }
}

/** The work queue over the memory store's committed chunks. */
export class MemoryQueue implements WorkQueue {
  private tokens = 0;
  private changes: string[] = [];
  private readonly listeners = new Map<QueueChannel, Set<(payload: string) => void>>();
  /** Runs requestCancel was called for, in order. */
  readonly cancelRequests: string[] = [];
  /** Owners releaseSilent treats as gone. */
  readonly silent = new Set<string>();

  constructor(private readonly store: MemoryStore) {}

  /** Pending chunks in the order they were added: as deterministic as "oldest first", and simpler. */
  async claim(owner: string, limit: number, filter: ClaimFilter, patch: ChunkPatch): Promise<ChunkRecord[]> {
    const skip = new Set(filter.skipJobs);
    const claimed: ChunkRecord[] = [];
    for (const chunk of this.store.chunks.values()) {
      if (claimed.length >= limit) break;
      if (chunk.state !== "pending" || skip.has(chunk.job) || (chunk.suspect === true) !== filter.suspects) continue;
      const taken = { ...chunk, ...patch, attempts: chunk.attempts + 1, token: `${owner}:${++this.tokens}` };
      this.store.put(taken);
      claimed.push(taken);
    }
    return claimed;
  }

  async complete(completions: readonly Completion[]): Promise<Set<string>> {
    const held = completions.filter(({ id, token }) => this.store.chunks.get(id)?.state === "running" && this.store.chunks.get(id)?.token === token);
    return this.record(held.map((c) => [c.id, c.patch]));
  }

  async handBack(owner: string, ids: readonly string[], patch: ChunkPatch): Promise<string[]> {
    const mine = ids.filter((id) => this.store.chunks.get(id)?.state === "running" && this.store.chunks.get(id)?.owner === owner);
    return [...this.record(mine.map((id) => [id, patch]))];
  }

  async heartbeat(): Promise<void> {}

  async releaseSilent(_silentMs: number, patch: (chunk: ChunkRecord, owner: string) => ChunkPatch): Promise<{ owner: string; chunk: ChunkRecord }[]> {
    const left = [...this.store.chunks.values()].filter((c) => c.state === "running" && this.silent.has(c.owner ?? ""));
    // The caller applies what was released: not reported again as changes.
    for (const c of left) this.store.put({ ...c, ...patch(c, c.owner!) });
    return left.map((c) => ({ owner: c.owner!, chunk: this.store.chunks.get(c.id)! }));
  }

  private record(patches: [string, ChunkPatch][]): Set<string> {
    for (const [id, patch] of patches) {
      this.store.put({ ...this.store.chunks.get(id)!, ...patch });
      this.changes.push(id);
    }
    if (patches.length) this.notify("changes");
    return new Set(patches.map(([id]) => id));
  }

  async takeChanges(limit: number): Promise<ChunkRecord[]> {
    const ids = [...new Set(this.changes.splice(0, limit))];
    return ids.flatMap((id) => this.store.chunks.get(id) ?? []);
  }

  async requestCancel(runId: string): Promise<void> {
    this.cancelRequests.push(runId);
    this.notify("cancel", runId);
  }

  async cancelledRuns(runIds: readonly string[]): Promise<string[]> {
    return runIds.filter((id) => this.store.runs.get(id)?.cancelRequested === true);
  }

  async listen(channel: QueueChannel, listener: (payload: string) => void): Promise<() => void> {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Delivered on a later microtask, as a real notification arrives after the write that caused it. */
  notify(channel: QueueChannel, payload = ""): void {
    for (const listener of this.listeners.get(channel) ?? []) queueMicrotask(() => listener(payload));
  }
}
