import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { FileStore } from "../../src/store/file/file-store.js";
import { logFile } from "../../src/store/logs.js";
import { PgStore } from "../../src/store/pg/pg-store.js";
import { runIdOfChunk, type ChunkRecord, type InstanceInfo, type RunRecord } from "../../src/store/records.js";
import type { QueueChannel, Store } from "../../src/store/store.js";
import { dropSchema, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";

// Records, stores and waits shared by the store tests.

export const instance = (id: string, over: Partial<InstanceInfo> = {}): InstanceInfo => ({ id, pid: process.pid, hostname: hostname(), startedAt: 0, command: "test", ...over });

/** The instance that holds a writing file store's lock; executors in the tests claim as other owners ("A", "B"). */
export const ORCHESTRATOR = instance("orchestrator");

export const runRecord = (id: string, over: Partial<RunRecord> = {}): RunRecord => ({
  id, job: "a", kwargs: {}, requestedWorkIds: null, workIds: null, status: "running", trigger: "cli", scheduleEntry: null,
  origin: null, createdAt: 1, startedAt: 1, finishedAt: null, gitCommit: null, error: null, ...over,
});

/** Chunk `n` of job `over.job` (default "a") in run `runId`, pending unless told. */
export const chunkRecord = (runId: string, n: number, over: Partial<ChunkRecord> = {}): ChunkRecord => {
  const job = over.job ?? "a";
  return {
    id: `${runId}.${job}.${n}`, runId, job, kwargs: {}, kwargsKey: "{}", workIds: [n], dependsOn: [], state: "pending",
    attempts: 0, error: null, startedAt: null, finishedAt: null, notBefore: null, owner: null, token: null, ...over,
  };
};

/** A run and its chunks, committed. */
export async function seed(store: Store, runId: string, chunks: number | ChunkRecord[], run: Partial<RunRecord> = {}): Promise<ChunkRecord[]> {
  const list = typeof chunks === "number" ? Array.from({ length: chunks }, (_, i) => chunkRecord(runId, i)) : chunks;
  store.insertRun(runRecord(runId, run));
  store.addChunks(list);
  await store.commit();
  return list;
}

/** A chunk as the store has it now. */
export async function chunkNow(store: Store, id: string): Promise<ChunkRecord | undefined> {
  return (await store.getRun(runIdOfChunk(id)))?.chunks.find((c) => c.id === id);
}

/** Rejects with `what` if `promise` does not settle within `ms`: a deadline, so a lost notification fails fast and says which. */
export function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Polls `probe` until it returns something, up to a deadline. */
export async function until<T>(probe: () => Promise<T | null | undefined> | T | null | undefined, what: string, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The first notification of `channel` (with `payload`, if given), heard from now on. */
export async function nextNotice(store: Store, channel: QueueChannel, payload?: string): Promise<{ heard: Promise<string>; stop: () => void }> {
  let resolve!: (payload: string) => void;
  const heard = new Promise<string>((r) => (resolve = r));
  const stop = await store.queue.listen(channel, (p) => (payload === undefined || p === payload) && resolve(p));
  return { heard: within(heard, `a "${channel}" notice`), stop };
}

/**
 * One backend, as the contract suite drives it. Whatever differs between the stores in
 * *setting up* a situation lives here; what a case then checks is the same for both.
 */
export interface Backend {
  /** An empty store, open for writing (a file store holding its data directory's lock as ORCHESTRATOR). */
  fresh(): Promise<Store>;
  /** The store a second executor claims through: a second connection on PostgreSQL; the same store on the embedded one (one process writes a data directory). */
  claimer(store: Store): Promise<Store>;
  /** What another process sees now, without `store` committing or closing anything. */
  peek(store: Store): Promise<Store>;
  /** Closes `store` and opens its data again, to read. */
  reopen(store: Store): Promise<Store>;
  /** An attempt's log, left where `store.logs` finds it, reported at least 2 ms after the previous one (so the order is certain). */
  writeLog(store: Store, log: { job: string; chunkId: string; attempt: number; text: string }): Promise<void>;
  /** Closes the stores of a case and removes its directories. */
  afterEach(): Promise<void>;
  /** Drops what outlives a case (schemas). */
  afterAll(): Promise<void>;
}

async function closeAll(stores: Store[]): Promise<void> {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
}

export function fileBackend(): Backend {
  const stores: Store[] = [];
  const dirs: string[] = [];
  const dirOf = new WeakMap<Store, string>();
  let lastLogAt = 0;
  const track = (store: FileStore, dir: string) => {
    stores.push(store);
    dirOf.set(store, dir);
    return store;
  };
  return {
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), "stau-contract-"));
      dirs.push(dir);
      const store = track(FileStore.open(dir), dir);
      await store.leadership.acquire(ORCHESTRATOR);
      return store;
    },
    claimer: async (store) => store,
    peek: async (store) => track(FileStore.open(dirOf.get(store)!, { readOnly: true }), dirOf.get(store)!),
    async reopen(store) {
      await store.close();
      return track(FileStore.open(dirOf.get(store)!, { readOnly: true }), dirOf.get(store)!);
    },
    async writeLog(store, log) {
      // The pool writes the file where the store reads it; its time is the file's mtime, set here so the order is certain.
      const file = logFile(dirOf.get(store)!, log.job, log.chunkId, log.attempt);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, log.text);
      lastLogAt = Math.max(Date.now(), lastLogAt + 10);
      utimesSync(file, lastLogAt / 1000, lastLogAt / 1000);
    },
    async afterEach() {
      await closeAll(stores);
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
    async afterAll() {},
  };
}

export function pgBackend(): Backend {
  const stores: Store[] = [];
  const schemas: string[] = [];
  const schemaOf = new WeakMap<Store, string>();
  let logDir: string | null = null;
  let lastLogAt = 0;
  const open = async (schema: string) => {
    const store = await PgStore.open({ url: TEST_DATABASE_URL!, schema });
    stores.push(store);
    schemaOf.set(store, schema);
    return store;
  };
  return {
    async fresh() {
      const schema = testSchema("contract");
      schemas.push(schema);
      return open(schema);
    },
    claimer: (store) => open(schemaOf.get(store)!),
    peek: (store) => open(schemaOf.get(store)!),
    async reopen(store) {
      await store.close();
      return open(schemaOf.get(store)!);
    },
    async writeLog(store, log) {
      logDir ??= mkdtempSync(join(tmpdir(), "stau-contract-logs-"));
      const file = join(logDir, `${log.chunkId}.${log.attempt}.log`);
      writeFileSync(file, log.text);
      // The database stamps the time; keep it again until its stamp is clearly after the previous log's.
      const at = await until(async () => {
        await store.logs.keep({ ...log, file, instance: "A" });
        const kept = await store.logs.find({ job: log.job, runId: runIdOfChunk(log.chunkId), limit: 1_000 });
        const mine = kept.find((l) => l.chunkId === log.chunkId && l.attempt === log.attempt)!;
        return mine.writtenAt >= lastLogAt + 2 ? mine.writtenAt : null;
      }, "a log stamped after the previous one");
      lastLogAt = at;
    },
    afterEach: () => closeAll(stores),
    async afterAll() {
      for (const schema of schemas.splice(0)) await dropSchema(schema);
      if (logDir) rmSync(logDir, { recursive: true, force: true });
    },
  };
}
