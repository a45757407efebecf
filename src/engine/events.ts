import type { ChunkError, ChunkRecord, RunRecord } from "../store/records.js";

/**
 * Everything a running stau tells the outside world — the engine, the scheduler and the
 * instance itself; the console and --no-ui are two listeners on this one stream.
 */
export interface EngineEvents {
  "run:queued": { run: RunRecord };
  "run:waiting": { run: RunRecord; on: string[] };
  "run:started": { run: RunRecord; chunks: number };
  "run:finished": { run: RunRecord };
  "chunk:started": { chunk: ChunkRecord };
  "chunk:done": { chunk: ChunkRecord; durationMs: number };
  "chunk:failed": { chunk: ChunkRecord; error: ChunkError; willRetry: boolean; durationMs: number };
  "chunk:progress": { chunkId: string; done: number; total: number };
  /** `job` is given when the chunk may be unknown to the listener (a line another copy stored). */
  "chunk:log": { chunkId: string; attempt: number; level: string; text: string; job?: string };
  "schedule:fired": { entryId: string; job: string; tickAt: number; catchUp: boolean; runId: string };
  "schedule:skipped": { entryId: string; job: string; tickAt: number; reason: string };
  "instance:started": { pid: number; workers: number; dataDir: string; socket: string | null };
  "instance:draining": { running: number; timeoutMs: number };
  /** With a shared store: this copy took the orchestrator lock. */
  "instance:orchestrating": { copy: string };
  "instance:stopped": { aborted: number };
  "registry:reloaded": { files: string[]; broken: string[] };
  /** A shared store changed beyond what this copy's events said (other copies' work). */
  "store:changed": Record<string, never>;
  warning: { message: string };
}

type Listener<E extends keyof EngineEvents> = (payload: EngineEvents[E]) => void;

/** A typed event bus where a throwing listener cannot break the engine. */
export class EventBus {
  private readonly listeners = new Map<keyof EngineEvents, Set<Listener<never>>>();

  on<E extends keyof EngineEvents>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<E extends keyof EngineEvents>(event: E, payload: EngineEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        if (event !== "warning") this.emit("warning", { message: `a listener of ${event} threw: ${String(error)}` });
      }
    }
  }
}
