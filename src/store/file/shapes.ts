import { describeValue } from "../../config/schema.js";

// What the embedded store reads back from its files is checked for shape before it is
// used: a file of the wrong shape (edited by hand, written by something else, `null`)
// must be refused with its path, never taken for an empty store and written over, and
// never reach the code that trusts it (where it would fail as a bug in stau). Each
// check returns what is wrong, for people (the caller adds the file and line), or null.

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

const got = (field: string, expected: string, value: unknown) => `${field}: expected ${expected}, received ${describeValue(value)}`;

/**
 * A snapshot file (state.json, freshness/<job>.json) against the empty value of its
 * kind: a JSON object with the same `format`, every field of the empty value present
 * with the same kind of value, and a record (`{}` in the empty value) holding objects
 * only. Fields a later version adds must be optional (absent from the empty value) or
 * come with a new `format`, so older files keep opening.
 */
export function snapshotShapeProblem(data: unknown, empty: object): string | null {
  if (!isObject(data)) return `expected a JSON object with ${Object.keys(empty).join(", ")}, received ${describeValue(data)}`;
  for (const [key, blank] of Object.entries(empty)) {
    const value = data[key];
    if (key === "format") {
      if (value !== blank) return got("format", String(blank), value);
    } else if (typeof blank === "number") {
      if (typeof value !== "number" || !Number.isFinite(value)) return got(key, "a number", value);
    } else if (typeof blank === "string") {
      if (typeof value !== "string") return got(key, "a string", value);
    } else if (Array.isArray(blank)) {
      if (!Array.isArray(value)) return got(key, "an array", value);
    } else if (isObject(blank)) {
      if (!isObject(value)) return got(key, "an object", value);
      for (const [id, item] of Object.entries(value)) if (!isObject(item)) return got(`${key}.${id}`, "an object", item);
    }
  }
  return null;
}

/** Kinds of values a journal field holds; `?` allows it to be absent or null. */
type Kind = "object" | "string" | "records" | "pairs" | "claims" | "names" | "rows";
type Field = Kind | `${Kind}?`;

/**
 * The fields each journal operation needs to be replayed (ops.ts's `Op`, older
 * forms included): `records` is an array of objects, `pairs` of `[id, patch, …]`,
 * `claims` of `[id, attempts, token]`, `names` of strings, `rows` of arrays.
 */
const OPS: Readonly<Record<string, Readonly<Record<string, Field>>>> = {
  run: { run: "object", chunks: "records?" },
  "run~": { id: "string", patch: "object" },
  "chunks+": { chunks: "records" },
  "chunks*": { keys: "names", base: "object", idPrefix: "string", columns: "names", rows: "rows" },
  "chunks~": { patches: "pairs" },
  claim: { patch: "object", claims: "claims" },
  ok: { successes: "records?", success: "object?" },
  complete: { id: "string", patch: "object", success: "object?" },
  archive: { id: "string" },
  revive: { archived: "object" },
  mark: { entry: "string", mark: "object?" },
};

function fieldProblem(field: string, kind: Kind, value: unknown): string | null {
  switch (kind) {
    case "object":
      return isObject(value) ? null : got(field, "an object", value);
    case "string":
      return typeof value === "string" ? null : got(field, "a string", value);
    case "records": {
      if (!Array.isArray(value)) return got(field, "an array of objects", value);
      const bad = value.findIndex((item) => !isObject(item));
      return bad < 0 ? null : got(`${field}.${bad}`, "an object", value[bad]);
    }
    case "pairs": {
      if (!Array.isArray(value)) return got(field, "an array of [id, patch]", value);
      const bad = value.findIndex((item) => !Array.isArray(item) || typeof item[0] !== "string" || !isObject(item[1]));
      return bad < 0 ? null : got(`${field}.${bad}`, "[id, patch]", value[bad]);
    }
    case "names": {
      if (!Array.isArray(value)) return got(field, "an array of field names", value);
      const bad = value.findIndex((item) => typeof item !== "string");
      return bad < 0 ? null : got(`${field}.${bad}`, "a field name", value[bad]);
    }
    case "rows": {
      if (!Array.isArray(value)) return got(field, "an array of rows", value);
      const bad = value.findIndex((item) => !Array.isArray(item));
      return bad < 0 ? null : got(`${field}.${bad}`, "a row (an array)", value[bad]);
    }
    case "claims": {
      if (!Array.isArray(value)) return got(field, "an array of [id, attempts, token]", value);
      const bad = value.findIndex((item) => !Array.isArray(item) || typeof item[0] !== "string" || typeof item[1] !== "number" || typeof item[2] !== "string");
      return bad < 0 ? null : got(`${field}.${bad}`, "[id, attempts, token]", value[bad]);
    }
  }
}

/**
 * One parsed line of journal.jsonl: an object with a sequence number `s`, a known
 * operation `t` and the fields that operation is replayed from.
 */
export function journalLineProblem(line: unknown): string | null {
  if (!isObject(line)) return `expected a JSON object with "s" and "t", received ${describeValue(line)}`;
  if (typeof line.s !== "number" || !Number.isInteger(line.s) || line.s < 1) return got("s", "a sequence number (a whole number from 1)", line.s);
  const fields = typeof line.t === "string" && Object.hasOwn(OPS, line.t) ? OPS[line.t]! : null;
  if (!fields) return got("t", `one of ${Object.keys(OPS).map((t) => JSON.stringify(t)).join(", ")}`, line.t);
  for (const [field, spec] of Object.entries(fields)) {
    const optional = spec.endsWith("?");
    const value = line[field];
    if (optional && (value === undefined || value === null)) continue;
    const problem = fieldProblem(field, spec.replace("?", "") as Kind, value);
    if (problem) return problem;
  }
  if (line.t === "run") return recordProblem("run", line.run);
  if (line.t === "revive") return archivedRunProblem(line.archived, "archived");
  if (line.t === "chunks*") return packedChunksProblem(line);
  return null;
}

/** A `chunks*` line: every row has a value for each column, and the fields add up to records with ids. */
function packedChunksProblem(line: Json): string | null {
  const columns = line.columns as string[];
  const keys = line.keys as string[];
  const base = line.base as Json;
  const bad = (line.rows as unknown[][]).findIndex((row) => row.length !== columns.length);
  if (bad >= 0) return got(`rows.${bad}`, `a row of ${columns.length} values`, (line.rows as unknown[][])[bad]);
  const missing = keys.find((key) => !columns.includes(key) && !(key in base));
  if (missing !== undefined) return `keys: ${missing} is neither in base nor in columns`;
  if (!columns.includes("id") && typeof base.id !== "string") return got("base.id", "a string, or id among the columns", base.id);
  return null;
}

function recordProblem(field: string, record: unknown): string | null {
  if (!isObject(record)) return got(field, "an object", record);
  return typeof record.id === "string" ? null : got(`${field}.id`, "a string", record.id);
}

/**
 * A finished run as history/runs.jsonl and journal `revive` lines hold it: `{ run,
 * chunks }` with the run's id.
 */
export function archivedRunProblem(value: unknown, prefix = ""): string | null {
  const at = (field: string) => (prefix ? `${prefix}.${field}` : field);
  if (!isObject(value)) return prefix ? got(prefix, "an object", value) : `expected a JSON object with run and chunks, received ${describeValue(value)}`;
  return recordProblem(at("run"), value.run) ?? fieldProblem(at("chunks"), "records", value.chunks);
}
