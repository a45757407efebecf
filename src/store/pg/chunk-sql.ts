import type { ChunkRecord } from "../records.js";

// How a chunk record lives in a row: its JSON in `record`, with the fields queries
// filter on in columns beside it, which are the truth.

/** The fields kept in columns of their own, out of the row's JSON. */
const COLUMNS = ["state", "owner", "token", "attempts"] as const;
type Column = (typeof COLUMNS)[number];
const IN_COLUMNS: ReadonlySet<string> = new Set(COLUMNS);

/** A chunk row as one record: the JSON, with the columns laid over it. */
export const chunkRecord = (c: string) => `${c}.record || jsonb_build_object(${COLUMNS.map((k) => `'${k}', ${c}.${k}`).join(", ")})`;

/** The fields of a patch that live in their own columns are kept out of the JSON. */
export const recordPart = (patch: string) => `(${patch} ${COLUMNS.map((k) => `- '${k}'`).join(" ")})`;

/** A record's JSON as its row keeps it: without the fields in columns. */
function recordJson(chunk: ChunkRecord): string {
  const kept: Record<string, unknown> = {};
  for (const key in chunk) if (!IN_COLUMNS.has(key)) kept[key] = chunk[key as keyof ChunkRecord];
  return JSON.stringify(kept);
}

/**
 * The SET list that applies a patch (a jsonb expression) to chunk row `c` as it
 * stands: fields the patch names change, the others stay. The one way a computed
 * patch reaches a row; `store` gives what only the store decides (a claim's token and
 * attempt count).
 */
export function applyPatch(c: string, patch: string, store: Partial<Record<Column, string>> = {}): string {
  const columns: Record<Column, string> = {
    state: `coalesce(${patch}->>'state', ${c}.state)`,
    owner: `CASE WHEN ${patch} ? 'owner' THEN ${patch}->>'owner' ELSE ${c}.owner END`,
    token: `CASE WHEN ${patch} ? 'token' THEN ${patch}->>'token' ELSE ${c}.token END`,
    attempts: `coalesce((${patch}->>'attempts')::int, ${c}.attempts)`,
    ...store,
  };
  return [`record = ${c}.record || ${recordPart(patch)}`, ...Object.entries(columns).map(([column, value]) => `${column} = ${value}`)].join(", ");
}

/**
 * New chunks as one INSERT: a parameter per column, and each record's JSON without the
 * fields in columns, one per line (JSON text never holds a raw newline). One jsonb array of
 * every record, trimmed row by row in SQL, took ~0.5 s for 20,000 chunks here, most of
 * a big trigger's time before its first claim. The lines become jsonb row by row: cast
 * as a whole (`::jsonb[]` of the parameter) the planner folded it into one constant,
 * which took it another ~0.5 s to plan (measured with EXPLAIN ANALYZE: planning 550 ms
 * against 6–30 ms this way).
 */
export function insertChunks(s: string, chunks: readonly ChunkRecord[]): { sql: string; params: unknown[] } {
  const ids: string[] = [];
  const runIds: string[] = [];
  const jobs: string[] = [];
  const states: string[] = [];
  const attempts: number[] = [];
  const records: string[] = [];
  for (const chunk of chunks) {
    ids.push(chunk.id);
    runIds.push(chunk.runId);
    jobs.push(chunk.job);
    states.push(chunk.state);
    attempts.push(chunk.attempts);
    records.push(recordJson(chunk));
  }
  return {
    sql: `INSERT INTO ${s}.chunks (id, run_id, job, state, attempts, record)
          SELECT id, run_id, job, state, attempts, record::jsonb
          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], string_to_array($6, E'\\n')) AS c(id, run_id, job, state, attempts, record)`,
    params: [ids, runIds, jobs, states, attempts, records.join("\n")],
  };
}
