import { StoreError } from "../../errors.js";
import type { InstanceInfo } from "../records.js";
import type { InstanceRow, Leadership } from "../store.js";
import { acquireLock, isAlive, readLock, releaseLock } from "./lock.js";

/**
 * On the embedded store, leading and writing are one right: the data directory's lock.
 * The instance that takes it orchestrates until it closes the store.
 */
export class FileLeadership implements Leadership {
  private instance: InstanceInfo | null = null;

  constructor(
    private readonly dir: string,
    private readonly readOnly: boolean,
    private readonly onAcquired: () => void,
  ) {}

  get holderId(): string | null {
    return this.instance?.id ?? null;
  }

  async acquire(instance: InstanceInfo): Promise<{ ok: true }> {
    if (this.readOnly) throw new Error("a read-only store cannot take the lock");
    const result = acquireLock(this.dir, instance);
    if (!result.ok) {
      const holder = result.holder;
      throw new StoreError(
        "store_locked",
        `the data directory ${this.dir} is in use by ${holder ? `stau ${holder.command} (pid ${holder.pid} on ${holder.hostname})` : "another stau process"}`,
        "stop that process, use its control socket (stau trigger, stau status), or give this one another --data directory",
      );
    }
    this.instance = instance;
    this.onAcquired();
    return { ok: true };
  }

  lost(): Promise<Error> {
    return new Promise(() => undefined);
  }

  async release(): Promise<void> {
    // The lock goes when the store closes: until then this process is its only writer.
  }

  async stopped(): Promise<void> {}

  async holder(): Promise<InstanceInfo | null> {
    const holder = readLock(this.dir);
    return holder && isAlive(holder) ? holder : null;
  }

  async instances(): Promise<InstanceRow[]> {
    const holder = await this.holder();
    return holder ? [{ info: holder, leading: true, silentFor: 0, stopped: false }] : [];
  }

  /** Gives the lock up (the store is closing). */
  close(): void {
    if (this.instance) releaseLock(this.dir, this.instance);
    this.instance = null;
  }
}
