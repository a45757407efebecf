import type { OrderChannel } from "../control/orders.js";
import { socketOrders } from "../control/socket-orders.js";
import { FileStore } from "./file/file-store.js";
import type { DatabaseConfig } from "./pg/config.js";
import type { Store } from "./store.js";

// The PostgreSQL store and its driver are imported only when a database is given: on
// the embedded store they are ~100 ms of module loading for nothing, at every command's
// start, beside the threads a `stau run` sets up on the same cores.

/** Where a project's store is: its data directory, or a shared database when one is given. */
export interface StoreConfig {
  readonly dataDir: string;
  readonly database: DatabaseConfig | null;
}

/**
 * Opens the store. `write` is for an instance, which then takes the right to write
 * (the data directory's lock) through `store.leadership`; `read` looks beside a running
 * instance and never writes. The one place that picks a backend.
 */
export async function openStore(config: StoreConfig, mode: "read" | "write"): Promise<Store> {
  if (config.database) {
    const { PgStore } = await import("./pg/pg-store.js");
    return PgStore.open(config.database);
  }
  return FileStore.open(config.dataDir, { readOnly: mode === "read" });
}

/** Opens the store to look at, reads what `read` needs, and closes it. */
export async function readStore<T>(config: StoreConfig, read: (store: Store) => Promise<T> | T): Promise<T> {
  const store = await openStore(config, "read");
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

/** Sends orders to the orchestrating instance without opening the whole store; close when done. */
export async function openOrders(config: StoreConfig): Promise<{ orders: OrderChannel; close(): Promise<void> }> {
  if (!config.database) return { orders: socketOrders(config.dataDir), close: async () => undefined };
  const [{ PgConnection }, { PgCommands }, { databaseOrders }] = await Promise.all([import("./pg/connection.js"), import("./pg/commands.js"), import("../control/database-orders.js")]);
  const connection = await PgConnection.open(config.database);
  return { orders: databaseOrders(new PgCommands(connection)), close: () => connection.close() };
}
