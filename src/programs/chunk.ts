import { formatDuration } from "../config/duration.js";
import type { JobSpec, ProgramSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import type { AttemptOutcome } from "../store/records.js";
import type { Launcher } from "./launcher.js";
import type { ProcessEnd, ProgramProcess } from "./process.js";

// The protocol between stau and a program (README, "Jobs in any language"): the
// environment it runs with, what its output means, and what its exit says.

/** Exiting with this code fails the attempt without using its retries (like throwing NonRetryableError). */
const NON_RETRYABLE_EXIT = 100;
/** How long a program gets between SIGTERM and SIGKILL when it is stopped. */
export const STOP_GRACE_MS = 2_000;
/** How many of stderr's last lines a failure carries in its message. */
const STDERR_TAIL_LINES = 10;
const PROGRESS = /^::stau::progress\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s*$/;

export interface ChunkIdentity {
  readonly runId: string;
  readonly chunkId: string;
  readonly attempt: number;
  readonly workIds: readonly WorkId[];
  readonly kwargs: Kwargs;
}

/** What every program of a pool shares: the launcher that starts them (launcher.ts). */
export interface ProgramContext {
  readonly launcher: Launcher;
}

/**
 * The environment every program starts from, given stau's own (as job code gets it):
 * the launcher is started with it once. Python buffers a pipe's output; unbuffered, its
 * lines reach the log (and progress the console) as they are printed, unless the user
 * says otherwise.
 */
export function programBaseEnv(env: Record<string, string>): Record<string, string> {
  return { PYTHONUNBUFFERED: "1", ...env };
}

export interface ProgramHooks extends ProgramContext {
  /** Lines for the attempt's log: stdout at level "log", stderr at "error". */
  readonly onLog: (level: "log" | "error", text: string) => void;
  readonly onProgress: (done: number, total: number) => void;
}

/** The protocol's variables of one process, on top of the base environment (also what `stau repro` writes into its script). */
export function programEnv(job: string, phase: "run" | "select-work", kwargs: Kwargs, chunk?: ChunkIdentity): Record<string, string> {
  return {
    STAU_PHASE: phase,
    STAU_JOB: job,
    STAU_KWARGS: JSON.stringify(kwargs),
    STAU_WORK_IDS: JSON.stringify(chunk?.workIds ?? []),
    ...(chunk ? { STAU_RUN_ID: chunk.runId, STAU_CHUNK_ID: chunk.chunkId, STAU_ATTEMPT: String(chunk.attempt) } : {}),
  };
}

/**
 * Runs one chunk attempt of a program job. Its output goes to `hooks` (a progress line
 * feeds the console and is not logged); `stop` ends it with everything it started.
 */
export function runProgramChunk(spec: JobSpec & { program: ProgramSpec }, chunk: ChunkIdentity, hooks: ProgramHooks): { process: ProgramProcess; outcome: Promise<AttemptOutcome> } {
  const stderr = new Tail(STDERR_TAIL_LINES);
  const started = hooks.launcher.start(spec.program.argv, {
    cwd: process.cwd(),
    env: programEnv(spec.name, "run", chunk.kwargs, chunk),
    onLines: (stream, lines) => {
      if (stream === "stderr") {
        stderr.push(lines);
        return hooks.onLog("error", lines.join("\n"));
      }
      const logged: string[] = [];
      for (const line of lines) {
        const progress = PROGRESS.exec(line);
        if (progress) hooks.onProgress(Number(progress[1]), Number(progress[2]));
        else logged.push(line);
      }
      if (logged.length > 0) hooks.onLog("log", logged.join("\n"));
    },
  });
  return { process: started, outcome: started.ended.then((end) => outcomeOf(spec.program, end, stderr.lines)) };
}

/**
 * The select-work phase: the program prints the run's work IDs on stdout as a JSON array
 * (alone, or as its last line after other output). `stop` is called past the job's timeout.
 */
export async function selectProgramWork(spec: JobSpec & { program: ProgramSpec }, kwargs: Kwargs, context: ProgramContext): Promise<WorkId[]> {
  const stdout: string[] = [];
  const stderr = new Tail(STDERR_TAIL_LINES);
  const started = context.launcher.start(spec.program.argv, {
    cwd: process.cwd(),
    env: programEnv(spec.name, "select-work", kwargs),
    onLines: (stream, lines) => (stream === "stdout" ? stdout.push(...lines.filter((line) => !PROGRESS.test(line))) : stderr.push(lines)),
  });
  let timedOut = false;
  const timer = spec.timeoutMs === null ? null : setTimeout(() => ((timedOut = true), started.stop(STOP_GRACE_MS)), spec.timeoutMs);
  const outcome = outcomeOf(spec.program, await started.ended, stderr.lines);
  if (timer) clearTimeout(timer);
  if (timedOut) throw new Error(`${spec.name} (select-work phase) timed out after ${formatDuration(spec.timeoutMs!)}`);
  if (!outcome.ok) throw new Error(`${spec.name} (select-work phase) ${outcome.error.message}`);
  const text = stdout.join("\n").trim();
  const lastLine = stdout.filter((line) => line.trim() !== "").pop() ?? "";
  const ids = parseIds(text) ?? parseIds(lastLine);
  if (!ids) throw new Error(`${spec.name} (select-work phase) must print a JSON array of work IDs (strings or numbers) on stdout, printed ${lastLine ? JSON.stringify(lastLine.slice(0, 80)) : "nothing"}`);
  return ids;
}

function parseIds(text: string): WorkId[] | null {
  try {
    const ids: unknown = JSON.parse(text);
    return Array.isArray(ids) && ids.every((id) => typeof id === "string" || (typeof id === "number" && Number.isFinite(id))) ? (ids as WorkId[]) : null;
  } catch {
    return null;
  }
}

/** What an ended process means for its attempt: exit 0 is done; anything else fails, saying how, with stderr's last lines. */
function outcomeOf(program: ProgramSpec, end: ProcessEnd, stderrTail: readonly string[]): AttemptOutcome {
  if (!end.started) {
    const missing = end.error.code === "ENOENT";
    const hint = program.argv[0] === "python3" || program.argv[0] === process.env.STAU_PYTHON ? " (set STAU_PYTHON to the Python to use)" : "";
    const where = program.argv[0]!.includes("/") ? "" : " on the PATH";
    const message = missing ? `cannot start ${program.argv[0]}: not found${where}${hint}` : `cannot start ${program.argv[0]}: ${end.error.message}`;
    return { ok: false, kind: "error", error: { name: "Error", message, stack: null, nonRetryable: missing } };
  }
  if (end.code === 0 && !end.signal) return { ok: true };
  const how = end.signal ? `was ended by signal ${end.signal}` : `exited with code ${end.code}${end.code === NON_RETRYABLE_EXIT ? " (not retried)" : ""}`;
  const tail = stderrTail.length > 0 ? `\nlast lines of stderr:\n${stderrTail.join("\n")}` : "";
  // The first line is what the Failures pane, a run's summary and a log's header show: it
  // names the cause when stderr ends with it (Python's exception, a shell's message).
  const cause = causeLine(stderrTail);
  return { ok: false, kind: "error", error: { name: "Error", message: `${how}${cause ? `: ${cause}` : ""}${tail}`, stack: null, nonRetryable: end.code === NON_RETRYABLE_EXIT } };
}

/** The line of stderr's tail that says why: the last one, but the one before R's closing "Execution halted". */
function causeLine(tail: readonly string[]): string | null {
  const lines = tail.at(-1)?.trim() === "Execution halted" ? tail.slice(0, -1) : tail;
  return lines.at(-1)?.trim() || null;
}

/** The last lines of a stream, each cut to a readable length. */
class Tail {
  lines: string[] = [];

  constructor(private readonly size: number) {}

  push(lines: readonly string[]): void {
    this.lines = [...this.lines, ...lines.filter((line) => line.trim() !== "").map((line) => (line.length > 300 ? `${line.slice(0, 297)}...` : line))].slice(-this.size);
  }
}
