import type { Clock, Timer, TimerClock } from "../../src/clock.js";
import type { JobSpec } from "../../src/config/spec.js";
import { Engine, type EngineOptions, type TriggerRequest } from "../../src/engine/engine.js";
import * as T from "../../src/engine/transitions.js";
import { EVENT_NAMES, EventBus, type StauEvents } from "../../src/events.js";
import type { Registry } from "../../src/jobs/load.js";
import type { AttemptOutcome, ChunkRecord, ChunkState, RunRecord } from "../../src/store/records.js";
import type { WorkQueue } from "../../src/store/store.js";
import { job } from "../graph/helpers.js";
import { MemoryStore } from "./memory-store.js";

// Everything an engine test needs around the engine: a fake clock, a fake executor that
// claims and completes chunks the way src/executor/executor.ts does, and an event log.

export const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

/** Lets every promise chain that is not waiting on something (a held commit, a timer) run to its end. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A clock whose time moves only when a test moves it; timers fire in order of their instant. */
export class FakeClock implements TimerClock {
  private timers: { id: number; at: number; fn: () => void }[] = [];
  private ids = 0;

  constructor(private t = T0) {}

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const id = ++this.ids;
    this.timers.push({ id, at: this.t + ms, fn });
    return id as unknown as Timer;
  }

  clearTimer(timer: Timer): void {
    this.timers = this.timers.filter((t) => t.id !== (timer as unknown as number));
  }

  /** Instants of the timers armed now, earliest first. */
  armed(): number[] {
    return this.timers.map((t) => t.at).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing each timer due on the way at its own instant. */
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
      await settle();
    }
    this.t = until;
    await settle();
  }
}

/** How a fake attempt ends. */
export type Result = "ok" | "error" | "timeout" | "cancelled" | { kind: "error" | "timeout" | "cancelled"; nonRetryable: boolean };

function outcomeOf(result: Result): AttemptOutcome {
  if (result === "ok") return { ok: true };
  const { kind, nonRetryable } = typeof result === "string" ? { kind: result, nonRetryable: false } : result;
  return { ok: false, kind, error: { name: "Error", message: `attempt ended: ${kind}`, stack: null, nonRetryable: nonRetryable || kind === "cancelled" } };
}

/**
 * Claims pending chunks for one owner and completes them with the outcomes a test
 * chooses, through T.claim and T.settleAttempt as the real executor does. It learns of
 * a cancel the way the real one polls for it, through cancelledRuns.
 */
export class FakeExecutor {
  constructor(
    readonly queue: WorkQueue,
    private readonly specs: () => ReadonlyMap<string, JobSpec>,
    private readonly clock: Clock,
    readonly owner = "exec-1",
  ) {}

  claim(limit = 1_000): Promise<ChunkRecord[]> {
    return this.queue.claim(this.owner, limit, { skipJobs: [], suspects: false }, T.claim(this.owner, this.clock.now()));
  }

  /** Records the attempt's end; false when the claim's token no longer holds the chunk. */
  async complete(chunk: ChunkRecord, result: Result = "ok", durationMs = 10): Promise<boolean> {
    const spec = this.specs().get(chunk.job)!;
    const cancelRequested = (await this.queue.cancelledRuns([chunk.runId])).length > 0;
    const { patch } = T.settleAttempt(chunk, spec, outcomeOf(result), cancelRequested, this.clock.now(), durationMs);
    return (await this.queue.complete([{ id: chunk.id, token: chunk.token!, patch }])).has(chunk.id);
  }

  /** Hands what executors did since the last call to the engine, as the orchestrator does. */
  async deliver(engine: Engine): Promise<void> {
    await engine.observe(await this.queue.takeChanges(1_000));
    await settle();
  }

  /** claim → complete → observe until nothing is pending and no change is left. */
  async pump(engine: Engine, decide: (chunk: ChunkRecord) => Result = () => "ok"): Promise<void> {
    for (;;) {
      const chunks = await this.claim();
      for (const chunk of chunks) await this.complete(chunk, decide(chunk));
      const changes = await this.queue.takeChanges(1_000);
      if (chunks.length === 0 && changes.length === 0) return;
      await engine.observe(changes);
      // A finished run starts waiting runs on the engine's own chain.
      await settle();
    }
  }
}

/** A job spec with options a test cares about; the rest defaulted as the registry would. */
export function spec(name: string, options: NonNullable<Parameters<typeof job>[1]> & Partial<Omit<JobSpec, "name" | "dependencies" | "chunkSize">> = {}): JobSpec {
  const { deps, chunkSize, ...rest } = options;
  return { ...job(name, { deps, chunkSize }), ...rest };
}

export function registryOf(specs: readonly JobSpec[]): Registry {
  return { jobs: new Map(specs.map((s) => [s.name, s])), broken: new Map(), fileProblems: [], schedule: { entries: [], problems: [] }, loaded: new Map() };
}

type Seen = { [E in keyof StauEvents]: { name: E; payload: StauEvents[E]; at: number } }[keyof StauEvents];

/** Every event the bus carried, with the fake clock's time when it was emitted. */
export class EventLog {
  readonly seen: Seen[] = [];

  constructor(bus: EventBus, clock: Clock) {
    for (const name of EVENT_NAMES) bus.on(name, (payload) => this.seen.push({ name, payload, at: clock.now() } as Seen));
  }

  of<E extends keyof StauEvents>(name: E): StauEvents[E][] {
    return this.seen.filter((e) => e.name === name).map((e) => e.payload as StauEvents[E]);
  }

  /** Chunk ids (without the run's prefix) that chunk event `name` was emitted for, in order. */
  chunks(name: "chunk:pending" | "chunk:cancelled" | "chunk:upstream_failed" | "chunk:interrupted"): string[] {
    return this.of(name).map((p) => planId(p.chunk));
  }

  warnings(): string[] {
    return this.of("warning").map((w) => w.message);
  }
}

/** A chunk's id within its run (`A.0`). */
export function planId(chunk: Pick<ChunkRecord, "id" | "runId">): string {
  return chunk.id.slice(chunk.runId.length + 1);
}

export interface Harness {
  readonly engine: Engine;
  readonly store: MemoryStore;
  readonly clock: FakeClock;
  readonly events: EventLog;
  readonly executor: FakeExecutor;
  /** Triggers a run of `job` and lets its resolution finish. */
  run(job: string, request?: Partial<TriggerRequest>): Promise<RunRecord>;
  /** Chunk states of a run (active or finished) by plan id. */
  states(runId: string): Promise<Record<string, ChunkState>>;
  chunk(runId: string, plan: string): Promise<ChunkRecord>;
}

export async function startEngine(specs: readonly JobSpec[], options: { store?: MemoryStore; clock?: FakeClock } & Partial<EngineOptions> = {}): Promise<Harness> {
  const store = options.store ?? new MemoryStore();
  const clock = options.clock ?? new FakeClock();
  const registry = registryOf(specs);
  const bus = new EventBus();
  const events = new EventLog(bus, clock);
  const engine = await Engine.start({ selectWork: async () => [], ...options, store, clock, registry, events: bus });
  await settle();
  const executor = new FakeExecutor(store.queue, () => engine.currentRegistry.jobs, clock);
  const archived = async (runId: string) => (await store.getRun(runId))?.chunks ?? [];
  return {
    engine, store, clock, events, executor,
    async run(job, request = {}) {
      const run = await engine.trigger({ job, source: "cli", ...request });
      await settle();
      return run;
    },
    async states(runId) {
      return Object.fromEntries((await archived(runId)).map((c) => [planId(c), c.state]));
    },
    async chunk(runId, plan) {
      const found = (await archived(runId)).find((c) => planId(c) === plan);
      if (!found) throw new Error(`run ${runId} has no chunk ${plan}`);
      return found;
    },
  };
}
