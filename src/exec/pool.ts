import { randomUUID } from "node:crypto";
import { BroadcastChannel } from "node:worker_threads";
import { Tinypool } from "tinypool";
import type { JobSpec, ProgramSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { formatDuration } from "../config/duration.js";
import { programBaseEnv, runProgramChunk, selectProgramWork, STOP_GRACE_MS, type ProgramContext } from "../programs/chunk.js";
import { Launcher } from "../programs/launcher.js";
import type { ProgramProcess } from "../programs/process.js";
import { DEFAULT_LOG_CAP_BYTES, logCapNote } from "../store/logs.js";
import type { AttemptOutcome } from "../store/records.js";
import { workerFile } from "../worker-file.js";
import { jobEnv } from "./job-env.js";
import { AttemptLogs, stackFrames } from "./log-capture.js";
import { taskKey, type ChunkTask, type ControlMessage, type PoolChannels, type SelectWorkTask, type SerializedError, type StrayOrigin, type TaskResult, type WorkerEvent, type WorkerTask } from "./protocol.js";

type FailureKind = "error" | "timeout" | "cancelled";

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

/**
 * The smallest abort signal tinypool accepts (an event target with one listener):
 * a chunk carries one in case it must be stopped, and a full AbortController per
 * chunk is measurable at thousands of chunks a second.
 */
class Stopper {
  aborted = false;
  private listener: (() => void) | null = null;

  addEventListener(_name: "abort", listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(): void {
    this.listener = null;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.listener?.();
  }
}

/** A task on a thread: a chunk attempt or a selectWork call. */
interface Flight {
  readonly task: WorkerTask;
  readonly controller: Stopper;
  /** Why we stopped it, when we did: decides the failure kind. */
  stopped: { kind: FailureKind; message: string; stack: string | null } | null;
  /** The answer of a task whose thread retired: it comes by the events channel. */
  retired: TaskResult | null;
}

interface InFlight extends Flight {
  readonly task: ChunkTask;
  /** 1…workers: which worker of the pool this chunk occupies, for people to read. */
  readonly slot: number;
}

interface RunningProgram {
  readonly slot: number;
  readonly process: ProgramProcess;
  stopped: Flight["stopped"];
}

// Past a timeout or cancel the job's signal is aborted first; a job that does not
// return within this grace has its worker terminated.
const ABORT_GRACE_MS = 1_000;

/** The tinypool of worker threads that runs chunks and `selectWork`. */
export class ExecPool {
  private readonly pool: Tinypool;
  private readonly events: BroadcastChannel;
  private readonly control: BroadcastChannel;
  private readonly logs: AttemptLogs;
  /** Chunks running, by chunk id. */
  private readonly inFlight = new Map<string, InFlight>();
  /** Program jobs' chunks running as processes, by chunk id. */
  private readonly programs = new Map<string, RunningProgram>();
  private readonly programContext: ProgramContext = { launcher: new Launcher(programBaseEnv(jobEnv()), STOP_GRACE_MS) };
  /** Every task on a thread, by the key its worker names it with (see taskKey). */
  private readonly flights = new Map<string, Flight>();
  private selectCalls = 0;
  private closed = false;
  readonly size: number;

  constructor(private readonly options: PoolOptions) {
    const id = randomUUID();
    const channels: PoolChannels = { events: `stau:${id}:events`, control: `stau:${id}:control`, logCapBytes: options.logCapBytes ?? DEFAULT_LOG_CAP_BYTES };
    this.size = options.workers;
    this.logs = new AttemptLogs(options.dataDir, options.onLogClosed);
    this.pool = new Tinypool({
      filename: workerFile("./worker.js", import.meta.url),
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: 60_000,
      workerData: channels,
      env: jobEnv(),
      resourceLimits: { maxOldGenerationSizeMb: options.workerMemoryMb ?? 4096 },
    });
    this.events = new BroadcastChannel(channels.events);
    this.control = new BroadcastChannel(channels.control);
    this.events.onmessage = (message: unknown) => this.onEvent((message as { data: WorkerEvent }).data);
  }

  get busy(): number {
    return this.inFlight.size;
  }

  private onEvent(event: WorkerEvent): void {
    switch (event.type) {
      case "log":
        this.logs.line(event.chunkId, event.attempt, event.at, event.level, event.text);
        this.options.onLog?.(event.chunkId, event.attempt, event.level, event.text);
        break;
      case "progress":
        this.options.onProgress?.(event.chunkId, event.done, event.total);
        break;
      case "exit": {
        const flight = this.flights.get(event.key);
        if (flight) this.stop(flight, "error", `the job called process.exit(${event.code}), which ended its worker thread`, 0);
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
    const flight = event.running ? this.flights.get(event.key) : undefined;
    if (flight) return this.stop(flight, "error", `the job's code ${what}`, 0, event.error.stack);
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
  private async execute(flight: Flight): Promise<TaskResult> {
    const key = taskKey(flight.task);
    this.flights.set(key, flight);
    try {
      return (await this.pool.run(flight.task, { signal: flight.controller })) as TaskResult;
    } catch (error) {
      if (flight.retired && !flight.stopped) return flight.retired;
      throw error;
    } finally {
      this.flights.delete(key);
    }
  }

  /** Runs one chunk attempt; never rejects: every way it can end is an outcome. */
  async runChunk(spec: JobSpec, task: Omit<ChunkTask, "kind" | "file" | "job">): Promise<AttemptOutcome> {
    if (spec.program) return this.runProgram({ ...spec, program: spec.program }, task);
    const full: ChunkTask = { kind: "chunk", file: spec.file, job: spec.name, ...task };
    const flight: InFlight = { task: full, slot: this.freeSlot(), controller: new Stopper(), stopped: null, retired: null };
    this.inFlight.set(task.chunkId, flight);
    this.logs.start(spec.name, task.chunkId, task.attempt);
    let logged: boolean | undefined;
    let outcome: AttemptOutcome;
    const timer = spec.timeoutMs === null ? null : setTimeout(() => this.stop(flight, "timeout", `timed out after ${formatDuration(spec.timeoutMs!)}`), spec.timeoutMs);
    try {
      const result = await this.execute(flight);
      logged = result.logged;
      if (flight.stopped) outcome = stoppedOutcome(flight.stopped);
      else outcome = result.ok ? { ok: true } : { ok: false, kind: "error", error: result.error };
    } catch (error) {
      outcome = flight.stopped ? stoppedOutcome(flight.stopped) : { ok: false, kind: "error", error: workerDeath(error) };
    }
    if (timer) clearTimeout(timer);
    this.inFlight.delete(task.chunkId);
    // A failed attempt's error ends its log, so it outlives a successful retry.
    this.logs.settled(task.chunkId, task.attempt, logged, outcome.ok ? null : outcome);
    return outcome;
  }

  /**
   * A program job's attempt: a process of its own (programs/), which takes a slot of
   * the pool as a thread's chunk does, so `workers` bounds both kinds together.
   */
  private async runProgram(spec: JobSpec & { program: ProgramSpec }, task: Omit<ChunkTask, "kind" | "file" | "job">): Promise<AttemptOutcome> {
    const { chunkId, attempt } = task;
    const capBytes = this.options.logCapBytes ?? DEFAULT_LOG_CAP_BYTES;
    let bytes = 0;
    let lastProgress = 0;
    this.logs.start(spec.name, chunkId, attempt);
    const started = runProgramChunk(spec, task, {
      ...this.programContext,
      onLog: (level, text) => {
        if (bytes > capBytes) return;
        bytes += Buffer.byteLength(text);
        if (bytes > capBytes) text = logCapNote(capBytes);
        this.logs.line(chunkId, attempt, Date.now(), level, text);
        this.options.onLog?.(chunkId, attempt, level, text);
      },
      onProgress: (done, total) => {
        // Throttled as a thread's progress() is: the console redraws at most ~10 times a second.
        const now = Date.now();
        if (now - lastProgress < 100 && done < total) return;
        lastProgress = now;
        this.options.onProgress?.(chunkId, done, total);
      },
    });
    const running: RunningProgram = { slot: this.freeSlot(), process: started.process, stopped: null };
    this.programs.set(chunkId, running);
    const timer = spec.timeoutMs === null ? null : setTimeout(() => this.stopProgram(running, "timeout", `timed out after ${formatDuration(spec.timeoutMs!)}`), spec.timeoutMs);
    const ended = await started.outcome;
    if (timer) clearTimeout(timer);
    this.programs.delete(chunkId);
    const outcome = running.stopped ? stoppedOutcome(running.stopped) : ended;
    // Every line came before the process's pipes closed.
    this.logs.drained(chunkId, attempt);
    this.logs.settled(chunkId, attempt, true, outcome.ok ? null : outcome);
    return outcome;
  }

  /** Stops a program with everything it started: SIGTERM to its process group, SIGKILL past the grace. */
  private stopProgram(running: RunningProgram, kind: FailureKind, message: string): void {
    running.stopped ??= { kind, message: `${message}; its processes were sent SIGTERM (SIGKILL after ${formatDuration(STOP_GRACE_MS)})`, stack: null };
    running.process.stop(STOP_GRACE_MS);
  }

  private freeSlot(): number {
    const taken = new Set([...this.inFlight.values(), ...this.programs.values()].map((f) => f.slot));
    let slot = 1;
    while (taken.has(slot)) slot++;
    return slot;
  }

  /** The worker slot (1…workers) a running chunk occupies. */
  slotOf(chunkId: string): number | null {
    return (this.inFlight.get(chunkId) ?? this.programs.get(chunkId))?.slot ?? null;
  }

  /** Asks a running chunk to stop (its signal aborts), then terminates its worker. */
  cancel(chunkId: string, message = "cancelled by an operator"): boolean {
    const flight = this.inFlight.get(chunkId);
    const program = this.programs.get(chunkId);
    if (program) this.stopProgram(program, "cancelled", message);
    else if (flight) this.stop(flight, "cancelled", message);
    return flight !== undefined || program !== undefined;
  }

  /** Stops every running chunk, e.g. when a drain timed out. */
  abortAll(message: string): void {
    for (const flight of this.inFlight.values()) this.stop(flight, "cancelled", message, 0);
    for (const program of this.programs.values()) this.stopProgram(program, "cancelled", message);
  }

  /** Stops a task: the first reason given decides its failure; no grace ends its thread at once. */
  private stop(flight: Flight, kind: FailureKind, message: string, graceMs = ABORT_GRACE_MS, stack: string | null = null): void {
    if (flight.stopped) {
      // Already on its way out; a reason that allows no grace (its code misbehaved again) ends it now.
      if (graceMs === 0) flight.controller.abort();
      return;
    }
    flight.stopped = { kind, message, stack };
    if (flight.task.kind === "chunk") this.control.postMessage({ type: "abort", chunkId: flight.task.chunkId, reason: message } satisfies ControlMessage);
    if (graceMs === 0) flight.controller.abort();
    else setTimeout(() => flight.controller.abort(), graceMs).unref();
  }

  /** Runs a job's `selectWork` in a pool worker. */
  async selectWork(spec: JobSpec, kwargs: Kwargs): Promise<WorkId[]> {
    if (spec.program?.selectsWork) return selectProgramWork({ ...spec, program: spec.program }, kwargs, this.programContext);
    const task: SelectWorkTask = { kind: "selectWork", id: `selectWork#${++this.selectCalls}`, file: spec.file, job: spec.name, kwargs };
    const flight: Flight = { task, controller: new Stopper(), stopped: null, retired: null };
    let result: TaskResult | null = null;
    try {
      result = await this.execute(flight);
    } catch (error) {
      if (!flight.stopped) throw error;
    }
    const failure = flight.stopped ?? (result!.ok ? null : result!.error);
    if (failure) throw Object.assign(new Error(`${spec.name}.selectWork failed: ${failure.message}`), { stack: failure.stack ?? undefined });
    return (result as { workIds?: WorkId[] }).workIds ?? [];
  }

  /** New threads for new chunks (hot reload); running chunks finish on the old ones. */
  async recycle(): Promise<void> {
    await this.pool.recycleWorkers();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.programContext.launcher.close();
    this.events.close();
    this.control.close();
    await this.pool.destroy();
    await this.logs.close();
  }
}

function stoppedOutcome(stopped: NonNullable<Flight["stopped"]>): AttemptOutcome {
  return { ok: false, kind: stopped.kind, error: { name: "Error", message: stopped.message, stack: stopped.stack, nonRetryable: false } };
}

/** What the job's code did, completing "its code …". */
function strayText(origin: StrayOrigin, message: string): string {
  if (origin === "exit") return `called ${message}`;
  return origin === "rejection" ? `raised an unhandled promise rejection: ${message}` : `threw an uncaught exception: ${message}`;
}

/** The worker thread itself died: out of memory, or an error from no task's code (see worker.ts). */
function workerDeath(error: unknown): SerializedError {
  const err = error as NodeJS.ErrnoException;
  const message = err?.code === "ERR_WORKER_OUT_OF_MEMORY"
    ? `ran out of memory (worker heap limit reached): ${err.message}`
    : `the worker thread died: ${err?.message ?? String(error)}`;
  return { name: err?.name ?? "Error", message, stack: err?.stack ?? null, nonRetryable: false };
}
