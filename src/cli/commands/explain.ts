import { formatDuration } from "../../config/duration.js";
import { formatProblem } from "../../config/problem.js";
import { kwargsKey } from "../../graph/kwargs-key.js";
import { jobProblem, loadRegistry } from "../../jobs/load.js";
import { nextFire } from "../../schedule/ticks.js";
import { paint, printJson } from "../output.js";
import { currentProject, readStore, type RuntimeFlags } from "../runtime.js";
import { dateTime } from "../../ui/format.js";

const at = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

/**
 * `stau explain <job>`: why a job is or is not running now — broken, waiting on which
 * run, fresh until when per dependency, next tick, skipped by overlap. Reads the store,
 * so it works with or without a running instance.
 */
export async function explainCommand(job: string, flags: RuntimeFlags & { json?: boolean }): Promise<number> {
  const paths = currentProject(flags);
  const registry = await loadRegistry(paths);
  const spec = registry.jobs.get(job);
  const broken = registry.broken.get(job);
  // A broken job is explained (that it is broken, and why); any other problem is the answer.
  const problem = jobProblem(registry, job);
  if (problem && problem.kind !== "broken") throw problem;
  const now = Date.now();
  const { runs, chunks, marks, fresh, holder } = await readStore(flags, async (store) => ({
    ...(await store.active()),
    marks: await store.scheduleMarks(),
    fresh: store.freshness(),
    holder: await store.leadership.holder(),
  }));

  const involved = runs
    .map((run) => ({ run, mine: chunks.filter((c) => c.runId === run.id && c.job === job) }))
    .filter(({ run, mine }) => run.job === job || mine.length > 0)
    .map(({ run, mine }) => ({
      id: run.id,
      job: run.job,
      status: run.status,
      chunks: Object.fromEntries(["queued", "pending", "running", "done", "failed"].map((s) => [s, mine.filter((c) => c.state === s).length])),
    }));
  const lastSuccess = fresh.lastSuccess(job, kwargsKey({}), null) ?? null;
  const dependencies = (spec?.dependencies ?? []).map((dep) => {
    const last = fresh.lastSuccess(dep.job, kwargsKey(dep.kwargs), null) ?? null;
    return { job: dep.job, maxLag: formatDuration(dep.maxLagMs), lastSuccess: at(last), freshUntil: last === null ? null : at(last + dep.maxLagMs), fresh: last !== null && last + dep.maxLagMs >= now };
  });
  const schedule = registry.schedule.entries
    .filter((e) => e.job === job)
    .map((entry) => {
      const mark = marks.get(entry.id);
      return {
        entry: entry.id,
        enabled: entry.enabled,
        nextTick: at(nextFire(entry, mark, now)),
        lastTick: at(mark?.lastTickAt),
        lastSkip: mark?.lastSkip ? { at: at(mark.lastSkip.tickAt), reason: mark.lastSkip.reason } : null,
      };
    });
  const report = {
    job,
    broken: broken ? broken.map(formatProblem) : null,
    instance: holder ? { pid: holder.pid, command: holder.command, hostname: holder.hostname } : null,
    runs: involved,
    lastSuccess: at(lastSuccess),
    dependencies,
    schedule,
  };
  if (flags.json) {
    printJson(report);
    return 0;
  }
  const out = process.stdout;
  const say = (text: string) => out.write(text + "\n");
  // The report's ISO instants (for --json), as people read them everywhere else.
  const shown = (iso: string | null) => (iso === null ? "never" : dateTime(Date.parse(iso)));
  say(paint("bold", job));
  if (broken) say(`  ${paint("red", "broken", out)}: it is not scheduled and its chunks are held until the file is fixed\n${broken.map((p) => `    ${formatProblem(p)}`).join("\n")}`);
  say(report.instance ? `  stau is running (pid ${report.instance.pid} on ${report.instance.hostname}, ${report.instance.command}): it orchestrates` : "  no stau instance orchestrates on this store: nothing fires the schedule");
  if (involved.length === 0) say("  not in any active run");
  for (const run of involved) {
    const waiting = run.status === "waiting" ? " — waiting for other runs to finish the jobs it depends on" : "";
    const c = run.chunks as Record<string, number>;
    say(`  in run ${run.id} (${run.job}, ${run.status})${waiting}: running ${c.running}, queued ${c.queued + c.pending}, done ${c.done}, failed ${c.failed}`);
  }
  say(`  last success: ${shown(report.lastSuccess)}`);
  for (const dep of dependencies) {
    const state = dep.fresh ? paint("green", `fresh until ${shown(dep.freshUntil)}`, out) : paint("yellow", dep.lastSuccess ? `stale since ${shown(dep.freshUntil)}` : "never succeeded", out);
    say(`  needs ${dep.job} (maxLag ${dep.maxLag}): ${state}`);
  }
  if (schedule.length === 0) say("  not in the schedule");
  for (const entry of schedule) {
    say(`  schedule ${entry.entry}: ${entry.enabled ? `next tick ${shown(entry.nextTick)}` : "disabled"}${entry.lastTick ? `, last tick ${shown(entry.lastTick)}` : ""}`);
    if (entry.lastSkip) say(`    last skipped ${shown(entry.lastSkip.at)}: ${entry.lastSkip.reason}`);
  }
  return 0;
}
