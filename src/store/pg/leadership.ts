import type pg from "pg";
import type { InstanceInfo } from "../records.js";
import type { InstanceRow, Leadership } from "../store.js";
import type { PgConnection } from "./connection.js";

/**
 * The right to orchestrate on a shared store: a session-level advisory lock, which
 * lives as long as the connection holding it. If the instance dies, PostgreSQL drops
 * the connection and the lock with it, and another instance takes over.
 */
export class PgLeadership implements Leadership {
  private client: pg.Client | null = null;

  constructor(private readonly db: PgConnection) {}

  async acquire(instance: InstanceInfo): Promise<{ ok: true } | { ok: false; holder: InstanceInfo | null }> {
    this.client ??= await this.db.client();
    let rows: { ok: boolean }[];
    try {
      ({ rows } = await this.client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext($1), 1) AS ok", [`stau.lead.${this.db.schema}`]));
    } catch (error) {
      // A broken session is not used again: the next try connects afresh.
      const broken = this.client;
      this.client = null;
      void broken.end().catch(() => undefined);
      throw error;
    }
    if (rows[0]?.ok) {
      // The instance's row may not exist yet: leading is decided before the first heartbeat.
      await this.db.query(
        `WITH me AS (
           INSERT INTO ${this.db.s}.instances (id, info, heartbeat_at, orchestrating) VALUES ($1, $2, now(), true)
           ON CONFLICT (id) DO UPDATE SET orchestrating = true, stopped_at = NULL
         )
         UPDATE ${this.db.s}.instances SET orchestrating = false WHERE id <> $1`,
        [instance.id, instance],
      );
      return { ok: true };
    }
    return { ok: false, holder: await this.holder() };
  }

  lost(): Promise<Error> {
    const client = this.client;
    if (!client) return new Promise(() => undefined);
    return new Promise((resolve) => {
      client.once("error", resolve);
      client.once("end", () => resolve(new Error("the connection holding the orchestrator lock closed")));
    });
  }

  async release(instance: InstanceInfo): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
    await this.db.query(`UPDATE ${this.db.s}.instances SET orchestrating = false WHERE id = $1`, [instance.id]);
  }

  async stopped(instance: InstanceInfo): Promise<void> {
    await this.db.query(`UPDATE ${this.db.s}.instances SET stopped_at = now(), orchestrating = false WHERE id = $1`, [instance.id]);
  }

  async holder(): Promise<InstanceInfo | null> {
    const { rows } = await this.db.query<{ info: InstanceInfo }>(`SELECT info FROM ${this.db.s}.instances WHERE orchestrating AND stopped_at IS NULL LIMIT 1`);
    return rows[0]?.info ?? null;
  }

  async instances(): Promise<InstanceRow[]> {
    const { rows } = await this.db.query<{ info: InstanceInfo; leading: boolean; silent: number; stopped: boolean }>(
      `SELECT info, orchestrating AS leading, extract(epoch FROM now() - heartbeat_at)::float AS silent, stopped_at IS NOT NULL AS stopped
       FROM ${this.db.s}.instances WHERE stopped_at IS NULL OR stopped_at > now() - interval '1 hour' ORDER BY heartbeat_at DESC`,
    );
    return rows.map((r) => ({ info: r.info, leading: r.leading, silentFor: Math.round(r.silent), stopped: r.stopped }));
  }

  async close(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }
}
