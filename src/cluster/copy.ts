import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { EventBus } from "../engine/events.js";
import { errorMessage } from "../errors.js";
import type { ExecPool } from "../exec/pool.js";
import type { DatabaseConfig } from "../store/pg/config.js";
import { PgStore } from "../store/pg/pg-store.js";
import type { InstanceInfo } from "../store/store.js";
import { listenHealth } from "../cli/health.js";
import { reportLoadProblems } from "../cli/orchestration.js";
import type { Stau } from "../cli/instance.js";
import { currentProject, instanceInfo, loadRegistryOr, openPool, poolSize, type RuntimeFlags } from "../cli/runtime.js";
import { ChunkWorker } from "./chunk-worker.js";
import { Orchestrator } from "./orchestrator.js";

/** How often a copy says it is alive (it is taken for dead after SILENT_COPY_MS). */
const HEARTBEAT_MS = 1_000;
/** How often a copy that does not orchestrate tries to take over. */
const ELECTION_MS = 1_000;

/**
 * One stau copy on a shared PostgreSQL store: a chunk worker always, the orchestrator
 * while it holds the lock. Copies are identical; whichever takes the lock first
 * orchestrates, and another takes over within about a second if it dies.
 */
/** A running copy: what `stau dev` and `stau start` drive, and what its console reads. */
export interface Copy extends Stau {
  readonly instance: InstanceInfo;
  readonly store: PgStore;
  readonly events: EventBus;
  readonly pool: ExecPool;
  /** Chunks this copy runs now. */
  busy(): number;
  /** The orchestrator, while this copy is the one that orchestrates. */
  orchestrator(): Orchestrator | null;
}

export async function startCopy(db: DatabaseConfig, flags: RuntimeFlags & { healthPort?: number }, command: string, events: EventBus): Promise<Copy> {
  const paths = currentProject(flags);
  const size = poolSize(flags);
  const store = await PgStore.open(db);
  let registry = await loadRegistryOr(paths, () => store.close());
  const instance = instanceInfo(command);
  const warn = (message: string) => events.emit("warning", { message });
  reportLoadProblems(registry, events);

  const pool = openPool(size, paths.dataDir, events, {
    // Logs go to the database when an attempt ends, so `stau logs` on any machine reads them.
    onLogClosed: (job, chunkId, attempt, file) => void shipLog(store, instance, job, chunkId, attempt, file).catch((error) => warn(`storing the log of ${chunkId}#${attempt} failed: ${errorMessage(error)}`)),
  });
  let orchestrator: Orchestrator | null = null;
  let draining = false;
  const worker = new ChunkWorker({ store, pool, instance, events, registry: () => registry, leading: () => orchestrator !== null });
  const describeCopy = () => ({ id: instance.id, pid: process.pid, hostname: instance.hostname, dataDir: paths.dataDir, startedAt: new Date(instance.startedAt).toISOString(), workers: pool.size, busy: worker.busy, draining, orchestrating: orchestrator !== null });

  await store.heartbeat(instance, []);
  const heartbeat = setInterval(() => void store.heartbeat(instance, worker.heldChunks()).catch((error) => warn(`heartbeat failed: ${errorMessage(error)}`)), HEARTBEAT_MS);
  await worker.start();

  /**
   * The orchestrator cannot go on: this copy stops (draining like SIGTERM), its lock
   * goes with its connection, and another copy takes over from what the database says.
   * Run copies under a supervisor that restarts them.
   */
  const stepDown = (reason: string) => {
    if (draining) return;
    warn(`${reason}; this copy stops so that another orchestrates from the database`);
    process.kill(process.pid, "SIGTERM");
  };
  let electing: Promise<void> | null = null;
  const elect = async () => {
    if (orchestrator || draining) return;
    const lead = await store.acquireLeadership(instance);
    if (!lead.ok || draining) return;
    clearInterval(election);
    try {
      orchestrator = await Orchestrator.start({ store, pool, registry, instance, events, paths, describeCopy, stepDown });
    } catch (error) {
      // Holding the lock without orchestrating would leave every copy without an orchestrator.
      return stepDown(`starting to orchestrate failed: ${errorMessage(error)}`);
    }
    events.emit("instance:orchestrating", { copy: instance.id });
    void store.leadershipLost().then((reason) => stepDown(`lost the orchestrator lock (${reason.message})`));
  };
  const tryElect = () => {
    electing ??= elect()
      .catch((error) => warn(`taking the orchestrator lock failed: ${errorMessage(error)}`))
      .finally(() => (electing = null));
    return electing;
  };
  const election = setInterval(() => void tryElect(), ELECTION_MS);
  await tryElect();

  const health = flags.healthPort === undefined ? null : await listenHealth(flags.healthPort, () => ({ draining, workers: pool.size, busy: worker.busy, orchestrating: orchestrator !== null }));
  events.emit("instance:started", { pid: process.pid, workers: pool.size, dataDir: paths.dataDir, socket: null });

  return {
    paths,
    instance,
    store,
    events,
    pool,
    busy: () => worker.busy,
    orchestrator: () => orchestrator,
    currentRegistry: () => registry,
    async applyRegistry(next, files) {
      const recycled = pool.recycle();
      registry = next;
      orchestrator?.setRegistry(next);
      worker.registryChanged();
      reportLoadProblems(next, events, false);
      events.emit("registry:reloaded", { files, broken: [...next.broken.keys()] });
      await recycled;
    },
    async stop(timeoutMs) {
      draining = true;
      clearInterval(election);
      await electing;
      // Orders and ticks stop first, and the lock goes at once: another copy orchestrates
      // (and applies this copy's last results) while this one drains.
      if (orchestrator) {
        await orchestrator.stop();
        await store.releaseLeadership(instance).catch((error) => warn(`giving up the orchestrator lock failed: ${errorMessage(error)}`));
      }
      events.emit("instance:draining", { running: worker.busy, timeoutMs });
      const result = await worker.drain(timeoutMs);
      clearInterval(heartbeat);
      await store.stopped(instance).catch(() => undefined);
      if (health) await closeServer(health);
      await pool.close();
      await store.close();
      events.emit("instance:stopped", result);
      return result;
    },
  };
}

async function shipLog(store: PgStore, instance: InstanceInfo, job: string, chunkId: string, attempt: number, file: string): Promise<void> {
  // Chunk ids start with their run's id (`<run>.<job>.<n>`); the file is already size-capped.
  const runId = chunkId.slice(0, chunkId.indexOf("."));
  await store.saveLog({ chunkId, attempt, runId, job, copy: instance.id, text: await readFile(file, "utf8") });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
