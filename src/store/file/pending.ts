/** One run's pending chunk ids, in the order they became pending. */
interface RunQueue {
  ids: string[];
  head: number;
}

/**
 * The embedded store's pending chunks, so a claim takes the oldest without scanning
 * every chunk: oldest first within a run, and active runs take turns, so a one-chunk
 * run triggered behind a 20,000-chunk backfill starts at the next claim instead of
 * after it. An id may stay behind after its chunk moved on; `take` checks each
 * against the store, and compacts as it goes.
 */
export class PendingFifo {
  private readonly runs = new Map<string, RunQueue>();
  /** Ids of jobs a claimer skipped (broken there), kept apart until someone can run them. */
  private readonly parked = new Map<string, { runId: string; id: string }[]>();
  /** Called as a chunk becomes pending (the queue notifies its executors). */
  onPush: () => void = () => undefined;

  /** Forgets everything (the store read its files again). */
  clear(): void {
    this.runs.clear();
    this.parked.clear();
  }

  push(runId: string, id: string): void {
    this.queueOf(runId).ids.push(id);
    this.onPush();
  }

  private queueOf(runId: string): RunQueue {
    let queue = this.runs.get(runId);
    if (!queue) this.runs.set(runId, (queue = { ids: [], head: 0 }));
    return queue;
  }

  /**
   * Up to `limit` ids whose chunk `isPending`: the runs take turns, each giving its
   * oldest, in shares of what is left to take; at most `room` of a job that has room
   * given. Ids of `skipJobs`, and of jobs out of room, are parked, not dropped, and
   * come first in their run once a claim no longer skips their job.
   */
  take(limit: number, skipJobs: ReadonlySet<string>, jobOf: (id: string) => string | undefined, isPending: (id: string) => boolean, room: ReadonlyMap<string, number> = new Map()): string[] {
    const taken: string[] = [];
    const left = new Map(room);
    const skipped = new Set(skipJobs);
    for (const [job, n] of left) if (n <= 0) skipped.add(job);
    this.unpark(skipped);
    // A chunk that went pending twice before any claim is in its list twice: take it once.
    const seen = new Set<string>();
    const from = (runId: string, queue: RunQueue, share: number) => {
      let gave = 0;
      while (gave < share && queue.head < queue.ids.length) {
        const id = queue.ids[queue.head++]!;
        if (!isPending(id) || seen.has(id)) continue;
        seen.add(id);
        const job = jobOf(id)!;
        if (skipped.has(job)) {
          const list = this.parked.get(job);
          if (list) list.push({ runId, id });
          else this.parked.set(job, [{ runId, id }]);
          continue;
        }
        taken.push(id);
        gave++;
        const n = left.get(job);
        if (n !== undefined) {
          left.set(job, n - 1);
          if (n <= 1) skipped.add(job);
        }
      }
    };
    while (taken.length < limit && this.runs.size > 0) {
      const share = Math.ceil((limit - taken.length) / this.runs.size);
      for (const [runId, queue] of [...this.runs]) {
        if (taken.length >= limit) break;
        from(runId, queue, Math.min(share, limit - taken.length));
        // Served: its turn comes after the others' next time (a Map keeps insertion order).
        this.runs.delete(runId);
        if (queue.head < queue.ids.length) this.runs.set(runId, compacted(queue));
      }
    }
    return taken;
  }

  /** Parked ids of jobs no longer skipped go back to the front of their runs. */
  private unpark(skipped: ReadonlySet<string>): void {
    for (const [job, entries] of this.parked) {
      if (skipped.has(job)) continue;
      this.parked.delete(job);
      const byRun = new Map<string, string[]>();
      for (const { runId, id } of entries) {
        const ids = byRun.get(runId);
        if (ids) ids.push(id);
        else byRun.set(runId, [id]);
      }
      for (const [runId, ids] of byRun) {
        const queue = this.queueOf(runId);
        queue.ids = ids.concat(queue.ids.slice(queue.head));
        queue.head = 0;
      }
    }
  }
}

/** Drops the taken front of a long list once it is most of it. */
function compacted(queue: RunQueue): RunQueue {
  if (queue.head > 4096 && queue.head * 2 > queue.ids.length) {
    queue.ids = queue.ids.slice(queue.head);
    queue.head = 0;
  }
  return queue;
}
