// How far an executor claims ahead of its threads: pure arithmetic, so the policy can
// be read (and tested) apart from the machinery that follows it.

/** Chunks shorter than this on average are claimed several per thread at a time. */
export const SHORT_CHUNK_MS = 20;
/**
 * Chunks held per thread when they are short: a batch running on it and the next one
 * ready (see MAX_BATCH), so a thread never waits for a claim's round trip to the store.
 * Measured: holding one batch per thread ran 20,000 no-op chunks at a third of the rate.
 */
export const CLAIM_AHEAD = 64;

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

/** Chunks travelling to a thread together at most. */
export const MAX_BATCH = 32;
/** What a batch may take, by its chunks' average: a chunk waits little behind the others of its batch. */
export const BATCH_MS = 50;

/**
 * How many chunks of a job to send to a thread in one message: one while its chunks
 * are not known to be short (a long chunk should start on any free thread), else up
 * to `share` (what is ready, shared among the free threads), MAX_BATCH and BATCH_MS.
 */
export function batchSize(averageMs: number | null, share: number): number {
  if (averageMs === null || averageMs >= SHORT_CHUNK_MS) return 1;
  return Math.max(1, Math.min(MAX_BATCH, share, Math.floor(BATCH_MS / Math.max(averageMs, 0.01))));
}

/**
 * The next chunks for a free thread, from those ready, in order: the first, and more
 * while they are of jobs known to be short, up to `batchSize` of the shortest's average
 * and of the ready chunks' share among the free threads. Returns how many it took.
 */
export function takeBatch(ready: readonly { readonly job: string }[], averageOf: (job: string) => number | null, freeThreads: number): number {
  if (ready.length === 0) return 0;
  let limit = batchSize(averageOf(ready[0]!.job), Math.ceil(ready.length / Math.max(1, freeThreads)));
  let taken = 1;
  while (taken < limit && taken < ready.length) {
    limit = Math.min(limit, batchSize(averageOf(ready[taken]!.job), limit));
    if (taken >= limit) break;
    taken++;
  }
  return taken;
}
