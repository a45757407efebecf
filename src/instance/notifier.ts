import { basename } from "node:path";
import type { NotifyEvent, NotifyRuleSpec, ProjectConfigSpec } from "../config/project-config.js";
import { errorMessage } from "../errors.js";
import type { EventBus } from "../events.js";
import type { Registry } from "../jobs/load.js";
import type { ChunkError, ChunkRecord, RunRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { deliverer } from "./deliver.js";
import type { Orchestrator } from "./orchestrator.js";

// Notifications (README, "Notifications"): events of this instance turned into the
// documented JSON body and handed to every rule that takes them. Each event is announced
// by one instance only (a run's end and a schedule skip by the orchestrating one, a
// chunk's failed attempt by the one that ran it), so on a shared store each notification
// is sent once; stale jobs are looked for by the orchestrating instance alone.

export interface NotifierOptions {
  readonly config: ProjectConfigSpec;
  readonly root: string;
  readonly events: EventBus;
  readonly store: Store;
  readonly orchestrator: () => Orchestrator | null;
  /** The jobs this instance loaded (their `alertAfter`). */
  readonly registry: () => Registry;
}

export interface Notifier {
  /** Stops listening; deliveries under way get up to `ms` to end. */
  close(ms: number): Promise<void>;
}

const iso = (at: number | null | undefined) => (at == null ? null : new Date(at).toISOString());
const runBody = (run: RunRecord) => ({ id: run.id, job: run.job, status: run.status, trigger: run.trigger, kwargs: run.kwargs, createdAt: iso(run.createdAt), finishedAt: iso(run.finishedAt) });
const chunkBody = (chunk: ChunkRecord) => ({ id: chunk.id, job: chunk.job, workIds: chunk.workIds, status: chunk.state, attempts: chunk.attempts });
const errorBody = (error: ChunkError | null) => (error ? { message: error.message, kind: error.kind, stack: error.stack ?? null } : null);
const firstLine = (text: string) => text.split("\n")[0]!;

export function startNotifier(options: NotifierOptions): Notifier {
  const { config, events } = options;
  const project = basename(options.root);
  const warn = (message: string) => events.emit("warning", { message });
  const out = deliverer({ cwd: options.root, warn });
  const wanted = new Set(config.notify.flatMap((rule) => rule.on));
  const send = (event: NotifyEvent, job: string, text: string, fields: Record<string, unknown>) => {
    const body = { event, text: `stau ${project}: ${text}`, time: new Date().toISOString(), project, job, ...fields };
    for (const rule of config.notify) if (takes(rule, event, job)) out.send({ rule, body });
  };

  const offs = [
    events.on("run:finished", ({ run }) => {
      const event = `run:${run.status}` as NotifyEvent;
      if (!wanted.has(event)) return;
      if (run.status !== "failed") return send(event, run.job, `run ${run.id} of ${run.job} ${run.status}`, { run: runBody(run), chunk: null, error: null });
      // The chunk that failed it says why (read apart from the engine, which does not wait for it).
      void options.store.getRun(run.id).then(
        (archived) => {
          const failed = archived?.chunks.find((c) => c.state === "failed") ?? archived?.chunks.find((c) => c.error && c.error.kind !== "upstream") ?? null;
          const why = failed?.error ? `: ${failed.id.slice(run.id.length + 1)} — ${firstLine(failed.error.message)}` : run.error ? `: ${firstLine(run.error)}` : "";
          send(event, run.job, `run ${run.id} of *${run.job}* failed${why}`, { run: runBody(run), chunk: failed ? chunkBody(failed) : null, error: failed ? errorBody(failed.error) : run.error ? { message: run.error, kind: "load", stack: null } : null });
        },
        (error) => warn(`notifying run:failed of ${run.id}: reading the run failed: ${errorMessage(error)}`),
      );
    }),
    events.on("chunk:failed", ({ chunk, error, willRetry }) => {
      const event: NotifyEvent | null = willRetry ? "chunk:retrying" : chunk.state === "failed" ? "chunk:failed" : null;
      if (event === null || !wanted.has(event)) return;
      const verb = willRetry ? "failed, retrying" : "failed";
      send(event, chunk.job, `chunk ${chunk.id} of *${chunk.job}* ${verb} (attempt ${chunk.attempts}): ${firstLine(error.message)}`, { chunk: chunkBody(chunk), error: errorBody(error), run: { id: chunk.runId } });
    }),
    events.on("schedule:skipped", ({ entryId, job, tickAt, reason }) => {
      if (wanted.has("schedule:skipped")) send("schedule:skipped", job, `schedule entry ${entryId} skipped *${job}*: ${reason}`, { entry: entryId, tickAt: iso(tickAt), reason });
    }),
  ];
  const stale = wanted.has("job:stale") ? watchStale(options, (job, text, fields) => send("job:stale", job, text, fields)) : () => undefined;
  return {
    async close(ms) {
      for (const off of offs) off();
      stale();
      await out.close(ms);
    },
  };
}

function takes(rule: NotifyRuleSpec, event: NotifyEvent, job: string): boolean {
  return rule.on.includes(event) && (rule.jobs === null || rule.jobs.includes(job));
}

/**
 * While this instance orchestrates, looks for jobs whose last success (on any work IDs
 * and kwargs) is older than their `alertAfter`, and says so once until the job succeeds
 * again. A job that never succeeded counts from when this instance began looking.
 */
function watchStale(options: NotifierOptions, send: (job: string, text: string, fields: Record<string, unknown>) => void): () => void {
  /** When this instance began looking (it looks only while it orchestrates). */
  let since: number | null = null;
  /** Job → the last success it was reported stale with (0: never succeeded). */
  const reported = new Map<string, number>();
  const look = () => {
    const orchestrator = options.orchestrator();
    if (!orchestrator) return;
    const freshness = options.store.freshness();
    const now = Date.now();
    since ??= now;
    for (const spec of orchestrator.engine.currentRegistry.jobs.values()) {
      if (!spec.alertAfterMs) continue;
      const last = Math.max(0, ...freshness.kwargsKeys(spec.name).map((key) => freshness.lastSuccess(spec.name, key, null) ?? 0));
      if (now - (last || since) <= spec.alertAfterMs) continue;
      if (reported.get(spec.name) === last) continue;
      reported.set(spec.name, last);
      const age = last ? `last succeeded ${new Date(last).toISOString()}` : "has not succeeded since stau started";
      send(spec.name, `*${spec.name}* is stale: it ${age}, longer ago than its alertAfter (${Math.round(spec.alertAfterMs / 1000)}s)`, { lastSuccess: iso(last || null), alertAfterMs: spec.alertAfterMs });
    }
  };
  // Often enough to notice within a quarter of the shortest alertAfter, at most every 30s.
  const shortest = Math.min(...[...options.registry().jobs.values()].map((s) => s.alertAfterMs ?? Infinity), 120_000);
  const timer = setInterval(look, Math.max(250, Math.min(30_000, shortest / 4)));
  return () => clearInterval(timer);
}
