import { formatDuration } from "../../config/duration.js";
import { UsageError } from "../../errors.js";
import { stackFrames } from "../../stack.js";
import { showJson } from "../../json.js";
import type { ArchivedRun } from "../../store/records.js";
import type { Store } from "../../store/store.js";
import { dateTime } from "../../ui/format.js";
import { paint, printJson, warnSkipped } from "../output.js";
import { readStore, type RuntimeFlags } from "../runtime.js";

/** How far back a job's newest run is looked for when a job name is given. */
const RUNS_SEARCHED = 500;

const STATE_STYLE = { done: "green", failed: "red", upstream_failed: "red", cancelled: "yellow", running: "cyan", waiting: "dim", queued: "dim", pending: "dim" } as const;

/** `stau show <run|job>`: everything about one run; works beside a running instance and on any copy of a shared store. */
export async function showCommand(ref: string, flags: RuntimeFlags & { json?: boolean }): Promise<number> {
  const found = await readStore(flags, async (store) => {
    const run = await runOrNewest(store, ref);
    warnSkipped(store);
    return run;
  });
  if (!found) throw new UsageError(`no run or job with runs ${JSON.stringify(ref)}`, "list runs with stau runs; a job name shows its newest run");
  const shown = showJson(found);
  if (flags.json) printJson(shown);
  else printRun(shown);
  return 0;
}

/** A run by id, or the newest run of a job by its name. */
async function runOrNewest(store: Store, ref: string): Promise<ArchivedRun | null> {
  const byId = await store.getRun(ref);
  if (byId) return byId;
  // Summaries first: only the run shown has its chunks read, not every large run among the newest.
  const newest = (await store.listRunSummaries(RUNS_SEARCHED)).find((r) => r.run.job === ref);
  return newest ? store.getRun(newest.run.id) : null;
}

type Shown = ReturnType<typeof showJson>;

function printRun({ run, chunks }: Shown): void {
  const out = process.stdout;
  const at = (iso: string | null) => (iso === null ? "—" : dateTime(Date.parse(iso)));
  const field = (name: string, value: string) => out.write(`  ${paint("dim", name.padEnd(9), out)} ${value}\n`);
  out.write(`run ${run.id}  ${run.job}  ${paint(STATE_STYLE[run.status], run.status, out)}\n`);
  const trigger = run.trigger === "schedule" && run.scheduleEntry ? `schedule (entry ${run.scheduleEntry})` : run.origin ? `${run.trigger} of ${run.origin}` : run.trigger;
  field("trigger", trigger);
  field("kwargs", JSON.stringify(run.kwargs));
  field("work IDs", run.workIds === null ? "none (one chunk per job)" : `${run.workIds.length}: ${abbreviated(run.workIds.map(String))}`);
  const dirty = run.gitDirty ? paint("yellow", " + uncommitted changes in jobs/", out) : "";
  field("commit", run.gitCommit === null ? "— (jobs/ is not in a git checkout)" : `${run.gitCommit}${dirty}`);
  const took = run.finishedAt && run.createdAt ? ` (took ${formatDuration(Date.parse(run.finishedAt) - Date.parse(run.createdAt))})` : "";
  field("created", at(run.createdAt));
  field("finished", `${at(run.finishedAt)}${took}`);
  if (run.error) field("error", paint("red", run.error, out));
  field("rerun", run.rerun);
  out.write(`\n${chunks.length} chunk(s)${countsLine(chunks)}:\n`);
  for (const chunk of chunks) {
    const ran = chunk.instance ? ` on ${chunk.instance}${chunk.worker ? ` worker ${chunk.worker}` : ""}` : "";
    const duration = chunk.durationMs === null ? "" : `  ${formatDuration(chunk.durationMs)}`;
    out.write(`  ${chunk.id}  ${paint(STATE_STYLE[chunk.status], chunk.status, out)}${idsOf(chunk)}  attempts ${chunk.attempts}${duration}${ran}\n`);
    if (!chunk.error) continue;
    // Every line of a message under its chunk (a program's carries stderr's last lines).
    const message = `${chunk.error.kind}: ${chunk.error.message}`.replace(/\n/g, "\n    ");
    out.write(`    ${paint(chunk.error.kind === "cancelled" ? "yellow" : "red", message, out)}\n`);
    const frames = stackFrames(chunk.error.stack);
    if (frames) out.write(paint("dim", frames.replace(/^\s*/gm, "      "), out) + "\n");
    if (chunk.error.kind !== "upstream") out.write(`    ${paint("dim", "rerun:", out)} ${chunk.rerun}\n`);
  }
  // A big run's failures are somewhere in thousands of lines: the end of the output, what
  // the terminal shows, names them again.
  const failed = chunks.filter((chunk) => chunk.status === "failed");
  if (chunks.length <= SCREENFUL || failed.length === 0) return;
  out.write(`\n${paint("red", `${failed.length} failed chunk(s)`, out)} of ${chunks.length}, each above with its stack:\n`);
  for (const chunk of failed.slice(0, SCREENFUL)) {
    out.write(`  ${chunk.id}${idsOf(chunk)}  ${paint("red", `${chunk.error?.kind ?? "error"}: ${(chunk.error?.message ?? "").split("\n")[0]}`, out)}\n`);
  }
  if (failed.length > SCREENFUL) out.write(`  … ${failed.length - SCREENFUL} more, each above\n`);
}

/** Runs of more chunks than this end with their failures named again. */
const SCREENFUL = 20;

/** ": 11999 done, 1 failed" — each state's count, in the states' order. */
function countsLine(chunks: Shown["chunks"]): string {
  const counts = new Map<string, number>();
  for (const chunk of chunks) counts.set(chunk.status, (counts.get(chunk.status) ?? 0) + 1);
  const parts = Object.keys(STATE_STYLE).filter((state) => counts.has(state)).map((state) => `${counts.get(state)} ${state}`);
  return parts.length > 0 ? `: ${parts.join(", ")}` : "";
}

/** A chunk's work IDs as its line shows them, or nothing for a chunk without. */
function idsOf(chunk: Shown["chunks"][number]): string {
  return chunk.workIds.length ? `  [${abbreviated(chunk.workIds.map(String))}]` : "";
}

/** At most ten items, then how many more. */
function abbreviated(items: readonly string[]): string {
  return items.length <= 10 ? items.join(", ") : `${items.slice(0, 10).join(", ")}, … ${items.length - 10} more`;
}
