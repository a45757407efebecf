import type { Kwargs } from "../config/types.js";

/**
 * Canonical JSON of kwargs: object keys sorted at every depth, array order kept, so
 * `{ b: 1, a: 2 }` and `{ a: 2, b: 1 }` name the same node and the same freshness
 * records. `{}` → `"{}"`. Keys whose value is undefined are dropped, as JSON does.
 */
export function kwargsKey(kwargs: Kwargs): string {
  return JSON.stringify(sortKeys(kwargs));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  // Dates and other objects with toJSON serialise as themselves; only plain objects
  // have an order of keys to normalise.
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}
