import { randomUUID } from "node:crypto";
import { BroadcastChannel } from "node:worker_threads";
import { Tinypool } from "tinypool";
import type { JobSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { formatDuration } from "../config/duration.js";
import { DEFAULT_LOG_CAP_BYTES, logFile } from "../store/logs.js";
import type { AttemptOutcome } from "../store/records.js";
import { workerFile } from "../worker-file.js";
import { LogCapture } from "./log-capture.js";
import type { ChunkTask, ControlMessage, PoolChannels, SerializedError, TaskResult, WorkerEvent } from "./protocol.js";

type FailureKind = "error" | "timeout" | "cancelled";

export interface PoolOptions {
  readonly workers: number;
  readonly dataDir: string;
  /** Heap limit of each worker thread; a job that exceeds it fails alone. */
  readonly workerMemoryMb?: number;
  readonly logCapBytes?: number;
  readonly onProgress?: (chunkId: string, done: number, total: number) => void;
  readonly onLog?: (chunkId: string, attempt: number, level: string, text: string) => void;
  /** An attempt's log file is complete (written and closed). */
  readonly onLogClosed?: (job: string, chunkId: string, attempt: number, file: string) => void;
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

interface InFlight {
  readonly task: ChunkTask;
  /** 1…workers: which worker of the pool this chunk occupies, for people to read. */
  readonly slot: number;
  readonly controller: Stopper;
  /** Why we stopped it, when we did: decides the failure kind. */
  stopped: { kind: FailureKind; message: string } | null;
}

// Past a timeout or cancel the job's signal is aborted first; a job that does not
// return within this grace has its worker terminated.
const ABORT_GRACE_MS = 1_000;

/** The tinypool of worker threads that runs chunks and `selectWork`. */
export class ExecPool {
  private readonly pool: Tinypool;
  private readonly events: BroadcastChannel;
  private readonly control: BroadcastChannel;
  private readonly logs = new LogCapture();
  private readonly inFlight = new Map<string, InFlight>();
  /** Job of each attempt that may still send log lines, by `chunkId#attempt`. */
  private readonly logTargets = new Map<string, string>();
  readonly size: number;

  constructor(private readonly options: PoolOptions) {
    const id = randomUUID();
    const channels: PoolChannels = { events: `stau:${id}:events`, control: `stau:${id}:control`, logCapBytes: options.logCapBytes ?? DEFAULT_LOG_CAP_BYTES };
    this.size = options.workers;
    this.pool = new Tinypool({
      filename: workerFile("./worker.js", import.meta.url),
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: 60_000,
      workerData: channels,
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
    const flight = this.inFlight.get(event.chunkId);
    switch (event.type) {
      case "log": {
        const job = this.logTargets.get(`${event.chunkId}#${event.attempt}`);
        if (job) this.logs.append(logFile(this.options.dataDir, job, event.chunkId, event.attempt), event.at, event.level, event.text);
        this.options.onLog?.(event.chunkId, event.attempt, event.level, event.text);
        break;
      }
      case "progress":
        this.options.onProgress?.(event.chunkId, event.done, event.total);
        break;
      case "exit":
        if (flight) this.stop(flight, "error", `the job called process.exit(${event.code}), which ended its worker thread`, 0);
        break;
      case "end":
        this.endLog(`${event.chunkId}#${event.attempt}`);
        break;
    }
  }

  /** Runs one chunk attempt; never rejects: every way it can end is an outcome. */
  async runChunk(spec: JobSpec, task: Omit<ChunkTask, "kind" | "file" | "job">): Promise<AttemptOutcome> {
    const full: ChunkTask = { kind: "chunk", file: spec.file, job: spec.name, ...task };
    const flight: InFlight = { task: full, slot: this.freeSlot(), controller: new Stopper(), stopped: null };
    this.inFlight.set(task.chunkId, flight);
    const logKey = `${task.chunkId}#${task.attempt}`;
    this.logTargets.set(logKey, spec.name);
    let logged: boolean | undefined;
    const timer = spec.timeoutMs === null ? null : setTimeout(() => this.stop(flight, "timeout", `timed out after ${formatDuration(spec.timeoutMs!)}`), spec.timeoutMs);
    try {
      const result = (await this.pool.run(full, { signal: flight.controller })) as TaskResult;
      logged = result.logged;
      if (flight.stopped) return { ok: false, kind: flight.stopped.kind, error: stoppedError(flight.stopped.message) };
      return result.ok ? { ok: true } : { ok: false, kind: "error", error: result.error };
    } catch (error) {
      if (flight.stopped) return { ok: false, kind: flight.stopped.kind, error: stoppedError(flight.stopped.message) };
      return { ok: false, kind: "error", error: workerDeath(error) };
    } finally {
      if (timer) clearTimeout(timer);
      this.inFlight.delete(task.chunkId);
      // A silent attempt has no log to close. Otherwise lines travel on their own
      // channel and may trail the result; "end" closes the log, and a worker that
      // died sends none, so a timer closes it too.
      if (logged === false) this.logTargets.delete(logKey);
      else setTimeout(() => this.endLog(logKey), 1_000).unref();
    }
  }

  private freeSlot(): number {
    const taken = new Set([...this.inFlight.values()].map((f) => f.slot));
    let slot = 1;
    while (taken.has(slot)) slot++;
    return slot;
  }

  /** The worker slot (1…workers) a running chunk occupies. */
  slotOf(chunkId: string): number | null {
    return this.inFlight.get(chunkId)?.slot ?? null;
  }

  private endLog(key: string): void {
    const job = this.logTargets.get(key);
    if (job === undefined) return;
    this.logTargets.delete(key);
    const [chunkId, attempt] = key.split("#") as [string, string];
    const file = logFile(this.options.dataDir, job, chunkId, Number(attempt));
    void this.logs.end(file).then(() => this.options.onLogClosed?.(job, chunkId, Number(attempt), file));
  }

  /** Asks a running chunk to stop (its signal aborts), then terminates its worker. */
  cancel(chunkId: string, message = "cancelled by an operator"): boolean {
    const flight = this.inFlight.get(chunkId);
    if (!flight) return false;
    this.stop(flight, "cancelled", message);
    return true;
  }

  /** Stops every running chunk, e.g. when a drain timed out. */
  abortAll(message: string): void {
    for (const flight of this.inFlight.values()) this.stop(flight, "cancelled", message, 0);
  }

  private stop(flight: InFlight, kind: FailureKind, message: string, graceMs = ABORT_GRACE_MS): void {
    if (flight.stopped) return;
    flight.stopped = { kind, message };
    this.control.postMessage({ type: "abort", chunkId: flight.task.chunkId, reason: message } satisfies ControlMessage);
    if (graceMs === 0) flight.controller.abort();
    else setTimeout(() => flight.controller.abort(), graceMs).unref();
  }

  /** Runs a job's `selectWork` in a pool worker. */
  async selectWork(spec: JobSpec, kwargs: Kwargs): Promise<WorkId[]> {
    const result = (await this.pool.run({ kind: "selectWork", file: spec.file, job: spec.name, kwargs })) as TaskResult;
    if (!result.ok) throw Object.assign(new Error(`${spec.name}.selectWork failed: ${result.error.message}`), { stack: result.error.stack ?? undefined });
    return result.workIds ?? [];
  }

  /** New threads for new chunks (hot reload); running chunks finish on the old ones. */
  async recycle(): Promise<void> {
    await this.pool.recycleWorkers();
  }

  async close(): Promise<void> {
    this.events.close();
    this.control.close();
    await this.pool.destroy();
    await this.logs.close();
  }
}

function stoppedError(message: string): SerializedError {
  return { name: "Error", message, stack: null, nonRetryable: false };
}

/** The worker thread itself died: an uncaught error, an async throw, out of memory. */
function workerDeath(error: unknown): SerializedError {
  const err = error as NodeJS.ErrnoException;
  const message = err?.code === "ERR_WORKER_OUT_OF_MEMORY"
    ? `ran out of memory (worker heap limit reached): ${err.message}`
    : `the worker thread died: ${err?.message ?? String(error)}`;
  return { name: err?.name ?? "Error", message, stack: err?.stack ?? null, nonRetryable: false };
}
