import type { ClientBase } from "pg";

// The PostgreSQL store's tables, as numbered migrations. A migration is never edited
// once released: a change is a new entry. `{s}` is the configured schema, quoted.

const MIGRATIONS: readonly string[] = [
  // 1: runs and chunks keep their whole record as JSON; the columns beside it are what
  // queries filter on, and for chunks they are the truth (state, owner, token, attempts).
  `
  CREATE TABLE {s}.runs (
    id text PRIMARY KEY,
    job text NOT NULL,
    status text NOT NULL,
    finished boolean NOT NULL DEFAULT false,
    cancel_requested boolean NOT NULL DEFAULT false,
    created_at bigint NOT NULL,
    record jsonb NOT NULL
  );
  CREATE INDEX runs_active ON {s}.runs (created_at) WHERE NOT finished;
  CREATE INDEX runs_newest ON {s}.runs (created_at DESC);

  CREATE TABLE {s}.chunks (
    seq bigserial UNIQUE,
    id text PRIMARY KEY,
    run_id text NOT NULL REFERENCES {s}.runs (id) ON DELETE CASCADE,
    job text NOT NULL,
    state text NOT NULL,
    owner text,
    token text,
    attempts integer NOT NULL DEFAULT 0,
    heartbeat_at timestamptz,
    -- a worker changed the chunk and the orchestrator has not applied it yet
    unseen boolean NOT NULL DEFAULT false,
    record jsonb NOT NULL
  );
  CREATE INDEX chunks_pending ON {s}.chunks (seq) WHERE state = 'pending';
  CREATE INDEX chunks_running ON {s}.chunks (owner) WHERE state = 'running';
  CREATE INDEX chunks_unseen ON {s}.chunks (seq) WHERE unseen;
  CREATE INDEX chunks_run ON {s}.chunks (run_id);

  -- work_id is the JSON text of the ID; '' is the job's newest success on any IDs
  CREATE TABLE {s}.freshness (
    job text NOT NULL,
    kwargs_key text NOT NULL,
    work_id text NOT NULL,
    at bigint NOT NULL,
    PRIMARY KEY (job, kwargs_key, work_id)
  );

  CREATE TABLE {s}.schedule_marks (entry_id text PRIMARY KEY, mark jsonb NOT NULL);
  -- one row per fired tick: the same tick can never make two runs
  CREATE TABLE {s}.schedule_ticks (
    entry_id text NOT NULL,
    tick_at bigint NOT NULL,
    run_id text NOT NULL,
    fired_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_id, tick_at)
  );

  CREATE TABLE {s}.instances (
    id text PRIMARY KEY,
    info jsonb NOT NULL,
    orchestrating boolean NOT NULL DEFAULT false,
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at timestamptz
  );

  -- orders for the orchestrating copy (trigger, retry, cancel, status) and its answers
  CREATE TABLE {s}.commands (
    id bigserial PRIMARY KEY,
    request jsonb NOT NULL,
    response jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- taken once, by one orchestrator: an order is never carried out twice
    taken_by text,
    answered_at timestamptz
  );
  CREATE INDEX commands_open ON {s}.commands (id) WHERE taken_by IS NULL;

  CREATE TABLE {s}.chunk_logs (
    chunk_id text NOT NULL,
    attempt integer NOT NULL,
    run_id text NOT NULL,
    job text NOT NULL,
    -- the copy that ran the attempt
    copy text NOT NULL,
    text text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chunk_id, attempt)
  );
  CREATE INDEX chunk_logs_job ON {s}.chunk_logs (job, written_at DESC);
  `,
  // 2: code-aware freshness: the code hash each newest success ran (null: unknown).
  `
  ALTER TABLE {s}.freshness ADD COLUMN code_hash text;
  `,
  // 3: claims let active runs take turns, reading each run's oldest pending chunks.
  `
  CREATE INDEX chunks_pending_run ON {s}.chunks (run_id, seq) WHERE state = 'pending';
  `,
  // 4: changes for the orchestrator are rows of their own: taking one deletes a small row
  // instead of rewriting the chunk's (its whole record, and an entry in each index).
  `
  CREATE TABLE {s}.chunk_changes (seq bigserial PRIMARY KEY, chunk_id text NOT NULL);
  INSERT INTO {s}.chunk_changes (chunk_id) SELECT id FROM {s}.chunks WHERE unseen ORDER BY seq;
  DROP INDEX {s}.chunks_unseen;
  ALTER TABLE {s}.chunks DROP COLUMN unseen;
  `,
  // 5: a chunk's seq orders it and is never looked up: its unique index only cost an entry
  // per new chunk and per change of state (a change of an indexed column adds an entry to
  // every index of the table).
  `
  ALTER TABLE {s}.chunks DROP CONSTRAINT chunks_seq_key;
  `,
  // 6: chunks no longer reference their run by foreign key. Its check took ~0.2 s of the
  // ~0.7 s a 20,000-chunk run's insert takes (a lookup and a lock of the run's row per
  // chunk); the store inserts a run before its chunks, and a prune deletes a run's
  // chunks itself, which is all the key's cascade did.
  `
  ALTER TABLE {s}.chunks DROP CONSTRAINT chunks_run_id_fkey;
  `,
];

/**
 * Brings the schema up to the newest migration. Instances starting together take turns
 * on a transaction-level advisory lock, so each migration runs once.
 */
export async function migrate(client: ClientBase, schema: string): Promise<void> {
  const s = quoteIdent(schema);
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1), 0)", [`stau.migrate.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${s}.migrations`);
    const current = rows[0]?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(`schema ${schema} is at migration ${current}, newer than this stau knows (${MIGRATIONS.length}): upgrade stau`);
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await client.query(MIGRATIONS[version - 1]!.replaceAll("{s}", s));
      await client.query(`INSERT INTO ${s}.migrations (version) VALUES ($1)`, [version]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
