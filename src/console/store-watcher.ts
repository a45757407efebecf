import { errorMessage } from "../errors.js";
import { EVENT_NAMES, type EventBus, type StauEvents } from "../events.js";
import type { Instance } from "../instance/instance.js";
import { activeRuns } from "../instance/orders.js";
import { parseLogLine } from "../store/logs.js";
import type { ArchivedRun, ChunkRecord, ChunkState, RunRecord, RunStatus } from "../store/records.js";

/** How often the console reads a shared store for what other instances did. */
const POLL_MS = 1_000;
/** How far back each look for other instances' logs reaches (rows commit out of order). */
const LOG_LOOKBACK_MS = 2_000;
/** The newest runs read at each look: a run may start and end between two looks. */
const RECENT_RUNS = 20;

type Event = { [E in keyof StauEvents]: { name: E; payload: StauEvents[E] } }[keyof StauEvents];

/**
 * On a shared store other instances change runs and chunks too. This reads the store
 * each second and announces what changed beyond what this instance's own events said,
 * as the same events, so the console folds one stream whoever made a change. Log lines
 * of attempts other instances ran arrive when each attempt ends.
 */
export async function watchStore(instance: Instance, out: EventBus): Promise<() => void> {
  const { store } = instance;
  const runs = new Map<string, RunStatus>();
  const chunks = new Map<string, ChunkState>();
  const learn = (run: RunRecord | null, chunk: ChunkRecord | null) => {
    if (run) runs.set(run.id, run.status);
    if (chunk) chunks.set(chunk.id, chunk.state);
  };
  // What this instance announced while a look read the store is newer than what it read:
  // the look leaves those runs and chunks alone (else a chunk this instance just finished
  // was announced running again from the older read, and stayed so on screen).
  let announcedDuringRead: Set<string> | null = null;
  // What this instance announces is known already.
  const offs = EVENT_NAMES.map((name) =>
    instance.events.on(name, (payload) => {
      const p = payload as { run?: RunRecord; chunk?: ChunkRecord; records?: readonly ChunkRecord[] };
      learn(p.run ?? null, p.chunk ?? null);
      for (const chunk of p.records ?? []) learn(null, chunk);
      if (announcedDuringRead) {
        if (p.run) announcedDuringRead.add(p.run.id);
        if (p.chunk) announcedDuringRead.add(p.chunk.id);
        for (const chunk of p.records ?? []) announcedDuringRead.add(chunk.id);
      }
    }),
  );
  const seen = await read(instance, runs);
  for (const { run, chunks: own } of seen) {
    learn(run, null);
    for (const chunk of own) learn(null, chunk);
  }
  let logsSince = (await store.logs.find({ job: null, limit: 1 }))[0]?.writtenAt ?? 0;
  let relayed = new Map<string, number>();

  const announce = (event: Event) => out.emit(event.name, event.payload as never);
  const look = async () => {
    const newer = (announcedDuringRead = new Set());
    const seen = await read(instance, runs, [...runs].filter(([, status]) => status === "waiting" || status === "running").map(([id]) => id)).finally(() => (announcedDuringRead = null));
    for (const { run, chunks: own } of seen) {
      if (newer.has(run.id)) continue;
      const before = runs.get(run.id);
      const moved = own.filter((c) => chunks.get(c.id) !== c.state && !newer.has(c.id));
      if (before === undefined) announce({ name: "run:queued", payload: { run } });
      // A run resolved (its chunks appear) or retried (its failed chunks queued again) starts with
      // them; so does one first seen already further on (it started and ended between two looks).
      const started = (before !== run.status && run.status === "running") || (before === undefined && own.length > 0);
      // A run's first start counts all its chunks (the console holds a big one in sums by
      // that count), though it carries only those this copy did not announce itself; a
      // retry's, the chunks it queues again.
      const first = before === undefined || before === "waiting";
      if (started) announce({ name: "run:started", payload: { run, chunks: first ? own.length : moved.length, records: moved } });
      for (const chunk of moved) {
        const was = chunks.get(chunk.id);
        if (!started && was !== undefined) announce(chunkEvent(was, chunk));
        learn(null, chunk);
      }
      if (before !== run.status && (run.status === "done" || run.status === "failed" || run.status === "cancelled")) announce({ name: "run:finished", payload: { run } });
      learn(run, null);
    }
    for (const log of (await store.logs.find({ job: null, since: logsSince - LOG_LOOKBACK_MS, limit: 500 })).reverse()) {
      logsSince = Math.max(logsSince, log.writtenAt);
      const key = `${log.chunkId}#${log.attempt}`;
      if (log.instance === instance.info.id || relayed.has(key)) continue;
      relayed.set(key, log.writtenAt);
      for (const raw of log.text.split("\n").filter(Boolean)) {
        const { level, text } = parseLogLine(raw);
        out.emit("chunk:log", { chunkId: log.chunkId, attempt: log.attempt, level, text, job: log.job });
      }
    }
    relayed = new Map([...relayed].filter(([, at]) => at >= logsSince - 2 * LOG_LOOKBACK_MS));
  };
  let looking = false;
  const timer = setInterval(() => {
    if (looking) return;
    looking = true;
    look()
      .catch((error) => out.emit("warning", { message: `reading the shared store failed: ${errorMessage(error)}` }))
      .finally(() => (looking = false));
  }, POLL_MS);
  return () => {
    clearInterval(timer);
    offs.forEach((off) => off());
  };
}

/**
 * Runs that may have changed since the last look: the active ones, those of `also` (known
 * active before), and of the newest, those new here or moved on since (`known` holds the
 * status each was last seen with). A finished run seen as it is now is not read again:
 * the newest runs come as summaries, and a run of 100,000 chunks among them was read
 * whole every second.
 */
async function read(instance: Instance, known: ReadonlyMap<string, RunStatus>, also: readonly string[] = []): Promise<ArchivedRun[]> {
  const [active, newest] = await Promise.all([activeRuns(instance.store), instance.store.listRunSummaries(RECENT_RUNS)]);
  const byId = new Map(active.map((r) => [r.run.id, r]));
  const changed = newest.filter(({ run }) => known.get(run.id) !== run.status).map(({ run }) => run.id);
  const wanted = [...new Set([...changed, ...also])].filter((id) => !byId.has(id));
  for (const run of await Promise.all(wanted.map((id) => instance.store.getRun(id)))) if (run) byId.set(run.run.id, run);
  return [...byId.values()].sort((a, b) => a.run.createdAt - b.run.createdAt);
}

/** The event a chunk's move from `was` to its state stands for. */
function chunkEvent(was: ChunkState, chunk: ChunkRecord): Event {
  const durationMs = chunk.durationMs ?? 0;
  switch (chunk.state) {
    case "pending":
      return was === "running" ? { name: "chunk:interrupted", payload: { chunk, reason: chunk.error?.message ?? "interrupted" } } : { name: "chunk:pending", payload: { chunk } };
    case "running":
      return { name: "chunk:started", payload: { chunk } };
    case "done":
      return { name: "chunk:done", payload: { chunk, durationMs } };
    case "upstream_failed":
      return { name: "chunk:upstream_failed", payload: { chunk } };
    case "cancelled":
      if (was !== "running") return { name: "chunk:cancelled", payload: { chunk } };
      break;
  }
  const error = chunk.error ?? { kind: "error" as const, message: "failed" };
  return { name: "chunk:failed", payload: { chunk, error, willRetry: chunk.state === "queued", durationMs } };
}
