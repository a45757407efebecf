import { UsageError } from "../../errors.js";
import { renderGraph, type GraphFormat } from "../../graph/render.js";
import { jobProblem, loadRegistry } from "../../jobs/load.js";
import { currentProject, type RuntimeFlags } from "../runtime.js";

const FORMATS: readonly GraphFormat[] = ["text", "dot", "mermaid"];

/** `stau graph [job]`: the dependency graph as text, Graphviz dot or Mermaid. */
export async function graphCommand(job: string | undefined, flags: RuntimeFlags & { format?: string }): Promise<number> {
  const format = (flags.format ?? "text") as GraphFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, received ${JSON.stringify(flags.format)}`);
  const registry = await loadRegistry(currentProject(flags));
  const problem = job === undefined ? null : jobProblem(registry, job);
  if (problem) throw problem;
  process.stdout.write(renderGraph(registry.jobs, job ?? null, format).replace(/\n?$/, "\n"));
  return 0;
}
