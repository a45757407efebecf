/**
 * The embedded store's pending chunks in the order they became pending, so a claim
 * takes the oldest without scanning every chunk. An id may stay behind after its chunk
 * moved on; `take` checks each against the store, and compacts as it goes.
 */
export class PendingFifo {
  private ids: string[] = [];
  private head = 0;
  /** Ids of jobs a claimer skipped (broken there), kept apart until someone can run them. */
  private readonly parked = new Map<string, string[]>();
  /** Called as a chunk becomes pending (the queue notifies its executors). */
  onPush: () => void = () => undefined;

  /** Forgets everything (the store read its files again). */
  clear(): void {
    this.ids = [];
    this.head = 0;
    this.parked.clear();
  }

  push(id: string): void {
    this.ids.push(id);
    this.onPush();
  }

  /**
   * Up to `limit` ids whose chunk `isPending`, oldest first, and at most `room` of a job
   * that has room given; ids of `skipJobs`, and of jobs out of room, are parked, not
   * dropped, and come first once a claim no longer skips their job.
   */
  take(limit: number, skipJobs: ReadonlySet<string>, jobOf: (id: string) => string | undefined, isPending: (id: string) => boolean, room: ReadonlyMap<string, number> = new Map()): string[] {
    const taken: string[] = [];
    const left = new Map(room);
    const skipped = new Set(skipJobs);
    for (const [job, n] of left) if (n <= 0) skipped.add(job);
    // A chunk that went pending twice before any claim is in the list twice: take it once.
    const seen = new Set<string>();
    for (const [job, ids] of this.parked) {
      if (skipped.has(job)) continue;
      this.parked.delete(job);
      this.ids = ids.concat(this.ids.slice(this.head));
      this.head = 0;
    }
    while (taken.length < limit && this.head < this.ids.length) {
      const id = this.ids[this.head++]!;
      if (!isPending(id) || seen.has(id)) continue;
      seen.add(id);
      const job = jobOf(id)!;
      if (skipped.has(job)) {
        const list = this.parked.get(job);
        if (list) list.push(id);
        else this.parked.set(job, [id]);
        continue;
      }
      taken.push(id);
      const n = left.get(job);
      if (n !== undefined) {
        left.set(job, n - 1);
        if (n <= 1) skipped.add(job);
      }
    }
    if (this.head > 4096 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.head = 0;
    }
    return taken;
  }
}
