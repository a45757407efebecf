import type { Kwargs } from "../../config/types.js";
import { kwargsKey } from "../../graph/kwargs-key.js";
import { discoverJobNames, jobProblem } from "../../jobs/load.js";
import type { RunRecord } from "../../store/records.js";
import { openActor } from "../actor.js";
import { parseBackfillRange } from "../backfill-range.js";
import { parseKwargs, parsePositiveInt } from "../args.js";
import { paint, printJson, warnSkipped } from "../output.js";
import { currentProject, type RuntimeFlags } from "../runtime.js";

export interface BackfillFlags extends RuntimeFlags {
  range: string;
  step?: string;
  maxActive?: string;
  kwargs?: string;
  json?: boolean;
}

/** How far back the history is read for values already done (the resume). */
const HISTORY_RUNS = 100_000;

type Outcome = { value: string | number; run: string | null; status: RunRecord["status"] | "skipped" };

/**
 * `stau backfill <job> --range KEY=FROM..TO`: one ordinary run per value, with
 * kwargs[KEY] set to it, at most --max-active at once, in order. Resumable: values whose
 * run (same kwargs) already ended done are skipped, so running it again after a failure
 * or a Ctrl+C does only what is left. Exit 0 all done, 1 some not, 130 interrupted.
 */
export async function backfillCommand(job: string, flags: BackfillFlags): Promise<number> {
  const { key, values } = parseBackfillRange(flags.range, flags.step);
  // Checked before anything starts: a typo must not leave a half-started backfill.
  const problem = jobProblem(discoverJobNames(currentProject(flags)), job);
  if (problem) throw problem;
  const maxActive = flags.maxActive === undefined ? 1 : parsePositiveInt("--max-active", flags.maxActive);
  const base = parseKwargs(flags.kwargs);
  const kwargsOf = (value: string | number): Kwargs => ({ ...base, [key]: value });
  const runner = await openActor(flags, "backfill");
  let interrupted = false;
  const stop = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say(`stopping: no new runs; the ${active} active one(s) finish (Ctrl+C again to leave them)`, "yellow");
  };
  let active = 0;
  process.on("SIGINT", stop);
  try {
    const history = await runner.read(async (store) => {
      const runs = await store.listRunSummaries(HISTORY_RUNS);
      warnSkipped(store);
      return runs;
    });
    const done = new Set(history.filter((r) => r.run.job === job && r.run.status === "done").map((r) => kwargsKey(r.run.kwargs)));
    const outcomes: Outcome[] = values.map((value) => ({ value, run: null, status: done.has(kwargsKey(kwargsOf(value))) ? "skipped" : "waiting" }));
    const todo = outcomes.filter((o) => o.status !== "skipped");
    say(`backfill of ${job} over ${key}: ${values.length} value(s), ${values.length - todo.length} already done, ${todo.length} to run, at most ${maxActive} at once, ${runner.where}`);
    let next = 0;
    let finished = 0;
    const worker = async () => {
      while (!interrupted && next < todo.length) {
        const outcome = todo[next++]!;
        active++;
        outcome.run = (await runner.order<{ run: RunRecord }>({ cmd: "trigger", job, kwargs: kwargsOf(outcome.value), source: "cli" })).run.id;
        outcome.status = "running";
        const result = await runner.finished(outcome.run);
        active--;
        outcome.status = result.run.status;
        finished++;
        const mark = result.run.status === "done" ? paint("green", "✓", process.stderr) : paint("red", "✗", process.stderr);
        const error = result.chunks.find((c) => c.state === "failed")?.error?.message.split("\n")[0];
        say(`${mark} ${key}=${outcome.value} run ${outcome.run} ${result.run.status}${error ? `: ${error}` : ""} (${finished}/${todo.length})`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(maxActive, todo.length) }, worker));
    return report(job, key, outcomes, flags, interrupted);
  } finally {
    process.off("SIGINT", stop);
    await runner.close();
  }
}

function say(text: string, style?: "yellow"): void {
  process.stderr.write(`${style ? paint(style, text, process.stderr) : text}\n`);
}

function report(job: string, key: string, outcomes: Outcome[], flags: BackfillFlags, interrupted: boolean): number {
  const count = (status: Outcome["status"]) => outcomes.filter((o) => o.status === status).length;
  const notDone = outcomes.filter((o) => o.status !== "done" && o.status !== "skipped");
  if (flags.json) printJson({ job, key, values: outcomes });
  else {
    const mark = notDone.length === 0 ? paint("green", "✓") : paint("red", "✗");
    process.stdout.write(`${mark} backfill of ${job}: ${count("done")} done, ${count("skipped")} already done, ${notDone.length} not done\n`);
    for (const o of notDone) process.stdout.write(`  ${key}=${o.value}: ${o.run ? `run ${o.run} ${o.status}` : "not started"}\n`);
    if (notDone.length > 0) process.stdout.write(`  the same command again runs only these\n`);
  }
  if (interrupted) return 130;
  return notDone.length === 0 ? 0 : 1;
}
