import { formatDuration } from "../config/duration.js";
import type { DependencySpec, JobSpec } from "../config/spec.js";
import { datasetLines, datasets, type Dataset } from "./lineage.js";

// Rendering is for looking at a registry, broken ones included (`stau graph` is where
// people go to understand a cycle), so nothing here throws on cycles or unknown jobs.

export type GraphFormat = "text" | "dot" | "mermaid";

/**
 * The dependency graph of `root` (or of every job, when null) as an indented text tree,
 * a Graphviz `digraph`, or a Mermaid `graph TD`, edges labelled with their maxLag, with
 * the datasets its jobs read and write (lineage) between them.
 */
export function renderGraph(jobs: ReadonlyMap<string, JobSpec>, root: string | null, format: GraphFormat): string {
  const roots = root === null ? topJobs(jobs) : [root];
  const { nodes, edges } = collect(jobs, roots);
  const data = datasets(jobs, nodes);
  if (format === "text") {
    const trees = roots.map((name) => textTree(jobs, name)).join("\n\n");
    return data.length === 0 ? trees : `${trees}\n\ndatasets (written by → read by):\n${datasetLines(data).map((line) => `  ${line}`).join("\n")}`;
  }
  // Jobs outside the drawn graph that write or read its datasets are drawn too, without their dependencies.
  const drawn = new Set(nodes);
  const others = [...new Set(data.flatMap((d) => [...d.writers, ...d.readers]))].filter((name) => !drawn.has(name));
  return format === "dot" ? dot(jobs, [...nodes, ...others], edges, data) : mermaid([...nodes, ...others], edges, data);
}

type Edge = { from: string; dep: DependencySpec };

/** Jobs nothing depends on, then any job left unreached (only a cycle can hide one). */
function topJobs(jobs: ReadonlyMap<string, JobSpec>): string[] {
  const needed = new Set([...jobs.values()].flatMap((spec) => spec.dependencies.map((d) => d.job)));
  const tops = [...jobs.keys()].filter((name) => !needed.has(name)).sort();
  const reached = new Set(collect(jobs, tops).nodes);
  for (const name of [...jobs.keys()].sort()) {
    if (reached.has(name)) continue;
    tops.push(name);
    for (const n of collect(jobs, [name]).nodes) reached.add(n);
  }
  return tops;
}

/** Nodes (breadth-first) and edges reachable from `roots`, each edge once. */
function collect(jobs: ReadonlyMap<string, JobSpec>, roots: string[]): { nodes: string[]; edges: Edge[] } {
  const nodes = [...new Set(roots)];
  const seen = new Set(nodes);
  const edges: Edge[] = [];
  for (let i = 0; i < nodes.length; i++) {
    for (const dep of jobs.get(nodes[i])?.dependencies ?? []) {
      edges.push({ from: nodes[i], dep });
      if (!seen.has(dep.job)) {
        seen.add(dep.job);
        nodes.push(dep.job);
      }
    }
  }
  return { nodes, edges };
}

function edgeNote(dep: DependencySpec): string {
  const parts = [`maxLag ${formatDuration(dep.maxLagMs)}`];
  if (dep.allowMissingWorkIds) parts.push("allowMissingWorkIds");
  if (dep.unique) parts.push("unique");
  if (Object.keys(dep.kwargs).length > 0) parts.push(`kwargs ${JSON.stringify(dep.kwargs)}`);
  return `(${parts.join(", ")})`;
}

/**
 * One tree per root. A job already expanded in this tree is printed again but not
 * expanded again (marked "see above"); one on the current path is marked as a cycle.
 */
function textTree(jobs: ReadonlyMap<string, JobSpec>, root: string): string {
  const lines = [jobs.has(root) ? root : `${root} (unknown job)`];
  const expanded = new Set([root]);
  const walk = (name: string, indent: string, path: Set<string>): void => {
    const deps = jobs.get(name)?.dependencies ?? [];
    deps.forEach((dep, i) => {
      const last = i === deps.length - 1;
      let mark = "";
      if (!jobs.has(dep.job)) mark = " (unknown job)";
      else if (path.has(dep.job)) mark = " (cycle)";
      else if (expanded.has(dep.job) && jobs.get(dep.job)!.dependencies.length > 0) mark = " (see above)";
      lines.push(`${indent}${last ? "└─ " : "├─ "}${dep.job} ${edgeNote(dep)}${mark}`);
      if (mark === "" && jobs.has(dep.job)) {
        expanded.add(dep.job);
        walk(dep.job, indent + (last ? "   " : "│  "), new Set([...path, dep.job]));
      }
    });
  };
  walk(root, "", new Set([root]));
  return lines.join("\n");
}

function dot(jobs: ReadonlyMap<string, JobSpec>, nodes: string[], edges: Edge[], data: readonly Dataset[]): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = ["digraph stau {", "  rankdir=TB;"];
  for (const name of nodes) {
    lines.push(jobs.has(name) ? `  ${q(name)};` : `  ${q(name)} [style=dashed, label=${q(`${name} (unknown)`)}];`);
  }
  for (const { from, dep } of edges) {
    lines.push(`  ${q(from)} -> ${q(dep.job)} [label=${q(formatDuration(dep.maxLagMs))}];`);
  }
  // Datasets get ids of their own: a dataset may share its name with a job.
  for (const d of data) {
    const id = q(`dataset:${d.name}`);
    lines.push(`  ${id} [shape=cylinder, label=${q(d.name)}];`);
    for (const writer of d.writers) lines.push(`  ${q(writer)} -> ${id} [style=dashed, label="writes"];`);
    for (const reader of d.readers) lines.push(`  ${q(reader)} -> ${id} [style=dashed, label="reads"];`);
  }
  lines.push("}");
  return lines.join("\n");
}

function mermaid(nodes: string[], edges: Edge[], data: readonly Dataset[]): string {
  // Job names may hold "-", and "end" is a Mermaid keyword: such names get a plain
  // id and keep their name as the label.
  const ids = new Map<string, string>();
  const lines = ["graph TD"];
  const taken = new Set(nodes);
  nodes.forEach((name, i) => {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && name.toLowerCase() !== "end") {
      ids.set(name, name);
      lines.push(`  ${name}`);
      return;
    }
    let id = `job_${i}`;
    while (taken.has(id)) id = `_${id}`;
    taken.add(id);
    ids.set(name, id);
    lines.push(`  ${id}["${name}"]`);
  });
  for (const { from, dep } of edges) {
    lines.push(`  ${ids.get(from)} -->|${formatDuration(dep.maxLagMs)}| ${ids.get(dep.job)}`);
  }
  // Datasets as cylinders, with ids apart from the jobs' (a dataset may share a job's name).
  data.forEach((d, i) => {
    let id = `dataset_${i}`;
    while (taken.has(id)) id = `_${id}`;
    taken.add(id);
    lines.push(`  ${id}[("${d.name.replace(/"/g, "#quot;")}")]`);
    for (const writer of d.writers) lines.push(`  ${ids.get(writer)} -.->|writes| ${id}`);
    for (const reader of d.readers) lines.push(`  ${ids.get(reader)} -.->|reads| ${id}`);
  });
  return lines.join("\n");
}
