import { readFile } from "node:fs/promises";
import { DEFAULT_LOG_CAP_BYTES, type AttemptLog, type LogQuery, type LogStore } from "../logs.js";
import { runIdOfChunk } from "../records.js";
import type { PgConnection } from "./connection.js";

/**
 * Chunk logs on a shared store: each instance writes its attempts' logs to files in
 * its own data directory and copies each into the database when the attempt ends, so
 * `stau logs` and the console on any machine read every instance's.
 */
export class PgLogs implements LogStore {
  private readonly s: string;

  constructor(private readonly db: PgConnection) {
    this.s = db.s;
  }

  async keep(log: { job: string; chunkId: string; attempt: number; file: string; instance: string }): Promise<void> {
    // The file is already size-capped by the pool.
    const text = await readFile(log.file, "utf8");
    await this.db.query(
      `INSERT INTO ${this.s}.chunk_logs (chunk_id, attempt, run_id, job, copy, text) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (chunk_id, attempt) DO UPDATE SET text = excluded.text, copy = excluded.copy, written_at = now()`,
      [log.chunkId, log.attempt, runIdOfChunk(log.chunkId), log.job, log.instance, text],
    );
  }

  async find(query: LogQuery): Promise<AttemptLog[]> {
    const { rows } = await this.db.query<{ chunk_id: string; attempt: number; run_id: string; job: string; copy: string; text: string; at: Date }>(
      `SELECT chunk_id, attempt, run_id, job, copy, right(text, $5) AS text, written_at AS at FROM ${this.s}.chunk_logs
       WHERE ($1::text IS NULL OR job = $1) AND ($2::text IS NULL OR run_id = $2) AND ($4::float8 IS NULL OR written_at > to_timestamp($4::float8 / 1000))
         AND ($6::text IS NULL OR chunk_id = $6)
       ORDER BY written_at DESC LIMIT $3`,
      [query.job, query.runId ?? null, query.limit, query.since ?? null, query.maxBytes ?? DEFAULT_LOG_CAP_BYTES, query.chunkId ?? null],
    );
    return rows.map((r) => ({ chunkId: r.chunk_id, attempt: r.attempt, runId: r.run_id, job: r.job, instance: r.copy, text: fromLineStart(r.text, query.maxBytes), writtenAt: r.at.getTime() }));
  }
}

/** A text cut to its end starts at its next line. */
function fromLineStart(text: string, maxBytes: number | undefined): string {
  if (maxBytes === undefined || text.length < maxBytes) return text;
  return text.slice(text.indexOf("\n") + 1);
}
