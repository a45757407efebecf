// Entry of every pool worker thread. Imports job modules (once per thread; hot reload
// recycles threads), runs one task at a time and reports through the channels.
import { AsyncLocalStorage } from "node:async_hooks";
import { Console } from "node:console";
import { Writable } from "node:stream";
import { BroadcastChannel, workerData } from "node:worker_threads";
import { format } from "node:util";
import { isNonRetryable } from "../config/define.js";
import type { JobConfig, WorkId } from "../config/types.js";
import { importModule } from "../jobs/import-module.js";
import type { ChunkTask, ControlMessage, PoolChannels, SelectWorkTask, TaskResult, WorkerEvent } from "./protocol.js";
import { serializeError } from "./protocol.js";

interface ChunkScope {
  readonly task: ChunkTask;
  bytes: number;
  lastProgress: number;
}

const channels = (workerData as unknown[])[1] as PoolChannels;
const events = new BroadcastChannel(channels.events);
const control = new BroadcastChannel(channels.control);
events.unref();
control.unref();
const scope = new AsyncLocalStorage<ChunkScope>();
const aborts = new Map<string, AbortController>();
let current: ChunkScope | undefined;

const post = (event: WorkerEvent) => events.postMessage(event);

control.onmessage = (message: unknown) => {
  const data = (message as { data: ControlMessage }).data;
  if (data.type === "abort") aborts.get(data.chunkId)?.abort(new Error(data.reason));
};

function writeText(level: string, text: string): void {
  const chunk = scope.getStore() ?? current;
  if (!chunk || chunk.bytes > channels.logCapBytes) return;
  chunk.bytes += Buffer.byteLength(text);
  if (chunk.bytes > channels.logCapBytes) text = `[stau] log cap of ${channels.logCapBytes} bytes reached; further output of this attempt is dropped`;
  post({ type: "log", chunkId: chunk.task.chunkId, attempt: chunk.task.attempt, level, text, at: Date.now() });
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
// A job calling process.exit ends this thread; say which chunk did it first, since
// the pool itself would only see a worker vanish.
const realExit = process.exit.bind(process);
process.exit = ((code?: number) => {
  if (current) post({ type: "exit", chunkId: current.task.chunkId, code: code ?? 0 });
  return realExit(code);
}) as typeof process.exit;

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

async function runChunk(task: ChunkTask): Promise<TaskResult> {
  const chunk: ChunkScope = { task, bytes: 0, lastProgress: 0 };
  const abort = new AbortController();
  aborts.set(task.chunkId, abort);
  current = chunk;
  try {
    return await scope.run(chunk, async () => {
      const config = await jobConfig(task.file);
      await config.run({
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
      return { ok: true, logged: chunk.bytes > 0 } as const;
    });
  } catch (error) {
    return { ok: false, error: serializeError(error, isNonRetryable(error)), logged: chunk.bytes > 0 };
  } finally {
    aborts.delete(task.chunkId);
    current = undefined;
    // Only an attempt that logged has a file to close; a silent chunk costs no message.
    if (chunk.bytes > 0) post({ type: "end", chunkId: task.chunkId, attempt: task.attempt });
  }
}

async function selectWork(task: SelectWorkTask): Promise<TaskResult> {
  try {
    const config = await jobConfig(task.file);
    const ids: unknown = await config.selectWork!(task.kwargs);
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string" || (typeof id === "number" && Number.isFinite(id)))) {
      throw new TypeError(`selectWork must return an array of strings or numbers, received ${format("%o", ids).slice(0, 80)}`);
    }
    return { ok: true, workIds: ids as WorkId[] };
  } catch (error) {
    return { ok: false, error: serializeError(error, true) };
  }
}

export default function handle(task: ChunkTask | SelectWorkTask): Promise<TaskResult> {
  return task.kind === "chunk" ? runChunk(task) : selectWork(task);
}
