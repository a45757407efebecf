import type { ChunkRecord, ChunkState } from "../store/records.js";

// What the panes count and list about chunks, kept up to date from each chunk's change
// (its record before and after) instead of recounted over every chunk per batch: with
// 20,000 queued chunks the recount was most of the console's time while a run executed.
// Only the queue is as long as the chunks; its sections are sorted arrays spliced at
// the rows that changed.

/** A chunk's place in the header's counts: a chunk the store calls running is "claimed" until it is on a thread. */
export type Category = ChunkState | "claimed";
export type Counts = Readonly<Record<Category, number>>;

/**
 * A job's last run as its chunks tell it: the run of its newest chunk outcome, when that
 * came and how it went. A run in which a chunk of the job failed went "failed", however
 * many of its other chunks ended after that failure.
 */
export interface Outcome {
  readonly at: number;
  readonly state: ChunkState;
  readonly runId: string;
}

/** What a job's chunks say of it: how many run and wait, and its last run. */
export interface JobActivity {
  readonly running: number;
  readonly queued: number;
  readonly last: Outcome | null;
}

export interface QueuedChunk {
  readonly kind: "chunk";
  readonly chunk: ChunkRecord;
  /** Its place in `order`, which sorts its section. */
  readonly position: number;
}

export interface Activity {
  /** Each chunk's position in the order the console first saw it (the queue's order); shared by every version, added to as chunks come and go. */
  readonly order: { readonly positions: Map<string, number>; next: number };
  readonly perRun: ReadonlyMap<string, Counts>;
  readonly perJob: ReadonlyMap<string, JobActivity>;
  readonly onThread: ReadonlyMap<string, ChunkRecord>;
  readonly failed: ReadonlyMap<string, ChunkRecord>;
  /** Chunks claimed ahead of a thread, then queued and pending ones, each in `order`. */
  readonly claimed: readonly QueuedChunk[];
  readonly queued: readonly QueuedChunk[];
}

/**
 * One chunk's change: its record before (undefined: new) and after (undefined: dropped);
 * or, with `count`, that many chunks' (a big run's chunks moving between the records
 * that stand for them: summarized-runs.ts).
 */
export type ChunkChange = readonly [before: ChunkRecord | undefined, after: ChunkRecord | undefined, count?: number];

const ZERO: Counts = { queued: 0, pending: 0, claimed: 0, running: 0, done: 0, failed: 0, upstream_failed: 0, cancelled: 0 };

/**
 * Whether a chunk the store calls running is on a worker thread. An executor claims a
 * little ahead of its threads; such a chunk of this console's instance (`self`) is only
 * claimed until chunk:started names its worker. Another instance's chunks carry no
 * worker (the store does not keep it), nor do any for a console attached from outside
 * (`self` null): they count as running, as nothing better is known.
 */
export function onThread(chunk: ChunkRecord, self: string | null): boolean {
  return chunk.state === "running" && (chunk.worker != null || self === null || chunk.owner !== self);
}

/**
 * The store never records a chunk's worker thread; only chunk:started says it. A later
 * record of the same attempt without it (a snapshot, a shared store's echo of the
 * claim) must not turn a chunk running on a thread back into one claimed ahead.
 */
export function keepWorker(known: ChunkRecord | undefined, chunk: ChunkRecord): ChunkRecord {
  if (!lacksWorker(chunk) || known?.state !== "running" || known.worker == null || known.attempts !== chunk.attempts) return chunk;
  return { ...chunk, worker: known.worker };
}

/** Whether keepWorker may change a record: only then is the record known before it worth looking up. */
export const lacksWorker = (chunk: ChunkRecord) => chunk.state === "running" && chunk.worker == null;

const categoryOf = (chunk: ChunkRecord, self: string | null): Category => (chunk.state === "running" && !onThread(chunk, self) ? "claimed" : chunk.state);
const waits = (category: Category) => category === "claimed" || category === "queued" || category === "pending";

/** When a chunk's outcome for its job's "last run" came (a claimed or running one gives none), or null. */
export function outcomeAt(chunk: ChunkRecord): number | null {
  return chunk.state === "running" ? null : (chunk.finishedAt ?? chunk.startedAt);
}

/**
 * `last` with one more chunk outcome of its job: within one run the newest time and a
 * failure over any success; across runs the newer run's. (Runs of one job that end
 * interleaved can show the other's outcome; the Failures pane lists every failure.)
 */
export function merge(last: Outcome | null, at: number, state: ChunkState, runId: string): Outcome {
  if (!last || (last.runId !== runId && at >= last.at)) return { at, state, runId };
  if (last.runId !== runId) return last;
  // One run: its newest time, and a failure over any success; `last` itself when it says
  // so already (this runs for every chunk that ends while the console watches).
  const newest = Math.max(at, last.at);
  const outcome = last.state === "failed" ? "failed" : state === "failed" || at >= last.at ? state : last.state;
  return newest === last.at && outcome === last.state ? last : { at: newest, state: outcome, runId };
}

export function emptyActivity(): Activity {
  return { order: { positions: new Map(), next: 0 }, perRun: new Map(), perJob: new Map(), onThread: new Map(), failed: new Map(), claimed: [], queued: [] };
}

/**
 * `activity` with each job's newest outcome at least as new as in `earlier`: a snapshot
 * holds only the runs in the console's window, and a job whose runs left it still last
 * ran when it did.
 */
export function keepLastOutcomes(activity: Activity, earlier: Activity | undefined): Activity {
  if (!earlier) return activity;
  let perJob: Map<string, JobActivity> | null = null;
  for (const [job, was] of earlier.perJob) {
    if (!was.last) continue;
    const now = activity.perJob.get(job);
    if (now?.last && now.last.at >= was.last.at) continue;
    (perJob ??= new Map(activity.perJob)).set(job, { running: now?.running ?? 0, queued: now?.queued ?? 0, last: was.last });
  }
  return perJob ? { ...activity, perJob } : activity;
}

/**
 * `activity` after `changes` (at most one per chunk). `all` lists every chunk after
 * them: read only when a job's newest outcome was taken away (a retry). The chunks of
 * `summarized` runs are counted but never queue rows (summarized-runs.ts).
 */
export function updateActivity(activity: Activity, changes: readonly ChunkChange[], self: string | null, all: () => Iterable<ChunkRecord>, summarized: ReadonlySet<string>, outcomes?: ReadonlyMap<string, Outcome>): Activity {
  if (changes.length === 0 && !outcomes?.size) return activity;
  const edit = new ActivityEdit(activity, self, summarized);
  for (const [before, after, count] of changes) edit.change(before, after, count ?? 1);
  // Outcomes of chunks whose records carry no times (summarized-runs.ts), each job's newest.
  if (outcomes) for (const [job, outcome] of outcomes) edit.outcome(job, outcome);
  return edit.result(all);
}

// The edit is a class, not closures made per call: V8's optimized code for a batch
// bakes in the functions it calls, and closures that die with the batch made it throw
// that code away and compile it again, batch after batch, on a busy run.

/** A job's entry while a batch changes it. */
type OwnJob = { running: number; queued: number; last: JobActivity["last"] };

/** One batch's changes to an Activity: each run's and job's entry is copied once, then changed in place. */
class ActivityEdit {
  private readonly perRun: Map<string, Counts>;
  private readonly perJob: Map<string, JobActivity>;
  private onThreadMap: Map<string, ChunkRecord> | null = null;
  private failed: Map<string, ChunkRecord> | null = null;
  private readonly claimed = new SectionEdit();
  private readonly queued = new SectionEdit();
  private readonly lostLast = new Set<string>();
  private readonly ownRuns = new Set<string>();
  private readonly ownJobs = new Set<string>();

  constructor(
    private readonly activity: Activity,
    private readonly self: string | null,
    private readonly summarized: ReadonlySet<string>,
  ) {
    this.perRun = new Map(activity.perRun);
    this.perJob = new Map(activity.perJob);
  }

  private runOf(id: string): Record<Category, number> {
    if (!this.ownRuns.has(id)) (this.ownRuns.add(id), this.perRun.set(id, { ...(this.perRun.get(id) ?? ZERO) }));
    return this.perRun.get(id) as Record<Category, number>;
  }

  private jobOf(name: string): OwnJob {
    if (!this.ownJobs.has(name)) (this.ownJobs.add(name), this.perJob.set(name, { running: 0, queued: 0, last: null, ...this.perJob.get(name) }));
    return this.perJob.get(name) as OwnJob;
  }

  private count(chunk: ChunkRecord, category: Category, by: number): void {
    this.runOf(chunk.runId)[category] += by;
    const job = this.jobOf(chunk.job);
    if (category === "running") job.running += by;
    else if (waits(category)) job.queued += by;
  }

  outcome(job: string, outcome: Outcome): void {
    const entry = this.jobOf(job);
    entry.last = merge(entry.last, outcome.at, outcome.state, outcome.runId);
  }

  change(before: ChunkRecord | undefined, after: ChunkRecord | undefined, count: number): void {
    const chunk = (after ?? before)!;
    const { order } = this.activity;
    // Only queue rows have a place in the order: a summarized run's chunks are none.
    let position = order.positions.get(chunk.id);
    if (position === undefined && !this.summarized.has(chunk.runId)) order.positions.set(chunk.id, (position = order.next++));
    if (before) {
      const category = categoryOf(before, this.self);
      this.count(before, category, -count);
      if (category === "running") (this.onThreadMap ??= new Map(this.activity.onThread)).delete(before.id);
      if (category === "failed") (this.failed ??= new Map(this.activity.failed)).delete(before.id);
      if (position !== undefined && category === "claimed") this.claimed.drop(position);
      if (position !== undefined && (category === "queued" || category === "pending")) this.queued.drop(position);
      // A dropped chunk (its run left the console's window) gives its place up: the order would otherwise grow with every chunk ever seen.
      if (!after && position !== undefined) order.positions.delete(before.id);
      // A retry takes the job's newest outcome away when it was this chunk's: read it again
      // from every chunk. A chunk dropped with its run (out of the console's window) leaves
      // it: the job still last ran then.
      if (after) {
        const was = outcomeAt(before);
        const last = was === null ? null : this.jobOf(before.job).last;
        const now = outcomeAt(after);
        const newestGone = was !== null && last !== null && was >= last.at && (now === null || now < was);
        // The failure that made its run's outcome "failed" is retried: the run may not have failed after all.
        const failureGone = last?.state === "failed" && last.runId === before.runId && before.state === "failed" && after.state !== "failed";
        if (newestGone || failureGone) this.lostLast.add(before.job);
      }
    }
    if (after) {
      const category = categoryOf(after, this.self);
      this.count(after, category, count);
      if (category === "running") (this.onThreadMap ??= new Map(this.activity.onThread)).set(after.id, after);
      if (category === "failed") (this.failed ??= new Map(this.activity.failed)).set(after.id, after);
      if (position !== undefined && category === "claimed") this.claimed.add(position, after);
      if (position !== undefined && (category === "queued" || category === "pending")) this.queued.add(position, after);
      const at = outcomeAt(after);
      if (at !== null) {
        const job = this.jobOf(after.job);
        job.last = merge(job.last, at, after.state, after.runId);
      }
    }
  }

  result(all: () => Iterable<ChunkRecord>): Activity {
    if (this.lostLast.size > 0) {
      // Two passes, so the answer does not depend on the chunks' order: each job's newest outcome, then that run's failures.
      // A summarized run's chunks that ended are held without their times (summarized-runs.ts): its
      // outcome's time stays, and its state is its failures' (pass two) or else done.
      const kept = (last: Outcome | null) => (last && this.summarized.has(last.runId) ? { ...last, state: "done" as const } : null);
      const newest = new Map<string, Outcome | null>([...this.lostLast].map((job) => [job, kept(this.jobOf(job).last)]));
      for (const chunk of all()) {
        const at = newest.has(chunk.job) ? outcomeAt(chunk) : null;
        const known = newest.get(chunk.job);
        if (at !== null && (!known || at >= known.at)) newest.set(chunk.job, { at, state: chunk.state, runId: chunk.runId });
      }
      for (const chunk of all()) {
        const known = newest.get(chunk.job);
        if (known && chunk.runId === known.runId && chunk.state === "failed") newest.set(chunk.job, { ...known, state: "failed" });
      }
      for (const [job, last] of newest) this.jobOf(job).last = last;
    }
    // A run whose chunks are all gone (dropped with it) leaves no entry behind.
    for (const id of this.ownRuns) if (Object.values(this.perRun.get(id)!).every((n) => n === 0)) this.perRun.delete(id);
    return {
      order: this.activity.order,
      perRun: this.perRun,
      perJob: this.perJob,
      onThread: this.onThreadMap ?? this.activity.onThread,
      failed: this.failed ?? this.activity.failed,
      claimed: this.claimed.apply(this.activity.claimed),
      queued: this.queued.apply(this.activity.queued),
    };
  }
}

/** The index of the first row at or past `position` in rows sorted by it. */
function indexAt(rows: readonly QueuedChunk[], position: number): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (rows[mid]!.position < position) low = mid + 1;
    else high = mid;
  }
  return low;
}

interface Cut {
  readonly at: number;
  readonly position: number;
  readonly row: QueuedChunk | null;
}

const byCut = (a: Cut, b: Cut) => a.at - b.at || a.position - b.position || (a.row ? 1 : -1);

/** Rows to take out of a section (by position) and to put in, applied to its sorted array at once. */
class SectionEdit {
  private readonly drops: number[] = [];
  private readonly adds: QueuedChunk[] = [];

  drop(position: number): void {
    this.drops.push(position);
  }

  add(position: number, chunk: ChunkRecord): void {
    this.adds.push({ kind: "chunk", chunk, position });
  }

  apply(rows: readonly QueuedChunk[]): readonly QueuedChunk[] {
    if (this.drops.length === 0 && this.adds.length === 0) return rows;
    // Cut points in the old array, in order: a drop takes out the row at its index, an add goes in before it.
    const cuts: Cut[] = [];
    for (const position of this.drops) cuts.push({ at: indexAt(rows, position), position, row: null });
    for (const row of this.adds) cuts.push({ at: indexAt(rows, row.position), position: row.position, row });
    cuts.sort(byCut);
    const out: QueuedChunk[] = [];
    let from = 0;
    for (const cut of cuts) {
      for (; from < cut.at; from++) out.push(rows[from]!);
      if (cut.row) out.push(cut.row);
      else if (from < rows.length && rows[from]!.position === cut.position) from++;
    }
    for (; from < rows.length; from++) out.push(rows[from]!);
    return out;
  }
}
