import { planFacts, type JobFacts } from "../../graph/plan-facts.js";
import { resolve } from "../../graph/resolve.js";
import { codeHashes } from "../../jobs/code-hash.js";
import { jobProblem, loadRegistry } from "../../jobs/load.js";
import { parseKwargs, parseWorkIds } from "../args.js";
import { planJson } from "../../json.js";
import { paint, printJson } from "../output.js";
import { currentProject, readStore, type RuntimeFlags } from "../runtime.js";
import { selectedWork } from "../select-work.js";
import { ago, dateTime } from "../../ui/format.js";

export interface PlanFlags extends RuntimeFlags {
  kwargs?: string;
  work?: string;
  json?: boolean;
}

/** `stau plan <job>`: what a trigger would run and why, running nothing. */
export async function planCommand(job: string, flags: PlanFlags): Promise<number> {
  const kwargs = parseKwargs(flags.kwargs);
  const given = parseWorkIds(flags.work);
  const paths = currentProject(flags);
  const registry = await loadRegistry(paths);
  const problem = jobProblem(registry, job);
  if (problem) throw problem;
  const workIds = await selectedWork(paths, registry.jobs.get(job)!, kwargs, given);
  const freshness = await readStore(flags, (store) => store.freshness());
  const now = Date.now();
  const hashes = codeHashes(registry.jobs, job);
  const plan = resolve({ jobs: registry.jobs, job, kwargs, workIds, now, freshness, codeHashes: hashes });
  const facts = planFacts(plan, freshness, now, hashes);
  if (flags.json) {
    printJson(planJson(plan, facts));
    return 0;
  }
  const out = process.stdout;
  out.write(`plan for ${paint("bold", job)}${workIds ? ` over ${workIds.length} work IDs` : ""}: ${plan.chunks.length} chunk${plan.chunks.length === 1 ? "" : "s"}\n\n`);
  const look = { run: "cyan", fresh: "green", skipped: "dim" } as const;
  for (const node of facts) {
    const kw = Object.keys(node.kwargs).length ? ` ${JSON.stringify(node.kwargs)}` : "";
    const chunks = node.status === "run" ? `: ${node.chunks} chunk${node.chunks === 1 ? "" : "s"}` : "";
    out.write(`  ${paint(look[node.status], node.status.padEnd(7), out)} ${node.job}${kw}${chunks} — ${whyLine(node, now)}\n`);
  }
  out.write("\n");
  for (const chunk of plan.chunks) {
    const ids = chunk.workIds.length ? ` [${chunk.workIds.slice(0, 8).join(",")}${chunk.workIds.length > 8 ? `,… ${chunk.workIds.length} IDs` : ""}]` : "";
    const deps = chunk.dependsOn.length ? paint("dim", ` ← ${chunk.dependsOn.join(", ")}`, out) : "";
    out.write(`  ${chunk.id}${ids}${deps}\n`);
  }
  return 0;
}

/** The reason, then when the fresh part goes stale and the last success, as people read them. */
function whyLine(node: JobFacts, now: number): string {
  const parts = [node.reason];
  if (node.freshUntil !== null) parts.push(`${node.status === "run" && node.freshIds > 0 ? `the other ${node.freshIds} ` : ""}fresh until ${dateTime(node.freshUntil)}`);
  if (node.status !== "skipped") parts.push(`last success ${ago(node.lastSuccess, now)}`);
  return parts.join("; ");
}
