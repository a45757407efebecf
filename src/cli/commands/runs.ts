import { formatDuration } from "../../config/duration.js";
import { parsePositiveInt } from "../args.js";
import { runsJson } from "../../json.js";
import { paint, printJson, warnSkipped } from "../output.js";
import { readStore, type RuntimeFlags } from "../runtime.js";

const STATUS_STYLE = { done: "green", failed: "red", cancelled: "yellow", running: "cyan", waiting: "dim" } as const;

/** `stau runs`: the newest runs first, active and finished; works beside a running instance. */
export async function runsCommand(flags: RuntimeFlags & { json?: boolean; limit?: string }): Promise<number> {
  const limit = flags.limit === undefined ? 20 : parsePositiveInt("--limit", flags.limit);
  const runs = runsJson(
    await readStore(flags, async (store) => {
      const found = await store.listRuns(limit);
      warnSkipped(store);
      return found;
    }),
  );
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
    const { done, running, queued, failed } = run.chunks;
    const status = paint(STATUS_STYLE[run.status], run.status.padEnd(9), out);
    out.write(`${run.id}  ${status} ${run.job.padEnd(24)} ${run.trigger.padEnd(8)} ${run.createdAt.replace("T", " ").slice(0, 19)}  ${took.padStart(6)}  done ${done} running ${running} queued ${queued} failed ${failed}\n`);
  }
  return 0;
}
