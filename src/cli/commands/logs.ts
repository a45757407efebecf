import { UsageError } from "../../errors.js";
import { discoverJobNames, jobProblem, type JobNames, type JobProblem } from "../../jobs/load.js";
import { attemptTag, parseLogLine, type AttemptLog } from "../../store/logs.js";
import { clockTime } from "../../ui/format.js";
import { openStore } from "../../store/open.js";
import type { ArchivedRun } from "../../store/records.js";
import type { Store } from "../../store/store.js";
import { parsePositiveInt } from "../args.js";
import { paint, warnSkipped } from "../output.js";
import { currentProject, readStore, storeConfig, type RuntimeFlags } from "../runtime.js";

export interface LogsFlags extends RuntimeFlags {
  run?: string;
  follow?: boolean;
  tail?: string;
}

/** How often `-f` looks for new lines, and every how many looks whether the run ended. */
const FOLLOW_MS = 250;
const RUN_EVERY = 4;

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
      run = await store.latestRunOf(job);
      warnSkipped(store);
      if (!run && problem) throw problem;
      if (!run) {
        process.stdout.write(`no runs of ${job} yet\n`);
        return 0;
      }
    }
    if (!run.chunks.some((c) => c.job === job)) throw new UsageError(`run ${run.run.id} has no chunks of ${job}`, `its chunks are of: ${[...new Set(run.chunks.map((c) => c.job))].join(", ")}`);
    // A shared store answers from the database at every read; a data directory opened to
    // read holds what it read at open, so following reads it again to see the run end.
    const reread = (id: string) => (store.shared ? store.getRun(id) : readStore(flags, (fresh) => fresh.getRun(id)));
    return await printLogs(store, job, run, tailLines, flags.follow === true ? reread : null);
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
 * each; with `follow` (how to read the run as it is now), then every new line (of
 * attempts still running, or, on a shared store, of attempts as each ends) until the run
 * ends (exit 0, or 1 when it failed) or Ctrl+C (130).
 */
async function printLogs(store: Store, job: string, run: ArchivedRun, tailLines: number, follow: ((id: string) => Promise<ArchivedRun | null>) | null): Promise<number> {
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
      for (const raw of lines.slice(from)) {
        // As the console's Logs pane shows a line (local time, the attempt's tag), with the
        // level in words too: piped into grep, colour is gone.
        const line = parseLogLine(raw);
        const text = `${line.level.padEnd(5)} ${line.text}`;
        const shown = line.level === "error" ? paint("red", text, out) : line.level === "warn" ? paint("yellow", text, out) : text;
        out.write(`${paint("dim", `${clockTime(line.at)} ${attemptTag(log.chunkId, log.attempt)}`, out)} ${shown}\n`);
      }
      count += Math.max(0, lines.length - from);
      printed.set(key, Math.max(from, lines.length));
    }
    return count;
  };
  if (!follow) {
    if ((await print(true)) === 0) out.write(`run ${run.run.id} (${run.run.status}): no log lines from ${job}\n`);
    return 0;
  }
  // Following ends with the run, or by Ctrl+C: an interrupt, exit 130 as in every command
  // (the store is closed on the way out). Heard from the start, even while the first lines print.
  let timer: NodeJS.Timeout | null = null;
  let polls = 0;
  let finish!: (code: number) => void;
  const ended = new Promise<number>((resolve) => (finish = resolve));
  const onInterrupt = () => finish(130);
  process.once("SIGINT", onInterrupt);
  const poll = async () => {
    // The run's state is read less often than its logs: a read of the run costs more.
    const now = ++polls % RUN_EVERY === 1 ? await follow(run.run.id) : null;
    await print(false);
    if (now?.run.finishedAt == null) return;
    // Its last attempts' logs are stored as each attempt ends: one more look takes them.
    await print(false);
    out.write(`${paint("dim", `run ${now.run.id} ${now.run.status}`, out)}\n`);
    finish(now.run.status === "done" ? 0 : 1);
  };
  await print(true);
  let polling = false;
  timer = setInterval(() => {
    if (polling) return;
    polling = true;
    void poll()
      .catch(() => undefined)
      .finally(() => (polling = false));
  }, FOLLOW_MS);
  const code = await ended;
  clearInterval(timer);
  process.off("SIGINT", onInterrupt);
  return code;
}
