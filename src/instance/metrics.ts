import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EventBus } from "../events.js";
import type { Store } from "../store/store.js";
import { SILENT_INSTANCE_MS } from "../store/store.js";
import type { Orchestrator } from "./orchestrator.js";

// GET /metrics (README, "Metrics"): Prometheus text from prom-client. Each instance
// counts what it announces itself (the chunks its workers finished, …), so summing over
// instances counts every chunk once; the run-level families (runs, schedule, active
// chunks, last success per job) come from whichever instance orchestrates, while it does.

export interface MetricsSource {
  readonly events: EventBus;
  readonly store: Store;
  readonly workers: () => { busy: number; total: number };
  readonly orchestrator: () => Orchestrator | null;
}

export interface Metrics {
  readonly contentType: string;
  /** The exposition text, as of now. */
  text(): Promise<string>;
  close(): void;
}

/** Chunk durations run from milliseconds to hours. */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
/** The states of chunks of active runs that are not finished: always reported, 0 included. */
const ACTIVE_STATES = ["queued", "pending", "running"] as const;

export function instanceMetrics(source: MetricsSource): Metrics {
  const own = new Registry();
  const runLevel = new Registry();
  const finished = new Counter({ name: "stau_chunks_finished_total", help: "Chunk attempts that ended, by job and the state they ended in (retrying: failed with attempts left)", labelNames: ["job", "state"], registers: [own] });
  const duration = new Histogram({ name: "stau_chunk_duration_seconds", help: "Time chunk attempts spent on a worker", labelNames: ["job"], buckets: DURATION_BUCKETS, registers: [own] });
  new Gauge({ name: "stau_workers_busy", help: "Worker threads running a chunk now", registers: [own], collect() { this.set(source.workers().busy); } });
  new Gauge({ name: "stau_workers_total", help: "Worker threads of this instance", registers: [own], collect() { this.set(source.workers().total); } });
  if (source.store.shared) {
    new Gauge({ name: "stau_orchestrating", help: "1 when this instance orchestrates", registers: [own], collect() { this.set(source.orchestrator() ? 1 : 0); } });
    new Gauge({
      name: "stau_copies_alive",
      help: `Instances heartbeating on the shared store (within ${SILENT_INSTANCE_MS / 1000}s)`,
      registers: [own],
      async collect() {
        const rows = await source.store.leadership.instances();
        this.set(rows.filter((row) => !row.stopped && row.silentFor * 1000 < SILENT_INSTANCE_MS).length);
      },
    });
  }

  const runs = new Counter({ name: "stau_runs_finished_total", help: "Runs that ended, by job and status", labelNames: ["job", "status"], registers: [runLevel] });
  const fires = new Counter({ name: "stau_schedule_fires_total", help: "Schedule ticks that started a run", labelNames: ["entry"], registers: [runLevel] });
  const skips = new Counter({ name: "stau_schedule_skips_total", help: "Schedule ticks skipped: paused, overlap (a run still active), broken (the job does not load) or error", labelNames: ["entry", "reason"], registers: [runLevel] });
  new Gauge({
    name: "stau_chunks",
    help: "Chunks of active runs that have not finished, by state",
    labelNames: ["state"],
    registers: [runLevel],
    collect() {
      const counts = new Map<string, number>(ACTIVE_STATES.map((state) => [state, 0]));
      for (const run of source.orchestrator()?.engine.activeRuns ?? []) {
        for (const chunk of run.chunks.values()) if (counts.has(chunk.state)) counts.set(chunk.state, counts.get(chunk.state)! + 1);
      }
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  new Gauge({
    name: "stau_job_last_success_timestamp_seconds",
    help: "When each job last succeeded (on any work IDs and kwargs), in Unix seconds; absent for a job that never did",
    labelNames: ["job"],
    registers: [runLevel],
    collect() {
      this.reset();
      const jobs = source.orchestrator()?.engine.currentRegistry.jobs.keys() ?? [];
      const freshness = source.store.freshness();
      for (const job of jobs) {
        const last = Math.max(0, ...freshness.kwargsKeys(job).map((key) => freshness.lastSuccess(job, key, null) ?? 0));
        if (last > 0) this.set({ job }, last / 1000);
      }
    },
  });

  const { events } = source;
  const offs = [
    events.on("chunk:done", ({ chunk, durationMs }) => {
      finished.inc({ job: chunk.job, state: "done" });
      duration.observe({ job: chunk.job }, durationMs / 1000);
    }),
    events.on("chunk:failed", ({ chunk, willRetry, durationMs }) => {
      finished.inc({ job: chunk.job, state: willRetry ? "retrying" : chunk.state });
      // A run that could not be resolved, or an instance that vanished, ends a chunk that never ran to an end on a worker.
      if (chunk.durationMs != null) duration.observe({ job: chunk.job }, durationMs / 1000);
    }),
    events.on("chunk:cancelled", ({ chunk }) => finished.inc({ job: chunk.job, state: "cancelled" })),
    events.on("chunk:upstream_failed", ({ chunk }) => finished.inc({ job: chunk.job, state: "upstream_failed" })),
    events.on("run:finished", ({ run }) => runs.inc({ job: run.job, status: run.status })),
    events.on("schedule:fired", ({ entryId }) => fires.inc({ entry: entryId })),
    events.on("schedule:skipped", ({ entryId, kind }) => skips.inc({ entry: entryId, reason: kind })),
  ];
  return {
    contentType: own.contentType,
    async text() {
      const parts = [await own.metrics()];
      if (source.orchestrator()) parts.push(await runLevel.metrics());
      return parts.join("\n");
    },
    close() {
      for (const off of offs) off();
    },
  };
}
