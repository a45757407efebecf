import { formatDuration } from "../../config/duration.js";
import { parsePositiveInt } from "../args.js";
import { runsJson } from "../../json.js";
import { instancesAlive } from "../../store/store.js";
import { dateTime } from "../../ui/format.js";
import { paint, printJson, warnSkipped } from "../output.js";
import { readStore, type RuntimeFlags } from "../runtime.js";

const STATUS_STYLE = { done: "green", failed: "red", cancelled: "yellow", running: "cyan", waiting: "dim" } as const;

/** `stau runs`: the newest runs first, active and finished; works beside a running instance. */
export async function runsCommand(flags: RuntimeFlags & { json?: boolean; limit?: string }): Promise<number> {
  const limit = flags.limit === undefined ? 20 : parsePositiveInt("--limit", flags.limit);
  const runs = await readStore(flags, async (store) => {
    const found = await store.listRunSummaries(limit);
    warnSkipped(store);
    return runsJson(found, await instancesAlive(store));
  });
  if (flags.json) {
    printJson(runs);
    return 0;
  }
  const out = process.stdout;
  if (runs.length === 0) {
    out.write("no runs yet: start one with stau run <job>\n");
    return 0;
  }
  for (const run of runs) {
    const took = run.finishedAt ? formatDuration(Date.parse(run.finishedAt) - Date.parse(run.createdAt)) : "";
    const { done, running, queued } = run.chunks;
    // The failed bucket of the JSON holds chunks that never ran too: a person reads them apart.
    const notRun = (["upstream_failed", "cancelled"] as const).filter((state) => (run.states[state] ?? 0) > 0).map((state) => ` ${state} ${run.states[state]}`);
    // A run no instance is alive to finish is not running: say so, and what picks it up.
    const status = run.interrupted ? paint("yellow", "interrupted", out) : paint(STATUS_STYLE[run.status], run.status.padEnd(11), out);
    out.write(`${run.id}  ${status} ${run.job.padEnd(24)} ${run.trigger.padEnd(8)} ${dateTime(Date.parse(run.createdAt))}  ${took.padStart(6)}  done ${done} running ${running} queued ${queued} failed ${run.states.failed ?? 0}${notRun.join("")}\n`);
  }
  if (runs.some((run) => run.interrupted)) out.write("\ninterrupted: no stau instance is running; the next stau start (or dev) takes these runs up\n");
  return 0;
}

