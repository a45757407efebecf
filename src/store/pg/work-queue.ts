import { StoreError, errorMessage } from "../../errors.js";
import type { ChunkPatch, ChunkRecord, InstanceInfo } from "../records.js";
import type { ClaimFilter, Completion, QueueChannel, WorkQueue } from "../store.js";
import { applyPatch, chunkRecord } from "./chunk-sql.js";
import type { PgConnection } from "./connection.js";

/** `column` (a chunk row's heartbeat) is older than the milliseconds in query parameter `ms` (e.g. "$1"). */
const heartbeatOlderThan = (column: string, ms: string) => `${column} < now() - make_interval(secs => ${ms}::double precision / 1000)`;

/**
 * The shared work queue. Executors on every instance claim with FOR UPDATE SKIP LOCKED
 * and complete in batches, each result checked against its claim's token. A chunk an
 * executor finished or gave back is noted in `chunk_changes` until the orchestrator
 * takes the change (claims are not: they cause it nothing to do), and NOTIFY wakes
 * whoever waits.
 */
export class PgQueue implements WorkQueue {
  private readonly s: string;

  constructor(private readonly db: PgConnection) {
    this.s = db.s;
  }

  async claim(owner: string, limit: number, filter: ClaimFilter, patch: ChunkPatch): Promise<ChunkRecord[]> {
    const limits = filter.limits ?? {};
    const limited = Object.keys(limits).length > 0;
    const params = [limit, filter.skipJobs, JSON.stringify({ ...patch, owner }), filter.suspects, filter.runs ?? null];
    const claimed = await this.db.transaction(async (client) => {
      // Each run's oldest pending chunks must be read in order from chunks_pending_run. A
      // planner that underestimates how many a run has (a new table without statistics,
      // or statistics from before a big trigger) reads them all by bitmap and sorts them
      // instead, at every claim: measured 11-90 ms a claim in the middle of a 20,000-chunk
      // run, where the ordered scan takes 0.3-2 ms. Without bitmap scans a claim of a
      // limited job is estimated past PostgreSQL's JIT thresholds, and compiling it took
      // ~0.9 s each time: far more than running it.
      await client.query("SET LOCAL enable_bitmapscan = off; SET LOCAL jit = off");
      // Claims of limited jobs take turns across instances: the running chunks one
      // counts stay counted until its claim commits and the next one looks.
      if (limited) await client.query("SELECT pg_advisory_xact_lock(hashtext($1), 1)", [`stau.concurrency.${this.db.schema}`]);
      const sql = this.claimSql(limited ? "$6::jsonb" : null);
      return (await client.query<{ r: ChunkRecord; seq: string }>(sql, limited ? [...params, JSON.stringify(limits)] : params)).rows;
    });
    // Oldest first, as they became pending (the runs' turns decided which).
    return claimed.sort((a, b) => Number(a.seq) - Number(b.seq)).map((r) => r.r);
  }

  /**
   * Pending chunks → running, SKIP LOCKED: active runs take turns (each run's oldest,
   * then each run's next…), so a one-chunk run triggered behind a big backfill is in the
   * next claim. With `limits` (a jsonb of job → concurrency), a limited job's chunks are
   * taken only up to its cap minus its running ones.
   */
  private claimSql(limits: string | null): string {
    const claimable = `state = 'pending' AND NOT (job = ANY($2::text[]))
      AND coalesce((record->>'suspect')::boolean, false) = $4 AND ($5::text[] IS NULL OR run_id = ANY($5))`;
    const ctes: string[] = [];
    let within = "";
    if (limits !== null) {
      ctes.push(
        `caps AS (SELECT key AS job, value::int AS cap FROM jsonb_each_text(${limits}))`,
        `room AS (SELECT caps.job, caps.cap - (SELECT count(*) FROM ${this.s}.chunks r WHERE r.state = 'running' AND r.job = caps.job) AS n FROM caps)`,
        `allowed AS (SELECT l.id FROM room, LATERAL (SELECT id FROM ${this.s}.chunks WHERE ${claimable} AND job = room.job ORDER BY seq LIMIT greatest(room.n, 0)) l)`,
      );
      within = "AND (job NOT IN (SELECT job FROM caps) OR id IN (SELECT id FROM allowed))";
    }
    // Each active run's oldest claimable chunks (locked as found, so claimers racing
    // take different ones), then the first `limit` of them by turn.
    ctes.push(
      `taken AS (
         SELECT l.id, l.seq, row_number() OVER (PARTITION BY l.run_id ORDER BY l.seq) AS turn
         FROM ${this.s}.runs a, LATERAL (
           SELECT id, seq, run_id FROM ${this.s}.chunks
           WHERE run_id = a.id AND ${claimable} ${within} ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
         ) l
         WHERE NOT a.finished)`,
      `picked AS (SELECT id FROM taken ORDER BY turn, seq LIMIT $1)`,
    );
    return `WITH ${ctes.join(",\n")}
       UPDATE ${this.s}.chunks c SET ${applyPatch("c", "$3::jsonb", { attempts: "c.attempts + 1", token: "gen_random_uuid()::text" })}, heartbeat_at = now()
       FROM picked WHERE c.id = picked.id
       RETURNING ${chunkRecord("c")} AS r, c.seq`;
  }

  async complete(completions: readonly Completion[]): Promise<Set<string>> {
    const { rows } = await this.db.query<{ ids: string[] | null }>(
      `WITH input AS (
         SELECT e->>'id' AS id, e->>'token' AS token, e->'patch' AS patch FROM jsonb_array_elements($1::jsonb) e
       ), done AS (
         UPDATE ${this.s}.chunks c SET ${applyPatch("c", "i.patch")}, heartbeat_at = NULL
         FROM input i WHERE c.id = i.id AND c.token = i.token AND c.state = 'running'
         RETURNING c.id
       ), noted AS (
         INSERT INTO ${this.s}.chunk_changes (chunk_id) SELECT id FROM done
       )
       SELECT array_agg(id) AS ids, pg_notify($2, '') FROM done`,
      [JSON.stringify(completions), this.db.channel("changes")],
    );
    return new Set(rows[0]?.ids ?? []);
  }

  async handBack(owner: string, ids: readonly string[], patch: ChunkPatch): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<{ id: string }>(
      `WITH back AS (
         UPDATE ${this.s}.chunks c SET ${applyPatch("c", "$3::jsonb")}, heartbeat_at = NULL
         WHERE c.owner = $1 AND c.state = 'running' AND c.id = ANY($2) RETURNING c.id
       ), noted AS (
         INSERT INTO ${this.s}.chunk_changes (chunk_id) SELECT id FROM back
       )
       SELECT id, pg_notify($4, ''), pg_notify($5, '') FROM back`,
      [owner, ids, JSON.stringify(patch), this.db.channel("work"), this.db.channel("changes")],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Only the chunks named: one the instance lost track of stops being heartbeated and is
   * released like a dead instance's. A chunk's heartbeat is renewed only once it is
   * `renewAfterMs` old, so most short chunks end without one: renewing every held chunk
   * every second rewrote each row (and its index entries) once more per second held,
   * as much writing as claiming and completing them when results queued up.
   */
  async heartbeat(instance: InstanceInfo, chunkIds: readonly string[], renewAfterMs: number): Promise<void> {
    await this.db.query(
      `WITH me AS (
         INSERT INTO ${this.s}.instances (id, info, heartbeat_at) VALUES ($1, $2, now())
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL
       )
       UPDATE ${this.s}.chunks SET heartbeat_at = now()
       WHERE owner = $1 AND state = 'running' AND id = ANY($3) AND ${heartbeatOlderThan("heartbeat_at", "$4")}`,
      [instance.id, instance, chunkIds, renewAfterMs],
    );
  }

  async releaseSilent(silentMs: number, patch: (chunk: ChunkRecord, owner: string) => ChunkPatch): Promise<{ owner: string; chunk: ChunkRecord }[]> {
    try {
      return await this.db.transaction(async (client) => {
        const silent = await client.query<{ id: string; owner: string; r: ChunkRecord }>(
          `SELECT c.id, c.owner, ${chunkRecord("c")} AS r FROM ${this.s}.chunks c
           WHERE c.state = 'running' AND ${heartbeatOlderThan("c.heartbeat_at", "$1")} FOR UPDATE SKIP LOCKED`,
          [silentMs],
        );
        if (silent.rows.length === 0) return [];
        const { rows } = await client.query<{ r: ChunkRecord }>(
          `WITH released AS (
             UPDATE ${this.s}.chunks c SET ${applyPatch("c", "p.patch")}, heartbeat_at = NULL
             FROM (SELECT e->>0 AS id, e->1 AS patch FROM jsonb_array_elements($1::jsonb) e) p
             WHERE c.id = p.id AND c.state = 'running'
             RETURNING c.id, ${chunkRecord("c")} AS r
           ), unnoted AS (
             -- The orchestrator applies what it released itself: an older change of these chunks is not news.
             DELETE FROM ${this.s}.chunk_changes WHERE chunk_id IN (SELECT id FROM released)
           )
           SELECT r FROM released`,
          [JSON.stringify(silent.rows.map((row) => [row.id, patch(row.r, row.owner)]))],
        );
        await client.query("SELECT pg_notify($1, '')", [this.db.channel("work")]);
        const owners = new Map(silent.rows.map((row) => [row.id, row.owner]));
        return rows.map((r) => ({ owner: owners.get(r.r.id)!, chunk: r.r }));
      });
    } catch (error) {
      throw new StoreError("database", `releasing chunks of silent instances failed: ${errorMessage(error)}`, undefined, error);
    }
  }

  async takeChanges(limit: number): Promise<ChunkRecord[]> {
    // A chunk changed twice since the last take is one change; a change of a chunk since
    // removed is none. The chunks are looked up by id as an array: joined to the deleted
    // rows, the planner (guessing 600 of them) read the whole chunks table into a hash
    // at every take.
    const { rows } = await this.db.query<{ r: ChunkRecord; seq: string }>(
      `WITH picked AS (
         DELETE FROM ${this.s}.chunk_changes WHERE seq IN (SELECT seq FROM ${this.s}.chunk_changes ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING chunk_id
       )
       SELECT ${chunkRecord("c")} AS r, c.seq FROM ${this.s}.chunks c WHERE c.id = ANY(ARRAY(SELECT chunk_id FROM picked))`,
      [limit],
    );
    return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map((r) => r.r);
  }

  async requestCancel(runId: string): Promise<void> {
    await this.db.query("SELECT pg_notify($1, $2)", [this.db.channel("cancel"), runId]);
  }

  async cancelledRuns(runIds: readonly string[]): Promise<string[]> {
    if (runIds.length === 0) return [];
    const { rows } = await this.db.query<{ id: string }>(`SELECT id FROM ${this.s}.runs WHERE cancel_requested AND id = ANY($1)`, [runIds]);
    return rows.map((r) => r.id);
  }

  listen(channel: QueueChannel, listener: (payload: string) => void): Promise<() => void> {
    return this.db.listen(channel, listener);
  }
}
