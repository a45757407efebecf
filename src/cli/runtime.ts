import { availableParallelism } from "node:os";
import { findProjectRoot, projectPaths, type ProjectPaths } from "../config/project.js";
import { ConfigError } from "../errors.js";
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

/**
 * Finds the project from the working directory upward and makes its root the working
 * directory, before a command reads or creates anything: jobs run with the root as their
 * working directory (worker threads share the process's), and relative paths in them,
 * `--data` and `STAU_DATA_DIR` mean the same wherever in the project stau was started.
 * Outside a project it throws (exit 2), so no command creates a data/ folder somewhere
 * that is not a project.
 */
export function enterProject(): string {
  const from = process.cwd();
  const root = findProjectRoot(from);
  if (root === null) {
    throw new ConfigError(
      `no stau project in ${from} or any folder above it (a project is a folder holding jobs/ or stau.schedule.ts)`,
      "cd into your project, or create one with `stau init` (here) or `stau init <dir>`",
    );
  }
  if (root !== from) process.chdir(root);
  return root;
}

/** The project `enterProject` found: the working directory of every command but init. */
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
