import pg from "pg";
import { StoreError, errorMessage } from "../../errors.js";
import { redactUrl, type DatabaseConfig } from "./config.js";
import { migrate, quoteIdent } from "./migrations.js";

export type Channel = "work" | "changes" | "cancel" | "commands" | "replies";

/** How long the listening connection waits before it tries again, at most. */
const MAX_RECONNECT_MS = 10_000;

/**
 * One instance's connections to the shared database: a pool for queries, and one
 * client that LISTENs for notifications. Every part of the PostgreSQL store uses it.
 *
 * Connections break (a restart of the server, `pg_terminate_backend`, the network):
 * the pool opens new ones for the next query, the listener reconnects with backoff and
 * listens again (notifications in between are lost; everyone who listens also polls),
 * and while queries fail for want of the database, `problem` says so.
 */
export class PgConnection {
  readonly location: string;
  readonly schema: string;
  /** The schema, quoted for SQL. */
  readonly s: string;
  private readonly pool: pg.Pool;
  private listenClient: Promise<pg.Client> | null = null;
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private reconnectMs = 500;
  private closed = false;
  private problem: string | null = null;
  private readonly problemListeners = new Set<(problem: string | null) => void>();

  private constructor(readonly config: DatabaseConfig) {
    this.location = `${redactUrl(config.url)} (schema ${config.schema})`;
    this.schema = config.schema;
    this.s = quoteIdent(config.schema);
    this.pool = new pg.Pool({ connectionString: config.url, max: 4, application_name: this.applicationName });
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

  /** How its sessions show in pg_stat_activity: stau, and the schema it works in. */
  get applicationName(): string {
    return `stau:${this.schema}`;
  }

  /** The notification channel `name` of this schema (schemas sharing a database stay apart). */
  channel(name: Channel): string {
    return `stau_${this.schema}_${name}`;
  }

  /** One statement on a pooled connection. */
  async query<R extends pg.QueryResultRow = any>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.watch(() => this.pool.query<R>(sql, params));
  }

  /** Statements in one transaction; rolled back if `work` throws. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.watch(async () => {
      const client = await this.pool.connect();
      // A borrowed client is the borrower's to watch: the pool stops listening while it is
      // out, and an error it emits with nobody listening (its session terminated between
      // two statements) would end the process. A client that broke is not given back.
      let broken: Error | undefined;
      const onError = (error: Error) => (broken = error);
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const result = await work(client);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        // A broken client keeps the listener: it may say more as it is discarded.
        if (!broken) client.off("error", onError);
        client.release(broken);
      }
    });
  }

  /** Why the database cannot be used now, or null. */
  currentProblem(): string | null {
    return this.problem;
  }

  onProblem(listener: (problem: string | null) => void): () => void {
    this.problemListeners.add(listener);
    return () => this.problemListeners.delete(listener);
  }

  /** Runs `work`, noting whether the database answered: a lost connection is a problem until a query goes through again. */
  private async watch<T>(work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      this.setProblem(null);
      return result;
    } catch (error) {
      if (unreachable(error)) this.setProblem(`the database at ${this.location} cannot be reached: ${errorMessage(error)}`);
      throw error;
    }
  }

  private setProblem(problem: string | null): void {
    if (problem === this.problem || (problem !== null && this.problem !== null)) return;
    this.problem = problem;
    for (const listener of this.problemListeners) listener(problem);
  }

  /** A client of its own, outside the pool (a session lock lives as long as its connection). */
  async client(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.config.url, application_name: this.applicationName });
    client.on("error", () => undefined);
    await this.watch(() => client.connect());
    return client;
  }

  /** Calls `listener` on each notification of `channel`; returns how to stop. */
  async listen(channel: Channel, listener: (payload: string) => void): Promise<() => void> {
    const name = this.channel(channel);
    let set = this.listeners.get(name);
    const first = !set;
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    const client = await this.listener();
    if (first) await client.query(`LISTEN ${quoteIdent(name)}`);
    return () => set.delete(listener);
  }

  private listener(): Promise<pg.Client> {
    this.listenClient ??= this.client().then((client) => {
      client.on("notification", (message) => {
        for (const fn of this.listeners.get(message.channel) ?? []) fn(message.payload ?? "");
      });
      const lost = () => this.listenerLost(client);
      client.once("error", lost);
      client.once("end", lost);
      this.reconnectMs = 500;
      return client;
    });
    this.listenClient.catch(() => (this.listenClient = null));
    return this.listenClient;
  }

  /** The listening connection broke: connect again (with backoff) and listen on every channel again. */
  private listenerLost(client: pg.Client): void {
    void client.end().catch(() => undefined);
    this.listenClient = null;
    if (this.closed) return;
    const retry = () => {
      if (this.closed) return;
      this.listener()
        .then(async (fresh) => {
          for (const name of this.listeners.keys()) await fresh.query(`LISTEN ${quoteIdent(name)}`);
        })
        .catch(() => {
          this.reconnectMs = Math.min(this.reconnectMs * 2, MAX_RECONNECT_MS);
          setTimeout(retry, this.reconnectMs).unref();
        });
    };
    setTimeout(retry, this.reconnectMs).unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const listen = await this.listenClient?.catch(() => null);
    await Promise.all([listen?.end().catch(() => undefined), this.pool.end().catch(() => undefined)]);
  }
}

/** Whether an error says the database could not be reached (as opposed to a statement it refused). */
function unreachable(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? "";
  if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "57P01", "57P02", "57P03"].includes(code) || code.startsWith("08")) return true;
  return /Connection terminated|not queryable|connection (error|timeout)|terminating connection/i.test(errorMessage(error));
}
