import { randomBytes } from "node:crypto";
import { availableParallelism, hostname } from "node:os";
import { projectPaths, type ProjectPaths } from "../config/project.js";
import { StoreError } from "../errors.js";
import { Engine } from "../engine/engine.js";
import { EventBus } from "../engine/events.js";
import { gitCommit } from "../engine/git.js";
import { ExecPool, type PoolOptions } from "../exec/pool.js";
import { loadRegistry, type Registry } from "../jobs/load.js";
import { FileStore } from "../store/file-store.js";
import { databaseConfig, type DatabaseFlags } from "../store/pg/config.js";
import { PgStore } from "../store/pg/pg-store.js";
import type { InstanceInfo, Store } from "../store/store.js";
import { parsePositiveInt } from "./args.js";

export interface RuntimeFlags extends DatabaseFlags {
  data?: string;
  workers?: string;
  workerMemory?: string;
}

export function instanceInfo(command: string): InstanceInfo {
  return { id: `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`, pid: process.pid, hostname: hostname(), startedAt: Date.now(), command };
}

/** The project in the current directory; jobs run with it as their working directory. */
export function currentProject(flags: RuntimeFlags): ProjectPaths {
  return projectPaths(process.cwd(), flags.data);
}

/**
 * Opens the store to look at: the data directory read-only (beside a running
 * instance), or the shared database. Close it when done.
 */
export async function openReadOnlyStore(flags: RuntimeFlags): Promise<Store> {
  const db = databaseConfig(flags);
  return db ? PgStore.open(db) : FileStore.open(currentProject(flags).dataDir, { readOnly: true });
}

/** Opens the store to look at, reads what `read` needs, and closes it. */
export async function readStore<T>(flags: RuntimeFlags, read: (store: Store) => Promise<T> | T): Promise<T> {
  const store = await openReadOnlyStore(flags);
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

/** Loads the project's jobs; when that fails, `undo` closes what was opened for them first. */
export async function loadRegistryOr(paths: ProjectPaths, undo: () => Promise<void>): Promise<Registry> {
  try {
    return await loadRegistry(paths);
  } catch (error) {
    await undo();
    throw error;
  }
}

/** Everything an executing command needs: the store (locked), the pool and the engine. */
export interface Runtime extends AsyncDisposable {
  readonly paths: ProjectPaths;
  readonly registry: Registry;
  readonly engine: Engine;
  readonly pool: ExecPool;
  readonly store: FileStore;
  readonly instance: InstanceInfo;
}

export interface PoolSize {
  readonly workers: number;
  readonly workerMemoryMb: number | undefined;
}

/** What `--workers` and `--worker-memory` ask for; read before anything is opened, so bad values fail first. */
export function poolSize(flags: RuntimeFlags): PoolSize {
  return {
    workers: flags.workers === undefined ? availableParallelism() : parsePositiveInt("--workers", flags.workers),
    workerMemoryMb: flags.workerMemory === undefined ? undefined : parsePositiveInt("--worker-memory", flags.workerMemory),
  };
}

/** The worker pool, reporting progress and log lines as events. */
export function openPool(size: PoolSize, dataDir: string, events: EventBus, options: Pick<PoolOptions, "onLogClosed"> = {}): ExecPool {
  return new ExecPool({
    ...size,
    dataDir,
    onProgress: (chunkId, done, total) => events.emit("chunk:progress", { chunkId, done, total }),
    onLog: (chunkId, attempt, level, text) => events.emit("chunk:log", { chunkId, attempt, level, text }),
    ...options,
  });
}

export async function openRuntime(flags: RuntimeFlags, command: string, events = new EventBus()): Promise<Runtime> {
  const paths = currentProject(flags);
  const size = poolSize(flags);
  const store = FileStore.open(paths.dataDir);
  const instance = instanceInfo(command);
  const lock = await store.acquireLeadership(instance);
  if (!lock.ok) {
    const holder = lock.holder;
    throw new StoreError(
      "store_locked",
      `the data directory ${paths.dataDir} is in use by ${holder ? `stau ${holder.command} (pid ${holder.pid} on ${holder.hostname})` : "another stau process"}`,
      "stop that process, use its control socket (stau trigger, stau status), or give this one another --data directory",
    );
  }
  const registry = await loadRegistryOr(paths, () => store.close());
  const pool = openPool(size, paths.dataDir, events);
  let commit: Promise<string | null> | null = null;
  const engine = await Engine.start({ store, queue: store, pool, registry, instance, events, gitCommit: () => (commit ??= gitCommit(paths.jobsDir)) });
  return {
    paths,
    registry,
    engine,
    pool,
    store,
    instance,
    async [Symbol.asyncDispose]() {
      await pool.close();
      await store.close();
    },
  };
}
