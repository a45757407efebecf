import { fork, type ChildProcess } from "node:child_process";
import { jobEnv } from "../exec/job-env.js";
import { workerFile } from "../worker-file.js";
import { endedWithoutAnswer, type LoadingWorker } from "./load.js";
import type { LoadResult } from "./load-worker.js";

const SPARE_END_MS = 5_000;
/** How much of a loading process's stderr an error quotes (Node's own message when it cannot start). */
const STDERR_KEPT = 2_000;

/**
 * Keeps one loading process started and waiting, so a reload after a save does not pay
 * for starting it and the TypeScript loader (~250 ms here), nor for importing "stau" and
 * starting esbuild (~35 ms of the ~45 one changed file took without them). Each spare is
 * used once: every reload imports in a fresh process that never saw the old code.
 *
 * A process, not a thread: everything a load allocates goes back to the system when it
 * ends. Threads started and ended in stau's own process (a loading thread and its
 * module-hooks thread at every save) left memory in the C allocator's per-thread arenas,
 * so `stau dev` grew with every save (`reload_rss_growth` in BENCHMARKS.md). A one-off
 * load (any other command) still uses a thread, which starts faster.
 */
export class SpareLoader {
  private spare: ChildProcess | null = null;

  /** `jobsDir`: the project's, whose import of "stau" a spare makes ahead. */
  constructor(private readonly jobsDir: string) {}

  /** Makes sure a spare is starting or waiting. */
  warm(): void {
    if (this.spare) return;
    const spare = startSpare(this.jobsDir);
    // A spare that fails while waiting is simply replaced at the next load.
    const forget = () => {
      if (this.spare === spare) this.spare = null;
    };
    spare.once("error", forget).once("exit", forget);
    this.spare = spare;
  }

  /** Gives `files` to the waiting spare (a new one when none waits), and starts the next spare. */
  load(files: readonly string[]): LoadingWorker {
    const worker = this.spare ?? startSpare(this.jobsDir);
    this.spare = null;
    this.warm();
    return answerOf(worker, files);
  }

  async close(): Promise<void> {
    const spare = this.spare;
    this.spare = null;
    if (spare) await endSpare(spare);
  }
}

function startSpare(jobsDir: string): ChildProcess {
  const spare = fork(workerFile("./load-worker.js", import.meta.url), [jobsDir], {
    env: jobEnv(),
    // Not stau's own flags (an --inspect port is taken); NODE_OPTIONS still applies.
    execArgv: [],
    // Structured clone, as between threads: results are plain descriptions.
    serialization: "advanced",
    // Job files' output at import time goes nowhere, as in a loading thread; stderr is
    // kept for the error when the process cannot even start.
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  // A waiting spare does not keep stau running; a load refs it while it runs.
  setRef(spare, false);
  return spare;
}

function setRef(child: ChildProcess, ref: boolean): void {
  for (const handle of [child, child.channel, child.stderr] as ({ ref(): unknown; unref(): unknown } | null | undefined)[]) {
    if (ref) handle?.ref();
    else handle?.unref();
  }
}

function answerOf(child: ChildProcess, files: readonly string[]): LoadingWorker {
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-STDERR_KEPT)));
  setRef(child, true);
  const results = new Promise<LoadResult[]>((resolve, reject) => {
    child.once("message", (answer) => resolve(answer as LoadResult[]));
    child.once("error", reject);
    // The channel closes after every message sent before the process ended has been read:
    // closed without an answer, the process ended without one.
    child.once("disconnect", () => {
      const ended = () => reject(endedWithoutAnswer(files, child.signalCode ?? `exit code ${child.exitCode}`, stderr.trim()));
      if (child.exitCode !== null || child.signalCode !== null) ended();
      else child.once("exit", ended);
    });
  }).finally(() => setRef(child, false));
  child.send({ files });
  return { results, stop: () => void child.kill("SIGKILL") };
}

/**
 * Ends a spare that was never given files: asked, it stops its esbuild and ends itself;
 * killed when it does not answer in time.
 */
function endSpare(spare: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (spare.exitCode !== null || spare.signalCode !== null) return resolve();
    const timer = setTimeout(() => spare.kill("SIGKILL"), SPARE_END_MS);
    spare.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    if (spare.connected) spare.send({ files: [] });
    else spare.kill("SIGKILL");
  });
}
