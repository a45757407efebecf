import type { JobSpec, ProgramSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { formatDuration } from "../config/duration.js";
import { programBaseEnv, runProgramChunk, selectProgramWork, STOP_GRACE_MS, type ProgramContext } from "../programs/chunk.js";
import { Launcher } from "../programs/launcher.js";
import type { ProgramProcess } from "../programs/process.js";
import { logCapNote } from "../store/logs.js";
import type { AttemptOutcome } from "../store/records.js";
import { jobEnv } from "./job-env.js";
import type { AttemptLogs } from "./log-capture.js";
import type { ChunkTask } from "./protocol.js";
import { stoppedOutcome, type FailureKind, type Stop } from "./outcomes.js";

interface RunningProgram {
  readonly slot: number;
  readonly process: ProgramProcess;
  stopped: Stop | null;
}

export interface ProgramRunnerOptions {
  readonly logs: AttemptLogs;
  readonly logCapBytes: number;
  readonly onProgress?: (chunkId: string, done: number, total: number) => void;
  readonly onLog?: (chunkId: string, attempt: number, level: string, text: string) => void;
}

/**
 * Program jobs' attempts for the pool: each a process of its own (programs/) that
 * takes a slot of the pool as a thread's chunk does, so `workers` bounds both kinds.
 */
export class ProgramRunner {
  /** Running, by chunk id. */
  private readonly running = new Map<string, RunningProgram>();
  private readonly context: ProgramContext = { launcher: new Launcher(programBaseEnv(jobEnv()), STOP_GRACE_MS) };

  constructor(private readonly options: ProgramRunnerOptions) {}

  /** The chunks whose programs run now. */
  chunks(): string[] {
    return [...this.running.keys()];
  }

  slots(): number[] {
    return [...this.running.values()].map((p) => p.slot);
  }

  slotOf(chunkId: string): number | null {
    return this.running.get(chunkId)?.slot ?? null;
  }

  async run(spec: JobSpec & { program: ProgramSpec }, task: ChunkTask, slot: number): Promise<AttemptOutcome> {
    const { chunkId, attempt } = task;
    const { logs, logCapBytes } = this.options;
    let bytes = 0;
    let lastProgress = 0;
    logs.start(spec.name, chunkId, attempt);
    const started = runProgramChunk(spec, task, {
      ...this.context,
      onLog: (level, text) => {
        if (bytes > logCapBytes) return;
        bytes += Buffer.byteLength(text);
        if (bytes > logCapBytes) text = logCapNote(logCapBytes);
        logs.line(chunkId, attempt, Date.now(), level, text);
        this.options.onLog?.(chunkId, attempt, level, text);
      },
      onProgress: (done, total) => {
        // Throttled as a thread's progress() is: the console redraws at most ~10 times a second.
        const now = Date.now();
        if (now - lastProgress < 100 && done < total) return;
        lastProgress = now;
        this.options.onProgress?.(chunkId, done, total);
      },
    });
    const running: RunningProgram = { slot, process: started.process, stopped: null };
    this.running.set(chunkId, running);
    const timer = spec.timeoutMs === null ? null : setTimeout(() => this.stopOne(running, "timeout", `timed out after ${formatDuration(spec.timeoutMs!)}`), spec.timeoutMs);
    const ended = await started.outcome;
    if (timer) clearTimeout(timer);
    this.running.delete(chunkId);
    const outcome = running.stopped ? stoppedOutcome(running.stopped) : ended;
    // Every line came before the process's pipes closed.
    logs.drained(chunkId, attempt);
    // The log holds the program's stderr already: its failure line names the cause without
    // stderr's last lines again, unless the log was cut short before them.
    const logged = outcome.ok || bytes > logCapBytes ? outcome : { ...outcome, error: { ...outcome.error, message: outcome.error.message.split("\n")[0]! } };
    logs.settled(chunkId, attempt, true, logged.ok ? null : logged);
    return outcome;
  }

  /** Stops a program with everything it started: SIGTERM to its process group, SIGKILL past the grace. */
  stop(chunkId: string, kind: FailureKind, message: string): boolean {
    const running = this.running.get(chunkId);
    if (!running) return false;
    this.stopOne(running, kind, message);
    return true;
  }

  stopAll(message: string): void {
    for (const running of this.running.values()) this.stopOne(running, "cancelled", message);
  }

  private stopOne(running: RunningProgram, kind: FailureKind, message: string): void {
    running.stopped ??= { kind, message: `${message}; its processes were sent SIGTERM (SIGKILL after ${formatDuration(STOP_GRACE_MS)})`, stack: null };
    running.process.stop(STOP_GRACE_MS);
  }

  selectWork(spec: JobSpec & { program: ProgramSpec }, kwargs: Kwargs): Promise<WorkId[]> {
    return selectProgramWork(spec, kwargs, this.context);
  }

  close(): void {
    this.context.launcher.close();
  }
}
