import type { ChunkRecord } from "../records.js";

// A run's new chunks as one journal line each slice, without repeating what they share.
// A run of a million one-ID chunks journaled as plain records is a line of ~330 bytes a
// chunk, held twice while it is written (the string, then its bytes); packed, each chunk
// is its plan id and its work IDs (~25 bytes), the rest said once per line.

/**
 * Chunks sharing their fields: `base` holds the fields equal in all of them, `columns`
 * names the others, and each row holds one chunk's values of those, in order; ids are
 * kept without `idPrefix` (their run's id and a dot). `keys` is the records' field
 * order, so unpacked records have the shape the packed ones had.
 */
export interface PackedChunks {
  readonly keys: readonly string[];
  readonly base: Readonly<Record<string, unknown>>;
  readonly idPrefix: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

/**
 * Packs chunks that all have the same fields in the same order; null when they do not,
 * or a value would not survive a JSON array (undefined): those are journaled as they are.
 */
export function packChunks(chunks: readonly ChunkRecord[]): PackedChunks | null {
  if (chunks.length === 0) return null;
  const records = chunks as unknown as readonly Readonly<Record<string, unknown>>[];
  const first = records[0]!;
  const keys = Object.keys(first);
  const varying = new Set<string>();
  for (const record of records) {
    if (record !== first && !hasKeys(record, keys)) return null;
    for (const key of keys) if (!varying.has(key) && !same(record[key], first[key])) varying.add(key);
  }
  const columns = keys.filter((key) => varying.has(key));
  const base: Record<string, unknown> = {};
  for (const key of keys) if (!varying.has(key)) base[key] = first[key];
  // A field undefined in every record is left out, as JSON leaves it out of a record.
  const kept = keys.filter((key) => varying.has(key) || first[key] !== undefined);
  const idPrefix = typeof first.runId === "string" && !varying.has("runId") ? `${first.runId}.` : "";
  const rows = new Array<unknown[]>(records.length);
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const row = new Array<unknown>(columns.length);
    for (let c = 0; c < columns.length; c++) {
      const key = columns[c]!;
      let value = record[key];
      if (value === undefined) return null;
      if (key === "id") {
        if (typeof value !== "string" || !value.startsWith(idPrefix)) return null;
        value = value.slice(idPrefix.length);
      }
      row[c] = value;
    }
    rows[i] = row;
  }
  return { keys: kept, base, idPrefix, columns, rows };
}

/** The records `packChunks` packed. */
export function unpackChunks(packed: PackedChunks): ChunkRecord[] {
  const { keys, base, idPrefix, columns, rows } = packed;
  const at = new Map(columns.map((key, c) => [key, c]));
  return rows.map((row) => {
    const record: Record<string, unknown> = {};
    for (const key of keys) {
      const c = at.get(key);
      record[key] = c === undefined ? base[key] : key === "id" ? idPrefix + String(row[c]) : row[c];
    }
    return record as unknown as ChunkRecord;
  });
}

/** The record's fields are `keys`, in that order (a million-chunk run asks a million times: nothing is allocated). */
function hasKeys(record: Readonly<Record<string, unknown>>, keys: readonly string[]): boolean {
  let i = 0;
  for (const key in record) if (key !== keys[i++]) return false;
  return i === keys.length;
}

/** Equal for packing: the same value, or both empty arrays (each chunk may have its own `[]`). */
function same(a: unknown, b: unknown): boolean {
  return a === b || (Array.isArray(a) && Array.isArray(b) && a.length === 0 && b.length === 0);
}
