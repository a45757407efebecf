import { distance } from "fastest-levenshtein";

/**
 * The candidate `name` is most likely a slip for, or null: the closest one within a
 * third of its length in edits (at least 1, case aside), else the one it begins (a name
 * cut short, `allowMissing` for `allowMissingWorkIds`). Every "did you mean" of stau
 * (jobs, fields, commands' job names) asks here, so they all draw the line in one place.
 */
export function nearest(name: string, candidates: Iterable<string>): string | null {
  const lower = name.toLowerCase();
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  let prefixOf: string | null = null;
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
    if (lower.length >= 4 && prefixOf === null && candidate.toLowerCase().startsWith(lower)) prefixOf = candidate;
  }
  return best ?? prefixOf;
}

/** `; did you mean "x"?` for a near miss, or nothing. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const near = nearest(name, candidates);
  return near === null ? "" : `; did you mean ${JSON.stringify(near)}?`;
}
