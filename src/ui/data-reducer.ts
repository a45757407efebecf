import { FINISHED_CHUNK_STATES, FINISHED_RUN_STATES } from "../engine/transitions.js";
import type { ChunkRecord, RunRecord } from "../store/records.js";
import type { EngineEventEntry } from "./actions.js";
import type { ConsoleSnapshot } from "../console/contract.js";
import { heldRuns } from "../console/held-runs.js";
import { buildActivity, keepLastOutcomes, updateActivity, type ChunkChange, type Counts } from "./activity.js";
import { PersistentMap } from "./persistent-map.js";
import type { DataState, Progress } from "./state.js";
import { SharedRecords, summarizes } from "./summarized-runs.js";

/** Data from a snapshot; progress and waits survive for runs and chunks still active. */
export function dataFromSnapshot(snapshot: ConsoleSnapshot, prev?: DataState): DataState {
  const runs = new Map<string, RunRecord>();
  const chunks = new Map<string, ChunkRecord>();
  const holds = heldRuns();
  const summarized = new Set<string>();
  for (const { run, chunks: runChunks } of snapshot.runs) {
    // Snapshot order is active runs, then finished ones newest first, as the store read them by the same rule.
    if (!holds(run, runChunks.length)) continue;
    runs.set(run.id, run);
    if (summarizes(runChunks.length)) summarized.add(run.id);
    for (const chunk of runChunks) chunks.set(chunk.id, keepWorker(prev?.chunks.get(chunk.id), chunk));
  }
  // The counts are taken from every record; a summarized run's are then held as summarized-runs.ts says.
  const activity = keepLastOutcomes(buildActivity(chunks.values(), snapshot.instance ?? null, summarized), prev?.activity);
  const shared = new SharedRecords();
  if (summarized.size > 0) for (const [id, chunk] of chunks) if (summarized.has(chunk.runId)) chunks.set(id, shared.held(chunk));
  const progress = new Map<string, Progress>();
  for (const [id, p] of prev?.progress ?? []) if (chunks.get(id)?.state === "running") progress.set(id, p);
  const waitingOn = new Map<string, readonly string[]>();
  for (const [id, on] of prev?.waitingOn ?? []) if (runs.get(id)?.status === "waiting") waitingOn.set(id, on);
  return {
    project: snapshot.project,
    store: snapshot.store,
    workers: snapshot.workers,
    startedAt: snapshot.startedAt,
    paused: snapshot.paused,
    jobs: snapshot.jobs,
    runs,
    chunks: PersistentMap.of(chunks),
    summarized,
    sharedRecords: shared,
    // A job whose runs left the window (or the snapshot's) still last ran when it did.
    activity,
    progress,
    waitingOn,
    nextFires: snapshot.nextFires,
    lastSuccess: snapshot.lastSuccess,
    busy: prev?.busy ?? 0,
    draining: prev?.draining ?? false,
    storeProblem: snapshot.storeProblem ?? null,
    attachedTo: snapshot.attachedTo ?? null,
    instance: snapshot.instance ?? null,
  };
}

/**
 * The store never records a chunk's worker thread; only chunk:started says it. A later
 * record of the same attempt without it (a snapshot, a shared store's echo of the
 * claim) must not turn a chunk running on a thread back into one claimed ahead.
 */
function keepWorker(known: ChunkRecord | undefined, chunk: ChunkRecord): ChunkRecord {
  if (!lacksWorker(chunk) || known?.state !== "running" || known.worker == null || known.attempts !== chunk.attempts) return chunk;
  return { ...chunk, worker: known.worker };
}

/** Whether keepWorker may change a record: only then is the record known before it worth looking up. */
const lacksWorker = (chunk: ChunkRecord) => chunk.state === "running" && chunk.worker == null;

/** A map copied on its first write, so a batch copies each map at most once (the small ones: chunks change in place, see persistent-map.ts). */
class CopyOnWrite<K, V> {
  private copy: Map<K, V> | null = null;
  constructor(private readonly source: ReadonlyMap<K, V>) {}
  write(): Map<K, V> {
    return (this.copy ??= new Map(this.source));
  }
  result(): ReadonlyMap<K, V> {
    return this.copy ?? this.source;
  }
  changed(): boolean {
    return this.copy !== null;
  }
}

// The batch's state is a class, not closures made per call: V8's optimized code for
// applyEvents bakes in the functions it calls, and closures that died with each batch
// made it throw that code away and compile it again, batch after batch, on a busy run.

/** The chunks one batch of events changes. */
class ChunkBatch {
  /** Each changed chunk's newest record in this batch (undefined: dropped with its run). */
  readonly changed = new Map<string, ChunkRecord | undefined>();
  constructor(
    private readonly data: DataState,
    private readonly progress: CopyOnWrite<string, Progress>,
  ) {}

  now(id: string): ChunkRecord | undefined {
    return this.changed.has(id) ? this.changed.get(id) : this.data.chunks.get(id);
  }

  set(record: ChunkRecord): void {
    const chunk = lacksWorker(record) ? keepWorker(this.now(record.id), record) : record;
    this.changed.set(chunk.id, chunk);
    if (chunk.state !== "running" && this.data.progress.has(chunk.id)) this.progress.write().delete(chunk.id);
  }
}

/**
 * Applies a batch of events: every change of a run or a chunk arrives as one (see
 * src/events.ts), so the data follows without reading stau again. `refresh` says the
 * job files changed or a schedule entry's next fire moved, which no event carries: the
 * store should take a new snapshot.
 */
export function applyEvents(data: DataState, events: readonly EngineEventEntry[], now: number): { data: DataState; refresh: boolean } {
  const runs = new CopyOnWrite(data.runs);
  const progress = new CopyOnWrite(data.progress);
  const waitingOn = new CopyOnWrite(data.waitingOn);
  const batch = new ChunkBatch(data, progress);
  const changed = batch.changed;
  let summarized: Set<string> | null = null;
  let lastSuccess: Record<string, number | null> | null = null;
  let draining = data.draining;
  let storeProblem = data.storeProblem;
  let refresh = false;
  for (const event of events) {
    switch (event.name) {
      case "run:queued":
      case "run:waiting":
      case "run:started":
      case "run:finished": {
        const { run } = event.payload;
        runs.write().set(run.id, run);
        if (event.name === "run:waiting") waitingOn.write().set(run.id, event.payload.on);
        else if (waitingOn.result().has(run.id)) waitingOn.write().delete(run.id);
        if (event.name === "run:started") {
          if (summarizes(event.payload.chunks) && !data.summarized.has(run.id)) (summarized ??= new Set(data.summarized)).add(run.id);
          for (const chunk of event.payload.records) batch.set(chunk);
        }
        break;
      }
      case "chunk:pending":
      case "chunk:started":
      case "chunk:interrupted":
      case "chunk:cancelled":
      case "chunk:upstream_failed":
        batch.set(event.payload.chunk);
        break;
      case "chunk:done": {
        const { chunk } = event.payload;
        batch.set(chunk);
        (lastSuccess ??= { ...data.lastSuccess })[chunk.job] = chunk.finishedAt ?? now;
        break;
      }
      case "chunk:failed":
        batch.set(event.payload.chunk);
        break;
      case "chunk:progress": {
        const { chunkId, done, total } = event.payload;
        const chunk = batch.now(chunkId);
        if (!chunk || !FINISHED_CHUNK_STATES.has(chunk.state)) progress.write().set(chunkId, { done, total });
        break;
      }
      case "registry:reloaded":
      // An entry's next fire moved (the Jobs pane's "next"): the snapshot says when to.
      case "schedule:fired":
      case "schedule:skipped":
        refresh = true;
        break;
      case "instance:draining":
        draining = true;
        break;
      case "store:problem":
        storeProblem = event.payload.problem;
        break;
      default:
        break;
    }
  }
  if (runs.changed()) {
    const dropped = capFinishedRuns(runs.write(), data.chunks, data.activity.perRun, changed);
    if (dropped.size > 0 && [...dropped].some((id) => (summarized ?? data.summarized).has(id))) {
      summarized = new Set([...(summarized ?? data.summarized)].filter((id) => !dropped.has(id)));
      data.sharedRecords.forget(dropped);
    }
  }
  const held = summarized ?? data.summarized;
  if (!runs.changed() && changed.size === 0 && !progress.changed() && !waitingOn.changed() && lastSuccess === null && draining === data.draining && storeProblem === data.storeProblem) {
    return { data, refresh };
  }
  const befores: (ChunkRecord | undefined)[] = [];
  const kept = held.size === 0 ? changed : heldForms(changed, held, data.sharedRecords);
  const chunks = data.chunks.with(kept, befores);
  const chunkChanges: ChunkChange[] = [];
  let i = 0;
  const keptNow = kept.values();
  // The activity counts from the new record; a summarized run's chunk still in the state its shared record says changed nothing.
  for (const after of changed.values()) {
    const before = befores[i++];
    if (before !== keptNow.next().value) chunkChanges.push([before, after]);
  }
  const activity = updateActivity(data.activity, chunkChanges, data.instance, () => chunks.values(), held);
  return {
    data: { ...data, runs: runs.result(), chunks, summarized: held, activity, progress: progress.result(), waitingOn: waitingOn.result(), lastSuccess: lastSuccess ?? data.lastSuccess, draining, storeProblem },
    refresh,
  };
}

/** What the console holds for each changed chunk: its record, or for a summarized run's chunk what summarized-runs.ts says. */
function heldForms(changed: ReadonlyMap<string, ChunkRecord | undefined>, summarized: ReadonlySet<string>, shared: SharedRecords): Map<string, ChunkRecord | undefined> {
  const held = new Map<string, ChunkRecord | undefined>();
  for (const [id, chunk] of changed) held.set(id, chunk && summarized.has(chunk.runId) ? shared.held(chunk) : chunk);
  return held;
}

/** Drops the finished runs the console does not hold (held-runs.ts), with their chunks (marked dropped in `changed`); `perRun` counts each run's chunks. Returns the ids of the runs dropped. */
function capFinishedRuns(runs: Map<string, RunRecord>, chunks: ReadonlyMap<string, ChunkRecord>, perRun: ReadonlyMap<string, Counts>, changed: Map<string, ChunkRecord | undefined>): ReadonlySet<string> {
  const finished = [...runs.values()].filter((r) => FINISHED_RUN_STATES.has(r.status));
  finished.sort((a, b) => (b.finishedAt ?? b.createdAt) - (a.finishedAt ?? a.createdAt));
  const holds = heldRuns();
  const dropped = new Set(finished.filter((r) => !holds(r, chunkCount(perRun.get(r.id)))).map((r) => r.id));
  if (dropped.size === 0) return dropped;
  for (const id of dropped) runs.delete(id);
  for (const [id, chunk] of changed) if (chunk && dropped.has(chunk.runId)) changed.set(id, undefined);
  for (const [id, chunk] of chunks) if (dropped.has(chunk.runId)) changed.set(id, undefined);
  return dropped;
}

function chunkCount(counts: Counts | undefined): number {
  let n = 0;
  for (const category in counts) n += counts[category as keyof Counts];
  return n;
}
