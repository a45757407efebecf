// How far an executor claims ahead of its threads: pure arithmetic, so the policy can
// be read (and tested) apart from the machinery that follows it.

/** Chunks shorter than this on average are claimed several per thread at a time. */
export const SHORT_CHUNK_MS = 20;
/** Chunks travelling to a thread together at most. */
export const MAX_BATCH = 32;
/** What a batch may take, by its chunks' average: a chunk waits little behind the others of its batch. */
export const BATCH_MS = 50;

/**
 * Work held per thread when chunks are short, in time: two batches' worth, so a thread
 * never waits for a claim's round trip to the store, yet what one instance holds is
 * soon done (another instance may be idle).
 */
export const HOLD_AHEAD_MS = 2 * BATCH_MS;

/**
 * Chunks held per thread at most, however short. Measured on 20,000 no-op chunks over two
 * threads: holding 64 ran them at 16.3k/s, the threads often finding fewer than a batch
 * ready after a claim's synced write; 128 at 18.7-19.1k/s, 256 at 19.7-21.3k/s.
 */
export const CLAIM_AHEAD = 256;

/**
 * How many chunks to hold: one per thread while chunks take a while (claiming ahead
 * would keep them from idle instances); when they are short, HOLD_AHEAD_MS of work per
 * thread (at least two chunks, at most CLAIM_AHEAD), so a claim's round trip to the store is
 * shared by many chunks.
 */
export function holdTarget(threads: number, averageMs: number | null): number {
  if (averageMs === null || averageMs >= SHORT_CHUNK_MS) return threads;
  return threads * Math.min(CLAIM_AHEAD, Math.max(2, Math.ceil(HOLD_AHEAD_MS / Math.max(averageMs, 0.01))));
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

/**
 * The chunks ready for a thread once a claim's have joined them. A claim's chunks of a
 * run with none ready go first: the queue gives active runs turns at each claim, and
 * this keeps that turn from waiting behind all that is held ahead of another run (up
 * to CLAIM_AHEAD chunks per thread). The rest follow those ready, in the order claimed.
 */
export function joinReady<C extends { readonly runId: string }>(ready: readonly C[], claimed: readonly C[]): C[] {
  const waiting = new Set(ready.map((chunk) => chunk.runId));
  const fresh = claimed.filter((chunk) => !waiting.has(chunk.runId));
  if (fresh.length === 0) return ready.concat(claimed);
  return fresh.concat(ready, claimed.filter((chunk) => waiting.has(chunk.runId)));
}
