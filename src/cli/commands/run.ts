import { formatDuration } from "../../config/duration.js";
import { StauError } from "../../errors.js";
import { EventBus } from "../../events.js";
import { attachLogLines } from "../../headless/log-lines.js";
import { startInstance } from "../../instance/instance.js";
import { discoverJobNames, jobProblem } from "../../jobs/load.js";
import { runResultJson } from "../../json.js";
import type { ArchivedRun, RunRecord } from "../../store/records.js";
import { parseKwargs, parseWorkIds } from "../args.js";
import { paint, printJson } from "../output.js";
import { attachRunDisplay, wantsLiveProgress } from "../run-display.js";
import { currentProject, poolSize, storeConfig, type RuntimeFlags } from "../runtime.js";

export interface RunFlags extends RuntimeFlags {
  kwargs?: string;
  work?: string;
  json?: boolean;
  /** On a terminal: hide the job's log lines, show only the progress. */
  quiet?: boolean;
}

/** How long running chunks may finish after a Ctrl+C before the run is cancelled. */
const DRAIN_MS = 30_000;

/**
 * `stau run <job>`: one run, with its dependencies, in this process. On a shared store
 * this process joins the other instances for the run's length: the run goes to
 * whichever orchestrates, and every instance's executors share its chunks. Exit 0 done,
 * 1 not, 130 interrupted.
 */
export async function runCommand(job: string, flags: RunFlags): Promise<number> {
  const kwargs = parseKwargs(flags.kwargs);
  const workIds = parseWorkIds(flags.work);
  const pool = poolSize(flags);
  // A name no file in jobs/ has is said at once, before an instance starts (and its lines print).
  const problem = jobProblem(discoverJobNames(currentProject(flags)), job);
  if (problem && problem.kind !== "broken") throw problem;
  const events = new EventBus();
  // Progress goes to stderr, stdout keeps the result: on a terminal live (bars, ETAs, the
  // job's log lines), piped or in CI as the same event lines `--no-ui` writes.
  const live = !flags.json && wantsLiveProgress();
  const stopLines = flags.json || live ? () => {} : attachLogLines(events, "pretty", process.stderr);
  const instance = await startInstance({ paths: currentProject(flags), store: storeConfig(flags), pool, command: `run ${job}`, events, schedule: false, ownRunsOnly: true });
  // Drawn only once the instance runs, so an instance that cannot start leaves no display above its error.
  const display = live ? attachRunDisplay(events, { job, workers: pool.workers, quiet: flags.quiet }) : null;
  const stopReporting = display ? () => display.stop() : stopLines;
  let interrupted = false;
  const onSignal = (runId: string) => () => {
    if (interrupted) {
      // A second Ctrl+C: stop now, the display's last frame left as a record of where it stopped.
      display?.stop();
      process.exit(130);
    }
    interrupted = true;
    const text = `stopping: running chunks get ${DRAIN_MS / 1000}s to finish, then run ${runId} is cancelled (Ctrl+C again to force)…`;
    if (display) display.notice(text, "yellow");
    else process.stderr.write(`\n${text}\n`);
    void instance
      .drain(DRAIN_MS)
      .then(() => instance.order({ cmd: "cancel", run: runId }))
      .catch(() => undefined);
  };
  try {
    const started = Date.now();
    const { run } = await instance.order<{ run: RunRecord }>({ cmd: "trigger", job, kwargs, workIds, source: "cli" });
    const stopping = onSignal(run.id);
    process.on("SIGINT", stopping);
    process.on("SIGTERM", stopping);
    const failed = instance.failed.then((error) => {
      throw new StauError("instance_failed", `${error.message}; run ${run.id} goes on wherever stau runs next`, { hint: `follow it with stau runs and stau logs ${job}`, exitCode: 1 });
    });
    const result = await Promise.race([instance.waitForRun(run.id), failed]);
    process.off("SIGINT", stopping);
    process.off("SIGTERM", stopping);
    stopReporting();
    return report(result, job, flags, started, interrupted);
  } finally {
    // The terminal is left clean before an error is printed below the display.
    display?.stop();
    await instance.stop(DRAIN_MS);
  }
}

/** Prints how the run ended; returns the exit code (0 done, 1 not, 130 interrupted). */
function report(result: ArchivedRun, job: string, flags: RunFlags, started: number, interrupted: boolean): number {
  if (flags.json) {
    printJson(runResultJson(result));
  } else {
    const counts = new Map<string, number>();
    for (const chunk of result.chunks) counts.set(chunk.state, (counts.get(chunk.state) ?? 0) + 1);
    const summary = [...counts].map(([state, n]) => `${n} ${state}`).join(", ") || "no chunks";
    const ok = result.run.status === "done";
    const mark = ok ? paint("green", "✓") : paint("red", "✗");
    process.stdout.write(`${mark} run ${result.run.id} of ${job} ${result.run.status} in ${formatDuration(Date.now() - started)}: ${summary}\n`);
    for (const chunk of result.chunks.filter((c) => c.state === "failed")) {
      process.stdout.write(`  ${chunk.id}: ${chunk.error?.kind}: ${chunk.error?.message.split("\n")[0]}\n    log: stau logs ${chunk.job} --run ${result.run.id}\n`);
    }
  }
  if (interrupted) return 130;
  return result.run.status === "done" ? 0 : 1;
}
