import { availableParallelism } from "node:os";
import { projectPaths, type ProjectPaths } from "../config/project.js";
import type { PoolSize } from "../instance/pool.js";
import { readStore as read, type StoreConfig } from "../store/open.js";
import { databaseConfig, type DatabaseFlags } from "../store/pg/config.js";
import type { Store } from "../store/store.js";
import { parsePositiveInt } from "./args.js";

// The flags every command that touches a project shares, turned into what stau needs.

export interface RuntimeFlags extends DatabaseFlags {
  data?: string;
  workers?: string;
  workerMemory?: string;
}

/** The project in the current directory; jobs run with it as their working directory. */
export function currentProject(flags: RuntimeFlags): ProjectPaths {
  return projectPaths(process.cwd(), flags.data);
}

/** Where the store is: the data directory, or the shared database given by flags or environment. */
export function storeConfig(flags: RuntimeFlags): StoreConfig {
  return { dataDir: currentProject(flags).dataDir, database: databaseConfig(flags) };
}

/** What `--workers` and `--worker-memory` ask for; read before anything is opened, so bad values fail first. */
export function poolSize(flags: RuntimeFlags): PoolSize {
  return {
    workers: flags.workers === undefined ? availableParallelism() : parsePositiveInt("--workers", flags.workers),
    workerMemoryMb: flags.workerMemory === undefined ? undefined : parsePositiveInt("--worker-memory", flags.workerMemory),
  };
}

/** Opens the store to look at (beside a running instance), reads what `fn` needs, and closes it. */
export function readStore<T>(flags: RuntimeFlags, fn: (store: Store) => Promise<T> | T): Promise<T> {
  return read(storeConfig(flags), fn);
}
