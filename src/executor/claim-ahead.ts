// How far an executor claims ahead of its threads: pure arithmetic, so the policy can
// be read (and tested) apart from the machinery that follows it.

/** Chunks shorter than this on average are claimed several per thread at a time. */
export const SHORT_CHUNK_MS = 20;
/** Chunks held per thread when they are short. */
export const CLAIM_AHEAD = 32;

/**
 * How many chunks to hold: one per thread while chunks take a while (claiming ahead
 * would keep them from idle instances); several per thread when they are short, so a
 * claim's round trip to the store is shared by many chunks.
 */
export function holdTarget(threads: number, averageMs: number | null): number {
  return averageMs !== null && averageMs < SHORT_CHUNK_MS ? threads * CLAIM_AHEAD : threads;
}

/** Claims under way at once at most: a claim is a write the store must make durable. */
export const CLAIMS_IN_FLIGHT = 2;

/**
 * How many to claim now: up to the target, once a quarter of what is held ahead has
 * started (counting chunks asked for by claims still under way), so the next claim's
 * round trip to the store overlaps with running the rest.
 */
export function claimSize(held: { readonly threads: number; readonly executing: number; readonly ready: number; readonly requested: number; readonly averageMs: number | null }): number {
  const target = holdTarget(held.threads, held.averageMs);
  const ahead = held.ready + held.requested;
  if (ahead > Math.max(0, ((target - held.threads) * 3) / 4)) return 0;
  return Math.max(0, target - held.executing - ahead);
}

/** The moving average of attempt durations that decides how far to claim ahead. */
export function nextAverage(averageMs: number | null, durationMs: number): number {
  return averageMs === null ? durationMs : averageMs * 0.8 + durationMs * 0.2;
}
