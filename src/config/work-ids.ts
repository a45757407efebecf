import type { WorkId } from "./types.js";

/** Work IDs compactly, for people: "[1,2,3]" or "[1…90] (90)"; empty for none. */
export function formatWorkIds(ids: readonly WorkId[]): string {
  if (ids.length === 0) return "";
  return ids.length <= 3 ? `[${ids.join(",")}]` : `[${ids[0]}…${ids[ids.length - 1]}] (${ids.length})`;
}
