import { formatDuration } from "../config/duration.js";
import type { WorkId } from "../config/types.js";
import { formatWorkIds } from "../config/work-ids.js";
import type { StauEvents, EventBus } from "../events.js";
import type { ChunkError, ChunkRecord } from "../store/records.js";
import { clockTime } from "../ui/format.js";

export type LogFormat = "json" | "pretty";
type Level = "info" | "warn" | "error";

interface Line {
  readonly level: Level;
  /** The human sentence (pretty) — JSON lines carry the fields instead. */
  readonly text: string;
  readonly fields: Record<string, unknown>;
}

const ids = (workIds: readonly WorkId[]) => (workIds.length === 0 ? "" : ` ${formatWorkIds(workIds)}`);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * A running chunk an operator cancelled ends as a chunk:failed in state `cancelled`: it
 * was asked for, so it is no error — a warning, as the work it would have done is not done.
 */
function cancelledLine(chunk: ChunkRecord, error: ChunkError, durationMs: number): Line {
  return {
    level: "warn",
    text: `chunk ${chunk.id}${ids(chunk.workIds)} cancelled (attempt ${chunk.attempts}): ${error.message.split("\n")[0]}`,
    fields: { chunk: chunk.id, run: chunk.runId, job: chunk.job, attempt: chunk.attempts, durationMs, kind: error.kind, error: error.message, willRetry: false },
  };
}

/** How each event reads as one log line. Events not listed here are not logged. */
const LINES: { [E in keyof StauEvents]?: (e: StauEvents[E]) => Line } = {
  "instance:started": (e) => ({ level: "info", text: `stau started (pid ${e.pid}, ${e.workers} workers, data ${e.dataDir})`, fields: e }),
  "instance:draining": (e) => ({ level: "info", text: `draining: ${e.running} chunk(s) running get up to ${formatDuration(e.timeoutMs)} to finish`, fields: e }),
  "instance:orchestrating": (e) => ({ level: "info", text: `this instance (${e.copy}) orchestrates now: it resolves runs, fires the schedule and takes orders`, fields: e }),
  "instance:stopped": (e) => ({ level: "info", text: stoppedText(e), fields: e }),
  "schedule:fired": (e) => ({ level: "info", text: `schedule ${e.entryId} fired ${e.job}${e.catchUp ? " (catch-up of a missed tick)" : ""} → run ${e.runId}`, fields: { ...e, tickAt: iso(e.tickAt) } }),
  "schedule:skipped": (e) => ({ level: "warn", text: `schedule ${e.entryId} skipped ${e.job}: ${e.reason}`, fields: { ...e, tickAt: iso(e.tickAt) } }),
  "run:queued": ({ run }) => ({ level: "info", text: `run ${run.id} of ${run.job} queued (${run.trigger}${run.scheduleEntry ? ` ${run.scheduleEntry}` : ""})`, fields: { run: run.id, job: run.job, trigger: run.trigger, kwargs: run.kwargs } }),
  "run:waiting": ({ run, on }) => ({ level: "info", text: `run ${run.id} of ${run.job} waits for ${on.join(", ")}`, fields: { run: run.id, job: run.job, waitingFor: on } }),
  "run:started": ({ run, chunks }) => ({ level: "info", text: `run ${run.id} of ${run.job} started: ${chunks} chunk(s)`, fields: { run: run.id, job: run.job, chunks } }),
  "run:finished": ({ run }) => ({
    // A cancelled run is what an operator asked for, like its cancelled chunks.
    level: run.status === "done" ? "info" : run.status === "cancelled" ? "warn" : "error",
    text: `run ${run.id} of ${run.job} ${run.status}${run.startedAt && run.finishedAt ? ` in ${formatDuration(run.finishedAt - run.createdAt)}` : ""}`,
    fields: { run: run.id, job: run.job, status: run.status, durationMs: run.finishedAt ? run.finishedAt - run.createdAt : null },
  }),
  "chunk:started": ({ chunk }) => ({ level: "info", text: `chunk ${chunk.id}${ids(chunk.workIds)} started (attempt ${chunk.attempts})`, fields: { chunk: chunk.id, run: chunk.runId, job: chunk.job, attempt: chunk.attempts, workIds: chunk.workIds.length } }),
  "chunk:done": ({ chunk, durationMs }) => ({ level: "info", text: `chunk ${chunk.id}${ids(chunk.workIds)} done in ${formatDuration(durationMs)}`, fields: { chunk: chunk.id, run: chunk.runId, job: chunk.job, attempt: chunk.attempts, durationMs } }),
  "chunk:failed": ({ chunk, error, willRetry, durationMs }) =>
    chunk.state === "cancelled"
      ? cancelledLine(chunk, error, durationMs)
      : {
          level: willRetry ? "warn" : "error",
          text: `chunk ${chunk.id}${ids(chunk.workIds)} failed (attempt ${chunk.attempts}, ${error.kind}): ${error.message.split("\n")[0]}${willRetry ? ` — retry ${chunk.notBefore ? `at ${clockTime(chunk.notBefore)}` : "soon"}` : ""}`,
          fields: { chunk: chunk.id, run: chunk.runId, job: chunk.job, attempt: chunk.attempts, durationMs, kind: error.kind, error: error.message, willRetry },
        },
  "chunk:interrupted": ({ chunk, reason }) => ({
    level: "warn",
    text: `chunk ${chunk.id}${ids(chunk.workIds)} interrupted (attempt ${chunk.attempts}): ${reason}; it runs again`,
    fields: { chunk: chunk.id, run: chunk.runId, job: chunk.job, attempt: chunk.attempts, reason },
  }),
  "registry:reloaded": (e) => ({
    level: e.broken.length ? "warn" : "info",
    text: `reloaded ${e.files.join(", ")}${e.broken.length ? `; broken: ${e.broken.join(", ")}` : ""}`,
    fields: e,
  }),
  "store:pruned": (e) => ({ level: "info", text: `retention: pruned ${e.runs} run(s) (${e.chunks} chunks) and ${e.logs} log file(s) that finished before ${iso(e.before)}`, fields: { ...e, before: iso(e.before) } }),
  "store:problem": (e) => ({
    level: e.problem ? "error" : "info",
    text: e.problem ? `${e.problem}: stau stops claiming chunks and taking runs until it can write again` : "the store writes again: claiming resumes",
    fields: e,
  }),
  warning: (e) => ({ level: "warn", text: e.message, fields: e }),
};

/**
 * Writes one line per event: JSON for log systems, or a readable form for people.
 * Lines of one turn of the event loop go out in one write: a pipe or file is written
 * synchronously, and a write per chunk event would cost a system call each.
 */
export function attachLogLines(events: EventBus, format: LogFormat, out: NodeJS.WritableStream = process.stdout, now = () => Date.now()): () => void {
  let pending = "";
  const flush = () => {
    if (pending === "") return;
    const text = pending;
    pending = "";
    out.write(text);
  };
  // Whatever is still buffered goes out even when the process exits in this turn.
  process.on("exit", flush);
  const offs = Object.entries(LINES).map(([event, toLine]) =>
    events.on(event as keyof StauEvents, (payload) => {
      const line = (toLine as (e: unknown) => Line)(payload);
      const at = now();
      if (pending === "") setImmediate(flush);
      if (format === "json") pending += JSON.stringify({ time: new Date(at).toISOString(), level: line.level, event, ...line.fields }) + "\n";
      // A person reads the pretty line: the console's clock (local time), with milliseconds.
      else pending += `${clockTime(at, true)} ${line.level === "info" ? "     " : line.level.toUpperCase().padEnd(5)} ${line.text}\n`;
    }),
  );
  return () => {
    offs.forEach((off) => off());
    flush();
    process.off("exit", flush);
  };
}

/** What a stop drained and what it left, said the same in log lines and after the console closes. */
export function stoppedText(e: StauEvents["instance:stopped"]): string {
  const parts: string[] = [];
  if (e.finished) parts.push(`${e.finished} running chunk(s) finished while draining`);
  if (e.aborted) parts.push(`${e.aborted} chunk(s) aborted at the drain timeout`);
  if (e.left?.chunks) parts.push(`${e.left.chunks} unfinished chunk(s) of ${e.left.runs} run(s) stay queued: the next start (or another instance) runs them`);
  else if (e.left) parts.push("nothing left queued");
  return parts.length ? `stopped: ${parts.join("; ")}` : "stopped";
}
