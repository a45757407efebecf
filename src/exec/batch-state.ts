// Short chunks travel to a worker thread in batches (one message for many chunks), and
// their results come back together. What the main thread must know meanwhile — which
// chunk runs, since when, which ones are done — the thread writes into shared memory
// instead of sending a message per chunk: the main thread reads it only when it has to
// (a timeout to check, a cancel, a thread that died mid-batch).

/** A chunk's place in its batch, as both threads see it. */
export const ChunkStatus = {
  /** Not begun: a cancel may still take it out. */
  Waiting: 0,
  Running: 1,
  /** Done and succeeded; `Logged` also wrote log lines. */
  Succeeded: 2,
  Logged: 3,
  /** Done and failed: its error comes with the batch's answer. */
  Failed: 4,
  /** Taken out before it began (cancelled, or its batch ends early). */
  Skipped: 5,
} as const;
export type ChunkStatus = (typeof ChunkStatus)[keyof typeof ChunkStatus];

// Layout: Float64 [0] the running chunk's start (epoch ms), then Int32 [2] the running
// chunk's index (-1: none), then one Int32 status per chunk.
const HEADER_INTS = 3;

export class BatchState {
  private readonly started: Float64Array;
  private readonly ints: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.started = new Float64Array(buffer, 0, 1);
    this.ints = new Int32Array(buffer, 0);
  }

  static create(chunks: number): BatchState {
    const state = new BatchState(new SharedArrayBuffer((HEADER_INTS + chunks) * 4));
    Atomics.store(state.ints, 2, -1);
    return state;
  }

  /** Worker: chunk `index` starts now, unless it was taken out first. */
  begin(index: number, now: number): boolean {
    if (Atomics.compareExchange(this.ints, HEADER_INTS + index, ChunkStatus.Waiting, ChunkStatus.Running) !== ChunkStatus.Waiting) return false;
    this.started[0] = now;
    Atomics.store(this.ints, 2, index);
    return true;
  }

  /** Worker: chunk `index` ended. */
  end(index: number, status: ChunkStatus): void {
    Atomics.store(this.ints, 2, -1);
    Atomics.store(this.ints, HEADER_INTS + index, status);
  }

  /** Main: takes chunk `index` out if it has not begun; true if it will not run. */
  skip(index: number): boolean {
    const was = Atomics.compareExchange(this.ints, HEADER_INTS + index, ChunkStatus.Waiting, ChunkStatus.Skipped);
    return was === ChunkStatus.Waiting || was === ChunkStatus.Skipped;
  }

  /** Main: takes chunk `index` out if it has not begun; true only if this call did. */
  takeBack(index: number): boolean {
    return Atomics.compareExchange(this.ints, HEADER_INTS + index, ChunkStatus.Waiting, ChunkStatus.Skipped) === ChunkStatus.Waiting;
  }

  /** Main: takes out every chunk from `index` on that has not begun. */
  skipFrom(index: number, count: number): void {
    for (let i = index; i < count; i++) this.skip(i);
  }

  status(index: number): ChunkStatus {
    return Atomics.load(this.ints, HEADER_INTS + index) as ChunkStatus;
  }

  /** The chunk running now and when it began, or null between chunks. */
  running(): { readonly index: number; readonly startedAt: number } | null {
    const index = Atomics.load(this.ints, 2);
    return index < 0 ? null : { index, startedAt: this.started[0]! };
  }
}

/** Whether an attempt whose thread gave no answer wrote lines (unknown while it ran). */
export function loggedOf(status: ChunkStatus): boolean | undefined {
  if (status === ChunkStatus.Logged) return true;
  if (status === ChunkStatus.Succeeded || status === ChunkStatus.Waiting || status === ChunkStatus.Skipped) return false;
  return undefined;
}
