import pg from "pg";
import { StoreError, errorMessage } from "../../errors.js";
import type { FreshnessView } from "../../graph/types.js";
import type { ArchivedRun, ChunkPatch, ChunkRecord, RunPatch, RunRecord } from "../records.js";
import type { ChunkPatchOp, InstanceInfo, ScheduleMark, Store } from "../store.js";
import { redactUrl, type DatabaseConfig } from "./config.js";
import { FreshnessCache } from "./freshness-cache.js";
import { migrate, quoteIdent } from "./migrations.js";

/** A chunk row as one record: the JSON, with the columns that are the truth laid over it. */
const chunkRecord = (c: string) => `${c}.record || jsonb_build_object('state', ${c}.state, 'owner', ${c}.owner, 'token', ${c}.token, 'attempts', ${c}.attempts)`;
/** The fields of a patch that live in their own columns are kept out of the JSON. */
const recordPart = (patch: string) => `(${patch} - 'state' - 'owner' - 'token' - 'attempts')`;

type Op =
  | { t: "run+"; run: RunRecord }
  | { t: "run~"; id: string; patch: RunPatch }
  | { t: "chunks+"; chunks: ChunkRecord[] }
  | { t: "chunks~"; patches: ChunkPatchOp[] }
  | { t: "mark"; entry: string; mark: ScheduleMark };

/** One attempt's end, as a chunk worker reports it. */
export interface Completion {
  readonly id: string;
  readonly token: string;
  readonly patch: ChunkPatch;
}

export interface CopyRow {
  readonly info: InstanceInfo;
  readonly leading: boolean;
  /** Seconds since its last heartbeat. */
  readonly silentFor: number;
  readonly stopped: boolean;
}

export interface StoredLog {
  readonly chunkId: string;
  readonly attempt: number;
  readonly runId: string;
  readonly job: string;
  /** The copy that ran the attempt. */
  readonly copy: string;
  readonly text: string;
  readonly writtenAt: number;
}

/**
 * The shared store: PostgreSQL, for several stau copies on several machines.
 *
 * The orchestrating copy writes through the Store interface: writes are buffered and
 * applied in one transaction at commit(). Every copy's chunk worker claims and
 * completes chunks with the methods below it, straight away and in batches. A chunk
 * that a worker finished or gave back is flagged `unseen` until the orchestrator has
 * applied that (claims are not: the orchestrator has nothing to do for them), and
 * NOTIFY wakes whoever waits (polling covers a lost notification).
 */
export class PgStore implements Store {
  readonly location: string;
  readonly schema: string;
  private readonly s: string;
  private readonly pool: pg.Pool;
  private ops: Op[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly fresh = new FreshnessCache();
  private leaderClient: pg.Client | null = null;
  private listenClient: pg.Client | null = null;
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private closed = false;

  private constructor(private readonly config: DatabaseConfig) {
    this.location = `${redactUrl(config.url)} (schema ${config.schema})`;
    this.schema = config.schema;
    this.s = quoteIdent(config.schema);
    this.pool = new pg.Pool({ connectionString: config.url, max: 4 });
    // An idle client that loses its connection must not crash the process; the next query reports it.
    this.pool.on("error", () => undefined);
  }

  /** Connects, applies migrations and reads the freshness table. */
  static async open(config: DatabaseConfig): Promise<PgStore> {
    const store = new PgStore(config);
    try {
      const client = await store.pool.connect();
      try {
        await migrate(client, config.schema);
      } finally {
        client.release();
      }
      const { rows } = await store.pool.query<{ job: string; kwargs_key: string; work_id: string; at: string }>(`SELECT job, kwargs_key, work_id, at FROM ${store.s}.freshness`);
      for (const row of rows) store.fresh.load(row.job, row.kwargs_key, row.work_id, Number(row.at));
    } catch (error) {
      await store.pool.end().catch(() => undefined);
      throw new StoreError("database", `cannot use the PostgreSQL store at ${store.location}: ${errorMessage(error)}`, "check STAU_DATABASE_URL (or --database-url) and that PostgreSQL is running and reachable", error);
    }
    return store;
  }

  /** The notification channel `name` of this schema (schemas sharing a database stay apart). */
  channel(name: "work" | "changes" | "cancel" | "commands" | "replies"): string {
    return `stau_${this.schema}_${name}`;
  }

  // --- the orchestrator's writes (Store) ---------------------------------------

  async acquireLeadership(instance: InstanceInfo): Promise<{ ok: true } | { ok: false; holder: InstanceInfo | null }> {
    if (!this.leaderClient) {
      // A session-level advisory lock lives as long as this connection: if the copy
      // dies, PostgreSQL drops the connection and the lock with it.
      const client = new pg.Client({ connectionString: this.config.url });
      client.on("error", () => undefined);
      await client.connect();
      this.leaderClient = client;
    }
    const { rows } = await this.leaderClient.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext($1), 1) AS ok", [`stau.lead.${this.schema}`]);
    if (rows[0]?.ok) {
      await this.pool.query(`UPDATE ${this.s}.instances SET orchestrating = (id = $1)`, [instance.id]);
      return { ok: true };
    }
    const holder = await this.pool.query<{ info: InstanceInfo }>(`SELECT info FROM ${this.s}.instances WHERE orchestrating AND stopped_at IS NULL LIMIT 1`);
    return { ok: false, holder: holder.rows[0]?.info ?? null };
  }

  /** Gives the orchestrator lock up now (a stopping copy), so another copy takes over while this one drains. */
  async releaseLeadership(instance: InstanceInfo): Promise<void> {
    const client = this.leaderClient;
    this.leaderClient = null;
    await client?.end().catch(() => undefined);
    await this.pool.query(`UPDATE ${this.s}.instances SET orchestrating = false WHERE id = $1`, [instance.id]);
  }

  /** Resolves (with the reason) when the connection holding the leadership lock is lost. */
  leadershipLost(): Promise<Error> {
    const client = this.leaderClient;
    if (!client) return new Promise(() => undefined);
    return new Promise((resolve) => {
      client.once("error", resolve);
      client.once("end", () => resolve(new Error("the connection holding the orchestrator lock closed")));
    });
  }

  async active(): Promise<{ runs: RunRecord[]; chunks: ChunkRecord[] }> {
    const runs = await this.pool.query<{ record: RunRecord }>(`SELECT record FROM ${this.s}.runs WHERE NOT finished ORDER BY created_at`);
    const chunks = await this.pool.query<{ r: ChunkRecord }>(`SELECT ${chunkRecord("c")} AS r FROM ${this.s}.chunks c JOIN ${this.s}.runs r ON r.id = c.run_id WHERE NOT r.finished ORDER BY c.seq`);
    return { runs: runs.rows.map((r) => r.record), chunks: chunks.rows.map((r) => r.r) };
  }

  insertRun(run: RunRecord, chunks: readonly ChunkRecord[]): void {
    this.ops.push({ t: "run+", run });
    if (chunks.length) this.ops.push({ t: "chunks+", chunks: [...chunks] });
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

  /**
   * Reads what the orchestrating copy recorded since this store opened (for a copy
   * that does not orchestrate, showing its console): each job's newest success, or
   * with `perWorkId` every row, as a plan preview needs.
   */
  async reloadFreshness(perWorkId: boolean): Promise<void> {
    const { rows } = await this.pool.query<{ job: string; kwargs_key: string; work_id: string; at: string }>(
      `SELECT job, kwargs_key, work_id, at FROM ${this.s}.freshness WHERE $1 OR work_id = ''`,
      [perWorkId],
    );
    for (const row of rows) this.fresh.load(row.job, row.kwargs_key, row.work_id, Number(row.at));
  }

  async scheduleMarks(): Promise<ReadonlyMap<string, ScheduleMark>> {
    const { rows } = await this.pool.query<{ entry_id: string; mark: ScheduleMark }>(`SELECT entry_id, mark FROM ${this.s}.schedule_marks`);
    return new Map(rows.map((r) => [r.entry_id, r.mark]));
  }

  setScheduleMark(entryId: string, mark: ScheduleMark): void {
    this.ops.push({ t: "mark", entry: entryId, mark });
  }

  async tickFired(entryId: string, tickAt: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM ${this.s}.schedule_ticks WHERE entry_id = $1 AND tick_at = $2`, [entryId, tickAt]);
    return (rowCount ?? 0) > 0;
  }

  async listRuns(limit: number): Promise<ArchivedRun[]> {
    const { rows } = await this.pool.query<{ record: RunRecord }>(`SELECT record FROM ${this.s}.runs ORDER BY created_at DESC, id DESC LIMIT $1`, [limit]);
    return this.withChunks(rows.map((r) => r.record));
  }

  async getRun(id: string): Promise<ArchivedRun | null> {
    const { rows } = await this.pool.query<{ record: RunRecord }>(`SELECT record FROM ${this.s}.runs WHERE id = $1`, [id]);
    return (await this.withChunks(rows.map((r) => r.record)))[0] ?? null;
  }

  private async withChunks(runs: RunRecord[]): Promise<ArchivedRun[]> {
    if (runs.length === 0) return [];
    const { rows } = await this.pool.query<{ r: ChunkRecord }>(`SELECT ${chunkRecord("c")} AS r FROM ${this.s}.chunks c WHERE c.run_id = ANY($1) ORDER BY c.seq`, [runs.map((r) => r.id)]);
    const byRun = new Map<string, ChunkRecord[]>(runs.map((r) => [r.id, []]));
    for (const { r } of rows) byRun.get(r.runId)?.push(r);
    return runs.map((run) => ({ run, chunks: byRun.get(run.id)! }));
  }

  /** Everything written before this call, applied in one transaction. */
  commit(): Promise<void> {
    const ops = this.ops;
    this.ops = [];
    // A failed write was reported to the commit that carried it, not to later ones.
    if (ops.length === 0) return this.flushing.catch(() => undefined);
    return (this.flushing = this.flushing.catch(() => undefined).then(() => this.apply(ops)));
  }

  private async apply(ops: Op[]): Promise<void> {
    const client = await this.pool.connect();
    let pending = false;
    try {
      await client.query("BEGIN");
      for (const batch of coalesce(ops)) pending = (await this.applyOne(client, batch)) || pending;
      // Delivered at COMMIT: workers wake to chunks that are already there.
      if (pending) await client.query("SELECT pg_notify($1, '')", [this.channel("work")]);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw new StoreError("database", `writing to ${this.location} failed: ${errorMessage(error)}`, undefined, error);
    } finally {
      client.release();
    }
  }

  /** Applies one (coalesced) write; true when it made chunks pending. */
  private async applyOne(client: pg.PoolClient, op: Op): Promise<boolean> {
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
      case "run~": {
        const status = op.patch.status ?? null;
        await client.query(
          `UPDATE ${s}.runs SET record = record || $2::jsonb, status = coalesce($3, status),
             finished = CASE WHEN $3 IS NULL THEN finished ELSE $3 IN ('done', 'failed', 'cancelled') END,
             cancel_requested = CASE WHEN $3 IN ('waiting', 'running') AND finished THEN false ELSE cancel_requested END
           WHERE id = $1`,
          [op.id, JSON.stringify(op.patch), status],
        );
        return false;
      }
      case "chunks+":
        await client.query(
          `INSERT INTO ${s}.chunks (id, run_id, job, state, attempts, record)
           SELECT e->>'id', e->>'runId', e->>'job', e->>'state', (e->>'attempts')::int, ${recordPart("e")} FROM jsonb_array_elements($1::jsonb) e`,
          [JSON.stringify(op.chunks)],
        );
        return op.chunks.some((c) => c.state === "pending");
      case "chunks~":
        // A patch applies only while the chunk is in the state the orchestrator saw.
        await client.query(
          `UPDATE ${s}.chunks c SET
             record = c.record || ${recordPart("p.patch")},
             state = coalesce(p.patch->>'state', c.state),
             owner = CASE WHEN p.patch ? 'owner' THEN p.patch->>'owner' ELSE c.owner END,
             token = CASE WHEN p.patch ? 'token' THEN p.patch->>'token' ELSE c.token END,
             attempts = coalesce((p.patch->>'attempts')::int, c.attempts)
           FROM (SELECT e->>0 AS id, e->1 AS patch, e->>2 AS seen FROM jsonb_array_elements($1::jsonb) e) p
           WHERE c.id = p.id AND (p.seen IS NULL OR c.state = p.seen)`,
          [JSON.stringify(op.patches)],
        );
        return op.patches.some(([, patch]) => patch.state === "pending");
      case "mark":
        await client.query(`INSERT INTO ${s}.schedule_marks (entry_id, mark) VALUES ($1, $2) ON CONFLICT (entry_id) DO UPDATE SET mark = excluded.mark`, [op.entry, op.mark]);
        return false;
    }
  }

  // --- every copy: chunk workers -----------------------------------------------

  /**
   * Claims up to `limit` pending chunks for `owner`, oldest first, skipping rows
   * another copy is claiming, each with a fresh attempt token.
   */
  async claim(owner: string, limit: number, skipJobs: readonly string[], at: number): Promise<ChunkRecord[]> {
    const { rows } = await this.pool.query<{ r: ChunkRecord }>(
      `WITH picked AS (
         SELECT id FROM ${this.s}.chunks WHERE state = 'pending' AND NOT (job = ANY($3::text[]))
         ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       UPDATE ${this.s}.chunks c SET state = 'running', owner = $1, token = gen_random_uuid()::text, attempts = c.attempts + 1,
         heartbeat_at = now(),
         record = c.record || jsonb_build_object('startedAt', $4::bigint, 'finishedAt', null, 'notBefore', null)
       FROM picked WHERE c.id = picked.id
       RETURNING ${chunkRecord("c")} AS r`,
      [owner, limit, skipJobs, at],
    );
    return rows.map((r) => r.r).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /**
   * Records attempts' ends, each only if its token still holds the chunk (a chunk
   * released from a stalled copy is not completed twice). Returns the ids recorded.
   * Freshness follows when the orchestrator takes the change (takeChanges), so copies
   * finishing chunks of one job do not queue on that job's freshness row.
   */
  async complete(completions: readonly Completion[]): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ ids: string[] | null }>(
      `WITH input AS (
         SELECT e->>'id' AS id, e->>'token' AS token, e->'patch' AS patch FROM jsonb_array_elements($1::jsonb) e
       ), done AS (
         UPDATE ${this.s}.chunks c SET state = i.patch->>'state', owner = NULL, token = NULL, heartbeat_at = NULL, unseen = true,
           record = c.record || ${recordPart("i.patch")}
         FROM input i WHERE c.id = i.id AND c.token = i.token AND c.state = 'running'
         RETURNING c.id
       )
       SELECT array_agg(id) AS ids, pg_notify($2, '') FROM done`,
      [JSON.stringify(completions), this.channel("changes")],
    );
    return new Set(rows[0]?.ids ?? []);
  }

  /** Gives running chunks of `owner` back to the queue at once (a copy stopping). */
  async handBack(owner: string, ids: readonly string[], reason: string): Promise<number> {
    if (ids.length === 0) return 0;
    const { rowCount } = await this.pool.query(
      `WITH back AS (
         UPDATE ${this.s}.chunks SET state = 'pending', owner = NULL, token = NULL, heartbeat_at = NULL, unseen = true,
           record = record || jsonb_build_object('error', jsonb_build_object('kind', 'cancelled', 'message', $3::text), 'worker', null)
         WHERE owner = $1 AND state = 'running' AND id = ANY($2) RETURNING id
       )
       SELECT id, pg_notify($4, ''), pg_notify($5, '') FROM back`,
      [owner, ids, reason, this.channel("work"), this.channel("changes")],
    );
    return rowCount ?? 0;
  }

  /**
   * This copy and the chunks it still holds are alive. Only the chunks named: one the
   * copy lost track of stops being heartbeated and is released like a dead copy's.
   */
  async heartbeat(instance: InstanceInfo, chunkIds: readonly string[]): Promise<void> {
    await this.pool.query(
      `WITH me AS (
         INSERT INTO ${this.s}.instances (id, info, heartbeat_at) VALUES ($1, $2, now())
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL
       )
       UPDATE ${this.s}.chunks SET heartbeat_at = now() WHERE owner = $1 AND state = 'running' AND id = ANY($3)`,
      [instance.id, instance, chunkIds],
    );
  }

  async stopped(instance: InstanceInfo): Promise<void> {
    await this.pool.query(`UPDATE ${this.s}.instances SET stopped_at = now(), orchestrating = false WHERE id = $1`, [instance.id]);
  }

  /**
   * Releases chunks whose copy stopped heartbeating for `silentMs`: they go back to
   * pending for another attempt. Returns how many, by copy.
   */
  async releaseSilent(silentMs: number): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ owner: string; n: string }>(
      `WITH gone AS (
         UPDATE ${this.s}.chunks c SET state = 'pending', owner = NULL, token = NULL, heartbeat_at = NULL, unseen = true,
           record = c.record || jsonb_build_object('error', jsonb_build_object('kind', 'cancelled', 'message', 'interrupted: stau copy ' || c.owner || ' stopped heartbeating while this chunk ran'), 'worker', null)
         FROM (SELECT id, owner FROM ${this.s}.chunks WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => $1::double precision / 1000) FOR UPDATE SKIP LOCKED) old
         WHERE c.id = old.id
         RETURNING old.owner
       )
       SELECT owner, count(*) AS n, pg_notify($2, '') FROM gone GROUP BY owner`,
      [silentMs, this.channel("work")],
    );
    return new Map(rows.map((r) => [r.owner, Number(r.n)]));
  }

  /**
   * The orchestrator takes the changes workers made since it last looked, and in the
   * same statement records the freshness the done chunks among them earned.
   */
  async takeChanges(limit: number): Promise<ChunkRecord[]> {
    const { rows } = await this.pool.query<{ r: ChunkRecord }>(
      `WITH picked AS (
         SELECT id FROM ${this.s}.chunks WHERE unseen ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
       ), taken AS (
         UPDATE ${this.s}.chunks c SET unseen = false FROM picked WHERE c.id = picked.id
         RETURNING ${chunkRecord("c")} AS r, c.state, c.seq
       ), earned AS (
         SELECT t.r->>'job' AS job, t.r->>'kwargsKey' AS kwargs_key, w.id AS work_id, max((t.r->>'finishedAt')::bigint) AS at
         FROM taken t
         CROSS JOIN LATERAL (SELECT '' AS id UNION ALL SELECT x::text FROM jsonb_array_elements(t.r->'workIds') x) w
         WHERE t.state = 'done'
         GROUP BY 1, 2, 3
       ), fresh AS (
         INSERT INTO ${this.s}.freshness (job, kwargs_key, work_id, at) SELECT job, kwargs_key, work_id, at FROM earned
         ON CONFLICT (job, kwargs_key, work_id) DO UPDATE SET at = greatest(${this.s}.freshness.at, excluded.at)
       )
       SELECT r FROM taken ORDER BY seq`,
      [limit],
    );
    const changes = rows.map((r) => r.r);
    for (const c of changes) if (c.state === "done") this.fresh.record(c.job, c.kwargsKey, c.workIds, c.finishedAt ?? 0);
    return changes;
  }

  /** Asks every copy to stop the running chunks of a run (the orchestrator cancelled it). */
  async requestCancel(runId: string): Promise<void> {
    await this.pool.query(`UPDATE ${this.s}.runs SET cancel_requested = true WHERE id = $1`, [runId]);
    await this.pool.query("SELECT pg_notify($1, $2)", [this.channel("cancel"), runId]);
  }

  /** Of these runs, those an operator cancelled. */
  async cancelledRuns(runIds: readonly string[]): Promise<string[]> {
    if (runIds.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM ${this.s}.runs WHERE cancel_requested AND id = ANY($1)`, [runIds]);
    return rows.map((r) => r.id);
  }

  async copies(): Promise<CopyRow[]> {
    const { rows } = await this.pool.query<{ info: InstanceInfo; leading: boolean; silent: number; stopped: boolean }>(
      `SELECT info, orchestrating AS leading, extract(epoch FROM now() - heartbeat_at)::float AS silent, stopped_at IS NOT NULL AS stopped
       FROM ${this.s}.instances WHERE stopped_at IS NULL OR stopped_at > now() - interval '1 hour' ORDER BY heartbeat_at DESC`,
    );
    return rows.map((r) => ({ info: r.info, leading: r.leading, silentFor: Math.round(r.silent), stopped: r.stopped }));
  }

  // --- commands from any machine ------------------------------------------------

  async submitCommand(request: unknown): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>(`INSERT INTO ${this.s}.commands (request) VALUES ($1) RETURNING id, pg_notify($2, '')`, [JSON.stringify(request), this.channel("commands")]);
    return Number(rows[0]!.id);
  }

  /** The orchestrator takes open commands; each is taken once. */
  async takeCommands(taker: string): Promise<{ id: number; request: unknown }[]> {
    const { rows } = await this.pool.query<{ id: string; request: unknown }>(
      `UPDATE ${this.s}.commands SET taken_by = $1 WHERE id IN (SELECT id FROM ${this.s}.commands WHERE taken_by IS NULL ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED) RETURNING id, request`,
      [taker],
    );
    return rows.map((r) => ({ id: Number(r.id), request: r.request })).sort((a, b) => a.id - b.id);
  }

  async answerCommand(id: number, response: unknown): Promise<void> {
    await this.pool.query(`UPDATE ${this.s}.commands SET response = $2, answered_at = now() WHERE id = $1 RETURNING pg_notify($3, $1::text)`, [id, JSON.stringify(response), this.channel("replies")]);
  }

  /** Takes back an order nobody took yet; false if an orchestrator took it meanwhile. */
  async withdrawCommand(id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${this.s}.commands WHERE id = $1 AND taken_by IS NULL`, [id]);
    return (rowCount ?? 0) > 0;
  }

  async commandAnswer(id: number): Promise<{ taken: boolean; response: unknown } | null> {
    const { rows } = await this.pool.query<{ taken: boolean; response: unknown }>(`SELECT taken_by IS NOT NULL AS taken, response FROM ${this.s}.commands WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  // --- logs ---------------------------------------------------------------------

  async saveLog(log: Omit<StoredLog, "writtenAt">): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.s}.chunk_logs (chunk_id, attempt, run_id, job, copy, text) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (chunk_id, attempt) DO UPDATE SET text = excluded.text, copy = excluded.copy, written_at = now()`,
      [log.chunkId, log.attempt, log.runId, log.job, log.copy, log.text],
    );
  }

  /**
   * The newest logs of a job (or of all jobs), newest first; of one run when `runId` is
   * given; stored after `since` (a writtenAt this store returned) when given.
   */
  async logs(job: string | null, runId: string | null, limit: number, since: number | null = null): Promise<StoredLog[]> {
    const { rows } = await this.pool.query<{ chunk_id: string; attempt: number; run_id: string; job: string; copy: string; text: string; at: Date }>(
      `SELECT chunk_id, attempt, run_id, job, copy, text, written_at AS at FROM ${this.s}.chunk_logs
       WHERE ($1::text IS NULL OR job = $1) AND ($2::text IS NULL OR run_id = $2) AND ($4::float8 IS NULL OR written_at > to_timestamp($4::float8 / 1000))
       ORDER BY written_at DESC LIMIT $3`,
      [job, runId, limit, since],
    );
    return rows.map((r) => ({ chunkId: r.chunk_id, attempt: r.attempt, runId: r.run_id, job: r.job, copy: r.copy, text: r.text, writtenAt: r.at.getTime() }));
  }

  // --- notifications ------------------------------------------------------------

  /** Calls `listener` on each notification of `channel`; returns how to stop. */
  async listen(channel: string, listener: (payload: string) => void): Promise<() => void> {
    if (!this.listenClient) {
      const client = new pg.Client({ connectionString: this.config.url });
      // Losing it only slows things down to the polling interval.
      client.on("error", () => undefined);
      client.on("notification", (message) => {
        for (const fn of this.listeners.get(message.channel) ?? []) fn(message.payload ?? "");
      });
      await client.connect();
      this.listenClient = client;
    }
    let set = this.listeners.get(channel);
    if (!set) {
      this.listeners.set(channel, (set = new Set()));
      await this.listenClient.query(`LISTEN ${quoteIdent(channel)}`);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commit().catch(() => undefined);
    await Promise.all([this.leaderClient?.end().catch(() => undefined), this.listenClient?.end().catch(() => undefined), this.pool.end().catch(() => undefined)]);
  }
}

/**
 * Merges runs of consecutive chunk writes into one statement each, as long as no
 * chunk appears twice in one (an UPDATE … FROM applies one source row per target).
 */
function* coalesce(ops: Op[]): Generator<Op> {
  let current: Op | null = null;
  let ids = new Set<string>();
  for (const op of ops) {
    if (current?.t === "chunks~" && op.t === "chunks~" && op.patches.every(([id]) => !ids.has(id))) {
      current.patches.push(...op.patches);
      for (const [id] of op.patches) ids.add(id);
      continue;
    }
    if (current?.t === "chunks+" && op.t === "chunks+") {
      current.chunks.push(...op.chunks);
      continue;
    }
    if (current) yield current;
    current = op.t === "chunks~" ? { t: "chunks~", patches: [...op.patches] } : op.t === "chunks+" ? { t: "chunks+", chunks: [...op.chunks] } : op;
    ids = op.t === "chunks~" ? new Set(op.patches.map(([id]) => id)) : new Set();
  }
  if (current) yield current;
}
