import { formatDuration } from "../../config/duration.js";
import { parseKwargs, parseWorkIds } from "../args.js";
import { runResultJson } from "../json.js";
import { paint, printJson } from "../output.js";
import { attachLogLines } from "../../headless/log-lines.js";
import { openRuntime, type RuntimeFlags } from "../runtime.js";
import { startCopy } from "../../cluster/copy.js";
import type { Kwargs, WorkId } from "../../config/types.js";
import { callOrchestrator } from "../../control/cluster-client.js";
import { EventBus } from "../../engine/events.js";
import { databaseConfig, type DatabaseConfig } from "../../store/pg/config.js";
import type { ArchivedRun, RunRecord } from "../../store/records.js";

export interface RunFlags extends RuntimeFlags {
  kwargs?: string;
  work?: string;
  json?: boolean;
  drainTimeout?: string;
}

/** `stau run <job>`: one run in this process, with its dependencies. Exit 0 done, 1 not. */
export async function runCommand(job: string, flags: RunFlags): Promise<number> {
  const kwargs = parseKwargs(flags.kwargs);
  const workIds = parseWorkIds(flags.work);
  const db = databaseConfig(flags);
  if (db) return runOnSharedStore(db, job, kwargs, workIds, flags);
  await using runtime = await openRuntime(flags, `run ${job}`);
  const { engine } = runtime;
  // Progress goes to stderr as the same event lines `--no-ui` writes; stdout keeps the result.
  const stopReporting = flags.json ? () => {} : attachLogLines(engine.events, "pretty", process.stderr);
  let interrupted = false;
  let runId: string | undefined;
  const onSignal = () => {
    if (interrupted) process.exit(130); // a second Ctrl+C: stop now
    interrupted = true;
    process.stderr.write("\nstopping: running chunks get 30s to finish (Ctrl+C again to force)…\n");
    void engine.drain(30_000).then(() => (runId ? engine.cancel(runId) : false));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const started = Date.now();
  const run = await engine.trigger({ job, kwargs, workIds, source: "cli" });
  runId = run.id;
  const result = await engine.waitForRun(run.id);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  stopReporting();
  return report(result, job, flags, started, interrupted);
}

/**
 * With a shared store, `stau run` joins as a copy for the run's length: the run goes to
 * whichever copy orchestrates (this one, when no other runs), and every copy's workers
 * share its chunks.
 */
async function runOnSharedStore(db: DatabaseConfig, job: string, kwargs: Kwargs, workIds: WorkId[] | null, flags: RunFlags): Promise<number> {
  const events = new EventBus();
  const stopReporting = flags.json ? () => {} : attachLogLines(events, "pretty", process.stderr);
  const copy = await startCopy(db, flags, `run ${job}`, events);
  let interrupted = false;
  try {
    const started = Date.now();
    const { run } = await callOrchestrator<{ run: RunRecord }>(copy.store, { cmd: "trigger", job, kwargs, workIds });
    const onSignal = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      process.stderr.write(`\nstopping: cancelling run ${run.id} (Ctrl+C again to force)…\n`);
      void callOrchestrator(copy.store, { cmd: "cancel", run: run.id }).catch(() => undefined);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    let result = await copy.store.getRun(run.id);
    while (!result || result.run.finishedAt === null) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      result = await copy.store.getRun(run.id);
    }
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    stopReporting();
    return report(result, job, flags, started, interrupted);
  } finally {
    await copy.stop(30_000);
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
