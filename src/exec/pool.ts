import { randomUUID } from "node:crypto";
import { BroadcastChannel } from "node:worker_threads";
import type { JobSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { formatDuration } from "../config/duration.js";
import { DEFAULT_LOG_CAP_BYTES } from "../store/logs.js";
import type { AttemptOutcome } from "../store/records.js";
import { BatchState, ChunkStatus, loggedOf } from "./batch-state.js";
import { AttemptLogs } from "./log-capture.js";
import { stackFrames } from "../stack.js";
import { stoppedOutcome, strayText, workerDeath, type FailureKind, type Stop } from "./outcomes.js";
import { ProgramRunner } from "./program-runner.js";
import { Stopper } from "./stopper.js";
import { Threads, type ThreadsNow } from "./threads.js";
import { chunkTask, type BatchResult, type BatchTask, type ChunkEnd, type ChunkRun, type ControlMessage, type PoolChannels, type SelectWorkResult, type SelectWorkTask, type TaskResult, type WorkerEvent, type WorkerTask } from "./protocol.js";

export interface PoolOptions {
  readonly workers: number;
  readonly dataDir: string;
  /** Heap limit of each worker thread; a job that exceeds it fails alone. */
  readonly workerMemoryMb?: number;
  readonly logCapBytes?: number;
  readonly onProgress?: (chunkId: string, done: number, total: number) => void;
  readonly onLog?: (chunkId: string, attempt: number, level: string, text: string) => void;
  /**
   * An attempt's log file is complete (written and closed). Called again when stau adds
   * a note to a closed log (an error its code raised after the attempt had finished).
   */
  readonly onLogClosed?: (job: string, chunkId: string, attempt: number, file: string) => void;
  /** Something went wrong that belongs to no chunk's log (an error a selectWork left behind). */
  readonly onWarning?: (message: string) => void;
}

/** How an attempt ended, and how long its code ran (null: unknown, as for a program). */
export interface AttemptEnd {
  readonly outcome: AttemptOutcome;
  readonly durationMs: number | null;
}

/** A task on a thread: a batch of chunk attempts or a selectWork call. */
interface Flight {
  readonly key: string;
  readonly controller: Stopper;
  /** The answer of a task whose thread retired: it comes by the events channel. */
  retired: TaskResult | null;
}

interface SelectFlight extends Flight {
  /** Why we stopped it, when we did. */
  stopped: Stop | null;
}

interface BatchFlight extends Flight {
  readonly runs: readonly ChunkRun[];
  readonly state: BatchState;
  /** 1…workers: which worker of the pool the batch occupies, for people to read. */
  readonly slot: number;
  /** Attempts we stopped (or took out before they began), by index: decides their failure. */
  readonly stops: Map<number, Stop>;
  timer: NodeJS.Timeout | null;
}

// Past a timeout or cancel the job's signal is aborted first; a job that does not
// return within this grace has its worker terminated.
const ABORT_GRACE_MS = 1_000;
/** A batch still running after this long gives back the chunks it has not begun: a chunk that hangs holds up no other. */
const STRAGGLING_MS = 1_000;
/** How long `ready` waits for the threads at most. */
const READY_WAIT_MS = 10_000;

/** The tinypool of worker threads that runs chunks and `selectWork`. */
export class ExecPool {
  private readonly threads: Threads;
  private readonly events: BroadcastChannel;
  private readonly control: BroadcastChannel;
  private readonly logs: AttemptLogs;
  private readonly programs: ProgramRunner;
  /** Every task on a thread, by its key. */
  private readonly flights = new Map<string, BatchFlight | SelectFlight>();
  /** The batch each running chunk is in, and where. */
  private readonly chunks = new Map<string, { flight: BatchFlight; index: number }>();
  private tasks = 0;
  private closed = false;
  readonly size: number;
  /**
   * Resolves once every thread the pool started with is up, its TypeScript loader set up
   * (or after READY_WAIT_MS: a thread that cannot start says so at its first task).
   */
  readonly ready: Promise<void>;
  private threadReady: () => void = () => undefined;

  constructor(private readonly options: PoolOptions) {
    const id = randomUUID();
    const warmUps = new Int32Array(new SharedArrayBuffer(4)).fill(options.workers);
    const channels: PoolChannels = { events: `stau:${id}:events`, control: `stau:${id}:control`, logCapBytes: options.logCapBytes ?? DEFAULT_LOG_CAP_BYTES, warmUps };
    this.size = options.workers;
    let starting = options.workers;
    this.ready = new Promise((resolve) => {
      const fallback = setTimeout(resolve, READY_WAIT_MS).unref();
      this.threadReady = () => {
        if (--starting > 0) return;
        clearTimeout(fallback);
        resolve();
      };
    });
    this.logs = new AttemptLogs(options.dataDir, options.onLogClosed);
    this.programs = new ProgramRunner({ logs: this.logs, logCapBytes: channels.logCapBytes, onLog: options.onLog, onProgress: options.onProgress });
    this.threads = new Threads(options.workers, channels, options.workerMemoryMb ?? 4096);
    this.events = new BroadcastChannel(channels.events);
    this.control = new BroadcastChannel(channels.control);
    this.events.onmessage = (message: unknown) => this.onEvent((message as { data: WorkerEvent }).data);
  }

  /** What the threads do now (ThreadsNow). */
  threadsNow(): ThreadsNow {
    const running = this.programs.chunks();
    const waiting: string[] = [];
    for (const flight of this.flights.values()) {
      if (!("runs" in flight)) continue;
      const now = flight.state.running();
      if (now) running.push(flight.runs[now.index]!.task.chunkId);
      for (let i = (now?.index ?? -1) + 1; i < flight.runs.length; i++) if (flight.state.status(i) === ChunkStatus.Waiting) waiting.push(flight.runs[i]!.task.chunkId);
    }
    return { running, waiting };
  }

  private onEvent(event: WorkerEvent): void {
    switch (event.type) {
      case "ready":
        this.threadReady();
        break;
      case "log":
        this.logs.line(event.chunkId, event.attempt, event.at, event.level, event.text);
        this.options.onLog?.(event.chunkId, event.attempt, event.level, event.text);
        break;
      case "progress":
        this.options.onProgress?.(event.chunkId, event.done, event.total);
        break;
      case "exit": {
        const message = `the job called process.exit(${event.code}), which ended its worker thread`;
        const flight = this.flights.get(event.key);
        if (flight && "runs" in flight) {
          const running = flight.state.running();
          if (running) this.stopChunk(flight, running.index, { kind: "error", message, stack: null }, 0);
        } else if (flight) this.stopSelect(flight, { kind: "error", message, stack: null });
        break;
      }
      case "end":
        this.logs.drained(event.chunkId, event.attempt);
        break;
      case "stray":
        this.onStray(event);
        break;
      case "retired": {
        // Ending the task is how tinypool lets us terminate one thread (and start another).
        const flight = this.flights.get(event.key);
        if (!flight) break;
        flight.retired = event.result;
        flight.controller.abort();
        break;
      }
    }
  }

  /**
   * An error the job's code raised where none of its awaits could catch it. It is the
   * task's whose code it was: that task fails if it still runs; otherwise its result
   * stands and its log says what happened. Either way its thread is retired (see worker.ts).
   */
  private onStray(event: Extract<WorkerEvent, { type: "stray" }>): void {
    const what = strayText(event.origin, event.error.message);
    const stop: Stop = { kind: "error", message: `the job's code ${what}`, stack: event.error.stack };
    if (event.running) {
      const place = event.chunkId === null ? undefined : this.chunks.get(event.chunkId);
      if (place) return void this.stopChunk(place.flight, place.index, stop, 0);
      const flight = this.flights.get(event.key);
      if (flight && !("runs" in flight)) return void this.stopSelect(flight, stop);
    }
    if (event.chunkId === null || event.attempt === null) {
      this.options.onWarning?.(`${event.job}.selectWork had returned when its code ${what}; its worker thread was retired`);
      return;
    }
    const frames = stackFrames(event.error.stack);
    const text = [
      `[stau] after this attempt had finished, its code ${what}`,
      ...(frames ? [frames] : []),
      "[stau] the attempt's result stands; the worker thread it ran on was retired, so that code runs beside no other chunk",
    ].join("\n");
    this.logs.note(event.job, event.chunkId, event.attempt, event.at, "warn", text);
  }

  /** Runs a task on a thread; a thread that must retire gives its answer by the events channel. */
  private async execute(flight: Flight, task: WorkerTask): Promise<TaskResult> {
    this.flights.set(flight.key, flight as BatchFlight | SelectFlight);
    try {
      return await this.threads.run(task, flight.controller);
    } catch (error) {
      if (flight.retired) return flight.retired;
      throw error;
    } finally {
      this.flights.delete(flight.key);
    }
  }

  /**
   * Runs chunk attempts one after another on one thread (a program job's attempt runs
   * alone, as a process). Never rejects: each attempt gets an end, or null if it never
   * began (its batch ended early: a failure, a stop, a retiring thread) and should be
   * run again. Chunks a straggling batch gives back (see STRAGGLING_MS) are passed to
   * `givenBack` at once, by index, and end as null.
   */
  async runChunks(runs: readonly ChunkRun[], givenBack?: (indexes: number[]) => void): Promise<(AttemptEnd | null)[]> {
    const first = runs[0]!;
    if (first.spec.program) {
      const { spec, task } = first;
      const outcome = await this.programs.run({ ...spec, program: spec.program! }, chunkTask(spec, task), this.freeSlot());
      return [{ outcome, durationMs: null }];
    }
    const key = `batch#${++this.tasks}`;
    const state = BatchState.create(runs.length);
    const chunks = runs.map(({ spec, task }) => chunkTask(spec, task));
    const flight: BatchFlight = { key, controller: new Stopper(), retired: null, runs, state, slot: this.freeSlot(), stops: new Map(), timer: null };
    for (const [index, { spec, task }] of runs.entries()) {
      this.chunks.set(task.chunkId, { flight, index });
      this.logs.start(spec.name, task.chunkId, task.attempt);
    }
    this.watchTimeouts(flight);
    const back = new Set<number>();
    const straggling = runs.length > 1 && givenBack ? setTimeout(() => givenBack(this.giveBack(flight, back)), STRAGGLING_MS) : null;
    let result: BatchResult | null = null;
    let death: unknown = null;
    try {
      result = (await this.execute(flight, { kind: "batch", id: key, chunks, state: state.buffer } satisfies BatchTask)) as BatchResult;
    } catch (error) {
      death = error;
    }
    if (flight.timer) clearTimeout(flight.timer);
    if (straggling) clearTimeout(straggling);
    return runs.map(({ task }, index) => {
      if (back.has(index)) return null;
      this.chunks.delete(task.chunkId);
      const end = this.endOf(flight, index, result?.ends[index] ?? null, result === null ? death : null);
      // A failed attempt's error ends its log, so it outlives a successful retry.
      const logged = result?.ends[index]?.logged ?? loggedOf(state.status(index));
      this.logs.settled(task.chunkId, task.attempt, logged, end === null || end.outcome.ok ? null : end.outcome);
      return end;
    });
  }

  /** Takes the chunks of a batch that have not begun out of it (into `back`); returns their indexes. */
  private giveBack(flight: BatchFlight, back: Set<number>): number[] {
    const taken: number[] = [];
    for (const [index, { task }] of flight.runs.entries()) {
      if (!flight.state.takeBack(index)) continue;
      back.add(index);
      taken.push(index);
      this.chunks.delete(task.chunkId);
      this.logs.settled(task.chunkId, task.attempt, false, null);
    }
    return taken;
  }

  /** An attempt's end: what its thread answered, unless we stopped it; from shared memory if its thread died. */
  private endOf(flight: BatchFlight, index: number, end: ChunkEnd | null, death: unknown): AttemptEnd | null {
    const stop = flight.stops.get(index);
    if (stop) return { outcome: stoppedOutcome(stop), durationMs: end?.ms ?? null };
    if (end) return { outcome: end.ok ? { ok: true } : { ok: false, kind: "error", error: end.error }, durationMs: end.ms };
    if (death === null) return null;
    // The thread died: the batch's shared memory says which attempts had ended well.
    const status = flight.state.status(index);
    if (status === ChunkStatus.Succeeded || status === ChunkStatus.Logged) return { outcome: { ok: true }, durationMs: null };
    if (status === ChunkStatus.Waiting || status === ChunkStatus.Skipped) return null;
    return { outcome: { ok: false, kind: "error", error: workerDeath(death) }, durationMs: null };
  }

  /**
   * One timer per batch, not per chunk: it wakes when the chunk running then would time
   * out, and sees in shared memory which chunk runs by then and since when.
   */
  private watchTimeouts(flight: BatchFlight): void {
    const limits = flight.runs.map(({ spec }) => spec.timeoutMs).filter((ms): ms is number => ms !== null);
    if (limits.length === 0) return;
    const shortest = Math.min(...limits);
    const check = () => {
      let next = shortest;
      const running = flight.state.running();
      const limit = running ? flight.runs[running.index]!.spec.timeoutMs : null;
      if (running && limit !== null) {
        const left = running.startedAt + limit - Date.now();
        if (left <= 0) return this.stopChunk(flight, running.index, { kind: "timeout", message: `timed out after ${formatDuration(limit)}`, stack: null });
        next = Math.min(next, left);
      }
      flight.timer = setTimeout(check, Math.max(1, next));
    };
    flight.timer = setTimeout(check, shortest);
  }

  private freeSlot(): number {
    const taken = new Set([...[...this.flights.values()].flatMap((f) => ("slot" in f ? [f.slot] : [])), ...this.programs.slots()]);
    let slot = 1;
    while (taken.has(slot)) slot++;
    return slot;
  }

  /** The worker slot (1…workers) a running chunk occupies. */
  slotOf(chunkId: string): number | null {
    return this.chunks.get(chunkId)?.flight.slot ?? this.programs.slotOf(chunkId);
  }

  /** Asks a running chunk to stop (its signal aborts), then terminates its worker; one not begun yet never runs. */
  cancel(chunkId: string, message = "cancelled by an operator"): boolean {
    if (this.programs.stop(chunkId, "cancelled", message)) return true;
    const place = this.chunks.get(chunkId);
    if (!place) return false;
    return this.stopChunk(place.flight, place.index, { kind: "cancelled", message, stack: null });
  }

  /** Stops every running chunk, e.g. when a drain timed out; chunks not begun never run. */
  abortAll(message: string): void {
    for (const flight of this.flights.values()) {
      if (!("runs" in flight)) continue;
      flight.state.skipFrom(0, flight.runs.length);
      const running = flight.state.running();
      if (running) this.stopChunk(flight, running.index, { kind: "cancelled", message, stack: null }, 0);
    }
    this.programs.stopAll(message);
  }

  /**
   * Stops one attempt of a batch: the first reason given decides its failure. Not begun,
   * it never runs; running, its signal aborts and, past the grace (none: at once), its
   * thread ends — unless it returned meanwhile. Either way the batch ends with it: the
   * attempts after it go back to the queue. False if it had already ended.
   */
  private stopChunk(flight: BatchFlight, index: number, stop: Stop, graceMs = ABORT_GRACE_MS): boolean {
    const { state } = flight;
    if (flight.stops.has(index)) {
      // Already on its way out; a reason that allows no grace (its code misbehaved again) ends it now.
      if (graceMs === 0) flight.controller.abort();
      return true;
    }
    if (state.skip(index)) {
      flight.stops.set(index, stop);
      return true;
    }
    if (state.running()?.index !== index) return false;
    flight.stops.set(index, stop);
    state.skipFrom(index + 1, flight.runs.length);
    const chunkId = flight.runs[index]!.task.chunkId;
    this.control.postMessage({ type: "abort", chunkId, reason: stop.message } satisfies ControlMessage);
    const end = () => {
      if (state.running()?.index === index) flight.controller.abort();
    };
    if (graceMs === 0) flight.controller.abort();
    else setTimeout(end, graceMs).unref();
    return true;
  }

  private stopSelect(flight: SelectFlight, stop: Stop): void {
    flight.stopped ??= stop;
    flight.controller.abort();
  }

  /** Runs a job's `selectWork` in a pool worker. */
  async selectWork(spec: JobSpec, kwargs: Kwargs): Promise<WorkId[]> {
    if (spec.program?.selectsWork) return this.programs.selectWork({ ...spec, program: spec.program }, kwargs);
    const task: SelectWorkTask = { kind: "selectWork", id: `selectWork#${++this.tasks}`, file: spec.file, job: spec.name, kwargs };
    const flight: SelectFlight = { key: task.id, controller: new Stopper(), stopped: null, retired: null };
    let result: SelectWorkResult | null = null;
    try {
      result = (await this.execute(flight, task)) as SelectWorkResult;
    } catch (error) {
      if (!flight.stopped) throw error;
    }
    const failure = flight.stopped ?? (result!.ok ? null : result!.error);
    if (failure) throw Object.assign(new Error(`${spec.name}.selectWork failed: ${failure.message}`), { stack: failure.stack ?? undefined });
    return (result as { workIds?: WorkId[] }).workIds ?? [];
  }

  /** New threads for new chunks (hot reload; Threads.recycle); running chunks finish on the old ones. */
  recycle(): Promise<void> {
    return this.threads.recycle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.programs.close();
    this.events.close();
    this.control.close();
    await this.threads.destroy();
    await this.logs.close();
  }
}
