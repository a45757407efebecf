import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { InstanceInfo } from "../records.js";

/**
 * The single-writer lock of a data directory: a file created exclusively, holding
 * who owns it. A lock whose process is gone (same host, pid not alive) is stale and
 * taken over; the rename makes sure only one of two racing processes takes it.
 */
export function lockPath(dataDir: string): string {
  return join(dataDir, "stau.lock");
}

export function readLock(dataDir: string): InstanceInfo | null {
  try {
    return JSON.parse(readFileSync(lockPath(dataDir), "utf8")) as InstanceInfo;
  } catch {
    return null;
  }
}

export function isAlive(holder: InstanceInfo): boolean {
  if (holder.hostname !== hostname()) return true; // cannot tell; assume it runs
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function acquireLock(dataDir: string, me: InstanceInfo): { ok: true } | { ok: false; holder: InstanceInfo | null } {
  const file = lockPath(dataDir);
  for (let tries = 0; tries < 3; tries++) {
    try {
      writeFileSync(file, JSON.stringify(me), { flag: "wx", mode: 0o600 });
      return { ok: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readLock(dataDir);
    if (holder && (holder.pid === me.pid && holder.id === me.id)) return { ok: true };
    if (holder && isAlive(holder)) return { ok: false, holder };
    // An unreadable lock may be one being written this very moment.
    if (!holder && Date.now() - mtimeOf(file) < 5_000) return { ok: false, holder: null };
    try {
      renameSync(file, `${file}.stale-${me.pid}`);
      unlinkSync(`${file}.stale-${me.pid}`);
    } catch {
      // Another process took the stale lock first; look again.
    }
  }
  return { ok: false, holder: readLock(dataDir) };
}

export function releaseLock(dataDir: string, me: InstanceInfo): void {
  const holder = readLock(dataDir);
  if (holder?.id === me.id) unlinkSync(lockPath(dataDir));
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
