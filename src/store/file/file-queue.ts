import type { ChunkPatch, ChunkRecord, RunRecord } from "../records.js";
import type { ClaimFilter, Completion, QueueChannel, WorkQueue } from "../store.js";
import type { PendingFifo } from "./pending.js";
import { LocalSignals } from "./signals.js";

/** What the queue needs of the file store it belongs to. */
export interface QueueHost {
  readonly pending: PendingFifo;
  readonly suspects: PendingFifo;
  chunk(id: string): ChunkRecord | undefined;
  /** Every chunk of the active runs. */
  chunks(): ChunkRecord[];
  run(id: string): RunRecord | undefined;
  write(op: { t: "chunks~"; patches: readonly (readonly [string, ChunkPatch])[] } | { t: "claim"; patch: ChunkPatch; claims: readonly (readonly [string, number, string])[] }): void;
  durable(): Promise<void>;
  /** The instance holding the data directory, once it took the lock. */
  readonly holderId: string | null;
}

/**
 * The embedded store's work queue. One process owns the data directory, so claims and
 * results are checked in memory; each is journaled, and durable before it resolves.
 * Changes for the orchestrator are kept in memory: after a restart the orchestrator
 * derives again what they caused from the chunks' states.
 */
export class FileQueue implements WorkQueue {
  private tokens = 0;
  private changes: string[] = [];
  private releasedAtStart = false;
  private readonly signals = new LocalSignals<QueueChannel>();

  constructor(private readonly host: QueueHost) {
    host.pending.onPush = () => this.signals.notify("work");
    host.suspects.onPush = () => this.signals.notify("work");
  }

  async claim(owner: string, limit: number, filter: ClaimFilter, patch: ChunkPatch): Promise<ChunkRecord[]> {
    const { host } = this;
    const fifo = filter.suspects ? host.suspects : host.pending;
    // Chunks of other runs are passed over for good: only `stau run` asks, and its process never wants them.
    const runs = filter.runs ? new Set(filter.runs) : null;
    const claimable = (id: string) => {
      const chunk = host.chunk(id);
      return chunk?.state === "pending" && (!runs || runs.has(chunk.runId));
    };
    const ids = fifo.take(limit, new Set(filter.skipJobs), (id) => host.chunk(id)?.job, claimable, this.room(filter.limits));
    if (ids.length === 0) return [];
    host.write({ t: "claim", patch, claims: ids.map((id) => [id, host.chunk(id)!.attempts + 1, `${owner}:${++this.tokens}`]) });
    const claimed = ids.map((id) => host.chunk(id)!);
    await host.durable();
    return claimed;
  }

  async complete(completions: readonly Completion[]): Promise<Set<string>> {
    const accepted = completions.filter(({ id, token }) => {
      const chunk = this.host.chunk(id);
      return chunk?.state === "running" && chunk.token === token;
    });
    return this.record(accepted.map((c) => [c.id, c.patch]));
  }

  async handBack(owner: string, ids: readonly string[], patch: ChunkPatch): Promise<string[]> {
    const mine = ids.filter((id) => {
      const chunk = this.host.chunk(id);
      return chunk?.state === "running" && chunk.owner === owner;
    });
    return [...(await this.record(mine.map((id) => [id, patch])))];
  }

  async heartbeat(): Promise<void> {
    // The data directory's lock says this instance is alive.
  }

  async releaseSilent(_silentMs: number, patch: (chunk: ChunkRecord, owner: string) => ChunkPatch): Promise<{ owner: string; chunk: ChunkRecord }[]> {
    // Only the lock holder writes here: chunks running for anyone else were left by an
    // instance that is gone, and none can appear after the first look.
    if (this.releasedAtStart || this.host.holderId === null) return [];
    this.releasedAtStart = true;
    const left = this.running().filter((c) => c.owner !== this.host.holderId);
    const released = await this.record(left.map((c) => [c.id, patch(c, c.owner ?? "unknown")]), false);
    return left.filter((c) => released.has(c.id)).map((c) => ({ owner: c.owner ?? "unknown", chunk: this.host.chunk(c.id)! }));
  }

  /** How many more chunks each limited job may have running now. */
  private room(limits: ClaimFilter["limits"]): Map<string, number> {
    const room = new Map(Object.entries(limits ?? {}));
    if (room.size === 0) return room;
    for (const chunk of this.running()) {
      const n = room.get(chunk.job);
      if (n !== undefined) room.set(chunk.job, n - 1);
    }
    return room;
  }

  private running(): ChunkRecord[] {
    return this.host.chunks().filter((c) => c.state === "running");
  }

  /**
   * Writes results and resolves once they are durable. Unless the orchestrator made them
   * itself (a release), they are handed to it as changes right away, before they are on
   * disk: the journal is one ordered stream, so whatever the orchestrator writes in
   * answer (the freshness earned, the run's end, a claim of a dependent chunk) comes
   * after them in the file and can only be durable once they are. The answer then joins
   * the same group commit: one durable write per result instead of two.
   */
  private async record(patches: [string, ChunkPatch][], asChanges = true): Promise<Set<string>> {
    if (patches.length === 0) return new Set();
    this.host.write({ t: "chunks~", patches });
    if (asChanges) {
      for (const [id] of patches) this.changes.push(id);
      this.signals.notify("changes");
    }
    await this.host.durable();
    return new Set(patches.map(([id]) => id));
  }

  async takeChanges(limit: number): Promise<ChunkRecord[]> {
    const ids = [...new Set(this.changes.splice(0, limit))];
    return ids.flatMap((id) => this.host.chunk(id) ?? []);
  }

  async requestCancel(runId: string): Promise<void> {
    this.signals.notify("cancel", runId);
  }

  async cancelledRuns(runIds: readonly string[]): Promise<string[]> {
    return runIds.filter((id) => this.host.run(id)?.cancelRequested === true);
  }

  async listen(channel: QueueChannel, listener: (payload: string) => void): Promise<() => void> {
    return this.signals.listen(channel, listener);
  }
}
