import type { PruneResult } from "../store.js";
import type { PgConnection } from "./connection.js";

/** Runs removed per transaction: a year of history goes without one long lock. */
const BATCH = 1_000;

/**
 * The shared store's prune: finished runs older than `before`, in batches of BATCH per
 * transaction, with their chunks and their logs (by run id). An
 * active run is never finished, so it is never picked; freshness is another table.
 */
export async function prunePg(db: PgConnection, before: number, dryRun: boolean): Promise<PruneResult> {
  const s = db.s;
  const old = (r: string) => `${r}.finished AND (${r}.record->>'finishedAt')::bigint < $1`;
  if (dryRun) {
    const [row] = (
      await db.query<{ runs: number; chunks: number; logs: number }>(
        `SELECT (SELECT count(*)::int FROM ${s}.runs r WHERE ${old("r")}) AS runs,
                (SELECT count(*)::int FROM ${s}.chunks c JOIN ${s}.runs r ON r.id = c.run_id WHERE ${old("r")}) AS chunks,
                (SELECT count(*)::int FROM ${s}.chunk_logs l JOIN ${s}.runs r ON r.id = l.run_id WHERE ${old("r")}) AS logs`,
        [before],
      )
    ).rows;
    return row!;
  }
  const total = { runs: 0, chunks: 0, logs: 0 };
  for (;;) {
    const batch = await db.transaction(async (client) => {
      const { rows } = await client.query<{ id: string }>(`SELECT id FROM ${s}.runs r WHERE ${old("r")} ORDER BY created_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`, [before]);
      if (rows.length === 0) return 0;
      const ids = rows.map((r) => r.id);
      const logs = await client.query(`DELETE FROM ${s}.chunk_logs WHERE run_id = ANY($1)`, [ids]);
      const chunks = await client.query(`DELETE FROM ${s}.chunks WHERE run_id = ANY($1)`, [ids]);
      await client.query(`DELETE FROM ${s}.runs WHERE id = ANY($1)`, [ids]);
      total.runs += ids.length;
      total.chunks += chunks.rowCount ?? 0;
      total.logs += logs.rowCount ?? 0;
      return ids.length;
    });
    if (batch < BATCH) return total;
  }
}
