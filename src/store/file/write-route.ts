/** A write slower than this (a stalling disk, or a loop too busy to hear of it soon) is slow. */
const SLOW_WRITE_MS = 2;

/** Writes made on the engine's thread before one goes by the thread pool again, to look. */
const LOOK_EVERY = 16;

/**
 * Which way the journal's next write goes to disk: straight from the engine's thread, or
 * by libuv's thread pool.
 *
 * Handing a short synced write to the thread pool costs two thread wakeups: on a 2-core
 * VM the call alone took 56-74 us, and the write's round trip 0.40-0.46 ms against 0.23
 * ms made inline. A one-chunk run makes two writes, so while the engine has nothing else
 * to do, writing inline makes it about a third faster. While it is busy (a large run:
 * worker results and claims arrive during every write), a write made inline keeps it
 * from that work and the disk's own CPU lands on its thread: 20,000-chunk runs were
 * 10-15 % slower. What tells the two apart is whether lines gather while a write made by
 * the thread pool is on its way: in a 20,000-chunk run they did during 543 of 552 writes,
 * in 300 one-chunk runs one after another during none of 600. So writes go by the thread
 * pool while lines gather or writes are slow, inline otherwise, and every LOOK_EVERY-th
 * write goes by the thread pool to look again.
 */
export class WriteRoute {
  private quiet = false;
  private inlineSinceLook = 0;

  /** Whether the next write is made on this thread. */
  inline(): boolean {
    return this.quiet && this.inlineSinceLook < LOOK_EVERY;
  }

  /** A write made on this thread took `ms`. */
  wroteInline(ms: number): void {
    this.inlineSinceLook++;
    if (ms >= SLOW_WRITE_MS) this.quiet = false;
  }

  /** A write made by the thread pool ended `ms` after it began; `gathered`: lines were appended meanwhile. */
  wroteByPool(ms: number, gathered: boolean): void {
    this.inlineSinceLook = 0;
    this.quiet = !gathered && ms < SLOW_WRITE_MS;
  }
}
