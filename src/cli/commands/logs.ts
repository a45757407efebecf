import { UsageError } from "../../errors.js";
import { discoverJobNames, jobProblem, type JobNames, type JobProblem } from "../../jobs/load.js";
import { attemptTag, type AttemptLog } from "../../store/logs.js";
import { openStore } from "../../store/open.js";
import type { ArchivedRun } from "../../store/records.js";
import type { Store } from "../../store/store.js";
import { parsePositiveInt } from "../args.js";
import { paint, warnSkipped } from "../output.js";
import { currentProject, storeConfig, type RuntimeFlags } from "../runtime.js";

export interface LogsFlags extends RuntimeFlags {
  run?: string;
  follow?: boolean;
  tail?: string;
}

/** How often `-f` looks for new lines. */
const FOLLOW_MS = 250;

/** `stau logs <job>`: the log lines of a job's chunks in one run (the newest by default). */
export async function logsCommand(job: string, flags: LogsFlags): Promise<number> {
  const tailLines = flags.tail === undefined ? 200 : parsePositiveInt("--tail", flags.tail);
  // From file names only (loading job code is not needed to read logs). A name two files
  // share is refused; an unknown one may still have runs, from before its file was deleted.
  const problem = namesProblem(flags, job);
  if (problem?.kind === "file") throw problem;
  const store = await openStore(storeConfig(flags), "read");
  try {
    let run: ArchivedRun | null;
    if (flags.run) {
      run = await store.getRun(flags.run);
      warnSkipped(store);
      if (!run) throw new UsageError(`no run ${flags.run} in ${store.location}`, "list runs with stau runs");
    } else {
      run = (await store.listRuns(200)).find((r) => r.chunks.some((c) => c.job === job)) ?? null;
      warnSkipped(store);
      if (!run && problem) throw problem;
      if (!run) {
        process.stdout.write(`no runs of ${job} yet\n`);
        return 0;
      }
    }
    if (!run.chunks.some((c) => c.job === job)) throw new UsageError(`run ${run.run.id} has no chunks of ${job}`, `its chunks are of: ${[...new Set(run.chunks.map((c) => c.job))].join(", ")}`);
    return await printLogs(store, job, run, tailLines, flags.follow === true);
  } finally {
    await store.close();
  }
}

/** What the job's name says against it, from file names; logs come from the store, so a jobs/ that cannot be read does not stop them. */
function namesProblem(flags: LogsFlags, job: string): JobProblem | null {
  let names: JobNames;
  try {
    names = discoverJobNames(currentProject(flags));
  } catch {
    return null;
  }
  return jobProblem(names, job);
}

/**
 * Prints the run's attempt logs of `job`, in chunk order, the last `tailLines` lines of
 * each; with `follow`, then every new line (of attempts still running, or, on a shared
 * store, of attempts as each ends) until Ctrl+C.
 */
async function printLogs(store: Store, job: string, run: ArchivedRun, tailLines: number, follow: boolean): Promise<number> {
  const out = process.stdout;
  const order = new Map(run.chunks.map((c, i) => [c.id, i]));
  const printed = new Map<string, number>();
  let since: number | null = null;
  const print = async (first: boolean) => {
    const logs: AttemptLog[] = await store.logs.find({ job, runId: run.run.id, limit: 100_000, since: since === null ? null : since - 2_000 });
    logs.sort((a, b) => (order.get(a.chunkId) ?? 0) - (order.get(b.chunkId) ?? 0) || a.attempt - b.attempt);
    let count = 0;
    for (const log of logs) {
      since = Math.max(since ?? 0, log.writtenAt);
      const key = `${log.chunkId}#${log.attempt}`;
      const lines = log.text.split("\n").filter(Boolean);
      const from = printed.get(key) ?? (first ? Math.max(0, lines.length - tailLines) : 0);
      for (const line of lines.slice(from)) out.write(`${paint("dim", attemptTag(log.chunkId, log.attempt), out)} ${line}\n`);
      count += Math.max(0, lines.length - from);
      printed.set(key, Math.max(from, lines.length));
    }
    return count;
  };
  const found = await print(true);
  if (!follow) {
    if (found === 0) out.write(`run ${run.run.id} (${run.run.status}): no log lines from ${job}\n`);
    return 0;
  }
  return new Promise((resolve) => {
    const timer = setInterval(() => void print(false).catch(() => undefined), FOLLOW_MS);
    process.once("SIGINT", () => {
      clearInterval(timer);
      resolve(0);
    });
  });
}
