import { formatProblem, type Problem } from "../../config/problem.js";
import { displayPath } from "../../config/project.js";
import { lineageWarnings } from "../../graph/lineage.js";
import { findCycles, findUnknownDependencies } from "../../graph/raw-graph.js";
import { configProblemText, loadProjectConfig } from "../../jobs/config-file.js";
import { loadRegistry } from "../../jobs/load.js";
import { paint, printJson } from "../output.js";
import { currentProject, type RuntimeFlags } from "../runtime.js";

/**
 * `stau validate`: loads every job and the schedule and reports every problem of
 * every file at once — for CI, so a broken job or a cycle never ships. Exit 1 on any.
 * Lineage warnings (a read not backed by a dependency) fail it only with `--strict`.
 */
export async function validateCommand(flags: RuntimeFlags & { json?: boolean; strict?: boolean }): Promise<number> {
  const paths = currentProject(flags);
  const registry = await loadRegistry(paths);
  const problems = new Map<string, Problem[]>();
  const add = (job: string, problem: Problem) => problems.set(job, [...(problems.get(job) ?? []), problem]);

  for (const [job, list] of registry.broken) for (const p of list) add(job, p);
  for (const p of registry.fileProblems) add(p.file.replace(/^.*\//, "").replace(/\.[^.]+$/, ""), p);
  for (const { job, file, dependency } of findUnknownDependencies(registry.jobs)) {
    const why = registry.broken.has(dependency) ? "which has errors of its own" : "which is not a file in jobs/";
    add(job, { file: displayPath(paths, file), field: "dependencies", message: `needs job ${JSON.stringify(dependency)}, ${why}` });
  }
  for (const cycle of findCycles(registry.jobs)) {
    for (const job of new Set(cycle)) {
      add(job, { file: displayPath(paths, registry.jobs.get(job)!.file), field: "dependencies", message: `dependency cycle: ${cycle.join(" → ")}` });
    }
  }

  const names = [...new Set([...registry.jobs.keys(), ...problems.keys()])].sort();
  const jobs = names.map((job) => {
    const list = problems.get(job);
    return { job, ok: !list, error: list ? list.map(formatProblem).join("\n") : null };
  });
  const scheduleProblems = registry.schedule.problems;
  const schedule = scheduleProblems.length ? { ok: false, error: scheduleProblems.map(formatProblem).join("\n") } : { ok: true };
  const warnings = lineageWarnings(registry.jobs);
  const loaded = await loadProjectConfig(paths);
  const config = loaded.problems.length ? { ok: false, error: configProblemText(loaded) } : { ok: true };
  const ok = jobs.every((j) => j.ok) && schedule.ok && config.ok && !(flags.strict && warnings.length > 0);

  if (flags.json) {
    printJson({ ok, jobs: jobs.map((j) => (j.ok ? { job: j.job, ok: true } : j)), schedule, warnings, ...(loaded.file ? { config } : {}) });
    return ok ? 0 : 1;
  }
  const out = process.stdout;
  for (const job of jobs) {
    if (job.ok) out.write(`${paint("green", "✓", out)} ${job.job}\n`);
    else out.write(`${paint("red", "✗", out)} ${job.job}\n${job.error!.replace(/^/gm, "    ")}\n`);
  }
  if (paths.scheduleFile) {
    const file = displayPath(paths, paths.scheduleFile);
    if (schedule.ok) out.write(`${paint("green", "✓", out)} ${file} (${registry.schedule.entries.length} entries)\n`);
    else out.write(`${paint("red", "✗", out)} ${file}\n${(schedule as { error: string }).error.replace(/^/gm, "    ")}\n`);
  }
  if (loaded.file) {
    if (config.ok) out.write(`${paint("green", "✓", out)} ${loaded.file} (${loaded.config.notify.length} notify rule${loaded.config.notify.length === 1 ? "" : "s"})\n`);
    else out.write(`${paint("red", "✗", out)} ${loaded.file}\n${config.error!.replace(/^/gm, "    ")}\n`);
  }
  for (const w of warnings) out.write(`${paint(flags.strict ? "red" : "yellow", "!", out)} ${w.job}: ${w.message}\n`);
  const bad = jobs.filter((j) => !j.ok).length + (schedule.ok ? 0 : 1) + (config.ok ? 0 : 1);
  const warned = warnings.length === 0 ? "" : `, ${warnings.length} lineage warning${warnings.length === 1 ? "" : "s"}${flags.strict ? " (failing: --strict)" : ""}`;
  out.write(bad === 0 ? `\nall ${jobs.length} jobs valid${warned}\n` : `\n${bad} file${bad === 1 ? "" : "s"} with errors${warned}\n`);
  return ok ? 0 : 1;
}
