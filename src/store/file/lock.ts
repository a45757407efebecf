import { readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { controlSocketPath } from "../../control/socket-orders.js";
import type { InstanceInfo } from "../records.js";

/**
 * The single-writer lock of a data directory: a file created exclusively, holding who
 * owns it. Whether its holder still lives is decided by what a dead process cannot
 * fake: once it serves its control socket, the socket accepting a connection (the
 * kernel answers for a live process, even a stopped one); while it starts, before the
 * socket is up, the lock file touched within the last few seconds. Not by its pid:
 * pids are reused, and in a container the holder may have been pid 1 of another one.
 * The rename makes sure only one of two racing processes takes a stale lock.
 */
export function lockPath(dataDir: string): string {
  return join(dataDir, "stau.lock");
}

/** How often a holder touches its lock, and how long after the last touch a silent holder counts as gone. */
export const TOUCH_MS = 2_000;
const FRESH_MS = 10_000;
/** How long a connection attempt to the holder's socket may take before it counts as an answer. */
const CONNECT_MS = 1_000;

/** What the lock file holds: who, and whether its control socket is up yet (absent in older locks: it was). */
type LockContent = InstanceInfo & { readonly serving?: boolean };

export function readLock(dataDir: string): LockContent | null {
  try {
    return JSON.parse(readFileSync(lockPath(dataDir), "utf8")) as LockContent;
  } catch {
    return null;
  }
}

/** Whether the holder of `dataDir`'s lock lives (see above). */
export async function holderAlive(dataDir: string): Promise<boolean> {
  const holder = readLock(dataDir);
  // Unreadable (being written this very moment) or starting: alive while it keeps touching it.
  if (!holder || holder.serving === false) return Date.now() - mtimeOf(lockPath(dataDir)) < FRESH_MS;
  return socketAnswers(controlSocketPath(dataDir));
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    };
    // No answer in time is not proof of death: a process that cannot accept still holds the socket.
    const timer = setTimeout(() => done(true), CONNECT_MS);
    socket.once("connect", () => done(true));
    socket.once("error", (error: NodeJS.ErrnoException) => done(error.code !== "ENOENT" && error.code !== "ECONNREFUSED"));
  });
}

export async function acquireLock(dataDir: string, me: InstanceInfo): Promise<{ ok: true } | { ok: false; holder: InstanceInfo | null }> {
  const file = lockPath(dataDir);
  for (let tries = 0; tries < 3; tries++) {
    try {
      writeFileSync(file, JSON.stringify({ ...me, serving: false }), { flag: "wx", mode: 0o600 });
      return { ok: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readLock(dataDir);
    if (holder && holder.id === me.id) return { ok: true };
    if (await holderAlive(dataDir)) return { ok: false, holder };
    try {
      renameSync(file, `${file}.stale-${me.pid}`);
      unlinkSync(`${file}.stale-${me.pid}`);
    } catch {
      // Another process took the stale lock first; look again.
    }
  }
  return { ok: false, holder: readLock(dataDir) };
}

/** The holder's control socket is up: from now on its liveness is the socket's. */
export function lockServing(dataDir: string, me: InstanceInfo): void {
  const file = lockPath(dataDir);
  writeFileSync(`${file}.${me.pid}`, JSON.stringify({ ...me, serving: true }), { mode: 0o600 });
  renameSync(`${file}.${me.pid}`, file);
}

/** The holder says it lives while it starts (see holderAlive). */
export function touchLock(dataDir: string): void {
  const now = new Date();
  try {
    utimesSync(lockPath(dataDir), now, now);
  } catch {
    // Gone (someone removed it by hand): the next start sees no lock at all.
  }
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
