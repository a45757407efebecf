import type pg from "pg";
import { databaseOrders } from "../../control/database-orders.js";
import type { OrderChannel } from "../../control/orders.js";
import { StoreError, errorMessage } from "../../errors.js";
import type { FreshnessView } from "../../graph/types.js";
import type { ScheduleMark } from "../../schedule/ticks.js";
import type { ArchivedRun, ChunkRecord, ChunkState, RunPatch, RunRecord, Success } from "../records.js";
import type { RunSummary } from "../run-summary.js";
import type { ChunkPatchOp, CommitResult, PruneResult, Store } from "../store.js";
import { prunePg } from "./prune.js";
import { applyPatch, chunkRecord, insertChunks } from "./chunk-sql.js";
import { PgCommands } from "./commands.js";
import type { DatabaseConfig } from "./config.js";
import { PgConnection } from "./connection.js";
import { FreshnessCache, workIdKey } from "./freshness-cache.js";
import { PgLeadership } from "./leadership.js";
import { PgLogs } from "./logs.js";
import { PgQueue } from "./work-queue.js";

type Op =
  | { t: "run+"; run: RunRecord }
  | { t: "run~"; id: string; patch: RunPatch }
  | { t: "chunks+"; chunks: ChunkRecord[] }
  | { t: "chunks~"; patches: ChunkPatchOp[] }
  | { t: "ok"; successes: Success[] }
  | { t: "mark"; entry: string; mark: ScheduleMark };

/**
 * The shared store: PostgreSQL, for several stau instances on several machines. The
 * orchestrating instance's writes are buffered and applied in one transaction at
 * commit(); the work queue, leadership, orders and logs are its other parts.
 */
export class PgStore implements Store {
  readonly location: string;
  readonly shared = true;
  readonly queue: PgQueue;
  readonly leadership: PgLeadership;
  readonly logs: PgLogs;
  readonly orders: OrderChannel;
  private readonly s: string;
  private ops: Op[] = [];
  private flushing: Promise<unknown> = Promise.resolve();
  private readonly fresh = new FreshnessCache();

  private constructor(private readonly db: PgConnection) {
    this.location = db.location;
    this.s = db.s;
    this.queue = new PgQueue(db);
    this.leadership = new PgLeadership(db);
    this.logs = new PgLogs(db);
    this.orders = databaseOrders(new PgCommands(db));
  }

  prune(before: number, { dryRun }: { readonly dryRun: boolean }): Promise<PruneResult> {
    return prunePg(this.db, before, dryRun);
  }

  /** Connects, applies migrations and reads each job's newest success. */
  static async open(config: DatabaseConfig): Promise<PgStore> {
    const store = new PgStore(await PgConnection.open(config));
    try {
      await store.syncFreshness(true);
    } catch (error) {
      await store.db.close();
      throw new StoreError("database", `cannot read the PostgreSQL store at ${store.location}: ${errorMessage(error)}`, undefined, error);
    }
    return store;
  }

  async active(): Promise<{ runs: RunRecord[]; chunks: ChunkRecord[] }> {
    const runs = await this.db.query<{ record: RunRecord }>(`SELECT record FROM ${this.s}.runs WHERE NOT finished ORDER BY created_at`);
    const chunks = await this.db.query<{ r: ChunkRecord }>(`SELECT ${chunkRecord("c")} AS r FROM ${this.s}.chunks c JOIN ${this.s}.runs r ON r.id = c.run_id WHERE NOT r.finished ORDER BY c.seq`);
    return { runs: runs.rows.map((r) => r.record), chunks: chunks.rows.map((r) => r.r) };
  }

  insertRun(run: RunRecord): void {
    this.ops.push({ t: "run+", run });
  }

  patchRun(id: string, patch: RunPatch): void {
    this.ops.push({ t: "run~", id, patch });
  }

  patchChunks(patches: readonly ChunkPatchOp[]): void {
    if (patches.length) this.ops.push({ t: "chunks~", patches: [...patches] });
  }

  addChunks(chunks: readonly ChunkRecord[]): void {
    if (chunks.length) this.ops.push({ t: "chunks+", chunks: [...chunks] });
  }

  recordSuccesses(successes: readonly Success[]): void {
    if (successes.length === 0) return;
    for (const s of successes) this.fresh.record(s.job, s.kwargsKey, s.workIds, s.at, s.codeHash ?? null);
    this.ops.push({ t: "ok", successes: [...successes] });
  }

  archiveRun(): void {
    // Finished runs stay in the runs table; their status marks them finished.
  }

  async reviveRun(id: string): Promise<ArchivedRun | null> {
    const run = await this.getRun(id);
    return run && run.run.finishedAt !== null ? run : null;
  }

  freshness(): FreshnessView {
    return this.fresh;
  }

  async syncFreshness(perWorkId: boolean): Promise<void> {
    const { rows } = await this.db.query<{ job: string; kwargs_key: string; work_id: string; at: string; code_hash: string | null }>(
      `SELECT job, kwargs_key, work_id, at, code_hash FROM ${this.s}.freshness WHERE $1 OR work_id = ''`,
      [perWorkId],
    );
    for (const row of rows) this.fresh.load(row.job, row.kwargs_key, row.work_id, Number(row.at), row.code_hash);
  }

  async scheduleMarks(): Promise<ReadonlyMap<string, ScheduleMark>> {
    const { rows } = await this.db.query<{ entry_id: string; mark: ScheduleMark }>(`SELECT entry_id, mark FROM ${this.s}.schedule_marks`);
    return new Map(rows.map((r) => [r.entry_id, r.mark]));
  }

  setScheduleMark(entryId: string, mark: ScheduleMark): void {
    this.ops.push({ t: "mark", entry: entryId, mark });
  }

  async tickFired(entryId: string, tickAt: number): Promise<boolean> {
    const { rowCount } = await this.db.query(`SELECT 1 FROM ${this.s}.schedule_ticks WHERE entry_id = $1 AND tick_at = $2`, [entryId, tickAt]);
    return (rowCount ?? 0) > 0;
  }

  async listRuns(limit: number, holds?: (run: RunRecord, chunks: number) => boolean): Promise<ArchivedRun[]> {
    const { rows } = await this.db.query<{ record: RunRecord }>(`SELECT record FROM ${this.s}.runs ORDER BY created_at DESC, id DESC LIMIT $1`, [limit]);
    const runs = rows.map((r) => r.record);
    if (!holds || runs.length === 0) return this.withChunks(runs);
    // Counted first, so the chunks of the runs left out are never read.
    const counted = await this.db.query<{ run_id: string; n: number }>(`SELECT run_id, count(*)::int AS n FROM ${this.s}.chunks WHERE run_id = ANY($1) GROUP BY run_id`, [runs.map((r) => r.id)]);
    const counts = new Map(counted.rows.map((row) => [row.run_id, row.n]));
    return this.withChunks(runs.filter((run) => holds(run, counts.get(run.id) ?? 0)));
  }

  async listRunSummaries(limit: number): Promise<RunSummary[]> {
    const { rows } = await this.db.query<{ record: RunRecord }>(`SELECT record FROM ${this.s}.runs ORDER BY created_at DESC, id DESC LIMIT $1`, [limit]);
    if (rows.length === 0) return [];
    const counted = await this.db.query<{ run_id: string; state: ChunkState; n: number }>(`SELECT run_id, state, count(*)::int AS n FROM ${this.s}.chunks WHERE run_id = ANY($1) GROUP BY run_id, state`, [rows.map((r) => r.record.id)]);
    const states = new Map<string, Partial<Record<ChunkState, number>>>(rows.map((r) => [r.record.id, {}]));
    for (const row of counted.rows) states.get(row.run_id)![row.state] = row.n;
    return rows.map(({ record }) => ({ run: record, states: states.get(record.id)! }));
  }

  async latestRunOf(job: string): Promise<ArchivedRun | null> {
    // Newest runs first, each asked whether it has a chunk of the job: however old its last run is.
    const { rows } = await this.db.query<{ record: RunRecord }>(
      `SELECT record FROM ${this.s}.runs r WHERE EXISTS (SELECT 1 FROM ${this.s}.chunks c WHERE c.run_id = r.id AND c.job = $1) ORDER BY created_at DESC, id DESC LIMIT 1`,
      [job],
    );
    return (await this.withChunks(rows.map((r) => r.record)))[0] ?? null;
  }

  async getRun(id: string): Promise<ArchivedRun | null> {
    const { rows } = await this.db.query<{ record: RunRecord }>(`SELECT record FROM ${this.s}.runs WHERE id = $1`, [id]);
    return (await this.withChunks(rows.map((r) => r.record)))[0] ?? null;
  }

  private async withChunks(runs: RunRecord[]): Promise<ArchivedRun[]> {
    if (runs.length === 0) return [];
    const { rows } = await this.db.query<{ r: ChunkRecord }>(`SELECT ${chunkRecord("c")} AS r FROM ${this.s}.chunks c WHERE c.run_id = ANY($1) ORDER BY c.seq`, [runs.map((r) => r.id)]);
    const byRun = new Map<string, ChunkRecord[]>(runs.map((r) => [r.id, []]));
    for (const { r } of rows) byRun.get(r.runId)?.push(r);
    return runs.map((run) => ({ run, chunks: byRun.get(run.id)! }));
  }

  /** Everything written before this call, applied in one transaction. */
  commit(): Promise<CommitResult> {
    const ops = this.ops;
    this.ops = [];
    // A failed write was reported to the commit that carried it, not to later ones.
    const next = this.flushing.catch(() => undefined).then(() => (ops.length ? this.apply(ops) : { conflicts: [] }));
    this.flushing = next;
    return next;
  }

  private async apply(ops: Op[]): Promise<CommitResult> {
    try {
      return await this.db.transaction(async (client) => {
        let pending = false;
        const conflicts: string[] = [];
        for (const batch of coalesce(ops)) pending = (await this.applyOne(client, batch, conflicts)) || pending;
        // Delivered at COMMIT: executors wake to chunks that are already there.
        if (pending) await client.query("SELECT pg_notify($1, '')", [this.db.channel("work")]);
        const moved = conflicts.length ? await client.query<{ r: ChunkRecord }>(`SELECT ${chunkRecord("c")} AS r FROM ${this.s}.chunks c WHERE c.id = ANY($1)`, [conflicts]) : null;
        return { conflicts: moved?.rows.map((r) => r.r) ?? [] };
      });
    } catch (error) {
      throw new StoreError("database", `writing to ${this.location} failed: ${errorMessage(error)}`, undefined, error);
    }
  }

  /** Applies one (coalesced) write; true when it made chunks pending. Guarded patches that found their chunk moved go to `conflicts`. */
  private async applyOne(client: pg.PoolClient, op: Op, conflicts: string[]): Promise<boolean> {
    const s = this.s;
    switch (op.t) {
      case "run+": {
        const { run } = op;
        await client.query(`INSERT INTO ${s}.runs (id, job, status, finished, created_at, record) VALUES ($1, $2, $3, false, $4, $5)`, [run.id, run.job, run.status, run.createdAt, run]);
        if (run.scheduleEntry && run.scheduleTick != null) {
          // In the run's own transaction: a tick has a run or has not fired, never half.
          await client.query(`INSERT INTO ${s}.schedule_ticks (entry_id, tick_at, run_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [run.scheduleEntry, run.scheduleTick, run.id]);
        }
        return false;
      }
      case "run~":
        await client.query(
          `UPDATE ${s}.runs SET record = record || $2::jsonb, status = coalesce($3, status),
             finished = CASE WHEN $3 IS NULL THEN finished ELSE $3 IN ('done', 'failed', 'cancelled') END,
             cancel_requested = coalesce(($2::jsonb->>'cancelRequested')::boolean, cancel_requested)
           WHERE id = $1`,
          [op.id, JSON.stringify(op.patch), op.patch.status ?? null],
        );
        return false;
      case "chunks+": {
        const { sql, params } = insertChunks(s, op.chunks);
        await client.query(sql, params);
        return op.chunks.some((c) => c.state === "pending");
      }
      case "chunks~": {
        // A patch applies only while the chunk is in the state the orchestrator saw.
        const { rows } = await client.query<{ id: string }>(
          `UPDATE ${s}.chunks c SET ${applyPatch("c", "p.patch")}
           FROM (SELECT e->>0 AS id, e->1 AS patch, e->>2 AS seen FROM jsonb_array_elements($1::jsonb) e) p
           WHERE c.id = p.id AND c.state = p.seen
           RETURNING c.id`,
          [JSON.stringify(op.patches)],
        );
        const applied = new Set(rows.map((r) => r.id));
        for (const [id] of op.patches) if (!applied.has(id)) conflicts.push(id);
        return op.patches.some(([id, patch]) => patch.state === "pending" && applied.has(id));
      }
      case "ok":
        await client.query(
          // The newest success per row wins, and its code hash goes with it.
          `INSERT INTO ${s}.freshness (job, kwargs_key, work_id, at, code_hash)
           SELECT DISTINCT ON (e->>0, e->>1, e->>2) e->>0, e->>1, e->>2, (e->>3)::bigint, e->>4 FROM jsonb_array_elements($1::jsonb) e
           ORDER BY e->>0, e->>1, e->>2, (e->>3)::bigint DESC
           ON CONFLICT (job, kwargs_key, work_id) DO UPDATE SET at = greatest(${s}.freshness.at, excluded.at),
             code_hash = CASE WHEN excluded.at >= ${s}.freshness.at THEN excluded.code_hash ELSE ${s}.freshness.code_hash END`,
          [JSON.stringify(op.successes.flatMap((x) => ["", ...x.workIds.map(workIdKey)].map((id) => [x.job, x.kwargsKey, id, x.at, x.codeHash ?? null])))],
        );
        return false;
      case "mark":
        await client.query(`INSERT INTO ${s}.schedule_marks (entry_id, mark) VALUES ($1, $2) ON CONFLICT (entry_id) DO UPDATE SET mark = excluded.mark`, [op.entry, op.mark]);
        return false;
    }
  }

  problem(): string | null {
    return this.db.currentProblem();
  }

  onProblem(listener: (problem: string | null) => void): () => void {
    return this.db.onProblem(listener);
  }

  skipped(): readonly string[] {
    // Rows are typed columns: there is nothing a read could skip.
    return [];
  }

  abandon(): void {
    // Commits to the database fail rather than wait: nothing is waiting to be abandoned.
  }

  async close(): Promise<void> {
    await this.commit().catch(() => undefined);
    await this.leadership.close();
    await this.db.close();
  }
}

/**
 * Merges runs of consecutive writes of one kind into one statement each, as long as no
 * chunk appears twice in one (an UPDATE … FROM applies one source row per target).
 */
function* coalesce(ops: Op[]): Generator<Op> {
  let current: Op | null = null;
  let ids = new Set<string>();
  for (const op of ops) {
    if (current?.t === "chunks~" && op.t === "chunks~" && op.patches.every(([id]) => !ids.has(id))) {
      for (const patch of op.patches) {
        current.patches.push(patch);
        ids.add(patch[0]);
      }
      continue;
    }
    if (current?.t === "chunks+" && op.t === "chunks+") {
      for (const chunk of op.chunks) current.chunks.push(chunk);
      continue;
    }
    if (current?.t === "ok" && op.t === "ok") {
      for (const success of op.successes) current.successes.push(success);
      continue;
    }
    if (current) yield current;
    current = op.t === "chunks~" ? { t: "chunks~", patches: [...op.patches] } : op.t === "chunks+" ? { t: "chunks+", chunks: [...op.chunks] } : op.t === "ok" ? { t: "ok", successes: [...op.successes] } : op;
    ids = op.t === "chunks~" ? new Set(op.patches.map(([id]) => id)) : new Set();
  }
  if (current) yield current;
}
