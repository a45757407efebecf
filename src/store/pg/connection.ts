import pg from "pg";
import { StoreError, errorMessage } from "../../errors.js";
import { redactUrl, type DatabaseConfig } from "./config.js";
import { migrate, quoteIdent } from "./migrations.js";

export type Channel = "work" | "changes" | "cancel" | "commands" | "replies";

/**
 * One instance's connections to the shared database: a pool for queries, and one
 * client that LISTENs for notifications. Every part of the PostgreSQL store uses it.
 */
export class PgConnection {
  readonly location: string;
  readonly schema: string;
  /** The schema, quoted for SQL. */
  readonly s: string;
  readonly pool: pg.Pool;
  private listenClient: Promise<pg.Client> | null = null;
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private closed = false;

  private constructor(readonly config: DatabaseConfig) {
    this.location = `${redactUrl(config.url)} (schema ${config.schema})`;
    this.schema = config.schema;
    this.s = quoteIdent(config.schema);
    this.pool = new pg.Pool({ connectionString: config.url, max: 4 });
    // An idle client that loses its connection must not crash the process; the next query reports it.
    this.pool.on("error", () => undefined);
  }

  /** Connects and brings the schema up to date. */
  static async open(config: DatabaseConfig): Promise<PgConnection> {
    const connection = new PgConnection(config);
    try {
      const client = await connection.pool.connect();
      try {
        await migrate(client, config.schema);
      } finally {
        client.release();
      }
    } catch (error) {
      await connection.pool.end().catch(() => undefined);
      throw new StoreError("database", `cannot use the PostgreSQL store at ${connection.location}: ${errorMessage(error)}`, "check STAU_DATABASE_URL (or --database-url) and that PostgreSQL is running and reachable", error);
    }
    return connection;
  }

  /** The notification channel `name` of this schema (schemas sharing a database stay apart). */
  channel(name: Channel): string {
    return `stau_${this.schema}_${name}`;
  }

  /** A client of its own, outside the pool (a session lock lives as long as its connection). */
  async client(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.config.url });
    client.on("error", () => undefined);
    await client.connect();
    return client;
  }

  /** Calls `listener` on each notification of `channel`; returns how to stop. */
  async listen(channel: Channel, listener: (payload: string) => void): Promise<() => void> {
    const name = this.channel(channel);
    this.listenClient ??= this.client().then((client) => {
      // Losing it only slows things down to the listeners' polling interval.
      client.on("notification", (message) => {
        for (const fn of this.listeners.get(message.channel) ?? []) fn(message.payload ?? "");
      });
      return client;
    });
    const client = await this.listenClient;
    let set = this.listeners.get(name);
    if (!set) {
      this.listeners.set(name, (set = new Set()));
      await client.query(`LISTEN ${quoteIdent(name)}`);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const listen = await this.listenClient?.catch(() => null);
    await Promise.all([listen?.end().catch(() => undefined), this.pool.end().catch(() => undefined)]);
  }
}
