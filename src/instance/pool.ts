import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { errorMessage } from "../errors.js";
import type { EventBus } from "../events.js";
import { ExecPool } from "../exec/pool.js";
import type { InstanceInfo } from "../store/records.js";
import type { Store } from "../store/store.js";

/** How big the worker pool is: threads, and the heap each may use. */
export interface PoolSize {
  readonly workers: number;
  readonly workerMemoryMb: number | undefined;
}

/** Who this process is, for the store, heartbeats and messages. */
export function instanceInfo(command: string): InstanceInfo {
  return { id: `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`, pid: process.pid, hostname: hostname(), startedAt: Date.now(), command };
}

/** The worker pool, reporting progress and log lines as events, and each finished attempt's log to the store. */
export function openPool(size: PoolSize, dataDir: string, events: EventBus, store: Store, instance: InstanceInfo): ExecPool {
  return new ExecPool({
    ...size,
    dataDir,
    onProgress: (chunkId, done, total) => events.emit("chunk:progress", { chunkId, done, total }),
    onLog: (chunkId, attempt, level, text) => events.emit("chunk:log", { chunkId, attempt, level, text }),
    onWarning: (message) => events.emit("warning", { message }),
    onLogClosed: (job, chunkId, attempt, file) =>
      void store.logs.keep({ job, chunkId, attempt, file, instance: instance.id }).catch((error) => events.emit("warning", { message: `storing the log of ${chunkId}#${attempt} failed: ${errorMessage(error)}` })),
  });
}
