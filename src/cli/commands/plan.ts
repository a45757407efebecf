import { ExecPool } from "../../exec/pool.js";
import { resolve } from "../../graph/resolve.js";
import { jobProblem, loadRegistry } from "../../jobs/load.js";
import { parseKwargs, parseWorkIds } from "../args.js";
import { planJson } from "../../json.js";
import { paint, printJson } from "../output.js";
import { currentProject, readStore, type RuntimeFlags } from "../runtime.js";
import { ago } from "../../ui/format.js";

export interface PlanFlags extends RuntimeFlags {
  kwargs?: string;
  work?: string;
  json?: boolean;
}

/** `stau plan <job>`: what a trigger would run and why, running nothing. */
export async function planCommand(job: string, flags: PlanFlags): Promise<number> {
  const kwargs = parseKwargs(flags.kwargs);
  let workIds = parseWorkIds(flags.work);
  const paths = currentProject(flags);
  const registry = await loadRegistry(paths);
  const problem = jobProblem(registry, job);
  if (problem) throw problem;
  const spec = registry.jobs.get(job)!;
  if (workIds === null && spec.hasSelectWork) {
    // selectWork is job code: it runs in a worker thread, like everything a job does.
    const pool = new ExecPool({ workers: 1, dataDir: paths.dataDir });
    try {
      workIds = await pool.selectWork(spec, kwargs);
    } finally {
      await pool.close();
    }
  }
  const freshness = await readStore(flags, (store) => store.freshness());
  const now = Date.now();
  const plan = resolve({ jobs: registry.jobs, job, kwargs, workIds, now, freshness });
  if (flags.json) {
    printJson(planJson(plan));
    return 0;
  }
  const out = process.stdout;
  out.write(`plan for ${paint("bold", job)}${workIds ? ` over ${workIds.length} work IDs` : ""}: ${plan.chunks.length} chunk${plan.chunks.length === 1 ? "" : "s"}\n\n`);
  for (const node of plan.jobs) {
    const chunks = plan.chunks.filter((c) => c.job === node.job);
    const kw = Object.keys(node.kwargs).length ? ` ${JSON.stringify(node.kwargs)}` : "";
    if (node.status === "run") out.write(`  ${paint("cyan", "run    ", out)} ${node.job}${kw}: ${chunks.length} chunk${chunks.length === 1 ? "" : "s"}\n`);
    else if (node.status === "fresh") out.write(`  ${paint("green", "fresh  ", out)} ${node.job}${kw}${node.freshSince ? `: last success ${ago(node.freshSince, now)}` : ""}\n`);
    else out.write(`  ${paint("dim", "skipped", out)} ${node.job}${kw}: only needed by fresh jobs\n`);
  }
  out.write("\n");
  for (const chunk of plan.chunks) {
    const ids = chunk.workIds.length ? ` [${chunk.workIds.slice(0, 8).join(",")}${chunk.workIds.length > 8 ? `,… ${chunk.workIds.length} IDs` : ""}]` : "";
    const deps = chunk.dependsOn.length ? paint("dim", ` ← ${chunk.dependsOn.join(", ")}`, out) : "";
    out.write(`  ${chunk.id}${ids}${deps}\n`);
  }
  return 0;
}
