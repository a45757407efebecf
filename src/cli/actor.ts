import type { ControlRequest } from "../control/protocol.js";
import { StauError } from "../errors.js";
import { EventBus } from "../events.js";
import { startInstance } from "../instance/instance.js";
import { openOrders } from "../store/open.js";
import type { ArchivedRun } from "../store/records.js";
import type { Store } from "../store/store.js";
import { currentProject, poolSize, readStore, storeConfig, type RuntimeFlags } from "./runtime.js";

/** How often a run on another instance is looked for in the store. */
const POLL_MS = 500;
const DRAIN_MS = 30_000;

/**
 * What a command that orders work done (backfill, prune) acts through: an instance of
 * its own, as `stau run` has, when the data directory is free (or the store is shared);
 * the running one, through its orders, when that one holds the directory.
 */
export interface Actor {
  /** Said to people: "in this process" or "on the running instance". */
  readonly where: string;
  order<T>(request: ControlRequest): Promise<T>;
  read<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  /** Resolves with the run once it has finished. */
  finished(runId: string): Promise<ArchivedRun>;
  close(): Promise<void>;
}

export async function openActor(flags: RuntimeFlags, command: string): Promise<Actor> {
  try {
    const instance = await startInstance({ paths: currentProject(flags), store: storeConfig(flags), pool: poolSize(flags), command, events: new EventBus(), schedule: false, ownRunsOnly: true });
    return {
      where: "in this process",
      order: (request) => instance.order(request),
      read: (fn) => fn(instance.store),
      finished: (runId) => instance.waitForRun(runId),
      close: async () => void (await instance.stop(DRAIN_MS)),
    };
  } catch (error) {
    if (!(error instanceof StauError && error.code === "store_locked")) throw error;
  }
  const { orders, close } = await openOrders(storeConfig(flags));
  const read = <T>(fn: (store: Store) => Promise<T>) => readStore(flags, fn);
  return {
    where: "on the running instance",
    order: (request) => orders.call(request),
    read,
    async finished(runId) {
      for (;;) {
        const run = await read((store) => store.getRun(runId));
        if (run && run.run.finishedAt !== null) return run;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
    close,
  };
}
