import { UsageError } from "../../errors.js";
import { renderGraph, type GraphFormat } from "../../graph/render.js";
import { loadRegistry } from "../../jobs/load.js";
import { currentProject, type RuntimeFlags } from "../runtime.js";

const FORMATS: readonly GraphFormat[] = ["text", "dot", "mermaid"];

/** `stau graph [job]`: the dependency graph as text, Graphviz dot or Mermaid. */
export async function graphCommand(job: string | undefined, flags: RuntimeFlags & { format?: string }): Promise<number> {
  const format = (flags.format ?? "text") as GraphFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, received ${JSON.stringify(flags.format)}`);
  const registry = await loadRegistry(currentProject(flags));
  if (job !== undefined && !registry.jobs.has(job)) {
    throw new UsageError(`unknown job ${JSON.stringify(job)}${registry.broken.has(job) ? " (its file has errors: run stau validate)" : ""}`);
  }
  process.stdout.write(renderGraph(registry.jobs, job ?? null, format).replace(/\n?$/, "\n"));
  return 0;
}
