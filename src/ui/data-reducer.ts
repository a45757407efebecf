import { FINISHED_CHUNK_STATES, FINISHED_RUN_STATES } from "../engine/transitions.js";
import type { ChunkRecord, RunRecord } from "../store/records.js";
import type { EngineEventEntry } from "./actions.js";
import type { ConsoleSnapshot } from "../console/contract.js";
import { heldRuns } from "../console/held-runs.js";
import { emptyActivity, keepLastOutcomes, keepWorker, lacksWorker, updateActivity, type ChunkChange, type Counts } from "./activity.js";
import { PersistentMap } from "./persistent-map.js";
import type { DataState, Progress } from "./state.js";
import { listed, RunTally, summarizes } from "./summarized-runs.js";

/** Data from a snapshot; progress and waits survive for runs and chunks still active. */
export function dataFromSnapshot(snapshot: ConsoleSnapshot, prev?: DataState): DataState {
  const runs = new Map<string, RunRecord>();
  const chunks = new Map<string, ChunkRecord>();
  const holds = heldRuns();
  // One tally for the console's life: what it folded since the snapshot was read is newer than the snapshot.
  const tally = prev?.tally ?? new RunTally();
  for (const { run, chunks: runChunks } of snapshot.runs) {
    // Snapshot order is active runs, then finished ones newest first, as the store read them by the same rule.
    if (!holds(run, runChunks.length)) continue;
    runs.set(run.id, run);
    if (tally.runs.has(run.id) || summarizes(runChunks.length)) tally.followRead(run.id, runChunks);
    else for (const chunk of runChunks) chunks.set(chunk.id, keepWorker(prev?.chunks.get(chunk.id), chunk));
  }
  // The counts are taken from scratch: every chunk held here, and the summarized runs' records as the tally holds them.
  const { moves, outcomes, succeeded } = tally.rebase((id) => runs.has(id));
  const changes: ChunkChange[] = [];
  for (const chunk of chunks.values()) changes.push([undefined, chunk]);
  for (const move of moves) {
    changes.push(move);
    const after = move[1];
    if (after && listed(after)) chunks.set(after.id, after);
  }
  // A job whose runs left the window (or the snapshot's) still last ran when it did.
  const activity = keepLastOutcomes(updateActivity(emptyActivity(), changes, snapshot.instance ?? null, () => [], tally.runs, outcomes), prev?.activity);
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
    summarized: tally.runs,
    tally,
    activity,
    progress,
    waitingOn,
    nextFires: snapshot.nextFires,
    lastSuccess: succeeded.size > 0 ? newestSuccesses(snapshot.lastSuccess, succeeded) : snapshot.lastSuccess,
    busy: prev?.busy ?? 0,
    threadsNow: prev?.threadsNow ?? null,
    draining: prev?.draining ?? false,
    storeProblem: snapshot.storeProblem ?? null,
    attachedTo: snapshot.attachedTo ?? null,
    instance: snapshot.instance ?? null,
  };
}

/** `known` with each job's success from `succeeded` where it is newer. */
function newestSuccesses(known: Readonly<Record<string, number | null>>, succeeded: ReadonlyMap<string, number>): Record<string, number | null> {
  const out = { ...known };
  for (const [job, at] of succeeded) if ((out[job] ?? -Infinity) < at) out[job] = at;
  return out;
}

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
 * src/events.ts), so the data follows without reading stau again. A summarized run's
 * chunk changes are folded by the tally as they arrive (summarized-runs.ts), and taken
 * from it here. `refresh` says the job files changed or a schedule entry's next fire
 * moved, which no event carries: the store should take a new snapshot.
 */
export function applyEvents(data: DataState, events: readonly EngineEventEntry[], now: number, folded = false): { data: DataState; refresh: boolean } {
  const { tally } = data;
  const runs = new CopyOnWrite(data.runs);
  const progress = new CopyOnWrite(data.progress);
  const waitingOn = new CopyOnWrite(data.waitingOn);
  const batch = new ChunkBatch(data, progress);
  const changed = batch.changed;
  let lastSuccess: Record<string, number | null> | null = null;
  let draining = data.draining;
  let storeProblem = data.storeProblem;
  let refresh = false;
  const at = () => now;
  for (const entry of events) {
    // The console store's buffer folds as events arrive, and what it left stays left: an
    // event it held before the tally followed its run is older than what the tally folded
    // since (handOver below). Events handed over whole (tests) are folded here.
    const event = folded ? entry : tally.fold(entry, at);
    if (event === null) continue;
    switch (event.name) {
      case "run:queued":
      case "run:waiting":
      case "run:started":
      case "run:finished": {
        const { run } = event.payload;
        runs.write().set(run.id, run);
        if (event.name === "run:waiting") waitingOn.write().set(run.id, event.payload.on);
        else if (waitingOn.result().has(run.id)) waitingOn.write().delete(run.id);
        if (event.name === "run:started") for (const chunk of event.payload.records) batch.set(chunk);
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
        // A summarized run's chunk is the tally's, folded already: kept only while it runs.
        const folded = chunk ? undefined : tally.recordOf(chunkId);
        if (folded ? folded.state === "running" : !chunk || !FINISHED_CHUNK_STATES.has(chunk.state)) progress.write().set(chunkId, { done, total });
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
  handOver(data, changed, tally);
  if (runs.changed()) tally.forget(capFinishedRuns(runs.write(), data.chunks, data.activity.perRun, changed, tally.runs));
  const tallied = tally.drain();
  if (!runs.changed() && changed.size === 0 && tallied === null && !progress.changed() && !waitingOn.changed() && lastSuccess === null && draining === data.draining && storeProblem === data.storeProblem) {
    return { data, refresh };
  }
  const befores: (ChunkRecord | undefined)[] = [];
  let chunks = data.chunks.with(changed, befores);
  const chunkChanges: ChunkChange[] = [];
  let i = 0;
  for (const after of changed.values()) {
    const before = befores[i++];
    if (before !== after) chunkChanges.push([before, after]);
  }
  if (tallied) {
    // Of a summarized run's chunks the console holds as records those listed (running, failed).
    const listedNow = new Map<string, ChunkRecord | undefined>();
    for (const move of tallied.moves) {
      chunkChanges.push(move);
      const [before, after] = move;
      // A shared record's id is its run's, not a chunk's: the listed one of the two names the chunk.
      const own = after && listed(after) ? after : before && listed(before) ? before : null;
      if (!own) continue;
      listedNow.set(own.id, own === after ? after : undefined);
      if (own === after && after.state !== "running" && progress.result().has(own.id)) progress.write().delete(own.id);
    }
    if (listedNow.size > 0) chunks = chunks.with(listedNow);
    // A chunk that started and ended since the last batch is folded into one move between shared records: its progress goes too.
    for (const id of progress.result().keys()) if (!chunks.has(id) && tally.recordOf(id) !== undefined) progress.write().delete(id);
    if (tallied.succeeded.size > 0) lastSuccess = { ...(lastSuccess ?? data.lastSuccess), ...Object.fromEntries(tallied.succeeded) };
  }
  const activity = updateActivity(data.activity, chunkChanges, data.instance, () => chunks.values(), tally.runs, tallied?.outcomes);
  return {
    data: { ...data, runs: runs.result(), chunks, summarized: tally.runs, activity, progress: progress.result(), waitingOn: waitingOn.result(), lastSuccess: lastSuccess ?? data.lastSuccess, draining, storeProblem },
    refresh,
  };
}

/**
 * Gives the tally the records of chunks of runs it follows that reached this console's own
 * map: on a shared store, this instance's chunk events can come before another instance's
 * run:started reaches the console (a look at the store), and the buffer held them before
 * the tally followed their run. The tally keeps what it folded since (newer).
 */
function handOver(data: DataState, changed: Map<string, ChunkRecord | undefined>, tally: RunTally): void {
  if (tally.runs.size === 0) return;
  if (tally.runs !== data.summarized) {
    for (const [id, chunk] of data.chunks) if (tally.runs.has(chunk.runId) && !data.summarized.has(chunk.runId) && !changed.has(id)) changed.set(id, chunk);
  }
  for (const [id, chunk] of changed) {
    if (!chunk || !tally.runs.has(chunk.runId)) continue;
    tally.adopt(chunk);
    changed.set(id, undefined);
  }
}

/**
 * Drops the finished runs the console does not hold (held-runs.ts), with their chunks
 * (marked dropped in `changed`; the tally drops those of the runs it follows, `tallied`);
 * `perRun` counts each run's chunks. Returns the ids of the runs dropped.
 */
function capFinishedRuns(runs: Map<string, RunRecord>, chunks: ReadonlyMap<string, ChunkRecord>, perRun: ReadonlyMap<string, Counts>, changed: Map<string, ChunkRecord | undefined>, tallied: ReadonlySet<string>): ReadonlySet<string> {
  const finished = [...runs.values()].filter((r) => FINISHED_RUN_STATES.has(r.status));
  finished.sort((a, b) => (b.finishedAt ?? b.createdAt) - (a.finishedAt ?? a.createdAt));
  const holds = heldRuns();
  const dropped = new Set(finished.filter((r) => !holds(r, chunkCount(perRun.get(r.id)))).map((r) => r.id));
  if (dropped.size === 0) return dropped;
  for (const id of dropped) runs.delete(id);
  for (const [id, chunk] of changed) if (chunk && dropped.has(chunk.runId)) changed.set(id, undefined);
  for (const [id, chunk] of chunks) if (dropped.has(chunk.runId) && !tallied.has(chunk.runId)) changed.set(id, undefined);
  return dropped;
}

function chunkCount(counts: Counts | undefined): number {
  let n = 0;
  for (const category in counts) n += counts[category as keyof Counts];
  return n;
}
