// Entry of every pool worker thread. Imports job modules (once per thread; hot reload
// recycles threads), runs one task at a time (a batch of chunks, or a selectWork call)
// and reports through the channels.
import { AsyncLocalStorage } from "node:async_hooks";
import { Console } from "node:console";
import { Writable } from "node:stream";
import { BroadcastChannel, workerData } from "node:worker_threads";
import { format } from "node:util";
import { isNonRetryable } from "../config/define.js";
import type { JobConfig, WorkId } from "../config/types.js";
import { importModule, warmUp } from "../jobs/import-module.js";
import { routeInheritedOutput } from "./child-output.js";
import { logCapNote } from "../store/logs.js";
import { BatchState, ChunkStatus } from "./batch-state.js";
import type { BatchResult, BatchTask, ChunkEnd, ChunkTask, ControlMessage, PoolChannels, SelectWorkResult, SelectWorkTask, StrayOrigin, WorkerEvent, WorkerTask } from "./protocol.js";
import { serializeError } from "./protocol.js";

/** One chunk attempt or selectWork call on this thread; every callback its code schedules carries it (AsyncLocalStorage). */
interface TaskScope {
  /** The task's key in events (its batch's id for a chunk). */
  readonly key: string;
  readonly job: string;
  /** The attempt, or null for a selectWork call. */
  readonly chunk: ChunkTask | null;
  bytes: number;
  lastProgress: number;
  /** The task has returned: an error from its code now is not its caller's to catch. */
  settled: boolean;
  strays: number;
}

// A runaway timer or interval of one task must not flood its log.
const MAX_STRAYS_REPORTED = 5;

const channels = (workerData as unknown[])[1] as PoolChannels;
const events = new BroadcastChannel(channels.events);
const control = new BroadcastChannel(channels.control);
events.unref();
control.unref();
const scope = new AsyncLocalStorage<TaskScope>();
const aborts = new Map<string, AbortController>();
let current: TaskScope | undefined;
/** This thread saw a stray error: it finishes the task it runs and takes no other. */
let retiring = false;

const post = (event: WorkerEvent) => events.postMessage(event);

// The threads the pool starts with set up the TypeScript loader at once, so a run's
// first selectWork or chunk does not wait for it (~0.15 s of the ~0.2 s to a job's first
// import, quiet; more while an instance is starting). Threads started later (recycled by
// a hot reload, or replacing a retired one) set it up at their first job import: warming
// every recycled thread raised reload_rss_growth from 1.01-1.03 to 1.04-1.10 over 500
// reloads. If it fails here, the first job import sets it up again and reports what goes
// wrong as that job's error.
if (Atomics.sub(channels.warmUps, 0, 1) > 0) {
  try {
    warmUp();
  } catch {
    // reported by the first import (see above)
  }
}
post({ type: "ready" });

control.onmessage = (message: unknown) => {
  const data = (message as { data: ControlMessage }).data;
  if (data.type === "abort") aborts.get(data.chunkId)?.abort(new Error(data.reason));
};

function writeText(level: string, text: string): void {
  const owner = scope.getStore() ?? current;
  // selectWork has no log: what it prints is dropped, as it always was.
  if (!owner?.chunk || owner.bytes > channels.logCapBytes) return;
  owner.bytes += Buffer.byteLength(text);
  if (owner.bytes > channels.logCapBytes) text = logCapNote(channels.logCapBytes);
  post({ type: "log", chunkId: owner.chunk.chunkId, attempt: owner.chunk.attempt, level, text, at: Date.now() });
}

const writeLog = (level: string, args: unknown[]) => writeText(level, format(...args));

// Everything a job prints belongs to its chunk's log, never to the terminal: every
// console method (dir, table, group, count… through a Console on capturing streams,
// the common ones with their level kept) and direct writes to stdout and stderr.
const sink = (level: string) =>
  new Writable({
    write(data: Buffer, _encoding, done) {
      writeText(level, data.toString().replace(/\n$/, ""));
      done();
    },
  });
const captured = new Console({ stdout: sink("log"), stderr: sink("error") });
for (const method of Object.keys(captured) as (keyof Console)[]) {
  if (typeof captured[method] === "function") (console as unknown as Record<string, unknown>)[method] = (captured[method] as Function).bind(captured);
}
for (const level of ["log", "info", "warn", "error", "debug"] as const) {
  console[level] = (...args: unknown[]) => writeLog(level, args);
}
for (const [stream, level] of [[process.stdout, "log"], [process.stderr, "error"]] as const) {
  stream.write = ((data: string | Uint8Array) => {
    writeText(level, (typeof data === "string" ? data : Buffer.from(data).toString()).replace(/\n$/, ""));
    return true;
  }) as typeof stream.write;
}
// ...and so does what the programs it starts print, unless the job pipes it itself.
routeInheritedOutput(writeText);

/** Thrown in place of exiting, to stop the code of a task that already returned. */
class StrayExit extends Error {}

// A task calling process.exit ends this thread; say which one did it first, since the
// pool itself would only see a worker vanish. Code of a task that already returned
// (a timer) must not end the thread under the task running now: that is a stray.
const realExit = process.exit.bind(process);
process.exit = ((code?: number) => {
  const owner = scope.getStore() ?? current;
  if (owner?.settled) {
    reportStray(owner, "exit", new Error(`process.exit(${code ?? 0})`));
    throw new StrayExit();
  }
  if (owner) post({ type: "exit", key: owner.key, code: code ?? 0 });
  return realExit(code);
}) as typeof process.exit;

// An error no await of the job's could catch belongs to the task whose code scheduled
// it (the scope its callback or promise carries), not to whatever runs now: it fails
// that task if it still runs, or is told in its log if it already returned. Either way
// the thread may still run that code, so it is retired after its current task.
process.on("unhandledRejection", (reason) => stray("rejection", reason));
process.on("uncaughtException", (error, origin) => stray(origin === "unhandledRejection" ? "rejection" : "exception", error));

function stray(origin: StrayOrigin, error: unknown): void {
  if (error instanceof StrayExit) return;
  const owner = scope.getStore();
  if (!owner) {
    // Not from any task's code (stau's or tinypool's own): let it end the thread, as an
    // error without a handler would, rather than carry on in an unknown state.
    process.removeAllListeners("uncaughtException");
    process.removeAllListeners("unhandledRejection");
    process.nextTick(() => {
      throw error;
    });
    return;
  }
  reportStray(owner, origin, error);
}

function reportStray(owner: TaskScope, origin: StrayOrigin, error: unknown): void {
  retiring = true;
  if (++owner.strays > MAX_STRAYS_REPORTED) return;
  post({
    type: "stray",
    key: owner.key,
    job: owner.job,
    chunkId: owner.chunk?.chunkId ?? null,
    attempt: owner.chunk?.attempt ?? null,
    running: !owner.settled,
    origin,
    error: serializeError(error, false),
    at: Date.now(),
  });
}

// Every import() goes through the loader hooks, even of a module already loaded, and
// that costs a round trip to the hooks thread: keep each job's config once per thread.
const configs = new Map<string, Promise<JobConfig>>();

function jobConfig(file: string): Promise<JobConfig> {
  let config = configs.get(file);
  if (!config) {
    config = importModule(file).then((module) => module.default as JobConfig);
    configs.set(file, config);
    // A failed import is not cached: the error is the chunk's, and the next try reports it afresh.
    config.catch(() => configs.delete(file));
  }
  return config;
}

async function runChunk(task: ChunkTask, key: string): Promise<ChunkEnd> {
  const chunk: TaskScope = { key, job: task.job, chunk: task, bytes: 0, lastProgress: 0, settled: false, strays: 0 };
  const abort = new AbortController();
  aborts.set(task.chunkId, abort);
  current = chunk;
  const began = performance.now();
  const ms = () => performance.now() - began;
  try {
    return await scope.run(chunk, async () => {
      const config = await jobConfig(task.file);
      // A job with a command instead of run runs as a process (programs/), never here.
      await config.run!({
        workIds: [...task.workIds],
        kwargs: task.kwargs,
        log: (...args: unknown[]) => writeLog("log", args),
        progress: (done: number, total: number) => {
          const now = Date.now();
          // Throttled: the console redraws at most ~10 times a second anyway.
          if (now - chunk.lastProgress < 100 && done < total) return;
          chunk.lastProgress = now;
          post({ type: "progress", chunkId: task.chunkId, done, total });
        },
        signal: abort.signal,
        attempt: task.attempt,
        runId: task.runId,
        chunkId: task.chunkId,
      });
      return { ok: true, logged: chunk.bytes > 0, ms: ms() } as const;
    });
  } catch (error) {
    return { ok: false, error: serializeError(error, isNonRetryable(error)), logged: chunk.bytes > 0, ms: ms() };
  } finally {
    chunk.settled = true;
    aborts.delete(task.chunkId);
    current = undefined;
    // Only an attempt that logged has a file to close; a silent chunk costs no message.
    if (chunk.bytes > 0) post({ type: "end", chunkId: task.chunkId, attempt: task.attempt });
  }
}

/**
 * Runs a batch's chunks one after another, saying in its shared memory which one runs
 * and how each ended. It stops at the first failure (the rest run later, from the
 * queue), so a thread that dies mid-batch leaves only successes before its last chunk:
 * the main thread can tell them from shared memory alone. A thread that must retire
 * runs no further chunk.
 */
async function runBatch(batch: BatchTask): Promise<BatchResult> {
  const state = new BatchState(batch.state);
  const ends: (ChunkEnd | null)[] = [];
  for (const [index, task] of batch.chunks.entries()) {
    if (!state.begin(index, Date.now())) {
      ends.push(null);
      continue;
    }
    const end = await runChunk(task, batch.id);
    state.end(index, !end.ok ? ChunkStatus.Failed : end.logged ? ChunkStatus.Logged : ChunkStatus.Succeeded);
    ends.push(end);
    if (!end.ok || retiring) {
      state.skipFrom(index + 1, batch.chunks.length);
      while (ends.length < batch.chunks.length) ends.push(null);
      break;
    }
  }
  return { ends };
}

async function selectWork(task: SelectWorkTask): Promise<SelectWorkResult> {
  // Its own scope, so that an error its code leaves behind is charged to this call.
  const call: TaskScope = { key: task.id, job: task.job, chunk: null, bytes: 0, lastProgress: 0, settled: false, strays: 0 };
  current = call;
  try {
    return await scope.run(call, async () => {
      const config = await jobConfig(task.file);
      const ids: unknown = await config.selectWork!(task.kwargs);
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string" || (typeof id === "number" && Number.isFinite(id)))) {
        throw new TypeError(`selectWork must return an array of strings or numbers, received ${format("%o", ids).slice(0, 80)}`);
      }
      return { ok: true, workIds: ids as WorkId[] } as const;
    });
  } catch (error) {
    return { ok: false, error: serializeError(error, true) };
  } finally {
    call.settled = true;
    current = undefined;
  }
}

export default async function handle(task: WorkerTask): Promise<BatchResult | SelectWorkResult> {
  const result = await (task.kind === "batch" ? runBatch(task) : selectWork(task));
  if (!retiring) return result;
  // Answering tinypool would make this thread take another task, and the stray's code
  // may still run here: the answer goes to the pool, which ends the task by
  // terminating this thread. (Between tasks a tinypool thread blocks in Atomics.wait,
  // so job code, strays included, only ever runs while a task is in flight.)
  post({ type: "retired", key: task.id, result });
  return new Promise<never>(() => {});
}
