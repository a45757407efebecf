import { StoreError } from "../../errors.js";
import type { InstanceInfo } from "../records.js";
import type { InstanceRow, Leadership } from "../store.js";
import { acquireLock, holderAlive, lockServing, readLock, releaseLock, touchLock, TOUCH_MS } from "./lock.js";

/**
 * On the embedded store, leading and writing are one right: the data directory's lock.
 * The instance that takes it orchestrates until it closes the store.
 */
export class FileLeadership implements Leadership {
  private instance: InstanceInfo | null = null;
  private touching: NodeJS.Timeout | null = null;

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
    const result = await acquireLock(this.dir, instance);
    if (!result.ok) {
      const holder = result.holder;
      throw new StoreError(
        "store_locked",
        `the data directory ${this.dir} is in use by ${holder ? `stau ${holder.command} (pid ${holder.pid} on ${holder.hostname})` : "another stau process"}`,
        "stop that process, use its control socket (stau trigger, stau status), or give this one another --data directory",
      );
    }
    this.instance = instance;
    // Until its control socket is up, the lock's age says the holder lives.
    this.touching = setInterval(() => touchLock(this.dir), TOUCH_MS);
    this.touching.unref();
    this.onAcquired();
    return { ok: true };
  }

  /** The control socket is up: liveness is the socket's from now on. */
  serving(): void {
    if (!this.instance) return;
    lockServing(this.dir, this.instance);
    if (this.touching) clearInterval(this.touching);
    this.touching = null;
  }

  lost(): Promise<Error> {
    return new Promise(() => undefined);
  }

  async release(): Promise<void> {
    // The lock goes when the store closes: until then this process is its only writer.
  }

  async stopped(): Promise<void> {}

  async holder(): Promise<InstanceInfo | null> {
    const lock = readLock(this.dir);
    if (!lock || !(await holderAlive(this.dir))) return null;
    const { serving: _serving, ...holder } = lock;
    return holder;
  }

  async instances(): Promise<InstanceRow[]> {
    const holder = await this.holder();
    return holder ? [{ info: holder, leading: true, silentFor: 0, stopped: false }] : [];
  }

  /** Gives the lock up (the store is closing). */
  close(): void {
    if (this.touching) clearInterval(this.touching);
    this.touching = null;
    if (this.instance) releaseLock(this.dir, this.instance);
    this.instance = null;
  }
}
